package io.iiot.it.platform;

import static io.iiot.it.platform.PlatformStack.withKey;
import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.BatchCreateDevicesRequest;
import io.iiot.device.v1.CreateDeviceRequest;
import io.iiot.device.v1.Credential;
import io.iiot.device.v1.DeviceServiceGrpc;
import io.iiot.device.v1.Metric;
import io.iiot.device.v1.PutDeviceProfileRequest;
import io.iiot.device.v1.PutTenantRequest;
import io.iiot.it.bench.BenchmarkReport;
import io.iiot.platform.backend.BearerToken;
import io.iiot.platform.v1.AggregateTelemetryRequest;
import io.iiot.platform.v1.ListTelemetryRequest;
import io.iiot.platform.v1.Machine;
import io.iiot.platform.v1.OnboardDevicesRequest;
import io.iiot.platform.v1.OnboardDevicesResponse;
import io.iiot.platform.v1.OnboardingServiceGrpc;
import io.iiot.platform.v1.StreamTelemetryRequest;
import io.iiot.platform.v1.StreamTelemetryResponse;
import io.iiot.platform.v1.TelemetryServiceGrpc;
import io.iiot.resolver.v1.BatchRegisterIdentifiersRequest;
import io.iiot.resolver.v1.CreateTemplateRequest;
import io.iiot.resolver.v1.FieldType;
import io.iiot.resolver.v1.Identifier;
import io.iiot.resolver.v1.IdentifierServiceGrpc;
import io.iiot.resolver.v1.MetadataTemplate;
import io.iiot.resolver.v1.RegisterIdentifierRequest;
import io.iiot.resolver.v1.TemplateField;
import io.iiot.resolver.v1.TemplateServiceGrpc;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * platform-api's figures next to same-run baselines on the raw back ends: one OnboardDevices of 10,000 machines vs.
 * resolver-node's batch registration plus device-hub's batch creation called directly; history query p50/p99 over a
 * day of 1 Hz data of one device vs. the same CQL read straight from Cassandra; live stream latency from MQTT
 * publish to the gRPC client vs. MQTT publish to PUBACK (the durable write). Run with
 * {@code mvn -B -pl it-tests verify -Dit.test=PlatformBenchmarkIT -Diiot.bench=platform -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false}; writes the "platform-api" section of docs/BENCHMARKS.md.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
@EnabledIfSystemProperty(named = "iiot.bench", matches = ".*platform.*")
class PlatformBenchmarkIT {
  static final int MACHINES = Integer.getInteger("iiot.bench.machines", 10_000);
  static final int QUERIES = Integer.getInteger("iiot.bench.queries", 200);
  static final int LIVE = Integer.getInteger("iiot.bench.live", 200);
  /**
   * {@code -Diiot.bench.only=onboarding}: only the onboarding part (raw back ends, then platform-api), printed and not
   * written to docs/BENCHMARKS.md, with what Cassandra did during each (writes and reads per table, tasks per stage).
   */
  static final boolean ONBOARDING_ONLY = "onboarding".equals(System.getProperty("iiot.bench.only"));
  /** {@code -Diiot.bench.jfr=DIR}: a JFR recording of every process during the platform-api call, in DIR. */
  static final String JFR_DIR = System.getProperty("iiot.bench.jfr");
  /**
   * {@code -Diiot.bench.calls=N} with {@code iiot.bench.only=onboarding}: N-1 more platform-api calls (new tenants)
   * after the measured one, each printed: what a call costs once the JVMs have compiled its code.
   */
  static final int CALLS = Integer.getInteger("iiot.bench.calls", 1);
  /** The two halves of the raw baseline, run one after the other. */
  private static double rawResolverMs;
  private static double rawHubMs;

  @Test
  void platformApi() throws Exception {
    PlatformStack stack = PlatformStack.shared();
    StringBuilder md = new StringBuilder("| what | platform-api | same-run baseline | ratio |\n| --- | --- | --- | --- |\n");

    // 1. Onboarding: a first call on the freshly started stack (recorded on its own: about 45 % of its CPU is the
    // JIT compilers of the four JVMs), then raw back ends (their own tenant and prefix), then platform-api, both on
    // JVMs that have compiled their code, as a running platform's are.
    String rawPrefix = stack.approvedPrefix();
    long[] pids = {EmbeddedCassandraExtension.node().pid(), stack.hub.jvm().pid(), stack.resolver.jvm().pid(),
        stack.platform.jvm().pid()};
    String[] names = {"cassandra", "device-hub", "resolver-node", "platform-api"};
    String firstCall = laterCall(stack, pids, names, "first call after start");
    double[] rawCpu = new double[pids.length];
    for (int i = 0; i < pids.length; i++) {
      rawCpu[i] = -cpuSeconds(pids[i]);
    }
    NodeActivity rawActivity = NodeActivity.now();
    double rawMs = rawBackends(stack, rawPrefix, "raw-" + Long.toString(System.nanoTime(), 36));
    String rawWork = rawActivity.since();
    for (int i = 0; i < pids.length; i++) {
      rawCpu[i] += cpuSeconds(pids[i]);
    }
    String tenant = "bench-" + Long.toString(System.nanoTime(), 36);
    String key = stack.tenantKey(tenant, stack.approvedPrefix());
    List<Machine> machines = machines("b-");
    double[] cpuBefore = new double[pids.length];
    for (int i = 0; i < pids.length; i++) {
      cpuBefore[i] = cpuSeconds(pids[i]);
    }
    double machineBefore = machineBusySeconds();
    NodeActivity activity = NodeActivity.now();
    List<Map<String, Double>> threadsBefore = new ArrayList<>();
    for (long pid : pids) {
      threadsBefore.add(threadCpuSeconds(pid));
    }
    if (JFR_DIR != null) {
      for (int i = 0; i < pids.length; i++) {
        jcmd(pids[i], "JFR.start", "name=bench", "settings=profile",
            "filename=" + java.nio.file.Path.of(JFR_DIR, names[i] + ".jfr").toAbsolutePath());
      }
    }
    long t0 = System.nanoTime();
    OnboardDevicesResponse r = withKey(OnboardingServiceGrpc.newBlockingStub(stack.platformChannel), key)
        .withDeadlineAfter(30, TimeUnit.MINUTES).withMaxInboundMessageSize(64 << 20).onboardDevices(OnboardDevicesRequest.newBuilder()
            .setParent("tenants/" + tenant).setTemplate("templates/mine-belt-conveyor").addAllMachines(machines)
            .setRequestId(UUID.randomUUID().toString()).build());
    double onboardMs = (System.nanoTime() - t0) / 1e6;
    double[] cpu = new double[pids.length];
    for (int i = 0; i < pids.length; i++) {
      cpu[i] = cpuSeconds(pids[i]) - cpuBefore[i];
    }
    double machineBusy = machineBusySeconds() - machineBefore;
    if (JFR_DIR != null) {
      for (long pid : pids) {
        jcmd(pid, "JFR.stop", "name=bench");
      }
    }
    if (ONBOARDING_ONLY) {
      System.out.printf("%nraw back ends: %.1f s (resolver %.1f s, device-hub %.1f s); CPU s: Cassandra %.1f,"
          + " device-hub %.1f, resolver-node %.1f; Cassandra during them:%n%s", rawMs / 1000, rawResolverMs / 1000,
          rawHubMs / 1000, rawCpu[0], rawCpu[1], rawCpu[2], rawWork);
      System.out.printf("OnboardDevices of %,d machines: %.1f s, load %s; CPU s: Cassandra %.1f, device-hub %.1f,"
          + " resolver-node %.1f, platform-api %.1f, machine %.1f; Cassandra during it:%n%s", MACHINES,
          onboardMs / 1000, BenchmarkReport.loadAverage(), cpu[0], cpu[1], cpu[2], cpu[3], machineBusy,
          activity.since());
      for (int i = 0; i < pids.length; i++) {
        Map<String, Double> after = threadCpuSeconds(pids[i]);
        Map<String, Double> before = threadsBefore.get(i);
        StringBuilder t = new StringBuilder("CPU s by thread, " + names[i] + ":");
        after.entrySet().stream().map(e -> Map.entry(e.getKey(), e.getValue() - before.getOrDefault(e.getKey(), 0.0)))
            .filter(e -> e.getValue() >= 0.05).sorted((a, b) -> Double.compare(b.getValue(), a.getValue()))
            .forEach(e -> t.append(String.format(" %s %.2f;", e.getKey(), e.getValue())));
        System.out.println(t);
      }
      for (int call = 2; call <= CALLS; call++) {
        laterCall(stack, pids, names, "call " + call);
      }
    }
    assertThat(r.getOnboardedCount()).as(r.getResultsList().stream().filter(x -> x.getStatus().getCode() != 0)
        .findFirst().map(Object::toString).orElse("")).isEqualTo(MACHINES);
    if (ONBOARDING_ONLY) {
      return;
    }
    md.append(String.format("| OnboardDevices, %,d machines, one call on a running stack (target < 10 s) | %.1f s"
        + " | %.1f s (resolver"
        + " BatchRegisterIdentifiers %.1f s, then device-hub BatchCreateDevices %.1f s, 4 batches of 1000 in flight,"
        + " called directly) | %.2f |%n",
        MACHINES, onboardMs / 1000, rawMs / 1000, rawResolverMs / 1000, rawHubMs / 1000, onboardMs / rawMs));

    // 2. History over one device's day of 1 Hz data (3 metrics), written straight into device-hub's table.
    String device = "b-00000";
    LocalDate day = LocalDate.now(ZoneOffset.UTC).minusDays(1);
    Instant start = day.atStartOfDay().toInstant(ZoneOffset.UTC);
    try (CqlSession cql = EmbeddedCassandraExtension.session("iiot_device", "db/devicehub")) {
      writeDay(cql, tenant, device, start);
      List<Long> page = new ArrayList<>();
      List<Long> rawPage = new ArrayList<>();
      var telemetry = withKey(TelemetryServiceGrpc.newBlockingStub(stack.platformChannel), key);
      PreparedStatement select = cql.prepare("SELECT ts, metric, value_double, value_text FROM iiot_device.telemetry"
          + " WHERE tenant = ? AND device_id = ? AND day = ? AND ts >= ? AND ts < ? ORDER BY ts ASC LIMIT 1000");
      java.util.Random rnd = new java.util.Random(7);
      for (int q = 0; q < QUERIES; q++) {
        Instant from = start.plusSeconds(rnd.nextInt(86_000));
        long a = System.nanoTime();
        int n = telemetry.listTelemetry(ListTelemetryRequest.newBuilder().setDevice("tenants/" + tenant
            + "/devices/" + device).setStartTime(PlatformOnboardingIT.ts(from.toEpochMilli()))
            .setEndTime(PlatformOnboardingIT.ts(start.plusSeconds(86_400).toEpochMilli())).setPageSize(1000).build())
            .getPointsCount();
        page.add(System.nanoTime() - a);
        assertThat(n).isGreaterThan(900);
        a = System.nanoTime();
        List<Row> rows = cql.execute(select.bind(tenant, device, day, from, start.plusSeconds(86_400))).all();
        rawPage.add(System.nanoTime() - a);
        assertThat(rows).hasSize(1000);
      }
      md.append(row("ListTelemetry, page of 1000 points at a random time of the day, p50", page, rawPage, 0.5,
          "CQL range query of 1000 rows on the partition"));
      md.append(row("ListTelemetry, same, p99", page, rawPage, 0.99, "same, p99"));
      List<Long> agg = new ArrayList<>();
      List<Long> rawAgg = new ArrayList<>();
      PreparedStatement scan = cql.prepare("SELECT ts, metric, value_double FROM iiot_device.telemetry WHERE tenant = ?"
          + " AND device_id = ? AND day = ?");
      for (int q = 0; q < Math.max(5, QUERIES / 20); q++) {
        long a = System.nanoTime();
        int buckets = telemetry.aggregateTelemetry(AggregateTelemetryRequest.newBuilder().setDevice("tenants/"
            + tenant + "/devices/" + device).setStartTime(PlatformOnboardingIT.ts(start.toEpochMilli()))
            .setEndTime(PlatformOnboardingIT.ts(start.plusSeconds(86_400).toEpochMilli()))
            .setInterval(com.google.protobuf.Duration.newBuilder().setSeconds(60)).build()).getAggregatesCount();
        agg.add(System.nanoTime() - a);
        assertThat(buckets).isEqualTo(1440 * 3);
        a = System.nanoTime();
        long rows = 0;
        for (Row ignored : cql.execute(scan.bind(tenant, device, day).setPageSize(5000))) {
          rows++;
        }
        rawAgg.add(System.nanoTime() - a);
        assertThat(rows).isEqualTo(86_400L * 3);
      }
      md.append(row("AggregateTelemetry, whole day in 1-minute buckets (259,200 rows), p50", agg, rawAgg, 0.5,
          "reading the day's rows with the driver (no aggregation)"));
      md.append(row("AggregateTelemetry, same, p99", agg, rawAgg, 0.99, "same, p99"));
    }

    // 3. Live stream: MQTT publish to the gRPC client, next to MQTT publish to PUBACK.
    List<Long> live = new ArrayList<>();
    List<Long> puback = new ArrayList<>();
    Map<Double, Long> received = new ConcurrentHashMap<>();
    double subs = stack.hubStreamSubscribers();
    withKey(TelemetryServiceGrpc.newStub(stack.platformChannel), key).withDeadlineAfter(30, TimeUnit.MINUTES)
        .streamTelemetry(StreamTelemetryRequest.newBuilder().setParent("tenants/" + tenant).addDevices("b-00001")
            .build(), new StreamObserver<StreamTelemetryResponse>() {
              @Override
              public void onNext(StreamTelemetryResponse e) {
                received.put(e.getPoint().getNumber(), System.nanoTime());
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    stack.awaitHubSubscribers((int) subs + 1);
    MqttClient mqtt = new MqttClient("tcp://127.0.0.1:" + stack.hubMqttPort, "bench-live", new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setUserName(r.getResults(1).getCredentials().getAuthId());
    o.setPassword(r.getResults(1).getCredentials().getSecret().toCharArray());
    mqtt.connect(o);
    for (int i = 1; i <= LIVE; i++) {
      double v = i / 1000.0;
      long a = System.nanoTime();
      mqtt.publish("telemetry", ("{\"belt_speed\": " + v + "}").getBytes(StandardCharsets.UTF_8), 1, false);
      long acked = System.nanoTime();
      puback.add(acked - a);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!received.containsKey(v) && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
      assertThat(received).containsKey(v);
      live.add(received.get(v) - a);
      Thread.sleep(20);
    }
    mqtt.disconnect();
    mqtt.close();
    md.append(row("Live stream, MQTT publish (QoS 1) to the point on the platform-api gRPC stream, p50", live,
        puback, 0.5, "MQTT publish to PUBACK (durably written)"));
    md.append(row("Live stream, same, p99", live, puback, 0.99, "same, p99"));
    md.append(String.format("%nCPU used during the platform-api OnboardDevices call (%.1f s, so %.1f core-seconds on"
        + " %d cores): Cassandra %.1f s, device-hub %.1f s, resolver-node %.1f s, platform-api %.1f s; the whole"
        + " machine was busy %.1f core-seconds (others' processes included).%n", onboardMs / 1000,
        onboardMs / 1000 * Runtime.getRuntime().availableProcessors(), Runtime.getRuntime().availableProcessors(),
        cpu[0], cpu[1], cpu[2], cpu[3], machineBusy));
    md.append(String.format("%nThe first OnboardDevices call after the stack started (%,d machines, a tenant of its own;"
        + " no same-run baseline: the raw back ends then run on JVMs it warmed): %s.%n", MACHINES, firstCall));
    md.append("\nLoad average during the run: ").append(BenchmarkReport.loadAverage())
        .append(". Generated secrets (both sides) are hashed by device-hub with"
            + " credentials.generated-pbkdf2-iterations (1,000), not the 100,000 of supplied passwords.\n");
    BenchmarkReport.writeSection("platform-api", "platform-api: onboarding, history, live stream",
        "mvn -B -pl it-tests verify -Dit.test=PlatformBenchmarkIT -Diiot.bench=platform -Dtest=none"
            + " -Dsurefire.failIfNoSpecifiedTests=false", md.toString());
  }

  /** {@value #MACHINES} machines of the mine belt conveyor template, ids {@code <prefix>00000...}. */
  private static List<Machine> machines(String idPrefix) {
    List<Machine> machines = new ArrayList<>();
    for (int i = 0; i < MACHINES; i++) {
      machines.add(Machine.newBuilder().setMachineId(idPrefix + String.format("%05d", i))
          .putIdentifierValues("SERIAL_NO", "S" + i).putIdentifierValues("MODEL", "DSJ120")
          .putIdentifierValues("MANUFACTURER", "Bench").putIdentifierValues("MA_CERT_NO", "MA" + i).build());
    }
    return machines;
  }

  /** One more OnboardDevices call of {@value #MACHINES}... machines in a new tenant; printed and returned. */
  private static String laterCall(PlatformStack stack, long[] pids, String[] names, String call) throws Exception {
    String tenant = "bench-" + Long.toString(System.nanoTime(), 36);
    String key = stack.tenantKey(tenant, stack.approvedPrefix());
    List<Machine> machines = machines("c-");
    List<Map<String, Double>> before = new ArrayList<>();
    for (long pid : pids) {
      before.add(threadCpuSeconds(pid));
    }
    long t0 = System.nanoTime();
    OnboardDevicesResponse r = withKey(OnboardingServiceGrpc.newBlockingStub(stack.platformChannel), key)
        .withDeadlineAfter(30, TimeUnit.MINUTES).withMaxInboundMessageSize(64 << 20).onboardDevices(
            OnboardDevicesRequest.newBuilder().setParent("tenants/" + tenant).setTemplate(
                "templates/mine-belt-conveyor").addAllMachines(machines).setRequestId(UUID.randomUUID().toString())
                .build());
    double ms = (System.nanoTime() - t0) / 1e6;
    assertThat(r.getOnboardedCount()).isEqualTo(MACHINES);
    StringBuilder out = new StringBuilder(String.format("%s: %.1f s, load %s; CPU s", call, ms / 1000,
        BenchmarkReport.loadAverage()));
    for (int i = 0; i < pids.length; i++) {
      Map<String, Double> b = before.get(i);
      Map<String, Double> a = threadCpuSeconds(pids[i]);
      double total = 0;
      double jit = 0;
      for (Map.Entry<String, Double> e : a.entrySet()) {
        double d = e.getValue() - b.getOrDefault(e.getKey(), 0.0);
        total += d;
        jit += e.getKey().contains("CompilerThre") ? d : 0;
      }
      out.append(String.format("; %s %.1f (JIT %.1f)", names[i], total, jit));
    }
    System.out.println(out);
    return out.toString();
  }

  private static void jcmd(long pid, String... args) {
    List<String> cmd = new ArrayList<>(List.of("jcmd", Long.toString(pid)));
    cmd.addAll(List.of(args));
    try {
      new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
          .waitFor(60, TimeUnit.SECONDS);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * What the node has done so far, from its own metrics (system_views): local writes and reads per table (a Paxos
   * round shows as reads and writes of system.paxos), completed tasks per thread pool.
   */
  private record NodeActivity(Map<String, Long> counts) {
    static NodeActivity now() {
      Map<String, Long> c = new java.util.TreeMap<>();
      try (CqlSession s = EmbeddedCassandraExtension.session()) {
        for (String view : List.of("local_write_latency", "local_read_latency")) {
          for (Row r : s.execute("SELECT keyspace_name, table_name, count FROM system_views." + view)) {
            c.put(view.replace("_latency", "") + " " + r.getString(0) + "." + r.getString(1), r.getLong(2));
          }
        }
        for (Row r : s.execute("SELECT name, completed_tasks FROM system_views.thread_pools")) {
          c.put("tasks " + r.getString(0), r.getLong(1));
        }
      }
      return new NodeActivity(c);
    }

    String since() {
      Map<String, Long> later = now().counts();
      StringBuilder out = new StringBuilder();
      later.forEach((k, v) -> {
        long d = v - counts.getOrDefault(k, 0L);
        if (d != 0) {
          out.append(String.format("  %-60s %,10d%n", k, d));
        }
      });
      return out.toString();
    }
  }

  /**
   * CPU seconds (user + system) of a process's threads so far, summed by thread name with digits dropped (pools), from
   * /proc/{pid}/task; threads that ended are missing.
   */
  static Map<String, Double> threadCpuSeconds(long pid) {
    Map<String, Double> out = new java.util.TreeMap<>();
    try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/" + pid + "/task"))) {
      for (java.nio.file.Path t : tasks.toList()) {
        try {
          String stat = java.nio.file.Files.readString(t.resolve("stat"));
          String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replaceAll("\\d+", "N");
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          out.merge(name, (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0, Double::sum);
        } catch (java.io.IOException | RuntimeException e) {
          // the thread ended
        }
      }
    } catch (java.io.IOException e) {
      // the process ended
    }
    return out;
  }

  /** CPU seconds (user + system) a process has used so far: /proc/{pid}/stat, in clock ticks of 1/100 s. */
  static double cpuSeconds(long pid) {
    try {
      String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0; // fields 14 and 15: utime, stime
    } catch (java.io.IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  /** Core-seconds the whole machine has been busy (not idle or waiting for I/O) so far: /proc/stat. */
  static double machineBusySeconds() {
    try {
      String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).get(0).trim().split("\\s+");
      long busy = 0;
      for (int i : new int[] {1, 2, 3, 6, 7, 8}) { // user nice system irq softirq steal
        busy += Long.parseLong(f[i]);
      }
      return busy / 100.0;
    } catch (java.io.IOException | RuntimeException e) {
      return Double.NaN;
    }
  }

  private static String row(String what, List<Long> figure, List<Long> baseline, double q, String baselineWhat) {
    double f = quantile(figure, q) / 1e6;
    double b = quantile(baseline, q) / 1e6;
    return String.format("| %s | %.1f ms | %.1f ms (%s) | %.1f |%n", what, f, b, baselineWhat, f / b);
  }

  private static double quantile(List<Long> values, double q) {
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(q * sorted.size()) - 1));
  }

  /** 86,400 samples of 3 metrics, one UNLOGGED batch per 100 rows, 32 batches in flight. */
  private static void writeDay(CqlSession cql, String tenant, String device, Instant start) throws Exception {
    PreparedStatement insert = cql.prepare("INSERT INTO iiot_device.telemetry (tenant, device_id, day, ts, metric,"
        + " value_double) VALUES (?, ?, ?, ?, ?, ?)");
    LocalDate day = LocalDate.ofInstant(start, ZoneOffset.UTC);
    java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(32);
    List<java.util.concurrent.CompletableFuture<?>> all = new ArrayList<>();
    BatchStatementBuilder b = new BatchStatementBuilder(BatchType.UNLOGGED);
    for (int s = 0; s < 86_400; s++) {
      Instant t = start.plusSeconds(s);
      b.addStatement(insert.bind(tenant, device, day, t, "belt_speed", 2 + (s % 100) / 100.0));
      b.addStatement(insert.bind(tenant, device, day, t, "motor_current", 200.0 + s % 50));
      b.addStatement(insert.bind(tenant, device, day, t, "running", 1.0));
      if (b.getStatementsCount() >= 99 || s == 86_399) {
        inFlight.acquire();
        all.add(cql.executeAsync(b.build()).toCompletableFuture().whenComplete((x, e) -> inFlight.release()));
        b = new BatchStatementBuilder(BatchType.UNLOGGED);
      }
    }
    java.util.concurrent.CompletableFuture.allOf(all.toArray(java.util.concurrent.CompletableFuture[]::new))
        .get(10, TimeUnit.MINUTES);
  }

  /**
   * The raw back ends doing onboarding's work for {@value #MACHINES}... machines: one BatchRegisterIdentifiers on
   * resolver-node and device-hub BatchCreateDevices in batches of 1000 with 4 in flight, as platform-api sends them.
   */
  private static double rawBackends(PlatformStack stack, String prefix, String tenant) throws Exception {
    BearerToken service = new BearerToken(stack.serviceToken);
    String templateId = "bench-" + Long.toString(System.nanoTime(), 36);
    TemplateServiceGrpc.newBlockingStub(stack.resolverChannel).withCallCredentials(service)
        .withDeadlineAfter(60, TimeUnit.SECONDS).createTemplate(CreateTemplateRequest.newBuilder()
            .setTemplateId(templateId).setTemplate(MetadataTemplate.newBuilder().setDisplayName("bench")
                .setIndustryCategory("B").setIndustryCode("0610").addFields(TemplateField.newBuilder()
                    .setName("serial_no").setType(FieldType.STRING).setValueType("SERIAL_NO").setIndex(2000)
                    .setRequired(true))).build());
    ManagedChannel hub = NettyChannelBuilder.forTarget(stack.platformHubTarget()).usePlaintext().build();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      var devices = DeviceServiceGrpc.newBlockingStub(hub);
      devices.withDeadlineAfter(60, TimeUnit.SECONDS).putTenant(PutTenantRequest.newBuilder().setTenant(
          io.iiot.device.v1.Tenant.newBuilder().setName("tenants/" + tenant).setEnabled(true)).build());
      devices.withDeadlineAfter(60, TimeUnit.SECONDS).putDeviceProfile(PutDeviceProfileRequest.newBuilder()
          .setProfile(io.iiot.device.v1.DeviceProfile.newBuilder().setName("tenants/" + tenant + "/profiles/belt")
              .addMetrics(Metric.newBuilder().setId(1).setName("belt_speed").setType(Metric.Type.NUMBER).setMax(6)))
          .build());
      long t0 = System.nanoTime();
      BatchRegisterIdentifiersRequest.Builder ids = BatchRegisterIdentifiersRequest.newBuilder()
          .setParent("prefixes/" + prefix);
      for (int i = 0; i < MACHINES; i++) {
        ids.addRequests(RegisterIdentifierRequest.newBuilder().setIdentifier(Identifier.newBuilder()
            .setHandle(prefix + "/r-" + i).setTemplate("templates/" + templateId).putValues("serial_no", "S" + i)));
      }
      var registered = IdentifierServiceGrpc.newBlockingStub(stack.resolverChannel).withCallCredentials(service)
          .withDeadlineAfter(30, TimeUnit.MINUTES).batchRegisterIdentifiers(ids.build());
      assertThat(registered.getRegisteredCount()).isEqualTo(MACHINES);
      rawResolverMs = (System.nanoTime() - t0) / 1e6;
      long t1 = System.nanoTime();
      List<Future<?>> batches = new ArrayList<>();
      for (int from = 0; from < MACHINES; from += 1000) {
        int f = from;
        batches.add(pool.submit(() -> {
          BatchCreateDevicesRequest.Builder b = BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant);
          for (int i = f; i < Math.min(MACHINES, f + 1000); i++) {
            String secret = "raw-secret-" + UUID.randomUUID();
            b.addRequests(CreateDeviceRequest.newBuilder().setDeviceId("r-" + i)
                .setDevice(io.iiot.device.v1.Device.newBuilder().setProfile("belt").setEnabled(true))
                // a random UUID, as platform-api's generated secrets: the same hashing work as the onboarding path
                .addCredentials(Credential.newBuilder().setPassword(secret).setGeneratedPassword(true))
                .addCredentials(Credential.newBuilder().setPsk(ByteString.copyFromUtf8(secret))));
          }
          return DeviceServiceGrpc.newBlockingStub(hub).withDeadlineAfter(30, TimeUnit.MINUTES)
              .batchCreateDevices(b.build());
        }));
      }
      for (Future<?> b : batches) {
        b.get(30, TimeUnit.MINUTES);
      }
      rawHubMs = (System.nanoTime() - t1) / 1e6;
      System.out.printf("raw back ends: resolver %.1f s, device-hub %.1f s%n", rawResolverMs / 1000, rawHubMs / 1000);
      return (System.nanoTime() - t0) / 1e6;
    } finally {
      pool.shutdownNow();
      hub.shutdownNow();
    }
  }
}
