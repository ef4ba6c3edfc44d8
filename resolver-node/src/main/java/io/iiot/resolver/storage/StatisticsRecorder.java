package io.iiot.resolver.storage;

import io.iiot.resolver.domain.Handles;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.time.Clock;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts registrations and resolutions per prefix in memory and writes them to {@link StatisticsStore} on
 * {@link #flush} (the module calls it every {@code statistics.flush-interval}): recording is a map lookup and an
 * add, so the resolution path never waits for Cassandra. The same counts go to Prometheus as
 * {@code resolver_registrations_total} and {@code resolver_resolutions_total} with a {@code prefix} tag.
 *
 * <p>At most {@link #MAX_KEYS} prefix-days wait between flushes; beyond that counts are dropped and counted in
 * {@code resolver_statistics_dropped_total} (only prefixes this node stores produce answers, so this is a guard).
 */
public final class StatisticsRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(StatisticsRecorder.class);
  static final int MAX_KEYS = 100_000;

  private record Key(String prefix, LocalDate day) {}

  private static final class Counts {
    final LongAdder registrations = new LongAdder();
    final LongAdder resolutions = new LongAdder();
  }

  private final StatisticsStore store;
  private final MeterRegistry registry;
  private final Clock clock;
  private final Counter dropped;
  private volatile ConcurrentHashMap<Key, Counts> pending = new ConcurrentHashMap<>();
  private final Map<String, Counter> resolutionCounters = new ConcurrentHashMap<>();
  private final Map<String, Counter> registrationCounters = new ConcurrentHashMap<>();
  private boolean flushing;

  public StatisticsRecorder(StatisticsStore store, MeterRegistry registry, Clock clock) {
    this.store = store;
    this.registry = registry;
    this.clock = clock;
    this.dropped = Counter.builder("resolver.statistics.dropped").description("counts dropped: too many prefixes "
        + "between flushes").register(registry);
  }

  /**
   * The counts of the prefix counted last, so that the next resolution under it (a node serves few prefixes) costs
   * no substring, key or map lookups; valid for the map and the day it was taken from.
   */
  private record Last(String prefix, ConcurrentHashMap<Key, Counts> map, long day, Counts counts, Counter counter) {
    boolean covers(String handle, ConcurrentHashMap<Key, Counts> pending, long today) {
      int n = prefix.length();
      return map == pending && day == today && handle.length() > n && handle.charAt(n) == '/'
          && (handle.startsWith(prefix) || handle.regionMatches(true, 0, prefix, 0, n));
    }
  }

  private volatile Last last;

  /** A resolution answer with values was produced for {@code handle}. Never blocks. */
  public void resolved(String handle) {
    ConcurrentHashMap<Key, Counts> m = pending;
    long day = Math.floorDiv(clock.millis(), 86_400_000L);
    Last l = last;
    if (l != null && l.covers(handle, m, day)) {
      l.counts().resolutions.increment();
      l.counter().increment();
      return;
    }
    String prefix = Handles.fold(Handles.prefix(handle));
    Counts c = counts(prefix);
    if (c != null) {
      c.resolutions.increment();
      Counter counter = resolutionCounters.computeIfAbsent(prefix, p -> Counter.builder("resolver.resolutions")
          .description("resolution answers per prefix").tag("prefix", p).register(registry));
      counter.increment();
      if (handle.indexOf('/') == prefix.length()) {
        last = new Last(prefix, m, day, c, counter);
      }
    }
  }

  /** {@code n} identifiers were registered under {@code prefix}. */
  public void registered(String prefix, long n) {
    if (n <= 0) {
      return;
    }
    String p = Handles.fold(prefix);
    Counts c = counts(p);
    if (c != null) {
      c.registrations.add(n);
      registrationCounters.computeIfAbsent(p, x -> Counter.builder("resolver.registrations")
          .description("identifiers registered per prefix").tag("prefix", x).register(registry)).increment(n);
    }
  }

  /** A UTC day and its number since 1970. */
  private record Day(long number, LocalDate date) {}

  private volatile Day today = new Day(Long.MIN_VALUE, LocalDate.MIN);

  /** Today in UTC; LocalDate.now(clock) built a zone-rules object on every resolution. */
  private LocalDate today() {
    long n = Math.floorDiv(clock.millis(), 86_400_000L);
    Day d = today;
    if (d.number() != n) {
      d = new Day(n, LocalDate.ofEpochDay(n));
      today = d;
    }
    return d.date();
  }

  private Counts counts(String prefix) {
    Key k = new Key(prefix, today());
    ConcurrentHashMap<Key, Counts> m = pending;
    Counts c = m.get(k);
    if (c == null) {
      if (m.size() >= MAX_KEYS) {
        dropped.increment();
        return null;
      }
      c = m.computeIfAbsent(k, x -> new Counts());
    }
    return c;
  }

  /**
   * Writes what was counted since the last flush. An add racing with the swap of maps can land in the old map after
   * it was summed: that one count is lost, never doubled (counters are not idempotent, so nothing is retried either).
   */
  public synchronized Future<Void> flush() {
    if (flushing || pending.isEmpty()) {
      return Future.succeededFuture();
    }
    ConcurrentHashMap<Key, Counts> taken = pending;
    pending = new ConcurrentHashMap<>();
    List<StatisticsStore.Increment> inc = new ArrayList<>();
    taken.forEach((k, c) -> {
      long reg = c.registrations.sum();
      long res = c.resolutions.sum();
      if (reg != 0 || res != 0) {
        inc.add(new StatisticsStore.Increment(k.prefix(), k.day(), reg, res));
      }
    });
    flushing = true;
    return store.add(inc).onComplete(ar -> {
      synchronized (this) {
        flushing = false;
      }
      if (ar.failed()) {
        LOG.warn("Statistics of {} prefix-days not written: {}", inc.size(), ar.cause().toString());
      }
    });
  }
}
