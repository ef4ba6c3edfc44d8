package io.iiot.devicehub.ingest;

import io.iiot.base.async.Failures;

/**
 * Why a message was not stored. Each transport maps the kind to its own error: an MQTT 5 reason code or a disconnect,
 * a CoAP response code.
 */
public final class IngestException extends RuntimeException {
  /** Coarse reason, also the {@code outcome} label of the message metrics. */
  public enum Kind {
    /** The address is not a Hono telemetry/event address. */
    INVALID_ADDRESS,
    /** Another tenant, or a device this gateway may not act for. */
    FORBIDDEN,
    /** The target device, its tenant or its profile is unknown or disabled. */
    NOT_FOUND,
    /** The payload does not fit the device's telemetry schema or is not readable. */
    BAD_PAYLOAD,
    /** The payload exceeds the configured size limit. */
    TOO_LARGE,
    /** Events need QoS 1 (at least once). */
    QOS_NOT_ALLOWED,
    /** The write queue is full: try again later. */
    OVERLOADED,
    /** Cassandra did not acknowledge the write (timeout, node down). */
    UNAVAILABLE
  }

  private final Kind kind;

  public IngestException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  /**
   * The refusal a transport answers for a failed ingest: the {@link IngestException} inside any async wrappers, or,
   * for any other failure, {@link Kind#UNAVAILABLE} with its message.
   */
  public static IngestException of(Throwable err) {
    Throwable e = Failures.cause(err);
    return e instanceof IngestException ie ? ie
        : new IngestException(Kind.UNAVAILABLE, String.valueOf(e.getMessage()));
  }

  public Kind kind() {
    return kind;
  }
}
