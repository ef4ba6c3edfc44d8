package io.iiot.devicehub.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PublishAddressTest {
  private final DeviceRef sensor = new DeviceRef("acme", "sensor1");

  @Test
  void longAndShortFormsNameTheSameEndpoint() throws Exception {
    assertThat(PublishAddress.parse("telemetry").endpoint()).isEqualTo(Endpoint.TELEMETRY);
    assertThat(PublishAddress.parse("t").endpoint()).isEqualTo(Endpoint.TELEMETRY);
    assertThat(PublishAddress.parse("event").endpoint()).isEqualTo(Endpoint.EVENT);
    assertThat(PublishAddress.parse("e/acme/sensor1").endpoint()).isEqualTo(Endpoint.EVENT);
  }

  @Test
  void takesTenantAndDeviceFromTheCredentialsWhenLeftEmpty() throws Exception {
    assertThat(PublishAddress.parse("t").target(sensor)).isEqualTo(sensor);
    assertThat(PublishAddress.parse("telemetry/acme/sensor1").target(sensor)).isEqualTo(sensor);
    assertThat(PublishAddress.parse("t//sensor2").target(sensor)).isEqualTo(new DeviceRef("acme", "sensor2"));
  }

  @Test
  void refusesAnotherTenantsTopic() {
    assertThatThrownBy(() -> PublishAddress.parse("t/other/sensor1").target(sensor))
        .isInstanceOfSatisfying(AddressException.class,
            e -> assertThat(e.kind()).isEqualTo(AddressException.Kind.FORBIDDEN))
        .hasMessageContaining("tenant 'other'");
  }

  @Test
  void readsTheUrlEncodedPropertyBag() throws Exception {
    PublishAddress a = PublishAddress.parse("t/acme/sensor1/?content-type=application%2Fjson&hono-ttl=30");
    assertThat(a.contentType()).isEqualTo("application/json");
    assertThat(a.properties()).isEqualTo(Map.of("content-type", "application/json", "hono-ttl", "30"));
    assertThat(PublishAddress.parse("t/?content-type=application%2Fjson").target(sensor)).isEqualTo(sensor);
  }

  @Test
  void refusesTopicsThatAreNotHonoAddresses() {
    for (String topic : new String[] {"", "foo", "telemetry/acme", "t/acme/", "t/a/b/c", "commands/x"}) {
      assertThatThrownBy(() -> PublishAddress.parse(topic)).as(topic)
          .isInstanceOfSatisfying(AddressException.class,
              e -> assertThat(e.kind()).isEqualTo(AddressException.Kind.INVALID));
    }
  }

  @Test
  void aGatewayMayPublishOnlyForDevicesThatNameIt() {
    Device device = new Device("acme", "sensor2", "pump", true, Set.of("gw1"), java.time.Instant.EPOCH);
    assertThat(device.acceptsGateway("gw1")).isTrue();
    assertThat(device.acceptsGateway("gw2")).isFalse();
  }

  @Test
  void parsesHonoUserNames() {
    assertThat(AuthId.parse("sensor1@DEFAULT_TENANT")).isEqualTo(new AuthId("sensor1", "DEFAULT_TENANT"));
    assertThat(AuthId.parse("a@b@acme")).isEqualTo(new AuthId("a@b", "acme"));
    assertThat(AuthId.parse("sensor1")).isNull();
    assertThat(AuthId.parse("@acme")).isNull();
    assertThat(AuthId.parse("sensor1@")).isNull();
  }
}
