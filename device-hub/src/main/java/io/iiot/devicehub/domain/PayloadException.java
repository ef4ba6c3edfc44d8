package io.iiot.devicehub.domain;

/** A payload that cannot be stored as it is; the message says what is wrong in words a device developer can act on. */
public final class PayloadException extends Exception {
  /** Why, coarse enough to be a metric label. */
  public enum Reason { MALFORMED, UNKNOWN_METRIC, OUT_OF_RANGE, TOO_LARGE, UNSUPPORTED_CONTENT_TYPE }

  private final Reason reason;

  public PayloadException(Reason reason, String message) {
    super(message, null, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
