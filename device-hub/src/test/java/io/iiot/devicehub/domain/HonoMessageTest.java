package io.iiot.devicehub.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HonoMessageTest {

  @Test
  void readsHonoHeadersOfATelemetryRecord() throws Exception {
    HonoMessage m = HonoMessage.from("hono.telemetry.plant-1", Map.of("device_id", "press-7",
        "content-type", "application/json", "creation-time", "1764000000123", "qos", "1"), 5L);
    assertThat(m).isEqualTo(new HonoMessage(Endpoint.TELEMETRY, "plant-1", "press-7", "application/json",
        Instant.ofEpochMilli(1764000000123L), 1));
  }

  @Test
  void eventsDefaultToQos1AndTheRecordTimestampStandsInForAMissingCreationTime() throws Exception {
    HonoMessage m = HonoMessage.from("hono.event.plant-1", Map.of("device_id", "press-7"), 1764000000999L);
    assertThat(m.endpoint()).isEqualTo(Endpoint.EVENT);
    assertThat(m.qos()).isEqualTo(1);
    assertThat(m.creationTime()).isEqualTo(Instant.ofEpochMilli(1764000000999L));
    assertThat(m.contentType()).isNull();
  }

  @Test
  void honosUnknownContentTypeLeavesTheFormToTheMapper() throws Exception {
    assertThat(HonoMessage.from("hono.telemetry.t", Map.of("device_id", "d",
        "content-type", "application/octet-stream"), 1L).contentType()).isNull();
  }

  @Test
  void refusesRecordsItCannotAttributeOrDate() {
    assertThatThrownBy(() -> HonoMessage.from("hono.telemetry.t", Map.of("content-type", "application/json"), 1L))
        .hasMessage("record has no device_id header");
    assertThatThrownBy(() -> HonoMessage.from("hono.telemetry.t", Map.of("device_id", "a/b"), 1L))
        .hasMessageContaining("not a valid device id");
    assertThatThrownBy(() -> HonoMessage.from("hono.telemetry.t", Map.of("device_id", "d",
        "creation-time", "yesterday"), 1L)).hasMessageContaining("creation-time 'yesterday'");
    assertThatThrownBy(() -> HonoMessage.from("hono.telemetry.t", Map.of("device_id", "d", "qos", "2"), 1L))
        .hasMessageContaining("qos '2'");
    assertThatThrownBy(() -> HonoMessage.from("hono.command.t", Map.of("device_id", "d"), 1L))
        .hasMessageContaining("not a Hono telemetry or event topic");
  }
}
