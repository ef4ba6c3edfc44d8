package io.iiot.platform.domain;

import java.util.ArrayDeque;

/**
 * A queue of at most {@code capacity} items that drops what does not fit and remembers how many it dropped. The drop
 * count comes out in order, as a gap before the next item that fits (or when the queue runs empty), so a consumer
 * always learns that and how much it missed. Memory: at most {@code capacity} items plus one marker per item.
 * Thread-safe.
 */
public final class DroppingQueue<T> {
  /** What a consumer takes: an item, or how many items were dropped at this point of the sequence. */
  public sealed interface Entry<T> permits Item, Gap {}

  public record Item<T>(T value) implements Entry<T> {}

  public record Gap<T>(long dropped) implements Entry<T> {}

  private final int capacity;
  private final ArrayDeque<Entry<T>> queue = new ArrayDeque<>();
  private int items;
  private long droppedSinceLast;
  private long droppedTotal;

  public DroppingQueue(int capacity) {
    this.capacity = capacity;
  }

  /** Adds {@code value}, or counts it as dropped when full; true when the queue was empty before. */
  public synchronized boolean offer(T value) {
    if (items >= capacity) {
      droppedSinceLast++;
      droppedTotal++;
      return false;
    }
    boolean wasEmpty = queue.isEmpty();
    if (droppedSinceLast > 0) {
      queue.add(new Gap<>(droppedSinceLast));
      droppedSinceLast = 0;
    }
    queue.add(new Item<>(value));
    items++;
    return wasEmpty;
  }

  /** Counts {@code n} items dropped upstream (e.g. a gap reported by the source). */
  public synchronized boolean dropped(long n) {
    boolean wasEmpty = queue.isEmpty() && droppedSinceLast == 0;
    droppedSinceLast += n;
    droppedTotal += n;
    return wasEmpty;
  }

  /** The next entry, or null when there is nothing to take now. */
  public synchronized Entry<T> poll() {
    Entry<T> e = queue.poll();
    if (e == null) {
      if (droppedSinceLast > 0) {
        long n = droppedSinceLast;
        droppedSinceLast = 0;
        return new Gap<>(n);
      }
      return null;
    }
    if (e instanceof Item) {
      items--;
    }
    return e;
  }

  public synchronized long droppedTotal() {
    return droppedTotal;
  }
}
