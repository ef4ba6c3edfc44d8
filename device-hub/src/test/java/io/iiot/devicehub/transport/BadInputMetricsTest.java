package io.iiot.devicehub.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.iiot.base.ops.OpsHttpServer;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.DeviceHubHarness;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Each kind of bad input is counted, as an operator sees it on /metrics (device-hub's ops HTTP endpoint): malformed
 * and oversized MQTT packets, oversized payloads, wrong passwords, another tenant's topic, DTLS with a wrong key.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class BadInputMetricsTest {
  private static DeviceHubHarness hub;
  private static OpsHttpServer ops;
  private static int opsPort;

  @BeforeAll
  static void start() throws Exception {
    CoapConfig.register();
    DtlsConfig.register();
    UdpConfig.register();
    hub = new DeviceHubHarness(Map.of("MQTT_TLS_PORT", "0", "MQTT_MAX_MESSAGE_BYTES", "4096",
        "INGEST_MAX_PAYLOAD_BYTES", "2048"));
    ops = new OpsHttpServer(hub.vertx, hub.registry);
    opsPort = ops.listen("127.0.0.1", 0).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
        .actualPort();
  }

  @AfterAll
  static void stop() throws Exception {
    ops.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    hub.close();
  }

  private static MqttClient connect(String user, String password) throws Exception {
    MqttClient c = new MqttClient("tcp://127.0.0.1:" + hub.mqttPort, user.replace('@', '-'), new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o.setUserName(user);
    o.setPassword(password.toCharArray());
    o.setConnectionTimeout(10);
    c.connect(o);
    return c;
  }

  /**
   * Connects with a hand-written MQTT 3.1.1 CONNECT, then sends {@code packet} and waits until device-hub closes the
   * connection.
   */
  private static void afterConnect(byte[] packet) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", hub.mqttPort), 5000);
      s.setSoTimeout(10_000);
      java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
      body.write(new byte[] {0, 4, 'M', 'Q', 'T', 'T', 4, (byte) 0xC2, 0, 60});
      for (String field : new String[] {"raw-" + packet.length, hub.user("sensor2"), DeviceHubHarness.PASSWORD}) {
        byte[] b = field.getBytes(StandardCharsets.UTF_8);
        body.write(new byte[] {0, (byte) b.length});
        body.write(b);
      }
      s.getOutputStream().write(0x10);
      s.getOutputStream().write(body.size());
      body.writeTo(s.getOutputStream());
      s.getOutputStream().flush();
      byte[] connack = s.getInputStream().readNBytes(4);
      assertThat(connack).containsExactly(0x20, 2, 0, 0);
      s.getOutputStream().write(packet);
      s.getOutputStream().flush();
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
  }

  /** Sends {@code packet} as the first bytes of a connection and waits until device-hub closes it. */
  private static void asFirstPacket(byte[] packet) throws Exception {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", hub.mqttPort), 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write(packet);
      s.getOutputStream().flush();
      int read;
      try {
        read = s.getInputStream().read();
      } catch (java.net.SocketException reset) {
        read = -1; // closed with our unread bytes still in its buffer: a reset is a close too
      }
      assertThat(read).isEqualTo(-1);
    }
  }

  private static String metrics() throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + opsPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    return r.body();
  }

  @Test
  void everyKindOfBadInputIsCountedOnMetrics() throws Exception {
    // Malformed: a PUBLISH whose remaining length never ends.
    afterConnect(new byte[] {0x30, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 1, 2, 3});
    // Oversized packet: a PUBLISH announcing 10,000 bytes, above mqtt.max-message-bytes (4096).
    byte[] big = new byte[10_003];
    big[0] = 0x30;
    big[1] = (byte) 0x90;
    big[2] = 0x4e;
    big[4] = 1;
    big[5] = 't';
    afterConnect(big);
    // The same two as the FIRST packet (Vert.x MQTT reads it before device-hub has an endpoint): a CONNECT whose
    // remaining length never ends, and a well-formed 3.1.1 CONNECT header announcing 10,000 bytes.
    asFirstPacket(new byte[] {0x10, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 0, 4});
    byte[] bigConnect = new byte[10_003];
    System.arraycopy(new byte[] {0x10, (byte) 0x90, 0x4e, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60}, 0, bigConnect, 0,
        13);
    asFirstPacket(bigConnect);
    // Wrong password.
    assertThat(catchThrowable(() -> connect(hub.user("sensor1"), "wrong-password"))).isNotNull();
    // Oversized payload within the packet limit (3000 > ingest.max-payload-bytes 2048): refused, connection ended.
    MqttClient c = connect(hub.user("sensor1"), DeviceHubHarness.PASSWORD);
    assertThat(catchThrowable(() -> c.publish("t", ("{\"status\":\"" + "x".repeat(3000) + "\"}")
        .getBytes(StandardCharsets.UTF_8), 1, false))).isNotNull();
    c.close(true);
    // Another tenant's topic.
    MqttClient d = connect(hub.user("sensor3"), DeviceHubHarness.PASSWORD);
    assertThat(catchThrowable(() -> d.publish("t/other-tenant/sensor3", "{\"temperature\":1}"
        .getBytes(StandardCharsets.UTF_8), 1, false))).isNotNull();
    d.close(true);
    // DTLS with a wrong key.
    Configuration cfg = Configuration.createStandardWithoutFile();
    cfg.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.CLIENT_ONLY);
    DTLSConnector dtls = new DTLSConnector(DtlsConnectorConfig.builder(cfg)
        .setAddress(new InetSocketAddress("127.0.0.1", 0))
        .setAdvancedPskStore(new AdvancedSinglePskStore(hub.user("sensor2"),
            "not-the-key".getBytes(StandardCharsets.UTF_8))).build());
    CoapClient coap = new CoapClient("coaps://127.0.0.1:" + hub.coapDtlsPort + "/t");
    coap.setEndpoint(new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(dtls).build());
    coap.setTimeout(3000L);
    org.eclipse.californium.core.CoapResponse answer = null;
    try {
      answer = coap.post("{\"temperature\":1}", MediaTypeRegistry.APPLICATION_JSON);
    } catch (Exception handshakeFailed) {
      // Californium reports the failed handshake either way: no response or an exception.
    }
    assertThat(answer).isNull();
    coap.shutdown();

    String m = metrics();
    assertThat(m).containsPattern("devicehub_mqtt_protocol_errors_total\\{[^}]*kind=\"malformed\"[^}]*} 2\\.0");
    assertThat(m).containsPattern("devicehub_mqtt_protocol_errors_total\\{[^}]*kind=\"too_large\"[^}]*} 2\\.0");
    assertThat(m).containsPattern("devicehub_mqtt_connects_total\\{[^}]*result=\"bad_credentials\"[^}]*} 1\\.0");
    assertThat(m).containsPattern(
        "devicehub_messages_total\\{[^}]*outcome=\"too_large\",qos=\"1\",[^}]*transport=\"mqtt\"[^}]*} 1\\.0");
    assertThat(m).containsPattern(
        "devicehub_messages_total\\{[^}]*outcome=\"forbidden\",qos=\"1\",[^}]*transport=\"mqtt\"[^}]*} 1\\.0");
    assertThat(m).containsPattern("devicehub_coap_dtls_records_dropped_total\\{[^}]*} [1-9]");
  }
}
