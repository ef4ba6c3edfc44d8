package io.iiot.resolver.storage;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A bounded concurrent map for a read cache whose hits write nothing but, at most once per entry between evictions,
 * a boolean: CLOCK (second-chance) eviction over a ring of the entries.
 *
 * <p>Why not Caffeine: its size-bounded cache records every hit in a read buffer that is drained, on a
 * {@code ForkJoinPool.commonPool()} thread woken thousands of times a second, into its access-order lists: each hit
 * then moves pointers between old objects scattered over the heap, and G1's refinement thread rescans the cards those
 * writes dirtied. On the 2-core benchmark machine these two threads took about a fifth of a core at half the hot
 * resolution peak, next to the two UDP event loops, and the event loops' p99 showed it. Here a hit is a map read and
 * a check of the entry's reference bit.
 *
 * <p>Writes ({@link #put}, {@link #invalidate}) take this object's lock; they follow storage reads and writes, never a
 * hit. A put into a full cache evicts the first entry the clock hand finds unreferenced since it last passed,
 * clearing the bits it passes (amortised O(1); bounded by one turn of the ring).
 */
final class ClockCache<K, V> {
  private static final class Entry<K, V> {
    final K key;
    final V value;
    /** Set by a hit, cleared by the passing hand; a hint, so plain (a lost update costs one early eviction). */
    boolean referenced;
    /** This entry's place in the ring (under the lock). */
    int slot;

    Entry(K key, V value) {
      this.key = key;
      this.value = value;
    }
  }

  private final ConcurrentHashMap<K, Entry<K, V>> map;
  private final int capacity;
  /**
   * The entries, {@code size} of them from 0; grows (doubling) up to {@code capacity}: a large bound costs no memory
   * up front.
   */
  private Entry<K, V>[] ring;
  private int size;
  private int hand;

  /** @param capacity most entries held; 0 = hold none */
  @SuppressWarnings("unchecked")
  ClockCache(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity " + capacity);
    }
    this.capacity = capacity;
    ring = (Entry<K, V>[]) new Entry[Math.min(capacity, 1024)];
    map = new ConcurrentHashMap<>(Math.min(capacity, 1 << 16));
  }

  /** The value held for {@code key}, or {@code null}. */
  V get(K key) {
    Entry<K, V> e = map.get(key);
    if (e == null) {
      return null;
    }
    if (!e.referenced) {
      e.referenced = true;
    }
    return e.value;
  }

  /** Holds {@code value} for {@code key}, replacing what was held, evicting another entry when full. */
  synchronized void put(K key, V value) {
    if (capacity == 0) {
      return;
    }
    Entry<K, V> e = new Entry<>(key, value);
    Entry<K, V> old = map.put(key, e);
    if (old != null) {
      e.slot = old.slot;
      ring[e.slot] = e;
      return;
    }
    if (size == ring.length && size < capacity) {
      ring = java.util.Arrays.copyOf(ring, (int) Math.min(capacity, 2L * size));
    }
    if (size < ring.length) {
      e.slot = size;
      ring[size++] = e;
      return;
    }
    while (true) {
      Entry<K, V> c = ring[hand];
      if (c.referenced) {
        c.referenced = false;
        hand = (hand + 1) % size;
        continue;
      }
      map.remove(c.key, c);
      e.slot = hand;
      ring[hand] = e;
      hand = (hand + 1) % size;
      return;
    }
  }

  /** Drops what is held for {@code key}. */
  synchronized void invalidate(K key) {
    Entry<K, V> e = map.remove(key);
    if (e == null) {
      return;
    }
    Entry<K, V> last = ring[--size];
    ring[e.slot] = last;
    last.slot = e.slot;
    ring[size] = null;
    if (hand >= size) {
      hand = 0;
    }
  }

  /** Drops everything. */
  synchronized void invalidateAll() {
    map.clear();
    java.util.Arrays.fill(ring, 0, size, null);
    size = 0;
    hand = 0;
  }

  /** Entries held. */
  synchronized int size() {
    return size;
  }
}
