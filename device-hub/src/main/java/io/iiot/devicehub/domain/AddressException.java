package io.iiot.devicehub.domain;

/** A topic or resource path that does not name a place this device may publish to. */
public final class AddressException extends Exception {
  /** INVALID: not a Hono address at all; FORBIDDEN: valid, but not for this client. */
  public enum Kind { INVALID, FORBIDDEN }

  private final Kind kind;

  public AddressException(Kind kind, String message) {
    super(message, null, false, false);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
