package io.iiot.devicehub.domain;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Maps a device's payload to telemetry rows through its schema. Two forms are accepted:
 *
 * <ul>
 *   <li>JSON ({@code application/json}): one flat object, {@code {"ts": 1764000000000, "temperature": 21.5}}; see
 *       {@link JsonPayloadReader}.
 *   <li>the compact binary form ({@value BinaryPayloadReader#CONTENT_TYPE}); see {@link BinaryPayloadReader}.
 * </ul>
 *
 * Without a content type, a payload whose first byte is {@code 0x01} is read as binary (no JSON text starts with
 * that byte), anything else as JSON. Every value is checked against the schema; one bad value rejects the whole
 * message, so a device never has half a message stored. Thread-safe and stateless.
 */
public final class PayloadMapper {
  /** Clock skew tolerated for device-supplied timestamps. */
  public static final Duration MAX_FUTURE_SKEW = Duration.ofMinutes(5);

  private final int maxPayloadBytes;

  public PayloadMapper(int maxPayloadBytes) {
    this.maxPayloadBytes = maxPayloadBytes;
  }

  public int maxPayloadBytes() {
    return maxPayloadBytes;
  }

  /**
   * @param contentType the declared content type, or null/empty when the transport carried none
   * @param receivedAt the server's receive time, used when the payload carries no {@code ts}
   */
  public List<TelemetryRow> map(byte[] payload, String contentType, TelemetrySchema schema, String tenant,
      String deviceId, Instant receivedAt) throws PayloadException {
    if (payload.length > maxPayloadBytes) {
      throw new PayloadException(PayloadException.Reason.TOO_LARGE,
          "payload of " + payload.length + " bytes exceeds the limit of " + maxPayloadBytes);
    }
    if (payload.length == 0) {
      throw new PayloadException(PayloadException.Reason.MALFORMED, "empty payload");
    }
    String type = mediaType(contentType);
    List<TelemetryRow> rows;
    if (type.equals(BinaryPayloadReader.CONTENT_TYPE) || (type.isEmpty() && payload[0] == BinaryPayloadReader.VERSION)) {
      rows = BinaryPayloadReader.read(payload, schema, tenant, deviceId, receivedAt);
    } else if (type.isEmpty() || type.equals("application/json") || type.equals("text/json")) {
      rows = JsonPayloadReader.read(payload, schema, tenant, deviceId, receivedAt);
    } else {
      throw new PayloadException(PayloadException.Reason.UNSUPPORTED_CONTENT_TYPE, "content type '" + contentType
          + "' is not supported; use application/json or " + BinaryPayloadReader.CONTENT_TYPE);
    }
    if (rows.isEmpty()) {
      throw new PayloadException(PayloadException.Reason.MALFORMED, "payload carries no metric");
    }
    Instant ts = rows.get(0).ts();
    if (ts.isAfter(receivedAt.plus(MAX_FUTURE_SKEW))) {
      throw new PayloadException(PayloadException.Reason.OUT_OF_RANGE,
          "ts " + ts + " is more than " + MAX_FUTURE_SKEW.toMinutes() + " minutes in the future");
    }
    return rows;
  }

  /** The media type without parameters, lower case; "" when none was given. */
  private static String mediaType(String contentType) {
    if (contentType == null) {
      return "";
    }
    if (contentType.equals("application/json")) {
      return contentType; // what nearly every message carries: no lower-casing and splitting per message
    }
    return contentType.toLowerCase(Locale.ROOT).split(";", 2)[0].trim();
  }

  /** Checks a numeric value against its metric; BOOLEAN accepts exactly 0 and 1. */
  static double checkNumber(MetricSpec spec, double v) throws PayloadException {
    if (!Double.isFinite(v)) {
      throw new PayloadException(PayloadException.Reason.OUT_OF_RANGE, "value of '" + spec.name() + "' is not finite");
    }
    if (spec.type() == MetricType.BOOLEAN) {
      if (v != 0 && v != 1) {
        throw new PayloadException(PayloadException.Reason.OUT_OF_RANGE,
            "value of '" + spec.name() + "' must be a boolean (0 or 1 in binary form)");
      }
      return v;
    }
    if (spec.type() != MetricType.NUMBER) {
      throw new PayloadException(PayloadException.Reason.MALFORMED, "'" + spec.name() + "' must be a string");
    }
    if (v < spec.min() || v > spec.max()) {
      throw new PayloadException(PayloadException.Reason.OUT_OF_RANGE, "value " + v + " of '" + spec.name()
          + "' is outside its valid range [" + spec.min() + ", " + spec.max() + "]" + unitSuffix(spec));
    }
    return v;
  }

  private static String unitSuffix(MetricSpec spec) {
    return spec.unit().isEmpty() ? "" : " " + spec.unit();
  }
}
