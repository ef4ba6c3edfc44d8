package io.iiot.devicehub.command;

/** Why a command could not be handed to its device; the kind picks the gRPC status SendCommand answers with. */
public final class CommandDeliveryException extends RuntimeException {
  public enum Kind {
    /** No such device, or it (or its tenant) is disabled: gRPC NOT_FOUND. */
    UNKNOWN_DEVICE,
    /** The device is not connected (or not waiting for commands) anywhere: gRPC FAILED_PRECONDITION,
     *  reason DEVICE_NOT_CONNECTED. */
    NOT_CONNECTED,
    /** The path to the device is down or overloaded (replica unreachable, Hono/Kafka down): gRPC UNAVAILABLE. */
    UNAVAILABLE,
    /** The path refused this command (e.g. Hono said the device does not exist): gRPC FAILED_PRECONDITION,
     *  reason COMMAND_REJECTED. */
    REJECTED
  }

  private final Kind kind;

  public CommandDeliveryException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
