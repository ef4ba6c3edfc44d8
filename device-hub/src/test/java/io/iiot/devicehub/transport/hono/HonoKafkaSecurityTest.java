package io.iiot.devicehub.transport.hono;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.DeviceHubHarness;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.Schemas;
import io.iiot.devicehub.domain.Tenant;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.eclipse.hono.client.telemetry.kafka.KafkaBasedTelemetrySender;
import org.eclipse.hono.util.QoS;
import org.eclipse.hono.util.RegistrationAssertion;
import org.eclipse.hono.util.TenantObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The connector against the real broker's secured listeners: over SASL_SSL (TLS with the broker's self-signed
 * certificate from {@code hono.kafka.ssl-truststore-pem}, then SASL PLAIN) and over SASL_PLAINTEXT with SCRAM-SHA-256
 * and SCRAM-SHA-512, Hono's records are stored; a wrong SASL
 * password or an untrusted certificate leave device-hub running and its MQTT/CoAP transports up, but not ready, with the
 * reason in the readiness answer (the same text is logged as an error) and {@code devicehub_hono_kafka_connected} 0.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class HonoKafkaSecurityTest {
  private static final String RUN = UUID.randomUUID().toString().substring(0, 6);

  @Test
  void consumesOverSaslSslWithTheConfiguredTruststoreAndCredentials() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String tenant = "hono-tls-" + RUN;
    createTopics(broker, tenant);
    Map<String, String> env = new HashMap<>(Map.of(
        "HONO_KAFKA_BOOTSTRAP_SERVERS", broker.saslSslBootstrapServers(),
        "HONO_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
        "HONO_KAFKA_SSL_TRUSTSTORE_PEM", broker.caPem().toString(),
        "HONO_KAFKA_SASL_MECHANISM", "PLAIN",
        "HONO_KAFKA_SASL_USERNAME", KafkaBroker.SASL_USER,
        "HONO_KAFKA_SASL_PASSWORD", KafkaBroker.SASL_PASSWORD,
        "HONO_KAFKA_GROUP_ID", "tls-" + RUN,
        "HONO_TENANTS", tenant));
    try (DeviceHubHarness hub = new DeviceHubHarness(env)) {
      DeviceHubHarness.await(hub.devices.putTenant(new Tenant(tenant, true, Duration.ofDays(30))));
      DeviceHubHarness.await(hub.devices.putProfile(tenant, "pump", Schemas.pump()));
      DeviceHubHarness.await(hub.devices.putDevice(new Device(tenant, "press-1", "pump", true, Set.of(),
          Instant.now())));
      int http = listen(hub);

      // Hono's own sender, itself over SASL_SSL: what a Hono adapter writes to a secured Kafka.
      Instant ts = Instant.now().minus(5, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.MILLIS);
      Vertx vertx = Vertx.vertx();
      try {
        Map<String, String> client = new HashMap<>(Map.of("bootstrap.servers", broker.saslSslBootstrapServers(),
            "security.protocol", "SASL_SSL", "ssl.truststore.type", "PEM",
            "ssl.truststore.location", broker.caPem().toString(), "sasl.mechanism", "PLAIN",
            "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                + KafkaBroker.SASL_USER + "\" password=\"" + KafkaBroker.SASL_PASSWORD + "\";"));
        sendPress1(vertx, client, tenant, ts, 10);
      } finally {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      }

      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (hub.counter("devicehub.hono.records", "outcome", "stored") < 10 && System.nanoTime() < end) {
        Thread.sleep(50);
      }
      assertThat(hub.session.execute("SELECT count(*) FROM telemetry WHERE tenant = ? AND device_id = ? AND day = ?",
          tenant, "press-1", java.time.LocalDate.ofInstant(ts, java.time.ZoneOffset.UTC)).one().getLong(0))
          .as("rows of 10 records × 2 metrics").isEqualTo(20);
      HttpResponse<String> ready = awaitReadiness(http, 200);
      assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
      assertThat(gauge(hub, "devicehub.hono.kafka.connected")).isEqualTo(1.0);
    }
  }

  /** SCRAM (the mechanism Kafka deployments usually pick over PLAIN): SHA-256 and SHA-512 both consume. */
  @Test
  void consumesWithScramSha256AndSha512() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    for (String mechanism : List.of("SCRAM-SHA-256", "SCRAM-SHA-512")) {
      String tenant = "hono-" + mechanism.toLowerCase(java.util.Locale.ROOT) + "-" + RUN;
      createTopics(broker, tenant);
      try (DeviceHubHarness hub = new DeviceHubHarness(Map.of(
          "HONO_KAFKA_BOOTSTRAP_SERVERS", broker.saslPlaintextBootstrapServers(),
          "HONO_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
          "HONO_KAFKA_SASL_MECHANISM", mechanism,
          "HONO_KAFKA_SASL_USERNAME", KafkaBroker.SASL_USER,
          "HONO_KAFKA_SASL_PASSWORD", KafkaBroker.SASL_PASSWORD,
          "HONO_KAFKA_GROUP_ID", mechanism + "-" + RUN,
          "HONO_TENANTS", tenant))) {
        DeviceHubHarness.await(hub.devices.putTenant(new Tenant(tenant, true, Duration.ofDays(30))));
        DeviceHubHarness.await(hub.devices.putProfile(tenant, "pump", Schemas.pump()));
        DeviceHubHarness.await(hub.devices.putDevice(new Device(tenant, "press-1", "pump", true, Set.of(),
            Instant.now())));
        // Hono's sender over PLAINTEXT: what is under test is the connector's SCRAM login.
        Instant ts = Instant.now().minus(5, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.MILLIS);
        Vertx vertx = Vertx.vertx();
        try {
          sendPress1(vertx, Map.of("bootstrap.servers", broker.bootstrapServers()), tenant, ts, 3);
        } finally {
          vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (hub.counter("devicehub.hono.records", "outcome", "stored") < 3 && System.nanoTime() < end) {
          Thread.sleep(50);
        }
        assertThat(hub.counter("devicehub.hono.records", "outcome", "stored")).as(mechanism).isEqualTo(3);
        assertThat(hub.session.execute("SELECT count(*) FROM telemetry WHERE tenant = ? AND device_id = ?"
            + " AND day = ?", tenant, "press-1", java.time.LocalDate.ofInstant(ts, java.time.ZoneOffset.UTC)).one()
            .getLong(0)).as(mechanism + ": rows of 3 records × 2 metrics").isEqualTo(6);
      }
    }
  }

  @Test
  void wrongSaslPasswordIsReportedAndLeavesDeviceHubRunningButNotReady() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String tenant = "hono-sasl-" + RUN;
    createTopics(broker, tenant);
    try (DeviceHubHarness hub = new DeviceHubHarness(Map.of(
        "HONO_KAFKA_BOOTSTRAP_SERVERS", broker.saslPlaintextBootstrapServers(),
        "HONO_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT",
        "HONO_KAFKA_SASL_MECHANISM", "PLAIN",
        "HONO_KAFKA_SASL_USERNAME", KafkaBroker.SASL_USER,
        "HONO_KAFKA_SASL_PASSWORD", "not-the-password",
        "HONO_KAFKA_GROUP_ID", "sasl-" + RUN,
        "HONO_TENANTS", tenant))) {
      int http = listen(hub);
      HttpResponse<String> ready = awaitReadiness(http, 503, "SASL authentication failed");
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).contains("hono-kafka").contains("SASL authentication failed for user '"
          + KafkaBroker.SASL_USER + "' with PLAIN").contains("hono.kafka.sasl-password");
      assertThat(gauge(hub, "devicehub.hono.kafka.connected")).isEqualTo(0.0);
      // device-hub itself keeps running: its MQTT port still accepts connections.
      try (java.net.Socket s = new java.net.Socket("127.0.0.1", hub.mqttPort)) {
        assertThat(s.isConnected()).isTrue();
      }
    }
  }

  @Test
  void untrustedBrokerCertificateIsReportedAsTlsFailure() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String tenant = "hono-ssl-" + RUN;
    createTopics(broker, tenant);
    // No truststore configured: the JVM's default CAs do not trust the broker's self-signed certificate.
    try (DeviceHubHarness hub = new DeviceHubHarness(Map.of(
        "HONO_KAFKA_BOOTSTRAP_SERVERS", broker.sslBootstrapServers(),
        "HONO_KAFKA_SECURITY_PROTOCOL", "SSL",
        "HONO_KAFKA_GROUP_ID", "ssl-" + RUN,
        "HONO_TENANTS", tenant))) {
      int http = listen(hub);
      HttpResponse<String> ready = awaitReadiness(http, 503, "TLS handshake failed");
      assertThat(ready.body()).contains("TLS handshake failed").contains("hono.kafka.ssl-truststore-pem");
      assertThat(gauge(hub, "devicehub.hono.kafka.connected")).isEqualTo(0.0);
    }
  }

  private static void createTopics(KafkaBroker broker, String tenant) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic("hono.telemetry." + tenant, 3, (short) 1),
          new NewTopic("hono.event." + tenant, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
  }

  private static int listen(DeviceHubHarness hub) throws Exception {
    int port = EmbeddedCassandraExtension.freePort();
    hub.ops.listen("127.0.0.1", port).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return port;
  }

  /** Polls /health/ready until it answers {@code status} (and mentions {@code text}), for up to 60 s. */
  private static HttpResponse<String> awaitReadiness(int port, int status, String... text) throws Exception {
    HttpClient client = HttpClient.newHttpClient();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    HttpResponse<String> r;
    do {
      r = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == status && (text.length == 0 || r.body().contains(text[0]))) {
        return r;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < end);
    return r;
  }

  private static double gauge(DeviceHubHarness hub, String name) {
    var g = hub.registry.find(name).gauge();
    return g == null ? -1 : g.value();
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  /** {@code records} telemetry records of device press-1 (2 metrics each, ts + i ms) through Hono's own sender. */
  private static void sendPress1(Vertx vertx, Map<String, String> client, String tenant, Instant ts, int records)
      throws Exception {
    KafkaBasedTelemetrySender sender = HonoSenders.telemetry(vertx, client);
    await(sender.start());
    List<Future<Void>> sent = new ArrayList<>();
    for (int i = 0; i < records; i++) {
      long t = ts.toEpochMilli() + i;
      sent.add(HonoSenders.sendRetrying(() -> sender.sendTelemetry(TenantObject.from(tenant, true),
          new RegistrationAssertion("press-1"), QoS.AT_LEAST_ONCE, "application/json",
          Buffer.buffer("{\"ts\": " + t + ", \"temperature\": 20.5, \"pressure\": 1.5}"), Map.of(), null), 5));
    }
    await(Future.all(sent));
    await(sender.stop());
  }
}
