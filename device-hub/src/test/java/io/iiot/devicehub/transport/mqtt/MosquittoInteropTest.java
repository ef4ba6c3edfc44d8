package io.iiot.devicehub.transport.mqtt;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.DeviceHubHarness;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Debian's mosquitto_pub (2.0.11) against device-hub: MQTT 3.1.1 and 5, QoS 0 and 1, plain and TLS. */
@ExtendWith(EmbeddedCassandraExtension.class)
class MosquittoInteropTest {
  private static DeviceHubHarness hub;
  private final Instant ts = Instant.now().minusSeconds(5);

  @BeforeAll
  static void start() throws Exception {
    hub = new DeviceHubHarness();
  }

  @AfterAll
  static void stop() throws Exception {
    hub.close();
  }

  private Cli pub(String version, int qos, String user, String password, String topic, String message, String... extra)
      throws Exception {
    List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-d", "-h", "127.0.0.1", "-p",
        Integer.toString(hub.mqttPort), "-V", version, "-q", Integer.toString(qos), "-u", user, "-P", password,
        "-t", topic, "-m", message));
    cmd.addAll(List.of(extra));
    return Cli.run(cmd);
  }

  @Test
  void qos1Over311IsAcknowledgedAndStoredWithTheSentValues() throws Exception {
    Cli cli = pub("mqttv311", 1, hub.user("sensor1"), DeviceHubHarness.PASSWORD, "telemetry",
        "{\"ts\": " + ts.toEpochMilli() + ", \"temperature\": 21.5, \"running\": true, \"status\": \"ok\"}");

    assertThat(cli.exit()).as(cli.output()).isZero();
    assertThat(cli.output()).contains("received PUBACK");
    assertThat(hub.stored("sensor1", ts)).contains(ts.toEpochMilli() + " temperature 21.5",
        ts.toEpochMilli() + " running 1.0", ts.toEpochMilli() + " status ok");
  }

  @Test
  void qos1OverMqtt5WithTheShortTopicAndExplicitTenantAndDevice() throws Exception {
    Cli cli = pub("mqttv5", 1, hub.user("sensor3"), DeviceHubHarness.PASSWORD, "t/" + hub.tenant + "/sensor3",
        "{\"ts\": " + ts.toEpochMilli() + ", \"pressure\": 4.25}");

    assertThat(cli.exit()).as(cli.output()).isZero();
    assertThat(cli.output()).contains("received PUBACK");
    assertThat(hub.stored("sensor3", ts)).containsExactly(ts.toEpochMilli() + " pressure 4.25");
  }

  @Test
  void qos0IsStoredBestEffortAndCounted() throws Exception {
    double before = hub.counter("devicehub.messages", "transport", "mqtt", "qos", "0", "outcome", "stored");
    Cli cli = pub("mqttv311", 0, hub.user("gw1"), DeviceHubHarness.PASSWORD, "t",
        "{\"ts\": " + ts.toEpochMilli() + ", \"temperature\": -3.5}");

    assertThat(cli.exit()).as(cli.output()).isZero();
    assertThat(hub.awaitStored("gw1", ts, 1)).containsExactly(ts.toEpochMilli() + " temperature -3.5");
    assertThat(hub.awaitCounter(before + 1, "devicehub.messages", "transport", "mqtt", "qos", "0", "outcome", "stored"))
        .isEqualTo(before + 1);
  }

  @Test
  void wrongPasswordIsRefusedWithTheCodeOfEachProtocolVersion() throws Exception {
    Cli v3 = pub("mqttv311", 1, hub.user("sensor2"), "wrong", "t", "{\"temperature\": 1}");
    Cli v5 = pub("mqttv5", 1, hub.user("sensor2"), "wrong", "t", "{\"temperature\": 1}");
    Cli unknown = pub("mqttv311", 1, "nobody@" + hub.tenant, DeviceHubHarness.PASSWORD, "t", "{\"temperature\": 1}");

    assertThat(v3.exit()).isNotZero();
    assertThat(v3.output()).containsIgnoringCase("bad user name or password");
    assertThat(v5.exit()).isNotZero();
    assertThat(v5.output()).containsIgnoringCase("bad user name or password");
    assertThat(unknown.output()).containsIgnoringCase("bad user name or password");
    assertThat(hub.stored("sensor2", Instant.now())).isEmpty();
    assertThat(hub.counter("devicehub.mqtt.connects", "result", "bad_credentials")).isGreaterThanOrEqualTo(3);
  }

  @Test
  void tlsWithTheGeneratedDevelopmentCertificate() throws Exception {
    Cli cli = Cli.run(List.of("mosquitto_pub", "-d", "-h", "localhost", "-p", Integer.toString(hub.mqttTlsPort),
        "--cafile", hub.module.devTls().certPem().toString(), "-V", "mqttv311", "-q", "1",
        "-u", hub.user("sensor1"), "-P", DeviceHubHarness.PASSWORD, "-t", "event",
        "-m", "{\"ts\": " + ts.plusMillis(7).toEpochMilli() + ", \"status\": \"tls\"}"));

    assertThat(cli.exit()).as(cli.output()).isZero();
    assertThat(hub.stored("sensor1", ts)).contains(ts.plusMillis(7).toEpochMilli() + " status tls");
  }

  /** A self-signed client certificate made with openssl; returns {certificate, key} paths. */
  private static java.nio.file.Path[] clientCertificate(String cn) throws Exception {
    java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("client-cert");
    java.nio.file.Path cert = dir.resolve("cert.pem");
    java.nio.file.Path key = dir.resolve("key.pem");
    Cli made = Cli.run(List.of("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", key.toString(), "-out", cert.toString(), "-subj", "/CN=" + cn, "-days", "1"));
    assertThat(made.exit()).as(made.output()).isZero();
    return new java.nio.file.Path[] {cert, key};
  }

  private Cli pubWithCertificate(java.nio.file.Path[] cert, String message) throws Exception {
    return Cli.run(List.of("mosquitto_pub", "-d", "-h", "localhost", "-p", Integer.toString(hub.mqttTlsPort),
        "--cafile", hub.module.devTls().certPem().toString(), "--cert", cert[0].toString(), "--key",
        cert[1].toString(), "-V", "mqttv311", "-q", "1", "-t", "telemetry", "-m", message));
  }

  @Test
  void aClientCertificateRegisteredByItsFingerprintLogsInWithoutPassword() throws Exception {
    java.nio.file.Path[] cert = clientCertificate("certpump");
    Cli fp = Cli.run(List.of("openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", cert[0].toString()));
    String fingerprint = fp.output().trim().substring(fp.output().indexOf('=') + 1);
    io.grpc.ManagedChannel ch = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
        .forAddress("127.0.0.1", hub.module.grpcPort()).usePlaintext().build();
    try {
      // Provisioned like platform-api does: the certificate's fingerprint as the device's credential.
      io.iiot.device.v1.DeviceServiceGrpc.newBlockingStub(ch).batchCreateDevices(
          io.iiot.device.v1.BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + hub.tenant)
              .addRequests(io.iiot.device.v1.CreateDeviceRequest.newBuilder().setDeviceId("certpump")
                  .setDevice(io.iiot.device.v1.Device.newBuilder().setProfile("pump").setEnabled(true))
                  .addCredentials(io.iiot.device.v1.Credential.newBuilder().setX509Sha256Fingerprint(fingerprint)))
              .build());
    } finally {
      ch.shutdownNow();
    }
    long t = ts.plusMillis(11).toEpochMilli();

    Cli ok = pubWithCertificate(cert, "{\"ts\": " + t + ", \"temperature\": 12.5}");

    assertThat(ok.exit()).as(ok.output()).isZero();
    assertThat(ok.output()).contains("received PUBACK");
    assertThat(hub.stored("certpump", ts)).contains(t + " temperature 12.5");

    // The same subject with another key: its fingerprint is not registered.
    Cli refused = pubWithCertificate(clientCertificate("certpump"), "{\"temperature\": 1}");
    assertThat(refused.exit()).as(refused.output()).isNotZero();
    assertThat(refused.output()).containsIgnoringCase("refused");
  }
}
