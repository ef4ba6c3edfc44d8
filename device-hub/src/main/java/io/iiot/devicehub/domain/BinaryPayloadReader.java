package io.iiot.devicehub.domain;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Reads the compact binary form, for constrained devices and cellular links where JSON's size matters.
 *
 * <pre>
 * offset  size  field
 * 0       1     version, 0x01
 * 1       8     ts: epoch milliseconds, big-endian signed; 0 means "use the server's receive time"
 * 9       9·n   n ≥ 1 entries: metric id (1 byte, unsigned, the schema's {@link MetricSpec#id()}),
 *               value (8 bytes, IEEE-754 double, big-endian)
 * </pre>
 *
 * Only NUMBER and BOOLEAN (0.0/1.0) metrics can be sent this way; TEXT metrics need JSON. Example: temperature
 * (id 1) = 21.5 at server time is {@code 01 0000000000000000 01 4035800000000000} (18 bytes; the JSON form
 * {@code {"temperature":21.5}} is 20 bytes, and the gap grows with every metric).
 */
public final class BinaryPayloadReader {
  /** Content type naming this form. */
  public static final String CONTENT_TYPE = "application/vnd.iiot.telemetry.v1";
  static final byte VERSION = 0x01;
  private static final int HEADER = 9;
  private static final int ENTRY = 9;

  private BinaryPayloadReader() {}

  static List<TelemetryRow> read(byte[] payload, TelemetrySchema schema, String tenant, String deviceId,
      Instant receivedAt) throws PayloadException {
    if (payload[0] != VERSION) {
      throw malformed("binary payload version " + (payload[0] & 0xff) + " is not supported (expected 1)");
    }
    if (payload.length < HEADER + ENTRY || (payload.length - HEADER) % ENTRY != 0) {
      throw malformed("binary payload of " + payload.length + " bytes: expected 9 header bytes and 9 bytes per metric");
    }
    ByteBuffer in = ByteBuffer.wrap(payload, 1, payload.length - 1);
    long ms = in.getLong();
    if (ms < 0) {
      throw new PayloadException(PayloadException.Reason.OUT_OF_RANGE, "ts must not be negative");
    }
    Instant ts = ms == 0 ? receivedAt : Instant.ofEpochMilli(ms);
    List<TelemetryRow> rows = new ArrayList<>();
    Set<Integer> seen = new HashSet<>();
    while (in.hasRemaining()) {
      int id = in.get() & 0xff;
      double value = in.getDouble();
      MetricSpec spec = schema.byId(id).orElseThrow(() -> new PayloadException(PayloadException.Reason.UNKNOWN_METRIC,
          "metric id " + id + " is not in the device's telemetry schema"));
      if (spec.type() == MetricType.TEXT) {
        throw malformed("metric '" + spec.name() + "' is text; send it as JSON");
      }
      if (!seen.add(id)) {
        throw malformed("metric id " + id + " appears twice");
      }
      rows.add(new TelemetryRow(tenant, deviceId, ts, spec.name(), PayloadMapper.checkNumber(spec, value), null));
    }
    return rows;
  }

  /** Encodes samples in this form (devices written in Java, tests, the benchmark). */
  public static byte[] encode(long tsMillis, int[] ids, double[] values) {
    ByteBuffer out = ByteBuffer.allocate(HEADER + ENTRY * ids.length);
    out.put(VERSION).putLong(tsMillis);
    for (int i = 0; i < ids.length; i++) {
      out.put((byte) ids[i]).putDouble(values[i]);
    }
    return out.array();
  }

  private static PayloadException malformed(String message) {
    return new PayloadException(PayloadException.Reason.MALFORMED, message);
  }
}
