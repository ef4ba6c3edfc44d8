package io.iiot.devicehub.transport.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.DeviceHubHarness;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code mqtt.max-connections}: what a device beyond the limit sees (Paho, both protocol versions). */
@ExtendWith(EmbeddedCassandraExtension.class)
class MqttConnectionLimitTest {
  private static DeviceHubHarness hub;

  @BeforeAll
  static void start() throws Exception {
    hub = new DeviceHubHarness(Map.of("MQTT_MAX_CONNECTIONS", "2"));
  }

  @AfterAll
  static void stop() throws Exception {
    hub.close();
  }

  private MqttClient v3(String device) throws MqttException {
    return hub.pahoV3(device, device + "-limit-v3");
  }

  private int v5ConnectReasonCode(String device) throws Exception {
    var c = new MqttAsyncClient("tcp://127.0.0.1:" + hub.mqttPort, device + "-limit-v5",
        new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(hub.user(device));
    o.setPassword(DeviceHubHarness.PASSWORD.getBytes(StandardCharsets.UTF_8));
    try {
      c.connect(o).waitForCompletion(10_000);
      c.disconnect().waitForCompletion(10_000);
      return 0;
    } catch (org.eclipse.paho.mqttv5.common.MqttException e) {
      return e.getReasonCode();
    } finally {
      c.close(true);
    }
  }

  @Test
  void connectsBeyondTheLimitAreRefusedWithTheProtocolsCodeAndCountedUntilOneCloses() throws Exception {
    double limitedBefore = hub.counter("devicehub.mqtt.connects", "result", "limit");
    MqttClient first = v3("sensor1");
    MqttClient second = v3("sensor2");

    assertThatThrownBy(() -> v3("sensor3")).isInstanceOfSatisfying(MqttException.class,
        e -> assertThat(e.getReasonCode()).isEqualTo(MqttException.REASON_CODE_BROKER_UNAVAILABLE));
    assertThat(v5ConnectReasonCode("sensor3")).as("MQTT 5 CONNACK: quota exceeded").isEqualTo(0x97);
    assertThat(hub.counter("devicehub.mqtt.connects", "result", "limit")).isEqualTo(limitedBefore + 2);

    first.disconnect();
    first.close();
    // The slot is freed when device-hub sees the close; a device retrying a moment later gets in.
    long deadline = System.nanoTime() + 10_000_000_000L;
    MqttClient third = null;
    while (third == null) {
      try {
        third = v3("sensor3");
      } catch (MqttException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(100);
      }
    }
    assertThat(third.isConnected()).isTrue();
    third.disconnect();
    third.close();
    second.disconnect();
    second.close();
  }
}
