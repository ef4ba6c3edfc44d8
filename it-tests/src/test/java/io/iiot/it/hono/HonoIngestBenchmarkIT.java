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
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
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
 * <p>Two record shapes ({@link HonoBenchShape}), 1,000 devices round-robin: the main one is a snapshot of all
 * metrics of a catalog template (mine-belt-conveyor, 9 metrics; Hono devices typically publish all their values per
 * message), the worst case one metric per record (a device's rows then merge into one partition update only when
 * several of its records wait together). Each shape's baseline is the best raw driver method on the same rows:
 * single-row async (256 in flight) and per-partition unlogged batches of 20 rows and larger (64 in flight), measured
 * before the connector passes, and the reference (20) and the largest batch size once more right before each pass
 * (the shared machine's load moves rates by 2× within minutes); the highest rate of all is the baseline, the one
 * next to the pass is shown too. The connector's input is written beforehand by Hono's own {@code KafkaBasedTelemetrySender} (QoS 1,
 * JSON with {@code ts}) into {@code hono.telemetry.<tenant>} (3 partitions), so the measured rate is the connector's
 * drain rate: from the first stored record to the last one stored (all offsets then committable), with device-hub
 * running in this JVM. A warm-up pass on another tenant runs first; then each pass on its own tenant, the one-metric
 * defaults both first and last (the first pass after the warm-up was once far below the others).
 *
 * <p>Run: {@code mvn -q -B -o -pl device-hub test-compile && mvn -B -o -pl it-tests verify
 * -Dit.test=HonoIngestBenchmarkIT -Diiot.bench=hono -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false
 * -Dmaven.test.dependency.excludes=io.iiot:device-hub
 * -Dmaven.test.additionalClasspath=$PWD/device-hub/target/classes,$PWD/device-hub/target/test-classes} (the tree's
 * device-hub, not the one last installed in ~/.m2; about 6 minutes). Writes the "hono-ingest" section of
 * docs/BENCHMARKS.md.
 */
@EnabledIfSystemProperty(named = "iiot.bench", matches = ".*hono.*")
@ExtendWith(EmbeddedCassandraExtension.class)
class HonoIngestBenchmarkIT {
  private static final String KEYSPACE = "iiot_device_hono_bench";
  static final String COMMAND = "mvn -q -B -o -pl device-hub test-compile && mvn -B -o -pl it-tests verify"
      + " -Dit.test=HonoIngestBenchmarkIT -Diiot.bench=hono -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false"
      + " -Dmaven.test.dependency.excludes=io.iiot:device-hub"
      + " -Dmaven.test.additionalClasspath=$PWD/device-hub/target/classes,$PWD/device-hub/target/test-classes";
  private static final HonoBenchShape ONE = HonoBenchShape.oneMetric(Integer.getInteger("bench.messages", 60_000));
  /** Raw single-row inserts run on this many rows of a shape at most (they are 5-8 times slower than batches). */
  private static final int SINGLE_ROWS = 60_000;
  private static final String SINGLE = "single-row async, 256 in flight";
  private static final String ARRIVAL = "one record's rows per batch, in arrival order, 256 in flight";

  /** One connector run: the shape, what it is called, its settings on top of device-hub.yaml. */
  private record Pass(String name, HonoBenchShape shape, String label, Map<String, String> settings) {}

  /** A shape's raw rates: method → rows/s. */
  private record Raw(HonoBenchShape shape, Map<String, Double> rates) {
    double best() {
      return rates.values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
    }

    String bestMethod() {
      return rates.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    }
  }

  @Test
  void benchmark() throws Exception {
    HonoBenchShape template = HonoBenchShape.template("mine-belt-conveyor", Integer.getInteger("bench.snapshots",
        40_000));
    List<Pass> passes = List.of(
        new Pass("one-first", ONE, "one metric, **defaults** (first pass after the warm-up)", Map.of()),
        new Pass("tmpl", template, "**template snapshot, defaults**", Map.of()),
        new Pass("tmpl-50k", template, "template snapshot, hono.max-queued-rows 50,000 (the previous default)",
            Map.of("HONO_MAX_QUEUED_ROWS", "50000")),
        new Pass("one-deep", ONE, "one metric, max-poll-records 40,000",
            Map.of("HONO_KAFKA_MAX_POLL_RECORDS", "40000")),
        new Pass("one-last", ONE, "one metric, **defaults** (again, last pass)", Map.of()),
        new Pass("tmpl-mem", template, "template snapshot, defaults, heap measured (forced full GCs: rate not"
            + " comparable)", Map.of()));

    KafkaBroker broker = KafkaBroker.shared();
    EmbeddedCassandraExtension.session(KEYSPACE, "db/devicehub").close();
    CqlSession session = EmbeddedCassandraExtension.session();
    String run = Long.toString(System.currentTimeMillis() % 100_000);
    DeviceRegistry devices = new DeviceRegistry(session, KEYSPACE);
    long base = Instant.now().minus(Duration.ofHours(1)).toEpochMilli();
    HonoBenchShape warmShape = new HonoBenchShape(template.name(), template.profile(), template.metrics(),
        template.records() / 2);
    String warm = "hono-warm-" + run;
    warmShape.provision(devices, warm);
    produce(broker, warmShape, warm, base);
    for (Pass pass : passes) {
      pass.shape().provision(devices, tenant(pass, run));
      produce(broker, pass.shape(), tenant(pass, run), base);
    }

    String loadBefore = BenchmarkReport.loadAverage();
    PreparedStatement insert = session.prepare("INSERT INTO " + KEYSPACE + ".telemetry (tenant, device_id, day, ts,"
        + " metric, value_double) VALUES (?, ?, ?, ?, ?, ?)");
    ONE.rawSingle(session, insert, "raw-warm-" + run, base, SINGLE_ROWS / 4, 256);
    Map<HonoBenchShape, List<Integer>> batchSizes = Map.of(template, List.of(20, 90, 180, 360), ONE, List.of(20, 60));
    Map<String, Raw> raw = new LinkedHashMap<>();
    raw.put(template.name(), raw(session, insert, template, "raw-t-" + run, base, batchSizes.get(template)));
    raw.put(ONE.name(), raw(session, insert, ONE, "raw-o-" + run, base, batchSizes.get(ONE)));
    // What a raw writer gets from the same records without reordering them: each record's rows as they arrive.
    Map<String, Double> arrival = new LinkedHashMap<>();
    arrival.put(template.name(), template.rawPerPartition(session, insert, "raw-a-" + run, base,
        template.metrics().size(), 256));
    arrival.put(ONE.name(), raw.get(ONE.name()).rates().get(SINGLE));
    raw.get(template.name()).rates().put(ARRIVAL, arrival.get(template.name()));
    raw.values().forEach(r -> System.out.println("raw " + r.shape().name() + ": " + r.rates()));

    drain(broker, session, warmShape, warm, Map.of());
    List<String> notStored = new ArrayList<>();
    Map<String, Drain> drains = new LinkedHashMap<>();
    Map<String, Double> adjacent = new LinkedHashMap<>();
    for (Pass pass : passes) {
      // The load moves by 2x within minutes here: each pass also gets a baseline measured right before it (the
      // reference batch size and the largest), besides the best of the whole run.
      HonoBenchShape shape = pass.shape();
      List<Integer> sizes = batchSizes.get(shape);
      double near = 0;
      for (int size : List.of(sizes.get(0), sizes.get(sizes.size() - 1))) {
        double rate = shape.rawPerPartition(session, insert, "raw-" + pass.name() + "-" + size + "-" + run, base,
            size, 64);
        raw.get(shape.name()).rates().merge("batch " + size + " (best of the runs next to the passes)", rate,
            Math::max);
        near = Math.max(near, rate);
      }
      adjacent.put(pass.name(), near);
      Drain d = drain(broker, session, shape, tenant(pass, run), pass.settings());
      drains.put(pass.name(), d);
      System.out.printf(Locale.ROOT, "Hono connector, %s: %s; raw next to it %.0f rows/s%n", pass.name(), d, near);
      long stored = count(session, tenant(pass, run), base, shape);
      if (stored != shape.rows()) {
        notStored.add(pass.name() + ": " + stored + " of " + shape.rows() + " rows");
      }
    }

    StringBuilder table = new StringBuilder();
    table.append(String.format(Locale.ROOT, """
        Hono telemetry records from %,d devices, round-robin, written beforehand by Hono's `KafkaBasedTelemetrySender`
        (QoS 1, JSON with `ts`) into `hono.telemetry.<tenant>` (3 partitions) of a real Kafka 4.2 KRaft broker (child
        JVM); embedded Cassandra node with `commitlog_sync: batch`; device-hub (its Hono connector, with a write queue
        of its own) in the test JVM. Two record shapes: **template snapshot** = all %d metrics of the catalog template
        `mine-belt-conveyor` (6 numbers, 3 booleans) per record, %,d records = %,d rows; **one metric** per record
        (worst case), %,d records. Connector rate = records from the first stored to the last stored, divided by that
        time (consumer start and group join not counted). Raw driver methods on the same rows: single-row async (256
        in flight, first %,d rows), per-partition unlogged batches of 20 rows (the reference method) and larger (64 in
        flight), all measured before the passes, and the reference and the largest batch once more right before each
        pass. 1-min load average of the shared 2-core machine: %s before the raw runs, %s at the end.

        | Shape | Raw driver method | rows/s |
        |---|---|---|
        """, HonoBenchShape.DEVICES, template.metrics().size(), template.records(), template.rows(), ONE.records(),
        SINGLE_ROWS, loadBefore, BenchmarkReport.loadAverage()));
    for (Raw r : raw.values()) {
      r.rates().forEach((method, rate) -> table.append(String.format(Locale.ROOT, "| %s | %s%s | %,.0f |%n",
          r.shape().name(), method.startsWith("batch") ? "per-partition unlogged " : "", method
              + (method.equals(r.bestMethod()) ? " (**best of the run**)" : ""), rate)));
    }
    table.append("""

        | Connector pass (offsets committed after the durable write) | max-poll-records / hono.max-queued-rows / hono.max-batch-rows | records/s | rows/s | **vs. best raw of the run** | vs. best raw right before the pass | vs. raw in arrival order | rows per statement | writer queue (mean rows) | records waiting for room (max) | test JVM cores | 1-min load at start |
        |---|---|---|---|---|---|---|---|---|---|---|---|
        """);
    for (Pass pass : passes) {
      Drain d = drains.get(pass.name());
      double rows = d.rate() * pass.shape().metrics().size();
      table.append(String.format(Locale.ROOT,
          "| %s | %s | %,.0f | %,.0f | **%.2f×** | %.2f× (%,.0f rows/s) | %.2f× | %.1f | %,.0f | %,d | %.2f | %s |%n",
          pass.label(), d.limits(), d.rate(), rows, rows / raw.get(pass.shape().name()).best(),
          rows / adjacent.get(pass.name()), adjacent.get(pass.name()), rows / arrival.get(pass.shape().name()),
          d.rowsPerStatement(), d.meanQueued(),
          d.maxWaiting(), d.cores(), d.load()));
    }
    drains.values().stream().filter(d -> !d.heap().isEmpty()).forEach(d -> table.append("\nMemory (template"
        + " snapshot, defaults, full GC at a nine-tenths full queue and after the pass): ").append(d.heap())
        .append(".\n"));
    table.append("""

        Target from issue 6: ≥ 0.8× of the baseline. What dominates on the node is partition updates, not rows: with
        the batch commit log it applies, and waits for an fsync of, one mutation per partition in a batch, so the raw
        rates rise with the rows per batch, and the largest batch (all rows of a device at once, known in advance)
        sets the baseline. Hono interleaves its devices, so the connector merges a device's rows into one update only
        while they wait together in its write queue: about n × 1,000 rows must be queued for n rows per update. A
        snapshot record brings its 9 rows as one update by itself, and `hono.max-queued-rows` (rows, not records)
        bounds how many of a device's snapshots meet; records whose rows do not fit wait for room in arrival order.
        Rows per statement, the mean writer queue and the test JVM's cores (device-hub's CPU, taken from the node on
        the same 2 cores) say which side limited a pass. The first pass after the warm-up runs while the JIT is still
        compiling on a starved machine (several times the CPU per record of the same settings run last):
        read the defaults from the last pass. "In arrival order" is what a raw writer gets from the same records
        without knowing a device's later rows: each record's rows as one per-partition batch (a template record's 9
        rows; single rows for one-metric records).
        """);
    System.out.println(table);
    BenchmarkReport.writeSection("hono-ingest", "device-hub: Hono Kafka → Cassandra vs. raw driver writes", COMMAND,
        table.toString());
    assertThat(notStored).as("passes whose rows were not all read back").isEmpty();
    session.close();
  }

  private static String tenant(Pass pass, String run) {
    return "hono-" + pass.name() + "-" + run;
  }

  /** Single-row inserts and per-partition batches of each size, on fresh tenants. */
  private static Raw raw(CqlSession session, PreparedStatement insert, HonoBenchShape shape, String tenant, long base,
      List<Integer> batchSizes) throws InterruptedException {
    Map<String, Double> rates = new LinkedHashMap<>();
    rates.put(SINGLE, shape.rawSingle(session, insert, tenant + "-s", base, SINGLE_ROWS,
        256));
    for (int size : batchSizes) {
      rates.put("batch " + size, shape.rawPerPartition(session, insert, tenant + "-b" + size, base, size, 64));
    }
    return new Raw(shape, rates);
  }

  /**
   * A pass's drain rate, and what the connector's writer did meanwhile: rows per statement, statement latency (p50),
   * rows queued in the writer (mean of samples every 20 ms), records waiting for room in the write queue (max), CPU
   * cores the test JVM used (device-hub and the sampling loop).
   */
  record Drain(double rate, double startupSeconds, double seconds, double rowsPerStatement, double p50Millis,
      double meanQueued, long maxWaiting, double cores, String load, String limits, String heap) {
    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%.0f records/s (%.1f s; %.1f s until the first was stored; %.1f rows per"
          + " statement, p50 %.0f ms; writer queue mean %.0f rows, max %d records waiting; %.2f cores; load %s; %s) %s",
          rate, seconds, startupSeconds, rowsPerStatement, p50Millis, meanQueued, maxWaiting, cores, load, limits, heap);
    }
  }

  /** Writes the shape's records through Hono's sender, 1,000 at a time. */
  private static void produce(KafkaBroker broker, HonoBenchShape shape, String tenant, long base) throws Exception {
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
      int n = shape.records();
      for (int i = 0; i < n; i += 1000) {
        List<Future<Void>> sent = new ArrayList<>();
        for (int j = i; j < Math.min(n, i + 1000); j++) {
          Buffer payload = Buffer.buffer(shape.json(base, j));
          RegistrationAssertion device = new RegistrationAssertion("dev" + (j % HonoBenchShape.DEVICES));
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

  /** Starts device-hub with the Hono connector on {@code tenant} and waits until the shape's records are stored. */
  private static Drain drain(KafkaBroker broker, CqlSession session, HonoBenchShape shape, String tenant,
      Map<String, String> settings) throws Exception {
    int n = shape.records();
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
    String limits = String.format(Locale.ROOT, "%,d / %,d / %d", config.integer("hono.kafka.max-poll-records", 1,
        Integer.MAX_VALUE), config.integer("hono.max-queued-rows", 1, Integer.MAX_VALUE),
        config.integer("hono.max-batch-rows", 1, Integer.MAX_VALUE));
    DeviceHubModule module = new DeviceHubModule(config);
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    String load = BenchmarkReport.loadAverage();
    int maxQueued = config.integer("hono.max-queued-rows", 1, Integer.MAX_VALUE);
    boolean stopped = false;
    try {
      long start = System.nanoTime();
      module.start(new ServiceContext(vertx, config, session, registry, new OpsHttpServer(vertx, registry)))
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      long deadline = start + TimeUnit.MINUTES.toNanos(10);
      long first = 0;
      double atFirst = 0;
      long cpuAtFirst = 0;
      double stored;
      double queuedSum = 0;
      long samples = 0;
      long maxWaiting = 0;
      long nextSample = 0;
      boolean measureHeap = tenant.startsWith("hono-tmpl-mem");
      long heapFull = 0;
      double pendingAtFull = 0;
      while ((stored = stored(registry)) < n) {
        long now = System.nanoTime();
        if (first == 0 && stored > 0) {
          first = now;
          atFirst = stored;
          cpuAtFirst = os.getProcessCpuTime();
        }
        if (first != 0 && now >= nextSample) {
          queuedSum += gauge(registry, "devicehub.telemetry.rows.queued", "queue", "hono");
          maxWaiting = Math.max(maxWaiting, (long) gauge(registry, "devicehub.hono.records.waiting"));
          samples++;
          nextSample = now + TimeUnit.MILLISECONDS.toNanos(20);
          double pending = gauge(registry, "devicehub.hono.rows.pending");
          if (measureHeap && heapFull == 0 && pending >= 0.9 * maxQueued) {
            System.gc();
            heapFull = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
            pendingAtFull = gauge(registry, "devicehub.hono.rows.pending");
          }
        }
        if (now > deadline) {
          throw new IllegalStateException("only " + stored + " of " + n + " Hono records stored after 10 minutes");
        }
        Thread.sleep(2);
      }
      long end = System.nanoTime();
      if (first == 0) {
        first = end;
        cpuAtFirst = os.getProcessCpuTime();
      }
      double seconds = (end - first) / 1e9;
      double cores = seconds > 0 ? (os.getProcessCpuTime() - cpuAtFirst) / 1e9 / seconds : 0;
      var rows = registry.find("devicehub.telemetry.batch.rows").tags("queue", "hono").summary();
      double p50 = 0;
      var timer = registry.find("devicehub.telemetry.batch.latency").tags("queue", "hono").timer();
      if (timer != null) {
        for (var v : timer.takeSnapshot().percentileValues()) {
          if (v.percentile() == 0.5) {
            p50 = v.value(TimeUnit.MILLISECONDS);
          }
        }
      }
      module.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      stopped = true;
      String heap = "";
      if (heapFull > 0) {
        System.gc();
        long heapEmpty = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        heap = String.format(Locale.ROOT, "heap %,d MiB with %,.0f rows pending, %,d MiB after the pass: %,.0f bytes"
            + " per pending row (the Kafka records behind them included)", heapFull >> 20, pendingAtFull,
            heapEmpty >> 20, (heapFull - heapEmpty) / pendingAtFull);
      }
      return new Drain((n - atFirst) / seconds, (first - start) / 1e9, seconds, rows == null ? 0 : rows.mean(), p50,
          samples == 0 ? 0 : queuedSum / samples, maxWaiting, cores, load, limits, heap);
    } finally {
      if (!stopped) {
        module.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static double gauge(PrometheusMeterRegistry registry, String name, String... tags) {
    var g = registry.find(name).tags(tags).gauge();
    return g == null ? 0 : g.value();
  }

  private static double stored(PrometheusMeterRegistry registry) {
    var c = registry.find("devicehub.hono.records").tags("outcome", "stored").counter();
    return c == null ? 0 : c.count();
  }

  private static long count(CqlSession session, String tenant, long base, HonoBenchShape shape) {
    long rows = 0;
    LocalDate first = LocalDate.ofInstant(Instant.ofEpochMilli(base), ZoneOffset.UTC);
    LocalDate last = LocalDate.ofInstant(Instant.ofEpochMilli(shape.ts(base, shape.records())), ZoneOffset.UTC);
    for (int d = 0; d < HonoBenchShape.DEVICES; d++) {
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
