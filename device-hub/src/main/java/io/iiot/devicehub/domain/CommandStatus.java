package io.iiot.devicehub.domain;

/**
 * Where a command is. SENT → DELIVERED → ANSWERED is the request/response path; a one-way command ends at DELIVERED.
 * TIMED_OUT and FAILED end a command that got no further.
 */
public enum CommandStatus {
  /** Accepted and stored; being handed to the device's connection. */
  SENT,
  /** The device's connection took it (MQTT: PUBLISH written, QoS 1: PUBACKed; CoAP: response or notification sent;
   *  Hono: accepted by Hono's command sender). Final for one-way commands. */
  DELIVERED,
  /** The device answered; the response is stored with the command. */
  ANSWERED,
  /** No answer (or no delivery) before the command's TTL ran out. */
  TIMED_OUT,
  /** The device could not be reached (gone between look-up and delivery, transport error). */
  FAILED;

  /** Whether nothing can change this status any more. */
  public boolean isFinal() {
    return this == ANSWERED || this == TIMED_OUT || this == FAILED;
  }

  /** Whether a command in this status may move to {@code next}: forward only, never out of a final status. */
  public boolean canMoveTo(CommandStatus next) {
    return switch (this) {
      case SENT -> next != SENT;
      case DELIVERED -> next == ANSWERED || next == TIMED_OUT || next == FAILED;
      case ANSWERED, TIMED_OUT, FAILED -> false;
    };
  }
}
