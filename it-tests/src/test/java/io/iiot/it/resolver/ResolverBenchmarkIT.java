package io.iiot.it.resolver;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.ops.Metrics;
import io.iiot.base.ops.OpsHttpServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.bench.BenchmarkReport;
import io.iiot.resolver.ResolverNodeModule;
import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.transport.handle.BufWriter;
import io.iiot.resolver.transport.handle.Envelope;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Resolution throughput and latency of resolver-node over UDP and TCP for 100,000 registered handles, hot (cached)
 * and cold (every request reads Cassandra), next to a bare UDP and TCP echo server on the same Vert.x stack in the
 * same JVM and run. The load generator is {@link HandleLoadGenerator} (non-blocking, pre-encoded, many in flight).
 *
 * <p>Run from the repository root: {@code mvn -q -B -o -pl resolver-node package -DskipTests}, then {@code mvn -B
 * verify -pl it-tests -Dit.test=ResolverBenchmarkIT -Diiot.bench=resolver -Dtest=none
 * -Dsurefire.failIfNoSpecifiedTests=false -Dmaven.test.dependency.excludes=io.iiot:resolver-node
 * -Dmaven.test.additionalClasspath=$PWD/resolver-node/target/classes} (about 6 minutes); writes the
 * "resolver-handle" section of docs/BENCHMARKS.md. The last two options make the run use the resolver-node just
 * built in this tree: without them it-tests takes whatever resolver-node jar was last installed in ~/.m2.
 */
@EnabledIfSystemProperty(named = "iiot.bench", matches = ".*resolver.*")
@ExtendWith(EmbeddedCassandraExtension.class)
class ResolverBenchmarkIT {
  /** 100,000 as documented; a smaller count (-Diiot.bench.handles) only for quick profiling runs. */
  static final int HANDLES = Integer.getInteger("iiot.bench.handles", 100_000);
  /** Rows to run (-Diiot.bench.rows=regex, e.g. "(UDP|TCP) (echo|hot)"); all by default. */
  static final java.util.regex.Pattern ROWS =
      java.util.regex.Pattern.compile(System.getProperty("iiot.bench.rows", ".*"));
  static final double WARMUP = 3;
  static final double MEASURE = 10;
  /**
   * Echo and hot closed-loop rows are measured in this many alternating rounds (echo, hot, echo, hot, ...) of
   * {@link #ROUND_WARMUP} + {@link #ROUND_MEASURE} s, so that both see the same state of a shared machine; the ratio
   * reported is the median of the rounds' ratios, the row shown the round with that median.
   */
  static final int ROUNDS = Integer.getInteger("iiot.bench.rounds", 3);
  static final double ROUND_WARMUP = 1;
  static final double ROUND_MEASURE = 5;
  static final int UDP_CHANNELS = 8;
  static final int UDP_WINDOW = 16;
  static final int TCP_CONNECTIONS = 64;
  /** Open-loop rows "connection per concurrent request": connections opened on demand up to this many. */
  static final int TCP_MAX_CONNECTIONS = 1024;

  record Node(ResolverNodeModule module, OpsHttpServer ops, int port) {}

  static Node startNode(Vertx vertx, CqlSession session, String keyspace, Map<String, String> extra)
      throws Exception {
    int port = EmbeddedCassandraExtension.freePort();
    int http = EmbeddedCassandraExtension.freePort();
    Map<String, String> env = new HashMap<>(extra);
    env.put("HANDLE_HOST", "127.0.0.1");
    env.put("HANDLE_PORT", String.valueOf(port));
    env.put("HTTP_PORT", String.valueOf(http));
    env.put("GRPC_HOST", "127.0.0.1");
    env.put("GRPC_PORT", String.valueOf(EmbeddedCassandraExtension.freePort()));
    env.put("HANDLE_DATA_DIR", Files.createTempDirectory(Path.of("target").toAbsolutePath(), "bench").toString());
    env.put("HANDLE_ADMIN_SECRET", "bench-secret");
    env.put("CASSANDRA_KEYSPACE", keyspace);
    ServiceConfig config = ServiceConfig.load("resolver-node", env);
    var registry = Metrics.newRegistry("resolver-node");
    OpsHttpServer ops = new OpsHttpServer(vertx, registry);
    ops.listen("127.0.0.1", http).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    ResolverNodeModule module = new ResolverNodeModule(config);
    vertx.executeBlocking(() -> module.start(new ServiceContext(vertx, config, session, registry, ops)), false)
        .compose(f -> f).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    return new Node(module, ops, port);
  }

  static String handle(int i) {
    return String.format(Locale.ROOT, "88.101.5/B-%06d", i);
  }

  /** A resolution request (envelope + message) for {@code handle}, as CNRI's 9.3.1 client sends it. */
  static byte[] request(String handle, boolean keepAlive) {
    BufWriter body = new BufWriter(64).utf8(handle).int4(0).int4(0);
    byte[] b = body.toByteArray();
    int flags = 0x19000000 | (keepAlive ? 0x02000000 : 0);
    BufWriter msg = new BufWriter(128).int4(1).int4(0).int4(flags).u16(0xFFFF).u8(0).u8(0)
        .int4((int) (System.currentTimeMillis() / 1000) + 43200).int4(b.length).raw(b).int4(0);
    byte[] m = msg.toByteArray();
    byte[] env = new Envelope(2, 3, 0, 2, 11, 0, 1, 0, m.length).encode();
    byte[] all = new byte[env.length + m.length];
    System.arraycopy(env, 0, all, 0, env.length);
    System.arraycopy(m, 0, all, env.length, m.length);
    return all;
  }

  @Test
  void benchmark() throws Exception {
    String keyspace = "iiot_resolver_bench";
    EmbeddedCassandraExtension.session(keyspace, "db/resolver").close();
    CqlSession session = EmbeddedCassandraExtension.session();
    Vertx vertx = Vertx.vertx();
    // the two nodes share one keyspace, so they are replicas of one service and share its server key (as replicas
    // must): the prefix handle's HS_SITE then names both as this node, and the hierarchy answers locally instead of
    // referring one to the other
    String key = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "bench-key")
        .resolve("server-key.pk8").toString();
    Node hot = startNode(vertx, session, keyspace, Map.of("HANDLE_CACHE_SIZE", "200000",
        "HANDLE_CACHE_MAX_AGE", "1h", "HANDLE_SERVER_KEY_FILE", key));
    Node cold = startNode(vertx, session, keyspace, Map.of("HANDLE_CACHE_SIZE", "0", "HANDLE_SERVER_KEY_FILE", key));

    // 100,000 handles: URL at 1, HS_ADMIN at 100 (as the Handle.Net baseline of reference §8.1)
    long t0 = System.nanoTime();
    byte[] admin = new AdminRecord(AdminRecord.ALL, "88.101.5/ADMIN", 300).encode();
    Semaphore inFlight = new Semaphore(256);
    for (int i = 0; i < HANDLES; i++) {
      inFlight.acquire();
      String h = handle(i);
      hot.module().store().importHandle(h, List.of(
          HandleValue.of(1, "URL", "https://example.com/device/" + h.substring(9)),
          HandleValue.of(100, "HS_ADMIN", admin))).onComplete(ar -> inFlight.release());
    }
    inFlight.acquire(256);
    inFlight.release(256);
    double loadSeconds = (System.nanoTime() - t0) / 1e9;

    // bare echo servers on the same Vert.x stack; the UDP one with resolver-node's socket arrangement
    ServiceConfig defaults = ServiceConfig.load("resolver-node", Map.of());
    int udpSockets = Integer.parseInt(defaults.string("handle.udp-sockets"));
    UdpEchoServer udpEcho = new UdpEchoServer(vertx, "127.0.0.1",
        udpSockets > 0 ? udpSockets : Math.max(2, Runtime.getRuntime().availableProcessors()),
        Integer.parseInt(defaults.string("handle.udp-receive-buffer")));
    int udpEchoPort = udpEcho.port();
    int tcpLoops = Integer.parseInt(defaults.string("handle.tcp-event-loops"));
    List<NetServer> tcpEcho = tcpEcho(vertx, "127.0.0.1",
        tcpLoops > 0 ? tcpLoops : Math.max(2, Runtime.getRuntime().availableProcessors()));
    int tcpEchoPort = tcpEcho.get(0).actualPort();

    byte[][] udpReqs = new byte[HANDLES][];
    byte[][] tcpReqs = new byte[HANDLES][];
    for (int i = 0; i < HANDLES; i++) {
      udpReqs[i] = request(handle(i), false);
      tcpReqs[i] = request(handle(i), true);
    }
    // warm the cache of the hot node with every handle (reads through the store, as a resolution would)
    for (int i = 0; i < HANDLES; i++) {
      inFlight.acquire();
      hot.module().store().get(handle(i)).onComplete(ar -> inFlight.release());
    }
    inFlight.acquire(256);
    inFlight.release(256);
    // and the JIT of both nodes' request paths
    gen(hot.port(), udpReqs).udp(UDP_CHANNELS, UDP_WINDOW, 0, 3, 0);
    gen(cold.port(), tcpReqs).tcp(TCP_CONNECTIONS, 0, 3, 0);

    Map<String, HandleLoadGenerator.Result> r = new java.util.LinkedHashMap<>();
    Map<String, String> load = new HashMap<>();
    Map<String, List<Double>> rounds = new HashMap<>();
    paired(r, load, rounds, "UDP",
        () -> gen(udpEchoPort, udpReqs).udp(UDP_CHANNELS, UDP_WINDOW, ROUND_WARMUP, ROUND_MEASURE, 0),
        () -> gen(hot.port(), udpReqs).udp(UDP_CHANNELS, UDP_WINDOW, ROUND_WARMUP, ROUND_MEASURE, 0));
    row(r, load, "UDP cold",
        () -> gen(cold.port(), udpReqs).udp(UDP_CHANNELS, UDP_WINDOW, WARMUP, MEASURE, 0));
    paired(r, load, rounds, "TCP",
        () -> gen(tcpEchoPort, tcpReqs).tcp(TCP_CONNECTIONS, ROUND_WARMUP, ROUND_MEASURE, 0),
        () -> gen(hot.port(), tcpReqs).tcp(TCP_CONNECTIONS, ROUND_WARMUP, ROUND_MEASURE, 0));
    row(r, load, "TCP cold",
        () -> gen(cold.port(), tcpReqs).tcp(TCP_CONNECTIONS, WARMUP, MEASURE, 0));
    // without the closed-loop rows (iterating on the half-peak rows alone): -Diiot.bench.half-rate=requests/s
    double halfRate = Double.parseDouble(System.getProperty("iiot.bench.half-rate", "20000"));
    double udpHalf = r.containsKey("UDP hot") ? r.get("UDP hot").rps() / 2 : halfRate;
    double tcpHalf = r.containsKey("TCP hot") ? r.get("TCP hot").rps() / 2 : halfRate;
    Map<String, String> tails = new HashMap<>();
    pairedAtHalfPeak(r, load, tails, "UDP",
        () -> gen(udpEchoPort, udpReqs).udp(UDP_CHANNELS, 0, ROUND_WARMUP, ROUND_MEASURE, udpHalf),
        () -> gen(hot.port(), udpReqs).udp(UDP_CHANNELS, 0, ROUND_WARMUP, ROUND_MEASURE, udpHalf));
    pairedAtHalfPeak(r, load, tails, "TCP",
        () -> gen(tcpEchoPort, tcpReqs).tcp(TCP_CONNECTIONS, ROUND_WARMUP, ROUND_MEASURE, tcpHalf),
        () -> gen(hot.port(), tcpReqs).tcp(TCP_CONNECTIONS, ROUND_WARMUP, ROUND_MEASURE, tcpHalf));
    // as CNRI's client: no request waits for another's answer (it opens a connection per request); here a due
    // request finding every connection busy opens one more (kept for later requests, KA)
    pairedAtHalfPeak(r, load, tails, "TCP", ", connection per concurrent request",
        () -> gen(tcpEchoPort, tcpReqs).tcp(TCP_CONNECTIONS, TCP_MAX_CONNECTIONS, ROUND_WARMUP, ROUND_MEASURE,
            tcpHalf),
        () -> gen(hot.port(), tcpReqs).tcp(TCP_CONNECTIONS, TCP_MAX_CONNECTIONS, ROUND_WARMUP, ROUND_MEASURE,
            tcpHalf));

    StringBuilder md = new StringBuilder();
    md.append("resolver-node in-process (one Vert.x instance, default event-loop pool), real Cassandra 5.0 node on the "
        + "same machine holding ").append(HANDLES).append(" handles `88.101.5/B-000000…099999` (URL at 1, HS_ADMIN "
        + "at 100; loaded in ").append(String.format(Locale.ROOT, "%.1f", loadSeconds)).append(" s). Load: "
        + "`HandleLoadGenerator`, one non-blocking thread in the same JVM (open loop: it parks until the next request is "
        + "due, or blocks until an answer comes, instead of polling, which took a core from the server), pre-encoded "
        + "resolution requests for random "
        + "handles (CNRI 9.3.1's encoding, version 2.3 suggesting 2.11). UDP: ").append(UDP_CHANNELS)
        .append(" sockets × ").append(UDP_WINDOW).append(" in flight; TCP: ").append(TCP_CONNECTIONS)
        .append(" persistent connections (KA), one request in flight each. Hot = answered from the read cache "
        + "(warmed); cold = cache size 0, every request reads Cassandra. resolver-node runs its bundled defaults "
        + "(resolver-node.yaml): UDP `handle.udp-sockets` = ").append(defaults.string("handle.udp-sockets"))
        .append(", i.e. one socket per core (at least 2) sharing the port (SO_REUSEPORT), each on its own event "
        + "loop; `handle.udp-receive-buffer` = ").append(defaults.string("handle.udp-receive-buffer"))
        .append(" bytes (capped by net.core.rmem_max = ").append(rmemMax())
        .append("). Echo = bare servers that return "
        + "the request bytes: UDP with resolver-node's socket arrangement (").append(udpEcho.sockets())
        .append(" Netty channels on Vert.x "
        + "event loops sharing the port, the same receive buffer, answers to the sender's address, one flush per "
        + "read batch: `UdpEchoServer`), TCP ").append(tcpEcho.size()).append(" Vert.x NetServers sharing the port, "
        + "each listening from its own event loop, as resolver-node's (`handle.tcp-event-loops` = ")
        .append(defaults.string("handle.tcp-event-loops")).append(": connections spread over that many loops). The generator allocates almost nothing per "
        + "request (its garbage would bring young-GC pauses to the servers in the same JVM). ")
        .append(String.format(Locale.ROOT, "%.0f", WARMUP))
        .append(" s warm-up, ").append(String.format(Locale.ROOT, "%.0f", MEASURE)).append(" s measured per row, "
        + "except echo and hot closed-loop rows: ").append(ROUNDS).append(" alternating rounds (echo, hot, echo, "
        + "hot, ...) of ").append(String.format(Locale.ROOT, "%.0f + %.0f", ROUND_WARMUP, ROUND_MEASURE))
        .append(" s, so that both see the same state of the shared machine; their ratio is the median of the "
        + "rounds' ratios (all in the last column) and the row shown is that round's. Client and server share the "
        + "2 cores.\n\n");
    md.append("| run | requests/s | vs. echo (same protocol) | p50 ms | p99 ms | lost | event-loop CPU µs/request "
        + "| GC threads CPU µs/request | 1-min load before | per-round ratios (p99 ms hot/echo at half peak) |\n"
        + "|---|---|---|---|---|---|---|---|---|---|\n");
    for (var e : r.entrySet()) {
      String proto = e.getKey().substring(0, 3);
      double echo = r.containsKey(proto + " echo") ? r.get(proto + " echo").rps() : Double.NaN;
      List<Double> rs = rounds.get(e.getKey());
      double ratio = rs == null ? e.getValue().rps() / echo : median(rs);
      String all = rs == null ? tails.getOrDefault(e.getKey(), "") : String.join(" ", rs.stream()
          .map(x -> String.format(Locale.ROOT, "%.2f", x)).toList());
      md.append(String.format(Locale.ROOT, "| %s | %.0f | %.2f | %.3f | %.3f | %d | %.1f | %.2f | %s | %s |%n",
          e.getKey(), e.getValue().rps(), ratio, e.getValue().p50Ms(), e.getValue().p99Ms(),
          e.getValue().lost(), e.getValue().loopCpuMicrosPerAnswer(), e.getValue().gcCpuMicrosPerAnswer(),
          load.get(e.getKey()), all));
    }
    md.append("\nRows \"at half peak\" are open-loop at half the hot closed-loop rate of the same protocol, echo and "
        + "hot at the same rate in ").append(ROUNDS).append(" alternating rounds like the closed-loop pairs, each "
        + "request's latency counted from the time the schedule meant it to be sent (a late send is charged its "
        + "lateness); the round shown is the one with the median hot p99, every round's p99 hot/echo in the last "
        + "column (TCP: with the share of requests that found all ").append(TCP_CONNECTIONS).append(" connections "
        + "busy when due and waited in the generator, hot/echo). Rows \"connection per concurrent request\": the same, "
        + "except that a request due while all connections are busy opens one more (up to ").append(TCP_MAX_CONNECTIONS)
        .append(", its connect counted in its latency) instead of waiting for an answer to another request, as "
        + "CNRI's client, which opens a TCP connection per request, never makes a request wait for another's "
        + "answer; connections kept open (KA) for later requests; the last column gives the connections used. "
        + "Their \"vs. echo\" column compares offered load, not capacity. Event-loop CPU = CPU time of all Vert.x event-loop threads in the measured window per "
        + "answer (only the server measured works on them during a row): the cost of a request on the server side, "
        + "little affected by a busy machine, unlike latency. GC threads CPU = the same for the JVM's garbage-collector "
        + "threads (young pauses, marking, remembered-set refinement; /proc, 10 ms ticks): the collector's cost of "
        + "what a request allocates and of the references it stores into old objects.\n");
    System.out.println(md);
    if (HANDLES == 100_000 && ROWS.pattern().equals(".*")) {
      BenchmarkReport.writeSection("resolver-handle", "resolver-node: Handle resolution over UDP and TCP",
        "mvn -q -B -o -pl resolver-node package -DskipTests && mvn -B -o verify -pl it-tests "
            + "-Dit.test=ResolverBenchmarkIT -Diiot.bench=resolver -Dtest=none "
            + "-Dsurefire.failIfNoSpecifiedTests=false -Dmaven.test.dependency.excludes=io.iiot:resolver-node "
            + "-Dmaven.test.additionalClasspath=$PWD/resolver-node/target/classes",
        md.toString());
    }
    r.values().forEach(res -> assertThat(res.answers()).isPositive());
    udpEcho.close();
    for (NetServer s : tcpEcho) {
      s.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    for (Node n : new Node[] {hot, cold}) {
      n.module().stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      n.ops().close();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    session.close();
  }

  interface Run {
    HandleLoadGenerator.Result run() throws Exception;
  }

  /** Runs one row when selected, recording the load average before it. */
  static void row(Map<String, HandleLoadGenerator.Result> r, Map<String, String> load, String name, Run run)
      throws Exception {
    if (ROWS.matcher(name).matches()) {
      load.put(name, BenchmarkReport.loadAverage());
      r.put(name, run.run());
    }
  }

  /**
   * The echo and hot rows of one protocol in {@link #ROUNDS} alternating rounds; records for "&lt;proto&gt; hot" the
   * per-round hot/echo ratios and keeps, for both rows, the round with the median ratio.
   */
  static void paired(Map<String, HandleLoadGenerator.Result> r, Map<String, String> load,
      Map<String, List<Double>> rounds, String proto, Run echo, Run hot) throws Exception {
    if (!ROWS.matcher(proto + " hot").matches()) {
      return;
    }
    String before = BenchmarkReport.loadAverage();
    Rounds rs = alternate(echo, hot);
    List<Double> ratios = new java.util.ArrayList<>();
    for (int i = 0; i < ROUNDS; i++) {
      ratios.add(rs.hot().get(i).rps() / rs.echo().get(i).rps());
    }
    double m = median(ratios);
    int at = ratios.indexOf(m);
    r.put(proto + " echo", rs.echo().get(at));
    r.put(proto + " hot", rs.hot().get(at));
    load.put(proto + " echo", before);
    load.put(proto + " hot", rs.loads());
    rounds.put(proto + " hot", ratios);
  }

  /**
   * The echo and hot rows of one protocol at half peak (open loop, the same offered rate) in {@link #ROUNDS}
   * alternating rounds, so that both tails see the same state of a shared machine; keeps, for both rows, the round
   * with the median hot p99 and notes every round's p99 hot/echo for "&lt;proto&gt; hot at half peak".
   */
  static void pairedAtHalfPeak(Map<String, HandleLoadGenerator.Result> r, Map<String, String> load,
      Map<String, String> tails, String proto, Run echo, Run hot) throws Exception {
    pairedAtHalfPeak(r, load, tails, proto, "", echo, hot);
  }

  static void pairedAtHalfPeak(Map<String, HandleLoadGenerator.Result> r, Map<String, String> load,
      Map<String, String> tails, String proto, String variant, Run echo, Run hot) throws Exception {
    String hotRow = proto + " hot at half peak" + variant;
    String echoRow = proto + " echo at half peak" + variant;
    if (!ROWS.matcher(hotRow).matches()) {
      return;
    }
    Rounds rs = alternate(echo, hot);
    StringBuilder p99s = new StringBuilder();
    for (int i = 0; i < ROUNDS; i++) {
      HandleLoadGenerator.Result h = rs.hot().get(i);
      HandleLoadGenerator.Result e = rs.echo().get(i);
      p99s.append(i == 0 ? "" : " ")
          .append(String.format(Locale.ROOT, "%.2f/%.2f", h.p99Ms(), e.p99Ms()));
      if (!variant.isEmpty()) {
        p99s.append(String.format(Locale.ROOT, " (%d/%d connections)", h.connections(), e.connections()));
      } else if (h.waitedForConnection() + e.waitedForConnection() > 0) {
        p99s.append(String.format(Locale.ROOT, " (waited %.2f%%/%.2f%%)",
            100.0 * h.waitedForConnection() / Math.max(1, h.answers()),
            100.0 * e.waitedForConnection() / Math.max(1, e.answers())));
      }
    }
    List<HandleLoadGenerator.Result> hs = rs.hot();
    List<Double> hotP99 = hs.stream().map(HandleLoadGenerator.Result::p99Ms).toList();
    int at = hotP99.indexOf(median(hotP99));
    r.put(hotRow, hs.get(at));
    r.put(echoRow, rs.echo().get(at));
    load.put(hotRow, rs.loads());
    load.put(echoRow, rs.loads());
    tails.put(hotRow, p99s.toString());
  }

  /** Each round's echo and hot results, and the 1-min load average before each round. */
  record Rounds(List<HandleLoadGenerator.Result> echo, List<HandleLoadGenerator.Result> hot, String loads) {}

  /** {@link #ROUNDS} rounds of echo then hot, so that both see the same state of the shared machine. */
  static Rounds alternate(Run echo, Run hot) throws Exception {
    List<HandleLoadGenerator.Result> es = new java.util.ArrayList<>();
    List<HandleLoadGenerator.Result> hs = new java.util.ArrayList<>();
    StringBuilder loads = new StringBuilder();
    for (int i = 0; i < ROUNDS; i++) {
      loads.append(i == 0 ? "" : " ").append(BenchmarkReport.loadAverage());
      es.add(echo.run());
      hs.add(hot.run());
    }
    return new Rounds(es, hs, loads.toString());
  }

  /**
   * The TCP baseline: bare Vert.x NetServers that write back what they read, with resolver-node's arrangement
   * ({@code HandleTcpServer}): {@code loops} servers sharing one port, each listening from its own event-loop
   * context, so that Vert.x spreads the connections over that many loops as it does the server's.
   */
  static List<NetServer> tcpEcho(Vertx vertx, String host, int loops) throws Exception {
    List<NetServer> servers = new java.util.ArrayList<>();
    int at = EmbeddedCassandraExtension.freePort(); // Vert.x shares a positive port, never port 0
    for (int i = 0; i < loops; i++) {
      io.vertx.core.impl.ContextInternal context = ((io.vertx.core.impl.VertxInternal) vertx).createEventLoopContext();
      java.util.concurrent.CompletableFuture<NetServer> listening = new java.util.concurrent.CompletableFuture<>();
      context.runOnContext(v -> vertx.createNetServer().connectHandler(s -> s.handler(s::write)).listen(at, host)
          .onSuccess(listening::complete).onFailure(listening::completeExceptionally));
      servers.add(listening.get(10, TimeUnit.SECONDS));
    }
    return servers;
  }

  static String rmemMax() {
    // read by line: Files.readString trusts the size procfs reports and returned "4" for 4194304
    try (var in = Files.newBufferedReader(Path.of("/proc/sys/net/core/rmem_max"))) {
      return in.readLine().trim();
    } catch (java.io.IOException | NullPointerException e) {
      return "unknown";
    }
  }

  static double median(List<Double> xs) {
    List<Double> sorted = new java.util.ArrayList<>(xs);
    java.util.Collections.sort(sorted);
    return sorted.get((sorted.size() - 1) / 2);
  }


  static HandleLoadGenerator gen(int port, byte[][] reqs) {
    return new HandleLoadGenerator(new InetSocketAddress("127.0.0.1", port), reqs);
  }
}
