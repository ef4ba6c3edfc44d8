package io.iiot.devicehub.transport.hono;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Rows the connector has handed to its writer and that are not written yet, at most {@code limit}
 * ({@code hono.max-queued-rows}, the connector writer's own queue bound): a record whose rows do not fit waits here,
 * first come first served, until earlier rows are written.
 *
 * <p>Why not let the writer refuse and retry: Hono's consumer bounds records, not rows, so a read-ahead sized for
 * one-metric records holds several times the writer's queue when devices send snapshots of 9 metrics. Refused records
 * went into the retry back-off (100 ms doubling to 5 s) and sat idle there while the queue emptied. Waiting here is
 * resumed by the very write that makes room, and records wait in arrival order, which keeps each partition's commit
 * sequence moving. The records still waiting count as "in processing" for Hono's consumer, which then stops polling:
 * the read-ahead stays bounded.
 *
 * <p>Thread-safe: acquired on the consumer's context, released on driver threads; a waiter's stage completes on the
 * releasing thread (callers hop back to their context).
 */
final class RowBudget {
  private final int limit;
  private final ArrayDeque<Waiter> waiting = new ArrayDeque<>();
  private int used;

  private record Waiter(int rows, CompletableFuture<Void> ready) {}

  RowBudget(int limit) {
    this.limit = limit;
  }

  /**
   * Completes once {@code rows} fit. A record larger than the whole budget gets it alone (when nothing else is
   * outstanding) rather than never.
   */
  CompletionStage<Void> acquire(int rows) {
    synchronized (this) {
      if (waiting.isEmpty() && fits(rows)) {
        used += rows;
        return CompletableFuture.completedFuture(null);
      }
      Waiter w = new Waiter(rows, new CompletableFuture<>());
      waiting.add(w);
      return w.ready;
    }
  }

  /** Gives back the rows of one {@link #acquire}, once they are written (or failed). */
  void release(int rows) {
    ArrayDeque<Waiter> admitted = new ArrayDeque<>();
    synchronized (this) {
      used -= rows;
      while (!waiting.isEmpty() && fits(waiting.peek().rows)) {
        Waiter w = waiting.poll();
        used += w.rows;
        admitted.add(w);
      }
    }
    admitted.forEach(w -> w.ready.complete(null));
  }

  synchronized int used() {
    return used;
  }

  synchronized int waiting() {
    return waiting.size();
  }

  private boolean fits(int rows) {
    return used + rows <= limit || used == 0;
  }
}
