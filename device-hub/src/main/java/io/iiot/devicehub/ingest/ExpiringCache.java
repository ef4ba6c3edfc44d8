package io.iiot.devicehub.ingest;

import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A bounded map whose entries expire a fixed time after they were written. Made for look-ups read on every message:
 * a hit is one {@link ConcurrentHashMap} read and a clock read, with no per-read bookkeeping (an LRU cache such as
 * Guava's queues every read for its recency order, which on the message path cost more than the look-up). When more
 * than {@code maxSize} entries are held, expired ones are dropped first, then arbitrary ones down to 90 %. Thread-safe.
 */
final class ExpiringCache<K, V> {
  private record Entry<V>(V value, long expiresAt) {}

  private final ConcurrentHashMap<K, Entry<V>> map = new ConcurrentHashMap<>();
  private final long ttlNanos;
  private final int maxSize;
  private final AtomicBoolean trimming = new AtomicBoolean();

  ExpiringCache(Duration ttl, int maxSize) {
    this.ttlNanos = ttl.toNanos();
    this.maxSize = maxSize;
  }

  /** The live value, or null. */
  V get(K key) {
    Entry<V> e = map.get(key);
    if (e == null) {
      return null;
    }
    if (System.nanoTime() - e.expiresAt >= 0) {
      map.remove(key, e);
      return null;
    }
    return e.value;
  }

  /** Stores {@code value} unless a live value is held; returns that live value, or null when {@code value} was stored. */
  V putIfAbsent(K key, V value) {
    long now = System.nanoTime();
    Entry<V> mine = new Entry<>(value, now + ttlNanos);
    Entry<V> held = map.compute(key, (k, e) -> e == null || now - e.expiresAt >= 0 ? mine : e);
    if (held != mine) {
      return held.value;
    }
    if (map.size() > maxSize) {
      trim(now, key);
    }
    return null;
  }

  /** Removes the entry of {@code key} if it holds {@code value}. */
  void remove(K key, V value) {
    map.computeIfPresent(key, (k, e) -> e.value == value ? null : e);
  }

  /** Drops expired entries, then arbitrary ones other than {@code written} (the caller's) down to 90 %. */
  private void trim(long now, K written) {
    if (!trimming.compareAndSet(false, true)) {
      return;
    }
    try {
      map.values().removeIf(e -> now - e.expiresAt >= 0);
      Iterator<Map.Entry<K, Entry<V>>> it = map.entrySet().iterator();
      int keep = maxSize - maxSize / 10;
      while (map.size() > keep && it.hasNext()) {
        if (!it.next().getKey().equals(written)) {
          it.remove();
        }
      }
    } finally {
      trimming.set(false);
    }
  }
}
