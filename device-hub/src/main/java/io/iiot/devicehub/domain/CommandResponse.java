package io.iiot.devicehub.domain;

import java.time.Instant;

/**
 * A device's answer to a request/response command.
 *
 * @param status the device's status code, HTTP-like as in Hono (200-599)
 * @param contentType MIME type of the payload, empty if not given
 */
public record CommandResponse(int status, byte[] payload, String contentType, Instant receivedAt) {
  public CommandResponse {
    if (status < 200 || status > 599) {
      throw new IllegalArgumentException("response status " + status + " must be 200-599 (HTTP-like, as in Hono)");
    }
    if (payload.length > Command.MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("response payload must be at most " + Command.MAX_PAYLOAD_BYTES + " bytes");
    }
    contentType = contentType == null ? "" : contentType;
  }

  /** Reads a status code from a topic segment or a query parameter, as devices send it. */
  public static int parseStatus(String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("response status '" + text + "' is not a number");
    }
  }
}
