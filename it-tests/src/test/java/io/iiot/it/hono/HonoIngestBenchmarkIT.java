package io.iiot.it.hono;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.ops.Metrics;
import io.iiot.base.ops.OpsHttpServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.DeviceHubModule;
import io.iiot.devicehub.storage.DeviceRegistry;
import io.iiot.devicehub.transport.hono.HonoSenders;
import io.iiot.devicehub.transport.hono.KafkaBroker;
import io.iiot.it.bench.BenchmarkReport;
import io.iiot.it.bench.DeviceIngestBenchmark;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.eclipse.hono.client.telemetry.kafka.KafkaBasedTelemetrySender;
import org.eclipse.hono.util.QoS;
import org.eclipse.hono.util.RegistrationAssertion;
import org.eclipse.hono.util.TenantObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hono Kafka → Cassandra through device-hub's Hono connector next to raw driver inserts of the same rows, in the same
 * run, against the same embedded node (batch commit log: acknowledged after fsync) and the same real Kafka 4.2 broker.
 *
 * <p>Rows are {@link DeviceIngestBenchmark}'s: 1,000 devices, one metric per message, round-robin, and its raw
 * baselines (single-row async, 256 in flight; per-partition unlogged batches of 20, 64 in flight); the better one is
 * the baseline. The connector's input is written beforehand by Hono's own {@code KafkaBasedTelemetrySender} (QoS 1,
 * JSON with {@code ts}) into {@code hono.telemetry.<tenant>} (3 partitions), so the measured rate is the connector's
 * drain rate: from the first stored record to the last one stored (all offsets then committable), with device-hub
 * running in this JVM. A warm-up pass on another tenant runs first; the connector is measured with its defaults and
 * reading ahead ({@link #READ_AHEAD}), each on its own tenant.
 *
 * <p>Run: {@code mvn -B -q -o -pl kafka-broker,device-hub install -DskipTests && mvn -B -o -pl it-tests verify
 * -Dit.test=HonoIngestBenchmarkIT -Diiot.bench=hono -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false} (about 3
 * minutes); {@code -Dbench.messages=N} changes the message count (default 60,000). Writes the "hono-ingest" section
 * of docs/BENCHMARKS.md.
 */
@EnabledIfSystemProperty(named = "iiot.bench", matches = ".*hono.*")
@ExtendWith(EmbeddedCassandraExtension.class)
class HonoIngestBenchmarkIT {
  private static final int MESSAGES = Integer.getInteger("bench.messages", 60_000);
  private static final String KEYSPACE = "iiot_device_hono_bench";
  /**
   * The second pass: the connector reading far ahead, so that a device's rows meet in the writer's partition queue
   * (1,000 devices round-robin: a batch of n rows per device needs about n × 1,000 records in flight).
   */
  private static final Map<String, String> READ_AHEAD = Map.of("HONO_KAFKA_MAX_POLL_RECORDS", "10000",
      "TELEMETRY_MAX_QUEUED_ROWS", "100000");

  @Test
  void benchmark() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    EmbeddedCassandraExtension.session(KEYSPACE, "db/devicehub").close();
    CqlSession session = EmbeddedCassandraExtension.session();
    String run = Long.toString(System.currentTimeMillis() % 100_000);
    String warm = "hono-warm-" + run;
    String measured = "hono-" + run;
    String deep = "hono-deep-" + run;
    DeviceRegistry devices = new DeviceRegistry(session, KEYSPACE);
    for (String tenant : List.of(warm, measured, deep)) {
      DeviceIngestBenchmark.provision(devices, tenant);
    }
    long base = Instant.now().minus(Duration.ofHours(1)).toEpochMilli();
    produce(broker, warm, base, MESSAGES / 4);
    produce(broker, measured, base, MESSAGES);
    produce(broker, deep, base, MESSAGES);

    PreparedStatement insert = session.prepare("INSERT INTO " + KEYSPACE + ".telemetry (tenant, device_id, day, ts,"
        + " metric, value_double) VALUES (?, ?, ?, ?, ?, ?)");
    DeviceIngestBenchmark.rawSingle(session, insert, "raw-warm-" + run, base, MESSAGES / 4, 256);
    double single = DeviceIngestBenchmark.rawSingle(session, insert, "raw-single-" + run, base, MESSAGES, 256);
    double batched = DeviceIngestBenchmark.rawBatched(session, insert, "raw-batch-" + run, base, MESSAGES, 20, 64);
    double baseline = Math.max(single, batched);
    System.out.printf(Locale.ROOT, "raw single %.0f rows/s, raw batches %.0f rows/s%n", single, batched);

    drain(broker, session, warm, MESSAGES / 4, Map.of());
    Drain hono = drain(broker, session, measured, MESSAGES, Map.of());
    System.out.printf(Locale.ROOT, "Hono connector: %s%n", hono);
    Drain ahead = drain(broker, session, deep, MESSAGES, READ_AHEAD);
    System.out.printf(Locale.ROOT, "Hono connector reading ahead: %s%n", ahead);
    long stored = count(session, measured, base);
    long storedAhead = count(session, deep, base);

    String table = String.format(Locale.ROOT, """
        %,d Hono telemetry records (one metric each, JSON with `ts`) from %,d devices, round-robin, written beforehand by
        Hono's `KafkaBasedTelemetrySender` into `hono.telemetry.<tenant>` (3 partitions) of a real Kafka 4.2 KRaft broker
        (child JVM); embedded Cassandra node with `commitlog_sync: batch`; device-hub (Hono connector) in the test JVM, with
        the `device-hub.yaml` defaults and then reading ahead (`%s`). Connector rate = records from the first stored to
        the last stored, divided by that time (consumer start and group join, %.1f s / %.1f s, not counted). Rows read
        back afterwards: %,d / %,d.

        | Path | Rate | vs. baseline |
        |---|---|---|
        | raw driver, single-row async (256 in flight) | %,.0f rows/s | |
        | raw driver, per-partition unlogged batches of 20 (64 in flight) | %,.0f rows/s | |
        | **baseline** (better of the two) | %,.0f rows/s | 1.00 |
        | Hono Kafka → Cassandra through the connector, offsets committed after the durable write (defaults) | %,.0f records/s | **%.2f×** |
        | the same, reading ahead (max-poll-records 10,000: up to about 15,000 records in flight) | %,.0f records/s | **%.2f×** |

        Target from issue 6: ≥ 0.8× of the baseline, not met. Hono interleaves its devices, so a device's rows meet in one
        partition batch only when the connector holds about n × 1,000 records in flight for n rows per batch; the baseline
        batches 20 rows of a device that it knows in advance. Reading further ahead helps (the yaml default went from 500 to
        5,000 records per poll: 0.14× → 0.30× in these runs) at the price of rows waiting in the write queue that MQTT and
        CoAP share. The shared machine's load (1-min load average around 30) moves every figure; compare within one run.
        """, MESSAGES, DeviceIngestBenchmark.DEVICES, new java.util.TreeMap<>(READ_AHEAD), hono.startupSeconds(),
        ahead.startupSeconds(), stored, storedAhead, single, batched, baseline, hono.rate(), hono.rate() / baseline,
        ahead.rate(), ahead.rate() / baseline);
    System.out.println(table);
    BenchmarkReport.writeSection("hono-ingest", "device-hub: Hono Kafka → Cassandra vs. raw driver writes",
        "mvn -B -o -pl it-tests verify -Dit.test=HonoIngestBenchmarkIT -Diiot.bench=hono -Dtest=none"
            + " -Dsurefire.failIfNoSpecifiedTests=false", table);
    assertThat(stored).isEqualTo(MESSAGES);
    assertThat(storedAhead).isEqualTo(MESSAGES);
    session.close();
  }

  record Drain(double rate, double startupSeconds, double seconds) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%.0f records/s (%.1f s; %.1f s until the first was stored)", rate, seconds,
          startupSeconds);
    }
  }

  /** Writes {@code n} records of {@link DeviceIngestBenchmark#row}'s rows through Hono's sender, 1,000 at a time. */
  private static void produce(KafkaBroker broker, String tenant, long base, int n) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      admin.createTopics(List.of(new NewTopic("hono.telemetry." + tenant, 3, (short) 1),
          new NewTopic("hono.event." + tenant, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    Vertx vertx = Vertx.vertx();
    try {
      KafkaBasedTelemetrySender sender = HonoSenders.telemetry(vertx,
          Map.of("bootstrap.servers", broker.bootstrapServers()));
      await(sender.start());
      TenantObject t = TenantObject.from(tenant, true);
      int devices = DeviceIngestBenchmark.DEVICES;
      for (int i = 0; i < n; i += 1000) {
        List<Future<Void>> sent = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + 1000); j++) {
          Buffer payload = Buffer.buffer("{\"ts\": " + (base + j / devices) + ", \"temperature\": " + j + "}");
          RegistrationAssertion device = new RegistrationAssertion("dev" + (j % devices));
          sent.add(HonoSenders.sendRetrying(() -> sender.sendTelemetry(t, device, QoS.AT_LEAST_ONCE,
              "application/json", payload, Map.of(), null), 5));
        }
        await(Future.all(sent));
      }
      await(sender.stop());
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /** Starts device-hub with the Hono connector on {@code tenant} and waits until its {@code n} records are stored. */
  private static Drain drain(KafkaBroker broker, CqlSession session, String tenant, int n,
      Map<String, String> settings) throws Exception {
    PrometheusMeterRegistry registry = Metrics.newRegistry("device-hub");
    Vertx vertx = Vertx.vertx(Metrics.vertxOptions(registry));
    Map<String, String> env = new HashMap<>();
    env.put("CASSANDRA_CONTACT_POINTS", EmbeddedCassandraExtension.contactPoint());
    env.put("CASSANDRA_KEYSPACE", KEYSPACE);
    env.put("HTTP_PORT", Integer.toString(EmbeddedCassandraExtension.freePort()));
    env.put("GRPC_HOST", "127.0.0.1");
    env.put("GRPC_PORT", Integer.toString(EmbeddedCassandraExtension.freePort()));
    env.put("MQTT_HOST", "127.0.0.1");
    env.put("MQTT_PORT", Integer.toString(EmbeddedCassandraExtension.freePort()));
    env.put("MQTT_TLS_PORT", "0");
    env.put("COAP_HOST", "127.0.0.1");
    env.put("COAP_PORT", Integer.toString(EmbeddedCassandraExtension.freePort()));
    env.put("COAP_DTLS_PORT", "0");
    env.put("HONO_KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers());
    env.put("HONO_KAFKA_GROUP_ID", "bench-" + tenant);
    env.put("HONO_TENANTS", tenant);
    env.putAll(settings);
    ServiceConfig config = ServiceConfig.load("device-hub", env);
    DeviceHubModule module = new DeviceHubModule(config);
    try {
      long start = System.nanoTime();
      module.start(new ServiceContext(vertx, config, session, registry, new OpsHttpServer(vertx, registry)))
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      long deadline = start + TimeUnit.MINUTES.toNanos(10);
      long first = 0;
      double atFirst = 0;
      double stored;
      while ((stored = stored(registry)) < n) {
        if (first == 0 && stored > 0) {
          first = System.nanoTime();
          atFirst = stored;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("only " + stored + " of " + n + " Hono records stored after 10 minutes");
        }
        Thread.sleep(2);
      }
      long end = System.nanoTime();
      if (first == 0) {
        first = end;
      }
      double seconds = (end - first) / 1e9;
      return new Drain((n - atFirst) / seconds, (first - start) / 1e9, seconds);
    } finally {
      module.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static double stored(PrometheusMeterRegistry registry) {
    var c = registry.find("devicehub.hono.records").tags("outcome", "stored").counter();
    return c == null ? 0 : c.count();
  }

  private static long count(CqlSession session, String tenant, long base) {
    long rows = 0;
    LocalDate first = LocalDate.ofInstant(Instant.ofEpochMilli(base), ZoneOffset.UTC);
    LocalDate last = LocalDate.ofInstant(Instant.ofEpochMilli(base + MESSAGES), ZoneOffset.UTC);
    for (int d = 0; d < DeviceIngestBenchmark.DEVICES; d++) {
      for (LocalDate day = first; !day.isAfter(last); day = day.plusDays(1)) {
        rows += session.execute("SELECT COUNT(*) FROM " + KEYSPACE + ".telemetry WHERE tenant = ? AND device_id = ?"
            + " AND day = ?", tenant, "dev" + d, day).one().getLong(0);
      }
    }
    return rows;
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
