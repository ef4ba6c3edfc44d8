package io.iiot.devicehub.transport.hono;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.iiot.base.launch.ChildJvm;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.launch.Workspace;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.Schemas;
import io.iiot.devicehub.domain.Tenant;
import io.iiot.devicehub.storage.DeviceRegistry;
import io.iiot.devicehub.storage.TestKeyspace;
import io.opentracing.noop.NoopTracerFactory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.io.File;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.eclipse.hono.client.kafka.CommonKafkaClientConfigProperties;
import org.eclipse.hono.client.kafka.producer.CachingKafkaProducerFactory;
import org.eclipse.hono.client.kafka.producer.MessagingKafkaProducerConfigProperties;
import org.eclipse.hono.client.telemetry.kafka.KafkaBasedTelemetrySender;
import org.eclipse.hono.util.QoS;
import org.eclipse.hono.util.RegistrationAssertion;
import org.eclipse.hono.util.TenantObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * At least once across a crash: device-hub runs as a child process consuming 50,000 Hono telemetry records, is killed
 * with SIGKILL part-way, and restarted; afterwards every record's rows are in Cassandra, value by value, none missing,
 * none extra.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class HonoCrashTest {
  private static final int RECORDS = 50_000;
  private static final int DEVICES = 100;

  @Test
  void killMinus9WhileConsumingLosesAndDoublesNothing() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    CqlSession session = TestKeyspace.session();
    String run = UUID.randomUUID().toString().substring(0, 6);
    String tenant = "hono-crash-" + run;
    DeviceRegistry registry = new DeviceRegistry(session, TestKeyspace.NAME);
    registry.putTenant(new Tenant(tenant, true, Duration.ofDays(30))).toCompletableFuture().get(30, TimeUnit.SECONDS);
    registry.putProfile(tenant, "pump", Schemas.pump()).toCompletableFuture().get(30, TimeUnit.SECONDS);
    for (int d = 0; d < DEVICES; d++) {
      registry.putDevice(new Device(tenant, device(d), "pump", true, Set.of(), Instant.now()))
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic("hono.telemetry." + tenant, 3, (short) 1),
          new NewTopic("hono.event." + tenant, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }

    // 50,000 records, written before device-hub starts, by Hono's own sender.
    Instant base = Instant.now().minus(30, ChronoUnit.MINUTES).truncatedTo(ChronoUnit.SECONDS);
    Set<String> expected = new HashSet<>();
    Vertx vertx = Vertx.vertx();
    try {
      MessagingKafkaProducerConfigProperties producerConfig = new MessagingKafkaProducerConfigProperties();
      CommonKafkaClientConfigProperties common = new CommonKafkaClientConfigProperties();
      common.setCommonClientConfig(Map.of("bootstrap.servers", broker.bootstrapServers()));
      producerConfig.setCommonClientConfig(common);
      KafkaBasedTelemetrySender sender = new KafkaBasedTelemetrySender(vertx,
          CachingKafkaProducerFactory.sharedFactory(vertx), producerConfig, true, NoopTracerFactory.create());
      await(sender.start());
      TenantObject t = TenantObject.from(tenant, true);
      for (int i = 0; i < RECORDS; i += 1000) {
        List<Future<Void>> sent = new ArrayList<>();
        for (int j = i; j < Math.min(RECORDS, i + 1000); j++) {
          String dev = device(j % DEVICES);
          long ts = base.toEpochMilli() + j;
          double temperature = (j % 1000) / 10.0;
          double pressure = (j % 160) / 10.0;
          expected.add(dev + " " + ts + " temperature " + temperature);
          expected.add(dev + " " + ts + " pressure " + pressure);
          Buffer payload = Buffer.buffer("{\"ts\": " + ts + ", \"temperature\": " + temperature
              + ", \"pressure\": " + pressure + "}");
          sent.add(HonoSenders.sendRetrying(() -> sender.sendTelemetry(t, new RegistrationAssertion(dev), QoS.AT_LEAST_ONCE,
              "application/json", payload, Map.of(), null), 5));
        }
        await(Future.all(sent));
      }
      await(sender.stop());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    Path dir = Path.of("target", "hono-crash-" + run).toAbsolutePath();
    Map<String, String> env = new HashMap<>();
    env.put("CASSANDRA_CONTACT_POINTS", EmbeddedCassandraExtension.contactPoint());
    env.put("CASSANDRA_KEYSPACE", TestKeyspace.NAME);
    env.put("GRPC_HOST", "127.0.0.1");
    env.put("MQTT_HOST", "127.0.0.1");
    env.put("MQTT_TLS_PORT", "0");
    env.put("COAP_HOST", "127.0.0.1");
    env.put("COAP_DTLS_PORT", "0");
    env.put("HONO_KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
    env.put("HONO_KAFKA_GROUP_ID", "crash-" + run);
    env.put("HONO_TENANTS", tenant);

    ChildJvm first = startHub(env, Workspace.freePort(), dir.resolve("first.log"));
    long stored;
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    do {
      Thread.sleep(200);
      stored = countRows(session, tenant, base);
      assertThat(first.isAlive()).as("device-hub running (log " + dir + ")").isTrue();
    } while (stored < expected.size() / 5 && System.nanoTime() < end);
    first.kill();
    long atKill = countRows(session, tenant, base);
    assertThat(atKill).as("rows stored when killed").isGreaterThan(0).isLessThan(expected.size());

    int httpPort = Workspace.freePort();
    ChildJvm second = startHub(env, httpPort, dir.resolve("second.log"));
    long maxLag = 0;
    long lag = -1;
    try {
      end = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
      while (countRows(session, tenant, base) < expected.size() && System.nanoTime() < end) {
        maxLag = Math.max(maxLag, lag(httpPort, tenant));
        Thread.sleep(500);
      }
      // The gauge follows the committed offsets (refreshed every 5 s): it must come down to 0 once all is stored.
      end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while ((lag = lag(httpPort, tenant)) != 0 && System.nanoTime() < end) {
        maxLag = Math.max(maxLag, lag);
        Thread.sleep(500);
      }
    } finally {
      second.stop(Duration.ofSeconds(30));
    }
    Set<String> actual = new HashSet<>();
    long rows = 0;
    for (int d = 0; d < DEVICES; d++) {
      for (LocalDate day : days(base)) {
        for (Row r : session.execute("SELECT ts, metric, value_double FROM telemetry WHERE tenant = ?"
            + " AND device_id = ? AND day = ?", tenant, device(d), day)) {
          actual.add(device(d) + " " + r.getInstant("ts").toEpochMilli() + " " + r.getString("metric") + " "
              + r.getDouble("value_double"));
          rows++;
        }
      }
    }
    System.out.printf(Locale.ROOT, "Hono crash test: %d rows stored when killed, %d of %d after restart; consumer lag"
        + " gauge at most %d records after the restart, %d at the end%n", atKill, rows, expected.size(), maxLag, lag);
    assertThat(rows).isEqualTo(expected.size());
    assertThat(actual).isEqualTo(expected);
    assertThat(maxLag).as("consumer lag while the backlog was consumed").isPositive();
    assertThat(lag).as("consumer lag once everything is stored and committed").isZero();
  }

  /** {@code devicehub_hono_consumer_lag} of the tenant from device-hub's Prometheus endpoint; -1 if not there yet. */
  private static long lag(int httpPort, String tenant) {
    try {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + httpPort + "/metrics")).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString());
      for (String line : r.body().split("\n")) {
        if (line.startsWith("devicehub_hono_consumer_lag{") && line.contains("tenant=\"" + tenant + "\"")) {
          return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
    } catch (java.io.IOException e) {
      // not listening yet
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return -1;
  }

  private static ChildJvm startHub(Map<String, String> base, int httpPort, Path log) throws Exception {
    Map<String, String> env = new HashMap<>(base);
    env.put("HTTP_PORT", Integer.toString(httpPort));
    env.put("GRPC_PORT", Integer.toString(Workspace.freePort()));
    env.put("MQTT_PORT", Integer.toString(Workspace.freePort()));
    env.put("COAP_PORT", Integer.toString(Workspace.freePort()));
    List<Path> classpath = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      classpath.add(Path.of(entry));
    }
    return ChildJvm.start("device-hub", List.of(), EmbeddedCassandra.locateJava17(), List.of("-Xmx512m"), classpath,
        "io.iiot.devicehub.DeviceHubMain", List.of(), env, log);
  }

  private static long countRows(CqlSession session, String tenant, Instant base) {
    long n = 0;
    for (int d = 0; d < DEVICES; d++) {
      for (LocalDate day : days(base)) {
        n += session.execute("SELECT count(*) FROM telemetry WHERE tenant = ? AND device_id = ? AND day = ?", tenant,
            device(d), day).one().getLong(0);
      }
    }
    return n;
  }

  /** The UTC days the samples fall on (two if the run straddles midnight). */
  private static List<LocalDate> days(Instant base) {
    LocalDate first = LocalDate.ofInstant(base, ZoneOffset.UTC);
    LocalDate last = LocalDate.ofInstant(base.plusMillis(RECORDS), ZoneOffset.UTC);
    return first.equals(last) ? List.of(first) : List.of(first, last);
  }

  private static String device(int d) {
    return String.format(Locale.ROOT, "crash-%03d", d);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
