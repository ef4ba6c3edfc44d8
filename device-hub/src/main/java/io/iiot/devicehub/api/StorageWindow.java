package io.iiot.devicehub.api;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * Bounds how many storage requests one gRPC call has in flight: {@link #submit} waits (on the calling gRPC executor
 * thread, never an event loop) while the window is full, so a batch of 1000 devices keeps Cassandra busy without
 * queueing thousands of requests in the driver.
 */
final class StorageWindow {
  private final Semaphore permits;
  private final List<CompletableFuture<?>> started = new ArrayList<>();

  StorageWindow(int size) {
    this.permits = new Semaphore(size);
  }

  /** A window whose permits are shared with other calls' windows: a bound for all of them together. */
  StorageWindow(Semaphore shared) {
    this.permits = shared;
  }

  <T> CompletableFuture<T> submit(Supplier<CompletionStage<T>> request) {
    return submit(1, request);
  }

  /**
   * Like {@link #submit(Supplier)} for a request that updates {@code weight} partitions (a batch of several): it
   * takes that many permits, so the window bounds the node's partition updates rather than requests.
   */
  <T> CompletableFuture<T> submit(int weight, Supplier<CompletionStage<T>> request) {
    try {
      permits.acquire(weight);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<T> f;
    try {
      f = request.get().toCompletableFuture();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((v, e) -> permits.release(weight));
    started.add(f);
    return f;
  }

  /** Completes when every request submitted so far has; fails if any failed. */
  CompletableFuture<Void> all() {
    return CompletableFuture.allOf(started.toArray(CompletableFuture[]::new));
  }
}
