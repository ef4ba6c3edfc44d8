package io.iiot.devicehub.domain;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the JSON form: one flat object whose keys are metric names of the schema, plus an optional {@code ts}
 * (epoch milliseconds, or an ISO-8601 instant such as {@code 2026-11-25T10:00:00Z}). Numbers for NUMBER metrics,
 * {@code true}/{@code false} for BOOLEAN, strings for TEXT. Nested values, arrays, nulls, unknown and repeated keys
 * are rejected. Uses Jackson's streaming parser (no object tree) so a message costs one pass.
 */
final class JsonPayloadReader {
  private static final JsonFactory JSON = JsonFactory.builder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(4).maxNumberLength(64).build())
      // Correctly rounded like the JDK's parser, at a fraction of its cost (numbers are most of a payload).
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
      .build();

  private JsonPayloadReader() {}

  static List<TelemetryRow> read(byte[] payload, TelemetrySchema schema, String tenant, String deviceId,
      Instant receivedAt) throws PayloadException {
    // A key can name each metric once, so the schema's size bounds the values.
    int capacity = schema.metrics().size();
    MetricSpec[] specs = new MetricSpec[capacity];
    double[] numbers = new double[capacity];
    String[] texts = new String[capacity];
    int count = 0;
    Instant ts = null;
    boolean tsSeen = false;
    long[] seen = new long[4]; // metric ids 0..255 read so far
    try (JsonParser p = JSON.createParser(payload)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw malformed("payload must be a JSON object such as {\"temperature\": 21.5}");
      }
      for (JsonToken t = p.nextToken(); t != JsonToken.END_OBJECT; t = p.nextToken()) {
        if (t != JsonToken.FIELD_NAME) {
          throw malformed("payload is not a valid JSON object");
        }
        String key = p.currentName();
        JsonToken v = p.nextToken();
        if (key.equals("ts")) {
          if (tsSeen) {
            throw malformed("key 'ts' appears twice");
          }
          tsSeen = true;
          ts = timestamp(p, v);
          continue;
        }
        MetricSpec spec = schema.metric(key);
        if (spec == null) {
          throw new PayloadException(PayloadException.Reason.UNKNOWN_METRIC,
              "metric '" + key + "' is not in the device's telemetry schema");
        }
        long bit = 1L << (spec.id() & 63);
        if ((seen[spec.id() >> 6] & bit) != 0) {
          throw malformed("key '" + key + "' appears twice");
        }
        seen[spec.id() >> 6] |= bit;
        specs[count] = spec;
        switch (spec.type()) {
          case NUMBER -> {
            if (!v.isNumeric()) {
              throw malformed("value of '" + key + "' must be a number");
            }
            numbers[count] = PayloadMapper.checkNumber(spec, p.getDoubleValue());
          }
          case BOOLEAN -> {
            if (v != JsonToken.VALUE_TRUE && v != JsonToken.VALUE_FALSE) {
              throw malformed("value of '" + key + "' must be true or false");
            }
            numbers[count] = v == JsonToken.VALUE_TRUE ? 1.0 : 0.0;
          }
          case TEXT -> {
            if (v != JsonToken.VALUE_STRING) {
              throw malformed("value of '" + key + "' must be a string");
            }
            String s = p.getText();
            if (s.length() > spec.maxLength()) {
              throw new PayloadException(PayloadException.Reason.OUT_OF_RANGE,
                  "value of '" + key + "' is longer than " + spec.maxLength() + " characters");
            }
            texts[count] = s;
          }
        }
        count++;
      }
      if (p.nextToken() != null) {
        throw malformed("trailing data after the JSON object");
      }
    } catch (JsonProcessingException e) {
      throw malformed("payload is not valid JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw malformed("payload is not readable JSON: " + e.getMessage());
    }
    Instant at = ts == null ? receivedAt : ts;
    List<TelemetryRow> rows = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      MetricSpec spec = specs[i];
      rows.add(spec.type() == MetricType.TEXT ? new TelemetryRow(tenant, deviceId, at, spec.name(), null, texts[i])
          : new TelemetryRow(tenant, deviceId, at, spec.name(), numbers[i], null));
    }
    return rows;
  }

  private static Instant timestamp(JsonParser p, JsonToken v) throws IOException, PayloadException {
    if (v == JsonToken.VALUE_NUMBER_INT) {
      long ms = p.getLongValue();
      if (ms <= 0) {
        throw new PayloadException(PayloadException.Reason.OUT_OF_RANGE, "ts must be positive epoch milliseconds");
      }
      return Instant.ofEpochMilli(ms);
    }
    if (v == JsonToken.VALUE_STRING) {
      try {
        return Instant.ofEpochMilli(Instant.parse(p.getText()).toEpochMilli());
      } catch (DateTimeParseException e) {
        throw malformed("ts '" + p.getText() + "' is not an ISO-8601 instant such as 2026-11-25T10:00:00Z");
      }
    }
    throw malformed("ts must be epoch milliseconds or an ISO-8601 instant");
  }

  private static PayloadException malformed(String message) {
    return new PayloadException(PayloadException.Reason.MALFORMED, message);
  }
}
