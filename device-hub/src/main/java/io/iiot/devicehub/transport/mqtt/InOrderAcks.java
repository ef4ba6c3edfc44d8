package io.iiot.devicehub.transport.mqtt;

import java.util.ArrayDeque;
import java.util.function.BiConsumer;

/**
 * MQTT 3.1.1 (4.6) requires PUBACKs in the order the PUBLISH packets arrived, while writes finish in any order. Each
 * QoS 1 message takes a slot; a finished slot is released only once every earlier one has finished. Confined to the
 * connection's event loop.
 *
 * @param <R> the outcome carried to the sender (stored, or why not)
 */
final class InOrderAcks<R> {
  private final ArrayDeque<Slot<R>> slots = new ArrayDeque<>();
  private final BiConsumer<Integer, R> release;

  /** {@code release} gets (packet id, outcome) in arrival order. */
  InOrderAcks(BiConsumer<Integer, R> release) {
    this.release = release;
  }

  Slot<R> add(int packetId) {
    Slot<R> s = new Slot<>(packetId);
    slots.add(s);
    return s;
  }

  void finish(Slot<R> slot, R outcome) {
    slot.outcome = outcome;
    slot.done = true;
    while (!slots.isEmpty() && slots.peek().done) {
      Slot<R> head = slots.poll();
      release.accept(head.packetId, head.outcome);
    }
  }

  int size() {
    return slots.size();
  }

  static final class Slot<R> {
    final int packetId;
    R outcome;
    boolean done;

    Slot(int packetId) {
      this.packetId = packetId;
    }
  }
}
