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
 * A real single Cassandra node ({@code cassandra-all} from Maven Central) run as a child JVM on 127.0.0.1.
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
   */
  public record Settings(Path dataDir, int nativePort, int storagePort, String heap, Path serverDir, Path javaHome,
      Duration startTimeout) {

    /** Defaults for tests and the run command: a heap growing from 256 MB to 1 GB, two-minute start timeout. */
    public static Settings of(Path dataDir, int nativePort, int storagePort) {
      return new Settings(dataDir.toAbsolutePath(), nativePort, storagePort, "1G", locateServerDir(), locateJava17(),
          Duration.ofSeconds(120));
    }
  }

  private final Settings settings;
  private ChildJvm jvm;

  public EmbeddedCassandra(Settings settings) {
    this.settings = settings;
  }

  public Settings settings() {
    return settings;
  }

  /** Starts the node and blocks until it answers on its CQL port. */
  public EmbeddedCassandra start() throws IOException, InterruptedException {
    if (portOpen(settings.nativePort())) {
      throw new IllegalStateException("Cannot start embedded Cassandra: 127.0.0.1:" + settings.nativePort()
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
    Path log = dir.resolve("logs/cassandra.log");
    long t0 = System.nanoTime();
    jvm = ChildJvm.start("cassandra", dropIpcLock(), settings.javaHome(), jvmArgs, classpath, MAIN, List.of(),
        Map.of(), log);
    LOG.info("Embedded Cassandra starting (pid {}, data {}, log {})", jvm.pid(), dir, log);
    long deadline = t0 + settings.startTimeout().toNanos();
    while (!portOpen(settings.nativePort())) {
      if (!jvm.isAlive()) {
        throw new IllegalStateException("Embedded Cassandra exited with code " + jvm.process().exitValue()
            + " before CQL answered; last lines of " + log + ":\n" + tail(log, 20));
      }
      if (System.nanoTime() > deadline) {
        jvm.kill();
        throw new IllegalStateException("Embedded Cassandra not answering on 127.0.0.1:" + settings.nativePort()
            + " after " + settings.startTimeout().toSeconds() + " s; last lines of " + log + ":\n" + tail(log, 20));
      }
      Thread.sleep(100);
    }
    LOG.info("Embedded Cassandra ready on 127.0.0.1:{} in {} ms", settings.nativePort(),
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
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private String yaml(Path dir) {
    return """
        cluster_name: iiot
        num_tokens: 1
        partitioner: org.apache.cassandra.dht.Murmur3Partitioner
        endpoint_snitch: SimpleSnitch
        seed_provider:
          - class_name: org.apache.cassandra.locator.SimpleSeedProvider
            parameters:
              - seeds: "127.0.0.1:%2$d"
        listen_address: 127.0.0.1
        rpc_address: 127.0.0.1
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
        """.formatted(settings.nativePort(), settings.storagePort(), dir.toAbsolutePath());
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
