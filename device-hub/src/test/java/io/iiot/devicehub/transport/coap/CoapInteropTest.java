package io.iiot.devicehub.transport.coap;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.DeviceHubHarness;
import io.iiot.devicehub.domain.BinaryPayloadReader;
import io.iiot.devicehub.transport.mqtt.Cli;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Debian's coap-client (libcoap 4.3.1) and Californium's client against device-hub, plain CoAP and DTLS PSK. */
@ExtendWith(EmbeddedCassandraExtension.class)
class CoapInteropTest {
  private static DeviceHubHarness hub;
  private final Instant ts = Instant.now().minusSeconds(3600);

  @BeforeAll
  static void start() throws Exception {
    CoapConfig.register();
    DtlsConfig.register();
    UdpConfig.register();
    hub = new DeviceHubHarness(Map.of("COAP_ALLOW_UNAUTHENTICATED", "true"));
  }

  @AfterAll
  static void stop() throws Exception {
    hub.close();
  }

  private CoapClient dtlsClient(String device, String key, String path) {
    Configuration cfg = Configuration.createStandardWithoutFile();
    cfg.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.CLIENT_ONLY);
    DtlsConnectorConfig dtls = DtlsConnectorConfig.builder(cfg)
        .setAddress(new InetSocketAddress("127.0.0.1", 0))
        .setAdvancedPskStore(new AdvancedSinglePskStore(hub.user(device), key.getBytes(StandardCharsets.UTF_8)))
        .build();
    CoapClient client = new CoapClient("coaps://127.0.0.1:" + hub.coapDtlsPort + path);
    client.setEndpoint(new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(new DTLSConnector(dtls)).build());
    client.setTimeout(10_000L);
    return client;
  }

  private static String json(long t, String metrics) {
    return "{\"ts\": " + t + ", " + metrics + "}";
  }

  @Test
  void coapClientPostsOverPlainCoapAndTheValueIsStored() throws Exception {
    long t = ts.toEpochMilli();
    Cli cli = Cli.run(List.of("coap-client-notls", "-m", "put", "-t", "50", "-B", "10",
        "-e", json(t, "\"temperature\": 33.25"),
        "coap://127.0.0.1:" + hub.coapPort + "/telemetry/" + hub.tenant + "/sensor3"));

    assertThat(cli.exit()).as(cli.output()).isZero();
    assertThat(hub.stored("sensor3", ts)).contains(t + " temperature 33.25");
  }

  @Test
  void coapClientPostsOverDtlsWithAPreSharedKey() throws Exception {
    long t = ts.toEpochMilli() + 1;
    Cli cli = Cli.run(List.of("coap-client-openssl", "-m", "post", "-t", "50", "-B", "10",
        "-u", hub.user("sensor1"), "-k", DeviceHubHarness.psk("sensor1"),
        "-e", json(t, "\"pressure\": 2.5, \"status\": \"dtls\""),
        "coaps://127.0.0.1:" + hub.coapDtlsPort + "/t"));

    assertThat(cli.exit()).as(cli.output()).isZero();
    assertThat(hub.stored("sensor1", ts)).contains(t + " pressure 2.5", t + " status dtls");
  }

  @Test
  void coapClientWithAWrongKeyFailsTheHandshakeAndNothingIsStored() throws Exception {
    long t = ts.toEpochMilli() + 2;
    double droppedBefore = hub.counter("devicehub.coap.dtls.records.dropped");
    Cli cli = Cli.run(List.of("coap-client-openssl", "-m", "post", "-t", "50", "-B", "5",
        "-u", hub.user("sensor1"), "-k", "not-the-key",
        "-e", json(t, "\"pressure\": 3"), "coaps://127.0.0.1:" + hub.coapDtlsPort + "/t"));

    assertThat(hub.stored("sensor1", ts)).noneMatch(r -> r.startsWith(t + " "));
    assertThat(cli.output()).doesNotContain("2.04");
    long end = System.nanoTime() + 5_000_000_000L;
    while (hub.counter("devicehub.coap.dtls.records.dropped") == droppedBefore && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    assertThat(hub.counter("devicehub.coap.dtls.records.dropped")).as(cli.output()).isGreaterThan(droppedBefore);
  }

  @Test
  void californiumConAndNonOverDtlsAreStored() throws Exception {
    long t = ts.toEpochMilli() + 10;
    CoapClient client = dtlsClient("sensor2", DeviceHubHarness.psk("sensor2"), "/t");

    CoapResponse con = client.post(json(t, "\"temperature\": 1.5"), MediaTypeRegistry.APPLICATION_JSON);
    assertThat(con.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat(hub.stored("sensor2", ts)).contains(t + " temperature 1.5");

    byte[] binary = BinaryPayloadReader.encode(t + 1, new int[] {2}, new double[] {9.75});
    CoapResponse non = client.useNONs().post(binary, MediaTypeRegistry.APPLICATION_OCTET_STREAM);
    assertThat(non.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat(hub.awaitStored("sensor2", ts, 2)).contains((t + 1) + " pressure 9.75");
    client.shutdown();
  }

  @Test
  void refusalsGetClearCoapCodesAndNothingIsStored() throws Exception {
    long t = ts.toEpochMilli() + 20;
    CoapClient sensor = dtlsClient("sensor3", DeviceHubHarness.psk("sensor3"), "/t");
    CoapClient otherTenant = dtlsClient("sensor3", DeviceHubHarness.psk("sensor3"), "/t/other/sensor3");
    CoapClient gatewayForeign = dtlsClient("gw1", DeviceHubHarness.psk("gw1"), "/t//sensor3");
    CoapClient gatewayUnknown = dtlsClient("gw1", DeviceHubHarness.psk("gw1"), "/t//ghost");

    assertThat(sensor.post(json(t, "\"temperature\": 1000"), MediaTypeRegistry.APPLICATION_JSON).getCode())
        .isEqualTo(ResponseCode.BAD_REQUEST);
    CoapResponse notJson = sensor.post("hello", MediaTypeRegistry.TEXT_PLAIN);
    assertThat(notJson.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
    assertThat(notJson.getResponseText()).contains("not supported");
    assertThat(otherTenant.post(json(t, "\"temperature\": 1"), MediaTypeRegistry.APPLICATION_JSON).getCode())
        .isEqualTo(ResponseCode.FORBIDDEN);
    assertThat(gatewayForeign.post(json(t, "\"temperature\": 1"), MediaTypeRegistry.APPLICATION_JSON).getCode())
        .isEqualTo(ResponseCode.FORBIDDEN);
    assertThat(gatewayUnknown.post(json(t, "\"temperature\": 1"), MediaTypeRegistry.APPLICATION_JSON).getCode())
        .isEqualTo(ResponseCode.NOT_FOUND);
    String big = "{\"status\": \"" + "x".repeat(20_000) + "\"}";
    assertThat(sensor.post(big, MediaTypeRegistry.APPLICATION_JSON).getCode())
        .isEqualTo(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
    for (CoapClient c : List.of(sensor, otherTenant, gatewayForeign, gatewayUnknown)) {
      c.shutdown();
    }

    CoapClient plainGateway = new CoapClient("coap://127.0.0.1:" + hub.coapPort + "/t//sensor3");
    plainGateway.setTimeout(10_000L);
    assertThat(plainGateway.post(json(t, "\"temperature\": 1"), MediaTypeRegistry.APPLICATION_JSON).getCode())
        .isEqualTo(ResponseCode.UNAUTHORIZED);
    plainGateway.shutdown();

    assertThat(hub.stored("sensor3", ts)).noneMatch(r -> r.startsWith(t + " "));
  }
}
