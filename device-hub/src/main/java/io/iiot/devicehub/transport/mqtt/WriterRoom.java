package io.iiot.devicehub.transport.mqtt;

import io.vertx.core.Vertx;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * Tells the connections held back by a saturated writer when it has room again. The writer announces nothing when it
 * drains, so someone has to look: one timer for all waiting connections looks every few milliseconds (a flag read),
 * where a timer per connection did before: 1,000 connections held back armed some 50,000 Vert.x timers a second
 * (profile of the benchmark's MQTT passes).
 */
final class WriterRoom {
  private final Vertx vertx;
  private final BooleanSupplier saturated;
  private final long periodMs;
  private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean armed = new AtomicBoolean();

  WriterRoom(Vertx vertx, BooleanSupplier saturated, long periodMs) {
    this.vertx = vertx;
    this.saturated = saturated;
    this.periodMs = periodMs;
  }

  /**
   * Runs {@code then} once, after the writer was seen not saturated; on the timer's thread, so callers hop to their
   * own context.
   */
  void whenRoom(Runnable then) {
    waiting.add(then);
    if (armed.compareAndSet(false, true)) {
      vertx.setTimer(periodMs, t -> look());
    }
  }

  private void look() {
    if (saturated.getAsBoolean()) {
      vertx.setTimer(periodMs, t -> look());
      return;
    }
    // Disarmed before draining: whoever adds after this arms a timer of its own, whoever added before is drained.
    armed.set(false);
    for (Runnable r = waiting.poll(); r != null; r = waiting.poll()) {
      r.run();
    }
  }
}
