package io.iiot.base.launch;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Cassandra node ({@code cassandra-all} from Maven Central) run as a child JVM on 127.0.0.1, or, as one node of
 * a cluster on one machine, on another loopback address ({@link Topology}).
 *
 * <p>The node runs on its own classpath, the one the {@code cassandra-server} module resolved into
 * {@code cassandra-server/target/cassandra.classpath}, so none of the services' libraries (Netty, logging, Jackson)
 * reach it. It is pinned to Java 17 (5.0 fails on newer JVMs). Its commit log syncs in {@code batch} mode: a write is
 * acknowledged only after its fsync, so an acknowledged write survives {@code kill -9} of the node (the default
 * {@code periodic} mode loses up to ~100 ms of acknowledged writes; see docs/reference on cassandra).
 *
 * <p>As root the child is started without {@code CAP_IPC_LOCK}, so Cassandra's {@code mlockall} does not pin the whole
 * heap (+0.5 GB resident, and very slow first starts on these machines).
 */
public final class EmbeddedCassandra implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedCassandra.class);
  private static final String MAIN = "io.iiot.cassandra.server.EmbeddedCassandraMain";

  /**
   * How to run the node.
   *
   * @param dataDir parent of data, commitlog, hints, saved_caches, conf and logs
   * @param serverDir the {@code cassandra-server} module directory (holds {@code target/cassandra.classpath})
   * @param javaHome a Java 17 installation
   * @param topology where the node listens and which cluster it joins; {@link Topology#single} for one node
   */
  public record Settings(Path dataDir, int nativePort, int storagePort, String heap, Path serverDir, Path javaHome,
      Duration startTimeout, Topology topology) {

    /** A single node on 127.0.0.1 (the behaviour before clusters were supported). */
    public Settings(Path dataDir, int nativePort, int storagePort, String heap, Path serverDir, Path javaHome,
        Duration startTimeout) {
      this(dataDir, nativePort, storagePort, heap, serverDir, javaHome, startTimeout,
          Topology.single(storagePort));
    }

    /** Defaults for tests and the run command: a heap growing from 256 MB to 1 GB, two-minute start timeout. */
    public static Settings of(Path dataDir, int nativePort, int storagePort) {
      return new Settings(dataDir.toAbsolutePath(), nativePort, storagePort, "1G", locateServerDir(), locateJava17(),
          Duration.ofSeconds(120));
    }

    /** The same node in another cluster topology (address, seeds, cluster name, data centre). */
    public Settings withTopology(Topology topology) {
      return new Settings(dataDir, nativePort, storagePort, heap, serverDir, javaHome, startTimeout, topology);
    }

    /** The same node with another maximum heap, e.g. {@code 512M}. */
    public Settings withHeap(String heap) {
      return new Settings(dataDir, nativePort, storagePort, heap, serverDir, javaHome, startTimeout, topology);
    }
  }

  /**
   * Where a node listens and which cluster it belongs to.
   *
   * <p>Several nodes on one machine each take their own loopback address (127.0.0.1, 127.0.0.2, ...: Linux routes all
   * of 127.0.0.0/8 to {@code lo} without setup) and share the same ports, since Cassandra expects one storage port
   * across the cluster.
   *
   * @param address the listen and CQL address of this node
   * @param seeds {@code host:storagePort} of the seed nodes (include this node's own for the first node)
   * @param clusterName must be equal on every node of a cluster
   * @param datacenter null: {@code SimpleSnitch} (data centre {@code datacenter1}); else
   *     {@code GossipingPropertyFileSnitch} with this data centre name, for NetworkTopologyStrategy keyspaces
   * @param rack the rack with {@code datacenter}; ignored without it
   * @param initialToken null: a random token (and, for a non-seed node, bootstrap from the others); else this
   *     token and no bootstrap streaming, the way a brand-new cluster is formed with evenly spread tokens
   */
  public record Topology(String address, List<String> seeds, String clusterName, String datacenter, String rack,
      String initialToken) {

    public Topology {
      seeds = List.copyOf(seeds);
    }

    /** One node on 127.0.0.1 seeding itself, cluster {@code iiot}, SimpleSnitch. */
    public static Topology single(int storagePort) {
      return new Topology("127.0.0.1", List.of("127.0.0.1:" + storagePort), "iiot", null, null, null);
    }
  }

  private final Settings settings;
  private ChildJvm jvm;
  private boolean unflushedSchemaChanges;
  private boolean defaultBatchWarnings;

  public EmbeddedCassandra(Settings settings) {
    this.settings = settings;
  }

  public Settings settings() {
    return settings;
  }

  /**
   * For a throw-away node whose data directory is deleted before every start (the test extension's): schema changes
   * are not flushed to SSTables at once (Cassandra's own test switch {@code cassandra.test.flush_local_schema_changes
   * =false}), which makes each CREATE TABLE much cheaper. They are still in the commit log, but a node killed and
   * restarted on the same directory may lose them (the schema is loaded before the commit log is replayed): never for
   * a node that is restarted.
   */
  public EmbeddedCassandra withUnflushedSchemaChanges() {
    unflushedSchemaChanges = true;
    return this;
  }

  /**
   * Keeps Cassandra's default warning thresholds for batches (10 partitions, 5 KiB), as a production node has them,
   * instead of the raised ones of the platform's nodes: for tests that what the services send draws no warning there.
   */
  public EmbeddedCassandra withDefaultBatchWarnings() {
    defaultBatchWarnings = true;
    return this;
  }

  /** Starts the node and blocks until it answers on its CQL port. */
  public EmbeddedCassandra start() throws IOException, InterruptedException {
    String address = settings.topology().address();
    if (portOpen(address, settings.nativePort())) {
      throw new IllegalStateException("Cannot start embedded Cassandra: " + address + ":" + settings.nativePort()
          + " is already in use (another Cassandra running?)");
    }
    Path dir = settings.dataDir();
    Path conf = dir.resolve("conf");
    Files.createDirectories(conf);
    Files.createDirectories(dir.resolve("triggers"));
    Path yaml = conf.resolve("cassandra.yaml");
    Files.writeString(yaml, yaml(dir), StandardCharsets.UTF_8);
    Path logback = conf.resolve("logback.xml");
    Files.writeString(logback, LOGBACK, StandardCharsets.UTF_8);
    Path rackdc = conf.resolve("cassandra-rackdc.properties");
    if (settings.topology().datacenter() != null) {
      // read by GossipingPropertyFileSnitch through -Dcassandra-rackdc.properties
      Files.writeString(rackdc, "dc=" + settings.topology().datacenter() + "\nrack="
          + (settings.topology().rack() == null ? "rack1" : settings.topology().rack()) + "\n", StandardCharsets.UTF_8);
    }

    List<Path> classpath = new ArrayList<>();
    classpath.add(settings.serverDir().resolve("target/classes"));
    Path cpFile = settings.serverDir().resolve("target/cassandra.classpath");
    if (!Files.isRegularFile(cpFile)) {
      throw new IllegalStateException("Cannot start embedded Cassandra: " + cpFile
          + " is missing; build the project first (mvn -DskipTests package)");
    }
    for (String entry : Files.readString(cpFile).trim().split(java.io.File.pathSeparator)) {
      classpath.add(Path.of(entry));
    }
    List<String> jvmArgs = new ArrayList<>(List.of(
        "-Xms256M", "-Xmx" + settings.heap(),
        "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Xss256k",
        "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens", "java.base/java.io=ALL-UNNAMED",
        "-Djava.net.preferIPv4Stack=true",
        "-Dcassandra.config=" + yaml.toUri(),
        "-Dcassandra-foreground=yes",
        "-Dcassandra.triggers_dir=" + dir.resolve("triggers"),
        "-Dcassandra.shutdown_announce_in_ms=0",
        "-Dlogback.configurationFile=" + logback,
        "-Diiot.parent.pid=" + ProcessHandle.current().pid()));
    if (settings.topology().datacenter() != null) {
      jvmArgs.add("-Dcassandra-rackdc.properties=" + rackdc.toUri());
    }
    if (unflushedSchemaChanges) {
      jvmArgs.add("-Dcassandra.test.flush_local_schema_changes=false");
    }
    Path log = dir.resolve("logs/cassandra.log");
    long t0 = System.nanoTime();
    jvm = ChildJvm.start("cassandra", dropIpcLock(), settings.javaHome(), jvmArgs, classpath, MAIN, List.of(),
        Map.of(), log);
    LOG.info("Embedded Cassandra starting (pid {}, data {}, log {})", jvm.pid(), dir, log);
    long deadline = t0 + settings.startTimeout().toNanos();
    while (!portOpen(address, settings.nativePort())) {
      if (!jvm.isAlive()) {
        throw new IllegalStateException("Embedded Cassandra exited with code " + jvm.process().exitValue()
            + " before CQL answered; last lines of " + log + ":\n" + tail(log, 20));
      }
      if (System.nanoTime() > deadline) {
        jvm.kill();
        throw new IllegalStateException("Embedded Cassandra not answering on " + address + ":" + settings.nativePort()
            + " after " + settings.startTimeout().toSeconds() + " s; last lines of " + log + ":\n" + tail(log, 20));
      }
      Thread.sleep(100);
    }
    LOG.info("Embedded Cassandra ready on {}:{} in {} ms", address, settings.nativePort(),
        (System.nanoTime() - t0) / 1_000_000);
    return this;
  }

  public long pid() {
    return jvm.pid();
  }

  public boolean isRunning() {
    return jvm != null && jvm.isAlive();
  }

  /** Stops the node with SIGTERM (it drains memtables to disk), SIGKILL after 30 s. Blocking. */
  public void stop() throws InterruptedException {
    if (jvm != null) {
      jvm.stop(Duration.ofSeconds(30));
      LOG.info("Embedded Cassandra stopped");
    }
  }

  /** Kills the node with SIGKILL, as a crash would. Blocking. */
  public void kill() throws InterruptedException {
    if (jvm != null) {
      jvm.kill();
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }

  public static boolean portOpen(int port) {
    return portOpen("127.0.0.1", port);
  }

  public static boolean portOpen(String host, int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(host, port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private String yaml(Path dir) {
    Topology t = settings.topology();
    StringBuilder extra = new StringBuilder();
    if (t.initialToken() != null) {
      // a brand-new cluster with planned tokens: nothing to stream, so no bootstrap (and no 30 s ring delay)
      extra.append("initial_token: ").append(t.initialToken()).append("\nauto_bootstrap: false\n");
    }
    if (!defaultBatchWarnings) {
      // The platform's batches of many partitions (registration, device creation, replica-set telemetry batches) stay
      // under 40 KiB; the defaults (10 partitions, 5KiB) would log a warning for many of them.
      extra.append("unlogged_batch_across_partitions_warn_threshold: 1000\nbatch_size_warn_threshold: 40KiB\n");
    }
    return """
        cluster_name: %4$s
        num_tokens: 1
        partitioner: org.apache.cassandra.dht.Murmur3Partitioner
        endpoint_snitch: %6$s
        seed_provider:
          - class_name: org.apache.cassandra.locator.SimpleSeedProvider
            parameters:
              - seeds: "%5$s"
        listen_address: %7$s
        rpc_address: %7$s
        storage_port: %2$d
        native_transport_port: %1$d
        data_file_directories: [ "%3$s/data" ]
        commitlog_directory: "%3$s/commitlog"
        saved_caches_directory: "%3$s/saved_caches"
        hints_directory: "%3$s/hints"
        cdc_raw_directory: "%3$s/cdc_raw"
        # acknowledged = fsynced: survives kill -9 of the node
        commitlog_sync: batch
        storage_compatibility_mode: NONE
        auto_snapshot: false
        """.formatted(settings.nativePort(), settings.storagePort(), dir.toAbsolutePath(), t.clusterName(),
        String.join(",", t.seeds()), t.datacenter() == null ? "SimpleSnitch" : "GossipingPropertyFileSnitch",
        t.address()) + extra;
  }

  private static List<String> dropIpcLock() {
    boolean root = "root".equals(System.getProperty("user.name"));
    if (root && Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
      return List.of("/usr/bin/setpriv", "--inh-caps=-ipc_lock", "--bounding-set=-ipc_lock", "--");
    }
    return List.of();
  }

  private static String tail(Path log, int lines) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /**
   * The {@code cassandra-server} module directory: {@code IIOT_CASSANDRA_SERVER_DIR}, system property
   * {@code iiot.cassandra.server-dir}, or the first {@code cassandra-server/} found from the working directory upwards.
   */
  public static Path locateServerDir() {
    String configured = System.getProperty("iiot.cassandra.server-dir", System.getenv("IIOT_CASSANDRA_SERVER_DIR"));
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path candidate = p.resolve("cassandra-server");
      if (Files.isRegularFile(candidate.resolve("pom.xml"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("Cannot find the cassandra-server module from " + Path.of("").toAbsolutePath()
        + "; set IIOT_CASSANDRA_SERVER_DIR");
  }

  /** This JVM if it is a Java 17, else {@code JAVA17_HOME}, else Debian's OpenJDK 17. */
  public static Path locateJava17() {
    if (Runtime.version().feature() == 17) {
      return Path.of(System.getProperty("java.home"));
    }
    for (String candidate : new String[] {System.getenv("JAVA17_HOME"), "/usr/lib/jvm/java-17-openjdk-amd64"}) {
      if (candidate != null && Files.isExecutable(Path.of(candidate, "bin", "java"))) {
        return Path.of(candidate);
      }
    }
    throw new IllegalStateException("Embedded Cassandra 5.0 needs Java 17; set JAVA17_HOME");
  }

  private static final String LOGBACK = """
      <configuration>
        <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
          <encoder><pattern>%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n</pattern></encoder>
        </appender>
        <root level="INFO"><appender-ref ref="STDOUT"/></root>
      </configuration>
      """;
}
