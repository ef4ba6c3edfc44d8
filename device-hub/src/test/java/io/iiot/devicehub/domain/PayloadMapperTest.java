package io.iiot.devicehub.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class PayloadMapperTest {
  private static final Instant NOW = Instant.parse("2026-11-25T10:00:00.123Z");
  private final PayloadMapper mapper = new PayloadMapper(1024);
  private final TelemetrySchema schema = Schemas.pump();

  private List<TelemetryRow> json(String text) throws PayloadException {
    return mapper.map(text.getBytes(StandardCharsets.UTF_8), "application/json", schema, "acme", "pump1", NOW);
  }

  private PayloadException.Reason refusal(String text) {
    try {
      json(text);
      throw new AssertionError("accepted: " + text);
    } catch (PayloadException e) {
      return e.reason();
    }
  }

  @Test
  void mapsEveryTypeOfAFlatJsonObjectWithItsTimestamp() throws Exception {
    List<TelemetryRow> rows = json(
        "{\"ts\": 1764064800000, \"temperature\": 21.5, \"pressure\": 3, \"running\": true, \"status\": \"ok\"}");
    Instant ts = Instant.ofEpochMilli(1764064800000L);
    assertThat(rows).containsExactly(
        new TelemetryRow("acme", "pump1", ts, "temperature", 21.5, null),
        new TelemetryRow("acme", "pump1", ts, "pressure", 3.0, null),
        new TelemetryRow("acme", "pump1", ts, "running", 1.0, null),
        new TelemetryRow("acme", "pump1", ts, "status", null, "ok"));
  }

  @Test
  void readsNumbersInEveryJsonNotationExactlyAndRefusesARepeatedTimestamp() throws Exception {
    // The fast double parser must give the same (correctly rounded) doubles as Double.parseDouble.
    for (String n : List.of("0.1", "21.5", "-0.0001", "1e2", "99.99999999999999", "7.000000000000001E1", "0")) {
      assertThat(json("{\"temperature\": " + n + "}").get(0).number()).as(n).isEqualTo(Double.parseDouble(n));
    }
    assertThat(refusal("{\"ts\": 1764064800000, \"temperature\": 1, \"ts\": 1764064800001}"))
        .isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("{\"status\": \"a\", \"temperature\": 1, \"status\": \"b\"}"))
        .isEqualTo(PayloadException.Reason.MALFORMED);
  }

  @Test
  void usesTheReceiveTimeWhenThePayloadHasNoTimestampAndAcceptsIsoTimestamps() throws Exception {
    assertThat(json("{\"temperature\": 20}").get(0).ts()).isEqualTo(NOW);
    assertThat(json("{\"ts\": \"2026-11-25T09:00:00Z\", \"temperature\": 20}").get(0).ts())
        .isEqualTo(Instant.parse("2026-11-25T09:00:00Z"));
  }

  @Test
  void refusesValuesOutsideTheSchemaInsteadOfStoringThem() {
    assertThat(refusal("{\"temperature\": 150.01}")).isEqualTo(PayloadException.Reason.OUT_OF_RANGE);
    assertThat(refusal("{\"pressure\": -1}")).isEqualTo(PayloadException.Reason.OUT_OF_RANGE);
    assertThat(refusal("{\"status\": \"" + "x".repeat(33) + "\"}")).isEqualTo(PayloadException.Reason.OUT_OF_RANGE);
    assertThat(refusal("{\"humidity\": 40}")).isEqualTo(PayloadException.Reason.UNKNOWN_METRIC);
    assertThat(refusal("{\"temperature\": \"hot\"}")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("{\"running\": 1}")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("{\"temperature\": {\"v\": 1}}")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("{\"temperature\": 1, \"temperature\": 2}")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("{\"ts\": " + NOW.plusSeconds(3600).toEpochMilli() + ", \"temperature\": 1}"))
        .isEqualTo(PayloadException.Reason.OUT_OF_RANGE);
  }

  @Test
  void refusesWhatIsNotAJsonObjectWithAReadableMessage() {
    assertThat(refusal("not json")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("[1,2]")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("{\"temperature\": 1")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("{\"temperature\": 1} {}")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(refusal("{}")).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThatThrownBy(() -> json("{\"temperature\": 1")).hasMessageContaining("not valid JSON");
  }

  @Test
  void refusesOversizedPayloadsAndUnknownContentTypes() {
    byte[] big = ("{\"status\": \"" + "x".repeat(2000) + "\"}").getBytes(StandardCharsets.UTF_8);
    assertThatThrownBy(() -> mapper.map(big, null, schema, "acme", "pump1", NOW))
        .isInstanceOfSatisfying(PayloadException.class,
            e -> assertThat(e.reason()).isEqualTo(PayloadException.Reason.TOO_LARGE));
    assertThatThrownBy(() -> mapper.map("{}".getBytes(StandardCharsets.UTF_8), "text/xml", schema, "a", "b", NOW))
        .isInstanceOfSatisfying(PayloadException.class,
            e -> assertThat(e.reason()).isEqualTo(PayloadException.Reason.UNSUPPORTED_CONTENT_TYPE));
  }

  @Test
  void readsTheCompactBinaryFormByContentTypeOrByItsVersionByte() throws Exception {
    byte[] payload = BinaryPayloadReader.encode(1764064800000L, new int[] {1, 3}, new double[] {21.5, 1});
    assertThat(payload).hasSize(9 + 2 * 9);
    Instant ts = Instant.ofEpochMilli(1764064800000L);
    List<TelemetryRow> expected = List.of(
        new TelemetryRow("acme", "pump1", ts, "temperature", 21.5, null),
        new TelemetryRow("acme", "pump1", ts, "running", 1.0, null));
    assertThat(mapper.map(payload, BinaryPayloadReader.CONTENT_TYPE, schema, "acme", "pump1", NOW))
        .isEqualTo(expected);
    assertThat(mapper.map(payload, null, schema, "acme", "pump1", NOW)).isEqualTo(expected);
    byte[] serverTime = BinaryPayloadReader.encode(0, new int[] {2}, new double[] {4});
    assertThat(mapper.map(serverTime, null, schema, "acme", "pump1", NOW).get(0).ts()).isEqualTo(NOW);
  }

  @Test
  void refusesBinaryPayloadsThatDoNotFitTheSchemaOrTheLayout() {
    byte[] unknownId = BinaryPayloadReader.encode(0, new int[] {9}, new double[] {1});
    byte[] outOfRange = BinaryPayloadReader.encode(0, new int[] {2}, new double[] {17});
    byte[] notBool = BinaryPayloadReader.encode(0, new int[] {3}, new double[] {0.5});
    byte[] text = BinaryPayloadReader.encode(0, new int[] {4}, new double[] {1});
    byte[] nan = BinaryPayloadReader.encode(0, new int[] {1}, new double[] {Double.NaN});
    byte[] truncated = java.util.Arrays.copyOf(BinaryPayloadReader.encode(0, new int[] {1}, new double[] {1}), 15);
    assertThat(binaryRefusal(unknownId)).isEqualTo(PayloadException.Reason.UNKNOWN_METRIC);
    assertThat(binaryRefusal(outOfRange)).isEqualTo(PayloadException.Reason.OUT_OF_RANGE);
    assertThat(binaryRefusal(notBool)).isEqualTo(PayloadException.Reason.OUT_OF_RANGE);
    assertThat(binaryRefusal(text)).isEqualTo(PayloadException.Reason.MALFORMED);
    assertThat(binaryRefusal(nan)).isEqualTo(PayloadException.Reason.OUT_OF_RANGE);
    assertThat(binaryRefusal(truncated)).isEqualTo(PayloadException.Reason.MALFORMED);
  }

  private PayloadException.Reason binaryRefusal(byte[] payload) {
    try {
      mapper.map(payload, BinaryPayloadReader.CONTENT_TYPE, schema, "acme", "pump1", NOW);
      throw new AssertionError("accepted");
    } catch (PayloadException e) {
      return e.reason();
    }
  }
}
