package io.iiot.devicehub.api;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Runs asynchronous tasks of one key (a tenant's claim partition) one after the other, across calls. Device creation
 * claims ids by conditional batches on a partition of the claims table; concurrent Paxos rounds on one partition make
 * each other retry and time out under load, so this process sends one at a time per partition. A failed task does
 * not stop the next.
 */
final class TenantSequence {
  private final ConcurrentHashMap<String, CompletableFuture<?>> tails = new ConcurrentHashMap<>();

  <T> CompletableFuture<T> then(String tenant, Supplier<CompletableFuture<T>> task) {
    @SuppressWarnings("unchecked")
    CompletableFuture<T>[] mine = new CompletableFuture[1];
    tails.compute(tenant, (k, previous) -> {
      CompletableFuture<?> start = previous == null ? CompletableFuture.completedFuture(null)
          : previous.handle((v, e) -> null);
      mine[0] = start.thenCompose(v -> task.get());
      return mine[0];
    });
    mine[0].whenComplete((v, e) -> tails.remove(tenant, mine[0]));
    return mine[0];
  }
}
