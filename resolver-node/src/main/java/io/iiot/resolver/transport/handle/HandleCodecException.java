package io.iiot.resolver.transport.handle;

/**
 * A message that cannot be decoded, carrying the Handle response code to answer with (usually
 * {@link ResponseCodes#RC_PROTOCOL_ERROR}). Thrown on every malformed input; it has no stack trace, so that a flood of
 * garbage costs no more than the check that rejected it.
 */
public final class HandleCodecException extends Exception {
  private final int responseCode;

  public HandleCodecException(int responseCode, String message) {
    super(message, null, false, false);
    this.responseCode = responseCode;
  }

  public static HandleCodecException protocol(String message) {
    return new HandleCodecException(ResponseCodes.RC_PROTOCOL_ERROR, message);
  }

  public int responseCode() {
    return responseCode;
  }
}
