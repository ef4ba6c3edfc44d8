package io.iiot.devicehub.query;

import io.iiot.devicehub.domain.TelemetryRow;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Local fan-out of stored telemetry to live subscribers (StreamTelemetry calls of this replica).
 *
 * <p>{@link #publish} is called after the durable write, on whatever thread completed it (often a driver thread), so
 * it only filters and enqueues: each subscriber has a bounded queue of {@code capacity} points. When a subscriber's
 * queue is full, new points are dropped for it and counted; the count is handed to the subscriber as a gap marker in
 * stream order before its next point (or when its queue runs empty). A slow subscriber therefore costs at most
 * {@code capacity} points of memory and never slows ingest or other subscribers.
 */
public final class LiveTelemetry {
  private final Map<String, List<Subscription>> byTenant = new ConcurrentHashMap<>();
  private final AtomicInteger count = new AtomicInteger();
  private final int maxSubscribers;
  private final Counter dropped;

  public LiveTelemetry(int maxSubscribers, MeterRegistry registry) {
    this.maxSubscribers = maxSubscribers;
    this.dropped = Counter.builder("devicehub.telemetry.stream.dropped")
        .description("points not delivered to a live subscriber because its bounded queue was full")
        .register(registry);
    Gauge.builder("devicehub.telemetry.stream.subscribers", count, AtomicInteger::get).register(registry);
  }

  /** Hands stored rows to matching subscribers. Never blocks. */
  public void publish(List<TelemetryRow> rows) {
    if (count.get() == 0) {
      return;
    }
    for (TelemetryRow row : rows) {
      List<Subscription> subs = byTenant.get(row.tenant());
      if (subs != null) {
        for (Subscription s : subs) {
          s.offer(row);
        }
      }
    }
  }

  /**
   * A new subscriber of {@code tenant}'s telemetry; empty {@code devices}/{@code metrics} mean all.
   *
   * @param signal called (on the publishing thread) when the subscription went from empty to non-empty; it must
   *     only schedule work
   * @return empty when {@code maxSubscribers} are already subscribed
   */
  public java.util.Optional<Subscription> subscribe(String tenant, Set<String> devices, Set<String> metrics,
      int capacity, Runnable signal) {
    if (count.incrementAndGet() > maxSubscribers) {
      count.decrementAndGet();
      return java.util.Optional.empty();
    }
    Subscription s = new Subscription(tenant, devices, metrics, capacity, signal);
    byTenant.computeIfAbsent(tenant, t -> new CopyOnWriteArrayList<>()).add(s);
    return java.util.Optional.of(s);
  }

  /** What a subscriber takes next: a point, or how many points it missed. */
  public sealed interface Event permits Point, Gap {}

  public record Point(TelemetryRow row) implements Event {}

  public record Gap(long droppedPoints) implements Event {}

  /** One subscriber's bounded queue. Thread-safe. */
  public final class Subscription implements AutoCloseable {
    private final String tenant;
    private final Set<String> devices;
    private final Set<String> metrics;
    private final int capacity;
    private final Runnable signal;
    private final ArrayDeque<Event> queue = new ArrayDeque<>();
    private int points;
    private long droppedSinceLast;
    private boolean closed;

    private Subscription(String tenant, Set<String> devices, Set<String> metrics, int capacity, Runnable signal) {
      this.tenant = tenant;
      this.devices = Set.copyOf(devices);
      this.metrics = Set.copyOf(metrics);
      this.capacity = capacity;
      this.signal = signal;
    }

    void offer(TelemetryRow row) {
      if ((!devices.isEmpty() && !devices.contains(row.deviceId()))
          || (!metrics.isEmpty() && !metrics.contains(row.metric()))) {
        return;
      }
      boolean wasEmpty;
      synchronized (this) {
        if (closed) {
          return;
        }
        if (points >= capacity) {
          droppedSinceLast++;
          dropped.increment();
          return;
        }
        wasEmpty = queue.isEmpty();
        if (droppedSinceLast > 0) {
          // At most one marker per queued point: the queue stays within 2 x capacity entries.
          queue.add(new Gap(droppedSinceLast));
          droppedSinceLast = 0;
        }
        queue.add(new Point(row));
        points++;
      }
      if (wasEmpty) {
        signal.run();
      }
    }

    /** The next event, or null when there is none now. */
    public synchronized Event poll() {
      Event e = queue.poll();
      if (e == null) {
        if (droppedSinceLast > 0) {
          long n = droppedSinceLast;
          droppedSinceLast = 0;
          return new Gap(n);
        }
        return null;
      }
      if (e instanceof Point) {
        points--;
      }
      return e;
    }

    @Override
    public void close() {
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        queue.clear();
      }
      List<Subscription> subs = byTenant.get(tenant);
      if (subs != null) {
        subs.remove(this);
        byTenant.computeIfPresent(tenant, (t, l) -> l.isEmpty() ? null : l);
      }
      count.decrementAndGet();
    }
  }
}
