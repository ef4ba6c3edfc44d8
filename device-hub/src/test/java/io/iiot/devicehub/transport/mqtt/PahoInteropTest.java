package io.iiot.devicehub.transport.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.DeviceHubHarness;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.eclipse.paho.mqttv5.client.MqttCallback;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.MqttDisconnectResponse;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.common.MqttException;
import org.eclipse.paho.mqttv5.common.MqttMessage;
import org.eclipse.paho.mqttv5.common.packet.MqttProperties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Eclipse Paho 1.2.5 (MQTT 3.1.1 and 5) against device-hub: what is stored, what is refused and how. */
@ExtendWith(EmbeddedCassandraExtension.class)
class PahoInteropTest {
  private static DeviceHubHarness hub;
  private final Instant ts = Instant.now().minusSeconds(3600);

  @BeforeAll
  static void start() throws Exception {
    hub = new DeviceHubHarness();
  }

  @AfterAll
  static void stop() throws Exception {
    hub.close();
  }

  private MqttClient v3(String device) throws Exception {
    return hub.pahoV3(device, device + "-v3");
  }

  private MqttAsyncClient v5(String device, CompletableFuture<Integer> disconnectCode) throws Exception {
    var c = new MqttAsyncClient("tcp://127.0.0.1:" + hub.mqttPort, device + "-v5",
        new org.eclipse.paho.mqttv5.client.persist.MemoryPersistence());
    c.setCallback(new MqttCallback() {
      @Override
      public void disconnected(MqttDisconnectResponse r) {
        disconnectCode.complete(r.getReturnCode());
      }

      @Override
      public void mqttErrorOccurred(MqttException e) {}

      @Override
      public void messageArrived(String topic, MqttMessage m) {}

      @Override
      public void deliveryComplete(IMqttToken t) {}

      @Override
      public void connectComplete(boolean reconnect, String uri) {}

      @Override
      public void authPacketArrived(int reason, MqttProperties p) {}
    });
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(hub.user(device));
    o.setPassword(DeviceHubHarness.PASSWORD.getBytes(StandardCharsets.UTF_8));
    c.connect(o).waitForCompletion(10_000);
    return c;
  }

  private static byte[] json(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /** Publishes QoS 1 over MQTT 5 and returns the PUBACK reason code (0 = stored). */
  private static int publish5(MqttAsyncClient c, String topic, String payload) {
    try {
      IMqttToken token = c.publish(topic, new MqttMessage(json(payload), 1, false, null));
      token.waitForCompletion(10_000);
      return token.getReasonCodes() == null ? 0 : token.getReasonCodes()[0];
    } catch (MqttException e) {
      return e.getReasonCode();
    }
  }

  @Test
  void everyAcknowledgedQos1MessageIsStoredWithItsValues() throws Exception {
    MqttClient client = v3("sensor1");
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      long t = ts.toEpochMilli() + i;
      double temperature = -40 + (i * 0.5) % 190;
      client.publish("telemetry", json("{\"ts\": " + t + ", \"temperature\": " + temperature + "}"), 1, false);
      expected.add(t + " temperature " + temperature);
    }
    client.disconnect();
    client.close();

    long from = ts.toEpochMilli();
    assertThat(hub.stored("sensor1", ts).stream()
        .filter(r -> Long.parseLong(r.split(" ")[0]) - from < 300 && Long.parseLong(r.split(" ")[0]) >= from))
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void aResentMessageIsStoredOnce() throws Exception {
    MqttClient client = v3("sensor3");
    byte[] message = json("{\"ts\": " + ts.toEpochMilli() + ", \"temperature\": 50, \"pressure\": 1.5}");
    client.publish("t", message, 1, false);
    client.publish("t", message, 1, false);
    client.disconnect();
    client.close();

    assertThat(hub.stored("sensor3", ts)).containsExactlyInAnyOrder(ts.toEpochMilli() + " temperature 50.0",
        ts.toEpochMilli() + " pressure 1.5");
  }

  @Test
  void mqtt5GetsAReasonCodeForEachMessageThatIsNotStored() throws Exception {
    var client = v5("sensor2", new CompletableFuture<>());
    long t = ts.toEpochMilli() + 100_000;

    assertThat(publish5(client, "t", "{\"ts\": " + t + ", \"temperature\": 151}")).isEqualTo(0x99);
    assertThat(publish5(client, "t", "{\"ts\": " + t + ", \"humidity\": 1}")).isEqualTo(0x99);
    assertThat(publish5(client, "t", "not json")).isEqualTo(0x99);
    assertThat(publish5(client, "t/other-tenant/sensor2", "{\"ts\": " + t + ", \"temperature\": 1}"))
        .isEqualTo(0x87);
    assertThat(publish5(client, "bogus/topic", "{\"ts\": " + t + ", \"temperature\": 1}")).isEqualTo(0x90);
    // The connection survives refusals: the next good message is stored.
    assertThat(publish5(client, "t", "{\"ts\": " + t + ", \"temperature\": 12}")).isZero();
    client.disconnect().waitForCompletion(10_000);
    client.close();

    assertThat(hub.stored("sensor2", Instant.ofEpochMilli(t))).containsExactly(t + " temperature 12.0");
    assertThat(hub.counter("devicehub.messages", "transport", "mqtt", "qos", "1", "outcome", "bad_payload"))
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void aGatewayPublishesOnlyForTheDevicesThatNameIt() throws Exception {
    var gateway = v5("gw1", new CompletableFuture<>());
    long t = ts.toEpochMilli() + 200_000;

    assertThat(publish5(gateway, "t//sensor2", "{\"ts\": " + t + ", \"pressure\": 7}")).isZero();
    assertThat(publish5(gateway, "telemetry/" + hub.tenant + "/sensor2", "{\"ts\": " + (t + 1) + ", \"pressure\": 8}"))
        .isZero();
    assertThat(publish5(gateway, "t//sensor3", "{\"ts\": " + t + ", \"pressure\": 7}")).isEqualTo(0x87);
    assertThat(publish5(gateway, "t//no-such-device", "{\"ts\": " + t + ", \"pressure\": 7}")).isEqualTo(0x87);
    gateway.disconnect().waitForCompletion(10_000);
    gateway.close();

    assertThat(hub.stored("sensor2", Instant.ofEpochMilli(t))).contains(t + " pressure 7.0", (t + 1) + " pressure 8.0");
    assertThat(hub.stored("sensor3", Instant.ofEpochMilli(t))).noneMatch(r -> r.startsWith(t + " "));
  }

  @Test
  void mqtt311IsDisconnectedInsteadOfAcknowledgedWhenAMessageCannotBeStored() throws Exception {
    MqttClient client = v3("gw1");
    long t = ts.toEpochMilli() + 300_000;

    assertThatThrownBy(() -> client.publish("t", json("{\"ts\": " + t + ", \"pressure\": 99}"), 1, false))
        .isInstanceOf(org.eclipse.paho.client.mqttv3.MqttException.class);
    assertThat(client.isConnected()).isFalse();
    client.close();
    assertThat(hub.stored("gw1", Instant.ofEpochMilli(t))).noneMatch(r -> r.startsWith(t + " "));
  }

  @Test
  void anOversizedPayloadEndsTheMqtt5ConnectionWithPacketTooLarge() throws Exception {
    CompletableFuture<Integer> disconnect = new CompletableFuture<>();
    var client = v5("sensor1", disconnect);
    String big = "{\"status\": \"" + "x".repeat(20_000) + "\"}";

    client.publish("t", new MqttMessage(json(big), 1, false, null));

    assertThat(disconnect.get(10, TimeUnit.SECONDS)).isEqualTo(0x95);
    client.close(true);
    assertThat(hub.counter("devicehub.messages", "transport", "mqtt", "qos", "1", "outcome", "too_large"))
        .isEqualTo(1);
  }

  @Test
  void anEventSentWithQos0IsRefusedBecauseEventsNeedAtLeastOnce() throws Exception {
    CompletableFuture<Integer> disconnect = new CompletableFuture<>();
    var client = v5("sensor3", disconnect);
    long t = ts.toEpochMilli() + 400_000;

    client.publish("event", new MqttMessage(json("{\"ts\": " + t + ", \"status\": \"alarm\"}"), 0, false, null));

    assertThat(disconnect.get(10, TimeUnit.SECONDS)).isEqualTo(0x9B);
    client.close(true);
    assertThat(hub.stored("sensor3", Instant.ofEpochMilli(t))).noneMatch(r -> r.startsWith(t + " "));
  }

  @Test
  void aMalformedPacketClosesThatConnectionOnlyAndNothingIsStored() throws Exception {
    try (java.net.Socket raw = new java.net.Socket("127.0.0.1", hub.mqttPort)) {
      raw.setSoTimeout(10_000);
      // A CONNECT header announcing a remaining length with no terminating byte, then garbage.
      raw.getOutputStream().write(new byte[] {0x10, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 1, 2, 3});
      raw.getOutputStream().flush();
      assertThat(raw.getInputStream().read()).isEqualTo(-1);
    }
    MqttClient client = v3("sensor1");
    long t = ts.toEpochMilli() + 500_000;
    client.publish("t", json("{\"ts\": " + t + ", \"temperature\": 5}"), 1, false);
    client.disconnect();
    client.close();
    assertThat(hub.stored("sensor1", Instant.ofEpochMilli(t))).contains(t + " temperature 5.0");
  }

  @Test
  void aPublishWhoseHeaderArrivesInTwoPiecesIsStoredAndAcknowledged() throws Exception {
    // TCP may cut a packet anywhere; Netty's MqttDecoder alone took a cut inside the topic for an oversized packet.
    long t = ts.toEpochMilli() + 600_000;
    try (java.net.Socket raw = new java.net.Socket("127.0.0.1", hub.mqttPort)) {
      raw.setSoTimeout(10_000);
      raw.setTcpNoDelay(true);
      var out = raw.getOutputStream();
      var in = new java.io.DataInputStream(raw.getInputStream());
      out.write(packet(0x10, concat(utf8("MQTT"), new byte[] {4, (byte) 0xC2, 0, 0}, utf8("split-v3"),
          utf8(hub.user("sensor1")), utf8(DeviceHubHarness.PASSWORD))));
      out.flush();
      byte[] connack = new byte[4];
      in.readFully(connack);
      assertThat(connack[3]).as("CONNACK return code").isZero();
      byte[] publish = packet(0x32, concat(utf8("telemetry"), new byte[] {0, 7},
          ("{\"ts\": " + t + ", \"temperature\": 6}").getBytes(StandardCharsets.UTF_8)));
      out.write(publish, 0, 6); // fixed header and half the topic
      out.flush();
      Thread.sleep(200);
      out.write(publish, 6, publish.length - 6);
      out.flush();
      byte[] puback = new byte[4];
      in.readFully(puback);
      assertThat(puback).containsExactly(0x40, 2, 0, 7);
    }
    assertThat(hub.stored("sensor1", Instant.ofEpochMilli(t))).contains(t + " temperature 6.0");
  }

  private static byte[] utf8(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return concat(new byte[] {(byte) (b.length >> 8), (byte) b.length}, b);
  }

  private static byte[] concat(byte[]... parts) {
    java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
    for (byte[] p : parts) {
      b.writeBytes(p);
    }
    return b.toByteArray();
  }

  /** An MQTT packet: type byte, remaining length (under 128 here), body. */
  private static byte[] packet(int type, byte[] body) {
    return concat(new byte[] {(byte) type, (byte) body.length}, body);
  }
}
