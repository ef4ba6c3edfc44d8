package io.iiot.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.metadata.NodeState;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.bench.BenchmarkReport;
import io.iiot.it.support.AckedSenders;
import io.iiot.it.support.DeviceHubs;
import io.iiot.it.support.PahoDevice;
import io.iiot.it.support.ServiceProcess;
import io.iiot.it.support.StoredSequence;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.SiteInfo;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Issue 8's cluster test: three real Cassandra nodes (127.0.0.1-3, RF 3, NetworkTopologyStrategy, LOCAL_QUORUM), two
 * device-hub and two resolver-node processes on them. Under a steady MQTT QoS 1 load spread over both device-hub
 * replicas (Paho clients moving to the other replica when theirs dies and resending what was not acknowledged) and a
 * steady Handle resolution load over both resolver-node replicas (CNRI's client, every answer compared with the known
 * value), one Cassandra node is killed with {@code kill -9} and restarted, then one device-hub replica is killed with
 * {@code kill -9}. Afterwards every acknowledged message must be stored exactly once and no resolution may have been
 * wrong; throughput and error rates per phase go to the "cluster-replicas" section of docs/BENCHMARKS.md.
 *
 * <p>The resolver-node replicas share what a single node keeps to itself (the Secret of a Kubernetes deployment): the
 * server key file, the admin secret, the advertised address and the Handle port, so both publish the same site record;
 * the test checks they serve the same {@code HS_SITE} and the same answers, and how long a write through one replica
 * stays invisible at the other (bounded by {@code handle.cache.max-age}).
 *
 * <p>Runs only with {@code mvn -B -pl it-tests verify -Pcluster}, after CassandraClusterFaultIT (5-12 minutes; 11 at
 * a load average of 40-60).
 */
@Tag("cluster")
class ClusterReplicasIT {
  private static final String DC = "dc1";
  private static final String TENANT = "replicas";
  private static final String PASSWORD = "replica-secret";
  private static final String PREFIX = "88.101";
  private static final String ADMIN_SECRET = "cluster-admin-secret-0123456789";
  private static final int DEVICES = 16;
  private static final int HANDLES = 400;
  private static final int RESOLVER_THREADS_PER_REPLICA = 4;
  private static final Duration CACHE_MAX_AGE = Duration.ofSeconds(5);
  private static final int WARM_UP_S = 10;
  private static final int BEFORE_S = 20;
  private static final int DOWN_S = 20;
  private static final int AFTER_S = 20;
  private static final int ONE_HUB_S = 25;
  /** The killed Cassandra node: not the seed. */
  private static final int VICTIM = 1;
  /** Resolver-node replicas listen on these addresses with one Handle port, like pods behind one Service. */
  private static final List<String> RESOLVER_ADDRESSES = List.of("127.0.0.11", "127.0.0.12");
  private static final String ADVERTISED = "127.0.0.10";
  private static final List<String> HUB_JVM = List.of("-Xmx256M");
  /** DDL on three nodes (schema agreement) under the shared machine's load took over a minute per migration. */
  private static final Duration READY_WITHIN = Duration.ofMinutes(6);

  private final long base = Instant.now().minus(Duration.ofHours(1)).toEpochMilli();

  static String handle(int i) {
    return String.format(Locale.ROOT, "%s.7/R-%04d", PREFIX, i);
  }

  static String url(int i) {
    return "https://factory.example/replica/" + i;
  }

  static String device(int c) {
    return String.format(Locale.ROOT, "hub-dev-%02d", c);
  }

  @Test
  void twoReplicasOfEachServiceSurviveKillOfACassandraNodeAndOfADeviceHub() throws Exception {
    Path dir = Path.of("target", "cluster-replicas-it").toAbsolutePath();
    long t0 = System.nanoTime();
    List<ServiceProcess> processes = new ArrayList<>();
    try (LoopbackCluster cluster = LoopbackCluster.start(dir.resolve("cassandra"), 3, "iiot-replicas-it", DC,
        "512M")) {
      double clusterStartS = (System.nanoTime() - t0) / 1e9;
      Map<String, String> cassandra = Map.of(
          "CASSANDRA_CONTACT_POINTS", cluster.contactPoints(),
          "CASSANDRA_LOCAL_DATACENTER", DC,
          "CASSANDRA_REPLICATION", "NetworkTopologyStrategy:" + DC + "=3",
          "CASSANDRA_CONSISTENCY", "LOCAL_QUORUM");

      // Both replicas of a service start at once, as a Deployment's pods do (the schema lock serialises migrations).
      long s0 = System.nanoTime();
      List<Map<String, String>> hubEnvs = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        Map<String, String> env = new HashMap<>(ServiceProcess.freePorts("device-hub"));
        env.putAll(cassandra);
        env.put("DEVICE_HUB_MQTT_HOST", "127.0.0.1");
        env.put("DEVICE_HUB_MQTT_TLS_PORT", "0");
        env.put("DEVICE_HUB_COAP_DTLS_PORT", "0");
        env.put("DEVICE_HUB_CREDENTIALS_PBKDF2_ITERATIONS", "10000");
        hubEnvs.add(env);
      }
      List<Map<String, String>> resolverEnvs = resolverEnvs(dir, cassandra);
      List<ServiceProcess> started = startAll(List.of(
          () -> DeviceHubs.start(hubEnvs.get(0), HUB_JVM, READY_WITHIN),
          () -> DeviceHubs.start(hubEnvs.get(1), HUB_JVM, READY_WITHIN),
          () -> startResolver(resolverEnvs.get(0)), () -> startResolver(resolverEnvs.get(1))));
      processes.addAll(started);
      double servicesStartS = (System.nanoTime() - s0) / 1e9;
      ServiceProcess hubA = started.get(0);
      ServiceProcess hubB = started.get(1);
      List<ServiceProcess> resolvers = started.subList(2, 4);

      try (CqlSession session = session(cluster)) {
        for (String keyspace : List.of("iiot_device", "iiot_resolver")) {
          assertThat(session.getMetadata().getKeyspace(keyspace).orElseThrow().getReplication())
              .as(keyspace).containsEntry("class", "org.apache.cassandra.locator.NetworkTopologyStrategy")
              .containsEntry(DC, "3");
        }
        DeviceHubs.provisionCounterDevices(hubA.port("device-hub", "grpc.port"), TENANT, DEVICES,
            ClusterReplicasIT::device, PASSWORD);
        List<InetSocketAddress> handleReplicas = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
          handleReplicas.add(new InetSocketAddress(RESOLVER_ADDRESSES.get(r),
              resolvers.get(r).port("resolver-node", "handle.port")));
        }
        // the known handles, half registered through each replica's HTTP API
        for (int i = 0; i < HANDLES; i++) {
          HttpResponse<String> put = putUrl(resolvers.get(i % 2), handle(i), url(i));
          assertThat(put.statusCode()).as("PUT %s: %s", handle(i), put.body()).isEqualTo(201);
        }
        SameAnswers same = sameAnswers(handleReplicas, dir);

        List<String> hubUris = List.of("tcp://127.0.0.1:" + hubA.port("device-hub", "mqtt.port"),
            "tcp://127.0.0.1:" + hubB.port("device-hub", "mqtt.port"));
        Timeline t = new Timeline();
        try (AckedSenders mqtt = AckedSenders.start(DEVICES, Integer.MAX_VALUE, Duration.ofMinutes(15),
            c -> new PahoDevice(device(c), TENANT, PASSWORD, base, failover(hubUris, c)));
            HandleResolutionLoad resolution = new HandleResolutionLoad(handleReplicas, RESOLVER_THREADS_PER_REPLICA,
                HANDLES, ClusterReplicasIT::handle, ClusterReplicasIT::url, mqtt.startNanos()).start()) {
          EmbeddedCassandra victim = cluster.node(VICTIM);
          sleepUntil(mqtt, WARM_UP_S + BEFORE_S);
          t.loadAverages += " / " + BenchmarkReport.loadAverage();
          t.nodeKill = mqtt.elapsedSeconds();
          victim.kill();
          sleepUntil(mqtt, t.nodeKill + DOWN_S);
          t.nodeRestart = mqtt.elapsedSeconds();
          victim.start();
          t.cqlReady = mqtt.elapsedSeconds();
          while (!up(session, LoopbackCluster.address(VICTIM))) {
            assertThat(mqtt.elapsedSeconds() - t.cqlReady).as("seconds until the driver sees the node up")
                .isLessThan(60);
            Thread.sleep(100);
          }
          t.driverUp = mqtt.elapsedSeconds();
          sleepUntil(mqtt, t.driverUp + AFTER_S);
          t.loadAverages += " / " + BenchmarkReport.loadAverage();
          t.hubKill = mqtt.elapsedSeconds();
          long hubKillNanos = System.nanoTime();
          hubA.jvm().kill();
          while (!allAckedSince(mqtt, hubKillNanos)) {
            assertThat(mqtt.elapsedSeconds() - t.hubKill).as("seconds until every device publishes again")
                .isLessThan(60);
            Thread.sleep(50);
          }
          t.allDevicesBack = mqtt.elapsedSeconds();
          sleepUntil(mqtt, t.hubKill + ONE_HUB_S);
          t.end = mqtt.elapsedSeconds();
          t.loadAverages += " / " + BenchmarkReport.loadAverage();
          mqtt.stop();
          resolution.close();
          mqtt.awaitDone(Duration.ofMinutes(2));

          Staleness staleness = staleness(resolvers, handleReplicas);
          StoredSequence.Check check = StoredSequence.read(session, "iiot_device", TENANT, ClusterReplicasIT::device,
              base, mqtt);
          Report report = new Report(mqtt, resolution, t, check, same, staleness, clusterStartS, servicesStartS);
          report.write();

          assertThat(check.missing()).as("acknowledged messages lost; first: %s", check.firstMissing()).isZero();
          assertThat(resolution.firstWrong()).as("a wrong resolution").isNull();
          assertThat(resolution.correctOf(0)).as("answers of resolver replica 1").isPositive();
          assertThat(resolution.correctOf(1)).as("answers of resolver replica 2").isPositive();
          assertThat(mqtt.acked((int) Math.ceil(t.nodeKill), (int) t.nodeRestart))
              .as("messages acknowledged while a Cassandra node was down").isPositive();
          assertThat(mqtt.acked((int) Math.ceil(t.allDevicesBack), (int) t.end))
              .as("messages acknowledged by the surviving device-hub").isPositive();
          assertThat(staleness.seconds()).as("a write through one resolver replica visible at the other")
              .isLessThan(CACHE_MAX_AGE.toSeconds() + 3.0);
        }
      }
    } finally {
      for (ServiceProcess p : processes) {
        if (p.jvm().isAlive()) {
          p.close();
        }
      }
    }
  }

  /** Each new connection of device {@code c} goes to the next replica: first its own, after a failure the other. */
  private static java.util.function.Supplier<String> failover(List<String> uris, int c) {
    AtomicInteger connects = new AtomicInteger(c);
    return () -> uris.get(connects.getAndIncrement() % uris.size());
  }

  private static boolean allAckedSince(AckedSenders mqtt, long nanos) {
    for (int c = 0; c < DEVICES; c++) {
      if (mqtt.lastAckNanos(c) - nanos < 0) {
        return false;
      }
    }
    return true;
  }

  /**
   * Two resolver-node replicas configured as a Kubernetes Deployment would be: everything in the shared Secret and
   * ConfigMap is equal (server key, admin secret, advertised address, Handle port), the data directory is each pod's
   * own.
   */
  private static List<Map<String, String>> resolverEnvs(Path dir, Map<String, String> cassandra) throws Exception {
    Path secret = dir.resolve("resolver-secret");
    Files.createDirectories(secret);
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    Path keyFile = secret.resolve("server-key.pk8");
    Files.write(keyFile, g.generateKeyPair().getPrivate().getEncoded());
    int handlePort = portFreeOn(RESOLVER_ADDRESSES);
    List<Map<String, String>> envs = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      Map<String, String> env = new HashMap<>(ServiceProcess.freePorts("resolver-node"));
      env.putAll(cassandra);
      env.put(ServiceConfig.envName("resolver-node", "handle.host"), RESOLVER_ADDRESSES.get(r));
      env.put(ServiceConfig.envName("resolver-node", "handle.port"), Integer.toString(handlePort));
      env.put(ServiceConfig.envName("resolver-node", "handle.advertised-address"), ADVERTISED);
      env.put(ServiceConfig.envName("resolver-node", "handle.prefix"), PREFIX);
      env.put(ServiceConfig.envName("resolver-node", "handle.server-key-file"), keyFile.toString());
      env.put(ServiceConfig.envName("resolver-node", "handle.admin-secret"), ADMIN_SECRET);
      env.put(ServiceConfig.envName("resolver-node", "handle.data-dir"), dir.resolve("resolver-" + r).toString());
      env.put(ServiceConfig.envName("resolver-node", "handle.http-insecure-auth"), "true");
      env.put(ServiceConfig.envName("resolver-node", "handle.cache.max-age"), CACHE_MAX_AGE.toSeconds() + "s");
      env.put(ServiceConfig.envName("resolver-node", "http.host"), "127.0.0.1");
      env.put(ServiceConfig.envName("resolver-node", "grpc.host"), "127.0.0.1");
      envs.add(env);
    }
    return envs;
  }

  private static ServiceProcess startResolver(Map<String, String> env) throws Exception {
    ServiceProcess p = ServiceProcess.start("resolver-node", env);
    try {
      p.awaitReady(READY_WITHIN);
      return p;
    } catch (Exception | AssertionError e) {
      p.close();
      throw e;
    }
  }

  private static List<ServiceProcess> startAll(List<Callable<ServiceProcess>> starts) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(starts.size());
    try {
      List<Future<ServiceProcess>> futures = new ArrayList<>();
      for (Callable<ServiceProcess> s : starts) {
        futures.add(pool.submit(s));
      }
      List<ServiceProcess> out = new ArrayList<>();
      Exception failure = null;
      for (Future<ServiceProcess> f : futures) {
        try {
          out.add(f.get(10, TimeUnit.MINUTES));
        } catch (Exception e) {
          failure = failure == null ? e : failure;
        }
      }
      if (failure != null) {
        for (ServiceProcess p : out) {
          p.close(); // the ones that did start
        }
        throw failure;
      }
      return out;
    } finally {
      pool.shutdown();
    }
  }

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  /** Creates or replaces {@code handle} with a URL at index 1 through a replica's handle.net-style JSON API. */
  private static HttpResponse<String> putUrl(ServiceProcess resolver, String handle, String url) throws Exception {
    String body = "[{\"index\":1,\"type\":\"URL\",\"data\":{\"format\":\"string\",\"value\":\"" + url + "\"}},"
        + "{\"index\":100,\"type\":\"HS_ADMIN\",\"data\":{\"format\":\"admin\",\"value\":{\"handle\":\"0.NA/" + PREFIX
        + "\",\"index\":300,\"permissions\":\"111111111111\"}}}]";
    String auth = "Basic " + Base64.getEncoder().encodeToString(("300%3A0.NA/" + PREFIX + ":" + ADMIN_SECRET)
        .getBytes(StandardCharsets.UTF_8));
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + resolver.port("resolver-node", "http.port") + "/api/handles/" + handle))
        .PUT(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json")
        .header("Authorization", auth).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** What both replicas answer before the load: the prefix handle's site record and every known handle. */
  record SameAnswers(boolean siteEqual, boolean siteKeyIsSharedKey, int handlesCompared) {}

  private static SameAnswers sameAnswers(List<InetSocketAddress> replicas, Path dir) throws Exception {
    HandleResolver resolver = new HandleResolver();
    List<byte[]> sites = new ArrayList<>();
    for (InetSocketAddress r : replicas) {
      HandleValue[] values = resolve(resolver, r, "0.NA/" + PREFIX);
      HandleValue site = Arrays.stream(values).filter(v -> v.getTypeAsString().equals("HS_SITE")).findFirst()
          .orElseThrow();
      sites.add(site.getData());
    }
    assertThat(sites.get(1)).as("HS_SITE served by replica 2 equals replica 1's").isEqualTo(sites.get(0));
    SiteInfo site = Encoder.decodeSiteInfoRecord(sites.get(0), 0);
    assertThat(site.servers).hasSize(1);
    assertThat(site.servers[0].getInetAddress()).as("the advertised address in HS_SITE, as CNRI's client reads it")
        .isEqualTo(InetAddress.getByName(ADVERTISED));
    java.security.interfaces.RSAPrivateCrtKey shared = (java.security.interfaces.RSAPrivateCrtKey)
        java.security.KeyFactory.getInstance("RSA").generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(
            Files.readAllBytes(dir.resolve("resolver-secret/server-key.pk8"))));
    java.security.interfaces.RSAPublicKey published = (java.security.interfaces.RSAPublicKey)
        Util.getPublicKeyFromBytes(site.servers[0].publicKey, 0);
    assertThat(published.getModulus()).as("site key = the shared server key").isEqualTo(shared.getModulus());
    for (int i = 0; i < HANDLES; i++) {
      for (InetSocketAddress r : replicas) {
        HandleValue url = Arrays.stream(resolve(resolver, r, handle(i))).filter(v -> v.getIndex() == 1).findFirst()
            .orElseThrow();
        assertThat(url.getDataAsString()).as("%s at %s", handle(i), r).isEqualTo(url(i));
      }
    }
    return new SameAnswers(true, true, HANDLES);
  }

  private static HandleValue[] resolve(HandleResolver resolver, InetSocketAddress replica, String handle)
      throws Exception {
    AbstractResponse r = resolver.sendHdlUdpRequest(new ResolutionRequest(Util.encodeString(handle), null, null, null),
        replica.getAddress(), replica.getPort());
    assertThat(r).as("%s at %s", handle, replica).isInstanceOf(ResolutionResponse.class);
    return ((ResolutionResponse) r).getHandleValues();
  }

  /** A write through replica 1 of a handle replica 2 has cached: how long replica 2 still serves the old value. */
  record Staleness(double seconds, boolean writerSawItAtOnce) {}

  private static Staleness staleness(List<ServiceProcess> resolvers, List<InetSocketAddress> replicas)
      throws Exception {
    HandleResolver resolver = new HandleResolver();
    int i = 0;
    // cached at both (resolved just now by the load; once more to be sure)
    resolve(resolver, replicas.get(0), handle(i));
    resolve(resolver, replicas.get(1), handle(i));
    String changed = url(i) + "?v=2";
    long t = System.nanoTime();
    assertThat(putUrl(resolvers.get(0), handle(i), changed).statusCode()).isIn(200, 201);
    boolean writer = url(resolve(resolver, replicas.get(0), handle(i))).equals(changed);
    while (!url(resolve(resolver, replicas.get(1), handle(i))).equals(changed)) {
      assertThat(System.nanoTime() - t).as("replica 2 still serves the old value").isLessThan(
          TimeUnit.SECONDS.toNanos(30));
      Thread.sleep(20);
    }
    return new Staleness((System.nanoTime() - t) / 1e9, writer);
  }

  private static String url(HandleValue[] values) {
    return Arrays.stream(values).filter(v -> v.getIndex() == 1).findFirst().orElseThrow().getDataAsString();
  }

  private static CqlSession session(LoopbackCluster cluster) {
    var builder = CqlSession.builder().withLocalDatacenter(DC).withConfigLoader(DriverConfigLoader.programmaticBuilder()
        .withString(DefaultDriverOption.REQUEST_CONSISTENCY, "LOCAL_QUORUM")
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(20)).build());
    for (int i = 0; i < 3; i++) {
      builder.addContactPoint(new InetSocketAddress(LoopbackCluster.address(i), cluster.nativePort()));
    }
    return builder.build();
  }

  private static boolean up(CqlSession session, String address) {
    for (Node n : session.getMetadata().getNodes().values()) {
      if (n.getEndPoint().resolve() instanceof InetSocketAddress a && a.getAddress().getHostAddress().equals(address)) {
        return n.getState() == NodeState.UP;
      }
    }
    return false;
  }

  /** A port free (TCP) on each of {@code addresses}. */
  private static int portFreeOn(List<String> addresses) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int candidate = EmbeddedCassandraExtension.freePort();
      boolean free = true;
      for (String a : addresses) {
        try (ServerSocket s = new ServerSocket()) {
          s.bind(new InetSocketAddress(InetAddress.getByName(a), candidate));
        } catch (IOException e) {
          free = false;
        }
      }
      if (free) {
        return candidate;
      }
    }
    throw new IllegalStateException("no port free on " + addresses);
  }

  private static void sleepUntil(AckedSenders load, double second) throws InterruptedException {
    while (load.elapsedSeconds() < second) {
      Thread.sleep(50);
    }
  }


  /** Moments of the run, in seconds since the load started. */
  static final class Timeline {
    double nodeKill;
    double nodeRestart;
    double cqlReady;
    double driverUp;
    double hubKill;
    double allDevicesBack;
    double end;
    String loadAverages = BenchmarkReport.loadAverage();
  }

  /** The figures of one run, as the "cluster-replicas" section of docs/BENCHMARKS.md. */
  private record Report(AckedSenders mqtt, HandleResolutionLoad resolution, Timeline t, StoredSequence.Check check,
      SameAnswers same, Staleness staleness, double clusterStartS, double servicesStartS) {
    void write() throws IOException {
      int before0 = WARM_UP_S;
      int before1 = (int) t.nodeKill;
      double mqttBefore = (double) mqtt.acked(before0, before1) / Math.max(1, before1 - before0);
      double handleBefore = (double) resolution.correct(before0, before1) / Math.max(1, before1 - before0);
      StringBuilder md = new StringBuilder();
      md.append("Three real Cassandra 5.0 nodes (`EmbeddedCassandra`, 512 MB heap each, batch commit log) on")
          .append(" 127.0.0.1-3, keyspaces `iiot_device` and `iiot_resolver` created by the services on")
          .append(" `NetworkTopologyStrategy:dc1=3`, `LOCAL_QUORUM`; two device-hub and two resolver-node processes")
          .append(" (the built jars, 256 MB heap each, both replicas of a service started at once). All on one 2-core")
          .append(" machine, shared with the clients and with other engineers' builds.\n\n")
          .append("Load: ").append(DEVICES).append(" Eclipse Paho devices publishing QoS 1 telemetry, one message in")
          .append(" flight each, half on each device-hub; a device whose connection fails reconnects to the other")
          .append(" replica and resends the unacknowledged message. ").append(2 * RESOLVER_THREADS_PER_REPLICA)
          .append(" threads of CNRI's handle-client 9.3.1 resolving over UDP (one try, 2 s wait),")
          .append(" half at each resolver-node replica, random handles among ").append(HANDLES)
          .append(" registered before (half through each replica's HTTP API); every answer compared with the known")
          .append(" URL (another value or \"not found\" = wrong).\n\n")
          .append("Faults: Cassandra node 127.0.0.").append(VICTIM + 1).append(" killed with SIGKILL after ")
          .append(WARM_UP_S + BEFORE_S).append(" s of load, restarted ").append(DOWN_S).append(" s later; ")
          .append(AFTER_S).append(" s after the driver sees it up again, one device-hub replica killed with SIGKILL")
          .append(" (not restarted).\n\n");
      md.append("| phase | s | MQTT acks/s | vs. before | MQTT failed sends | MQTT error rate | resolutions/s"
          + " | vs. before | wrong | failed | resolution error rate |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
      row(md, "before (all up)", before0, before1, mqttBefore, handleBefore);
      row(md, "Cassandra node down", (int) Math.ceil(t.nodeKill), (int) t.nodeRestart, mqttBefore, handleBefore);
      row(md, "node restarting (until the driver sees it up)", (int) Math.ceil(t.nodeRestart), (int) t.driverUp + 1,
          mqttBefore, handleBefore);
      row(md, "whole node fault (kill until up)", (int) Math.ceil(t.nodeKill), (int) t.driverUp + 1, mqttBefore,
          handleBefore);
      row(md, "after (all 3 nodes up, 2 hubs)", (int) Math.ceil(t.driverUp), (int) t.hubKill, mqttBefore,
          handleBefore);
      row(md, "device-hub replica killed, until every device publishes again", (int) t.hubKill,
          (int) Math.ceil(t.allDevicesBack), mqttBefore, handleBefore);
      row(md, "one device-hub left", (int) Math.ceil(t.allDevicesBack), (int) t.end, mqttBefore, handleBefore);
      md.append('\n');
      md.append(String.format(Locale.ROOT, "- MQTT messages acknowledged: %d; read back at LOCAL_QUORUM afterwards:"
          + " %d rows; **messages lost: %d**; stored more than once: 0 (one row per device, timestamp and metric)%n",
          check.acknowledged(), check.stored(), check.missing()));
      md.append(String.format(Locale.ROOT, "- Resolutions: %d right, **%d wrong**, %d failed (%s)%n",
          resolution.correct(0, 3600), resolution.wrong(0, 3600), resolution.failed(0, 3600),
          resolution.failureKinds().isEmpty() ? "none" : resolution.failureKinds()));
      md.append("- MQTT failed sends by kind: ").append(mqtt.failureKinds().isEmpty() ? "none"
          : mqtt.failureKinds().toString()).append('\n');
      md.append(String.format(Locale.ROOT, "- Time to recover, Cassandra node: restart until CQL answers %.1f s,"
          + " until the driver has it up %.1f s (down %.1f s in all)%n", t.cqlReady - t.nodeRestart,
          t.driverUp - t.nodeRestart, t.driverUp - t.nodeKill));
      md.append(String.format(Locale.ROOT, "- Time to recover, device-hub replica: kill until every one of the %d"
          + " devices had a message acknowledged again (half of them moved to the other replica) %.1f s%n", DEVICES,
          t.allDevicesBack - t.hubKill));
      md.append(String.format(Locale.ROOT, "- Two resolver replicas, one answer: both served the same `HS_SITE` of"
          + " `0.NA/%s` (the shared server key, advertised address %s) and the same URL for all %d handles before"
          + " the load; a URL replaced through replica 1 was served by replica 1 at once: %s, and by replica 2 after"
          + " %.2f s (bound: `handle.cache.max-age` = %d s)%n", PREFIX, ADVERTISED, same.handlesCompared(),
          staleness.writerSawItAtOnce(), staleness.seconds(), CACHE_MAX_AGE.toSeconds()));
      md.append(String.format(Locale.ROOT, "- Start: 3 Cassandra nodes one after another %.1f s; 4 service processes"
          + " at once until ready %.1f s%n", clusterStartS, servicesStartS));
      md.append("- Machine load average (1 min) at load start / node kill / hub kill / end: ").append(t.loadAverages)
          .append('\n');
      md.append("\nPer 5-s step (K = node killed, R = restart begins, U = driver sees it up, H = device-hub killed):\n\n")
          .append("| from s | MQTT acks/s | MQTT failed | resolutions/s | wrong | failed |\n|---|---|---|---|---|---|\n");
      for (int s = 0; s + 5 <= (int) t.end; s += 5) {
        String mark = mark(s, t.nodeKill, "K") + mark(s, t.nodeRestart, "R") + mark(s, t.driverUp, "U")
            + mark(s, t.hubKill, "H");
        md.append("| ").append(s).append(mark.isEmpty() ? "" : " " + mark).append(" | ")
            .append(mqtt.acked(s, s + 5) / 5).append(" | ").append(mqtt.failed(s, s + 5)).append(" | ")
            .append(resolution.correct(s, s + 5) / 5).append(" | ").append(resolution.wrong(s, s + 5)).append(" | ")
            .append(resolution.failed(s, s + 5)).append(" |\n");
      }
      System.out.println(md);
      BenchmarkReport.writeSection("cluster-replicas", "Two replicas of device-hub and resolver-node on a 3-node"
          + " Cassandra cluster: kill -9 of a Cassandra node and of a device-hub replica under load",
          "mvn -B -pl it-tests verify -Pcluster", md.toString());
    }

    private void row(StringBuilder md, String phase, int from, int to, double mqttBefore, double handleBefore) {
      int seconds = Math.max(1, to - from);
      long acked = mqtt.acked(from, to);
      long failed = mqtt.failed(from, to);
      long right = resolution.correct(from, to);
      long wrong = resolution.wrong(from, to);
      long rFailed = resolution.failed(from, to);
      md.append(String.format(Locale.ROOT, "| %s | %d | %d | %.2f | %d | %.2f %% | %d | %.2f | %d | %d | %.2f %% |%n",
          phase, seconds, acked / seconds, mqttBefore == 0 ? 0 : acked / (double) seconds / mqttBefore, failed,
          acked + failed == 0 ? 0.0 : 100.0 * failed / (acked + failed), right / seconds,
          handleBefore == 0 ? 0 : right / (double) seconds / handleBefore, wrong, rFailed,
          right + wrong + rFailed == 0 ? 0.0 : 100.0 * (wrong + rFailed) / (right + wrong + rFailed)));
    }

    private static String mark(int from, double at, String letter) {
      return at >= from && at < from + 5 ? letter : "";
    }
  }
}
