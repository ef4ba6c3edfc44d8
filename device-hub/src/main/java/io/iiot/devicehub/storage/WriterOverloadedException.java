package io.iiot.devicehub.storage;

/** The telemetry writer's bounded queue is full; nothing of the refused write was stored. */
public final class WriterOverloadedException extends RuntimeException {
  public WriterOverloadedException(String message) {
    super(message, null, false, false);
  }
}
