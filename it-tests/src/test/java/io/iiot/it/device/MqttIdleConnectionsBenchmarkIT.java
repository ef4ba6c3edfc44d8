package io.iiot.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.bench.BenchmarkReport;
import io.iiot.it.support.DeviceHubs;
import io.iiot.it.support.Http;
import io.iiot.it.support.ServiceProcess;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Issue 5's idle-connections figure: one device-hub process (the built jar, the heap its Kubernetes pod gets) holds
 * 10,000 concurrent MQTT connections, each connected and authenticated as its own device and sending only PINGREQs at
 * its keep-alive pace; its heap (from its own /metrics, after a full GC, and as scraped) and resident set size
 * (/proc/&lt;pid&gt;/status) are recorded next to the same process idle with no connection, measured the same way in
 * the same run.
 *
 * <p>Run: {@code mvn -B verify -pl it-tests -Dit.test=MqttIdleConnectionsBenchmarkIT -Diiot.bench=mqtt-idle
 * -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false} (about 4 minutes, after packaging device-hub); writes the
 * "device-mqtt-idle" section of docs/BENCHMARKS.md.
 */
@EnabledIfSystemProperty(named = "iiot.bench", matches = ".*mqtt-idle.*")
class MqttIdleConnectionsBenchmarkIT {
  static final int CONNECTIONS = Integer.getInteger("iiot.bench.mqtt-idle.connections", 10_000);
  static final String TENANT = "idle";
  static final String PASSWORD = "idle-device-secret";
  /** The heap of a device-hub pod: 70 % (MaxRAMPercentage in k8s/base) of its 1 GiB memory limit. */
  static final String HEAP = "-Xmx716M";
  static final int KEEP_ALIVE_S = 30;
  static final Duration HOLD = Duration.ofSeconds(60);
  /** Source addresses of the client connections: 2,000 each at most, far from the ephemeral port range's size. */
  static final List<String> SOURCES = List.of("127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4", "127.0.1.5");

  static String device(int i) {
    return String.format(Locale.ROOT, "idle-%05d", i);
  }

  /** Memory of the process at one moment. */
  record Memory(long heapAfterGc, long heapAsScraped, long nonHeap, long rssKiB, long connectionsGauge) {}

  @Test
  void tenThousandIdleConnections() throws Exception {
    Path dir = Path.of("target", "mqtt-idle-bench").toAbsolutePath();
    EmbeddedCassandraExtension.deleteTree(dir);
    EmbeddedCassandra node = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir,
        EmbeddedCassandraExtension.freePort(), EmbeddedCassandraExtension.freePort()));
    node.start();
    ServiceProcess hub = null;
    try {
      Map<String, String> env = new HashMap<>(ServiceProcess.freePorts("device-hub"));
      env.put("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + node.settings().nativePort());
      env.put("DEVICE_HUB_MQTT_HOST", "127.0.0.1");
      env.put("DEVICE_HUB_MQTT_TLS_PORT", "0");
      env.put("DEVICE_HUB_COAP_DTLS_PORT", "0");
      // 10,000 password checks at connect: fewer PBKDF2 iterations than production so the benchmark measures holding
      // connections, not hashing (the hash is done once per connect and not kept per connection).
      env.put("DEVICE_HUB_CREDENTIALS_PBKDF2_ITERATIONS", "1000");
      hub = DeviceHubs.start(env, List.of(HEAP));
      int http = hub.port("device-hub", "http.port");
      int grpc = hub.port("device-hub", "grpc.port");
      for (int from = 0; from < CONNECTIONS; from += 1000) {
        int first = from;
        DeviceHubs.provisionCounterDevices(grpc, TENANT, Math.min(1000, CONNECTIONS - from),
            i -> device(first + i), PASSWORD);
      }
      long fdLimit = fdLimit(hub.jvm().pid());

      // the same process, everything it does before devices connect done once, settled
      Thread.sleep(10_000);
      Memory idle = memory(hub, http);

      InetSocketAddress mqtt = new InetSocketAddress("127.0.0.1", hub.port("device-hub", "mqtt.port"));
      try (IdleMqttClients clients = new IdleMqttClients(mqtt, SOURCES, KEEP_ALIVE_S)) {
        IdleMqttClients.Stats connect = clients.connectAll(CONNECTIONS, 200,
            i -> IdleMqttClients.connectPacket(device(i), device(i) + "@" + TENANT, PASSWORD, KEEP_ALIVE_S),
            Duration.ofMinutes(5));
        IdleMqttClients.Stats held = clients.hold(HOLD);
        Memory loaded = memory(hub, http);
        IdleMqttClients.Stats after = clients.hold(Duration.ofSeconds(2L * KEEP_ALIVE_S));
        int open = clients.open();
        double loadAverage = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);

        String md = report(idle, loaded, connect, held, after, open, fdLimit, loadAverage);
        System.out.println(md);
        BenchmarkReport.writeSection("device-mqtt-idle", "device-hub: 10,000 idle MQTT connections",
            "mvn -B verify -pl it-tests -Dit.test=MqttIdleConnectionsBenchmarkIT -Diiot.bench=mqtt-idle -Dtest=none"
                + " -Dsurefire.failIfNoSpecifiedTests=false", md);

        assertThat(connect.accepted()).as("connections accepted (%s)", connect).isEqualTo(CONNECTIONS);
        assertThat(loaded.connectionsGauge()).as("devicehub_mqtt_connections").isEqualTo(CONNECTIONS);
        assertThat(open).as("connections still open after %s s of keep-alive", after.seconds())
            .isEqualTo(CONNECTIONS);
        assertThat(after.pongs()).as("every PINGREQ answered").isEqualTo(after.pingsSent());
      }
    } finally {
      if (hub != null) {
        hub.close();
      }
      node.kill();
    }
  }

  private static String report(Memory idle, Memory loaded, IdleMqttClients.Stats connect,
      IdleMqttClients.Stats held, IdleMqttClients.Stats after, int open, long fdLimit, double loadAverage) {
    StringBuilder md = new StringBuilder();
    md.append("One device-hub process (the built jar, `").append(HEAP).append("` = the heap of its Kubernetes pod,")
        .append(" 70 % of 1 GiB) with a real Cassandra node on the same machine; ").append(CONNECTIONS)
        .append(" devices provisioned through its gRPC API, each connecting once over plain MQTT 3.1.1 with its own")
        .append(" username and password (PBKDF2 with 1,000 iterations here, so the run measures holding connections,")
        .append(" not hashing). Client: `IdleMqttClients`, raw CONNECT/PINGREQ packets on one NIO selector thread in")
        .append(" the test JVM, from ").append(SOURCES.size()).append(" loopback source addresses, at most 200")
        .append(" CONNECTs waiting for their CONNACK; keep-alive ").append(KEEP_ALIVE_S)
        .append(" s, a PINGREQ every ").append(KEEP_ALIVE_S / 2).append(" s per connection. Heap after GC = the")
        .append(" sum of `jvm_memory_used_bytes{area=\"heap\"}` from device-hub's /metrics right after")
        .append(" `jcmd <pid> GC.run` (the live set); as scraped = the same without forcing a GC; RSS = VmRSS of")
        .append(" /proc/<pid>/status. Baseline: the same process, after start and provisioning, with 0 connections.\n\n");
    md.append("| | 0 connections (baseline) | ").append(CONNECTIONS).append(" idle connections | ratio | per connection |\n")
        .append("|---|---|---|---|---|\n");
    row(md, "heap after GC", idle.heapAfterGc(), loaded.heapAfterGc());
    row(md, "heap as scraped", idle.heapAsScraped(), loaded.heapAsScraped());
    row(md, "non-heap (metaspace, code cache, ...)", idle.nonHeap(), loaded.nonHeap());
    row(md, "RSS", idle.rssKiB() * 1024, loaded.rssKiB() * 1024);
    md.append('\n');
    md.append(String.format(Locale.ROOT, "- Connect: %d accepted, %d refused, %d failed in %.1f s (%.0f connects/s,"
        + " password check included)%n", connect.accepted(), connect.refused(), connect.failed(), connect.seconds(),
        connect.accepted() / connect.seconds()));
    md.append(String.format(Locale.ROOT, "- Held %.0f s before measuring, then %.0f s more: %d PINGREQs, %d PINGRESPs"
        + " in all; closed by device-hub: %d; open at the end: %d; `devicehub_mqtt_connections` while held: %d%n",
        held.seconds(), after.seconds(), after.pingsSent(), after.pongs(), after.closedByServer(), open,
        loaded.connectionsGauge()));
    md.append("- Connection limit: `mqtt.max-connections` (default 20,000; further CONNECTs refused with 0x03 /")
        .append(" MQTT 5 0x97 and counted, see DeviceLimitsTest). Open-file limit of the run here: ").append(fdLimit)
        .append("; keep it above the connection limit. The heap above shows memory is not the first limit at ")
        .append(CONNECTIONS).append(" connections.\n");
    md.append(String.format(Locale.ROOT, "- Machine load average (1 min) at the end: %.2f (shared machine)%n",
        loadAverage));
    return md.toString();
  }

  private static void row(StringBuilder md, String what, long base, long loaded) {
    md.append(String.format(Locale.ROOT, "| %s | %.1f MiB | %.1f MiB | %.2f | %.1f KiB |%n", what, base / 1048576.0,
        loaded / 1048576.0, base == 0 ? 0.0 : (double) loaded / base, (loaded - base) / 1024.0 / CONNECTIONS));
  }

  private static Memory memory(ServiceProcess hub, int httpPort) throws Exception {
    String scraped = Http.get("http://127.0.0.1:" + httpPort + "/metrics").body();
    long heapAsScraped = sum(scraped, "jvm_memory_used_bytes", "area=\"heap\"");
    Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
        Long.toString(hub.jvm().pid()), "GC.run").redirectErrorStream(true).start();
    gc.getInputStream().readAllBytes();
    assertThat(gc.waitFor(60, TimeUnit.SECONDS)).isTrue();
    Thread.sleep(1000);
    String metrics = Http.get("http://127.0.0.1:" + httpPort + "/metrics").body();
    return new Memory(sum(metrics, "jvm_memory_used_bytes", "area=\"heap\""), heapAsScraped,
        sum(metrics, "jvm_memory_used_bytes", "area=\"nonheap\""), rssKiB(hub.jvm().pid()),
        sum(metrics, "devicehub_mqtt_connections", ""));
  }

  /** Sum of the samples of a Prometheus metric whose labels contain {@code label}. */
  static long sum(String metrics, String name, String label) {
    double total = 0;
    for (String line : metrics.split("\n")) {
      if ((line.startsWith(name + "{") || line.startsWith(name + " ")) && line.contains(label)) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return (long) total;
  }

  private static long rssKiB(long pid) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (l.startsWith("VmRSS:")) {
        return Long.parseLong(l.replaceAll("\\D", ""));
      }
    }
    return -1;
  }

  private static long fdLimit(long pid) throws IOException {
    for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"))) {
      if (l.startsWith("Max open files")) {
        return Long.parseLong(l.substring(25).trim().split("\\s+")[0]);
      }
    }
    return -1;
  }
}
