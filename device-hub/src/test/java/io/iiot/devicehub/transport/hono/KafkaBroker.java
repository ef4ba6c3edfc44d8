package io.iiot.devicehub.transport.hono;

import io.iiot.base.launch.ChildJvm;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.launch.Workspace;
import io.iiot.base.tls.SelfSignedTls;
import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A real single-node Apache Kafka 4.2 broker (KRaft: broker and controller in one process) run as a child JVM on
 * 127.0.0.1 with free ports and a fresh log directory, on the classpath the {@code kafka-broker} module resolved
 * ({@code kafka-broker/target/kafka.classpath}), so Scala, the broker's kafka-clients and Jackson 2.19 never meet
 * device-hub's classpath.
 *
 * <p>Besides PLAINTEXT it listens with the securities a Hono deployment's Kafka uses: SASL_PLAINTEXT and SASL_SSL with
 * the mechanisms PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (one user for all three: {@value #SASL_USER}, password
 * {@value #SASL_PASSWORD}; the SCRAM credentials are formatted into the KRaft metadata) and SSL, both TLS listeners with a
 * self-signed certificate for 127.0.0.1 made by the JDK's keytool ({@link #caPem()} is what clients trust).
 *
 * <p>One broker per test JVM ({@link #shared()}), stopped by a shutdown hook; the broker also ends itself when this JVM
 * dies ({@code KafkaBrokerMain}'s watchdog).
 */
public final class KafkaBroker implements AutoCloseable {
  public static final String SASL_USER = "device-hub";
  public static final String SASL_PASSWORD = "hono-kafka-secret";
  /** The broker side of SCRAM needs no user list: the credentials are in the cluster metadata (formatted in). */
  private static final String SCRAM_SERVER = "org.apache.kafka.common.security.scram.ScramLoginModule required;";
  private static KafkaBroker shared;

  private final Path dir;
  private final Ports ports;
  private final Path caPem;
  private final ChildJvm jvm;

  /** The listeners' ports. */
  private record Ports(int plaintext, int controller, int saslPlaintext, int ssl, int saslSsl) {}

  private KafkaBroker(Path dir, Ports ports, Path caPem, ChildJvm jvm) {
    this.dir = dir;
    this.ports = ports;
    this.caPem = caPem;
    this.jvm = jvm;
  }

  /** The broker of this test JVM, started on first use. */
  public static synchronized KafkaBroker shared() {
    if (shared == null) {
      try {
        shared = start(Files.createTempDirectory("iiot-kafka-"));
      } catch (IOException e) {
        throw new IllegalStateException("cannot start the test Kafka broker: " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      KafkaBroker b = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(b::close, "kafka-broker-stop"));
    }
    return shared;
  }

  /** Formats {@code dir} as a KRaft log directory and starts the broker; blocks until it accepts connections. */
  public static KafkaBroker start(Path dir) throws IOException, InterruptedException {
    Path moduleDir = locateModuleDir();
    Path cpFile = moduleDir.resolve("target/kafka.classpath");
    if (!Files.isRegularFile(cpFile)) {
      throw new IllegalStateException(cpFile + " is missing; build it first: mvn -B -q -pl kafka-broker package");
    }
    List<Path> classpath = new ArrayList<>();
    classpath.add(moduleDir.resolve("target/classes"));
    for (String entry : Files.readString(cpFile).trim().split(File.pathSeparator)) {
      classpath.add(Path.of(entry));
    }
    Ports ports = new Ports(Workspace.freePort(), Workspace.freePort(), Workspace.freePort(), Workspace.freePort(),
        Workspace.freePort());
    SelfSignedTls tls = SelfSignedTls.generate("kafka-broker");
    Path props = dir.resolve("server.properties");
    Files.writeString(props, properties(dir.resolve("logs"), ports, tls), StandardCharsets.UTF_8);
    Path java = EmbeddedCassandra.locateJava17();
    Path log = dir.resolve("broker.log");

    // KRaft refuses to start on an unformatted log directory; the format tool is a short-lived JVM of its own because
    // it ends with System.exit.
    ChildJvm format = ChildJvm.start("kafka-format", List.of(), java, List.of("-Xmx256m"), classpath,
        "kafka.tools.StorageTool",
        // "--cluster-id=" form: a random id may start with "-", which the tool would take for an option.
        List.of("format", "--cluster-id=" + clusterId(), "-c", props.toString(),
            // SCRAM credentials live in KRaft's metadata log; the format tool writes the first ones.
            "--add-scram", "SCRAM-SHA-256=[name=" + SASL_USER + ",password=" + SASL_PASSWORD + "]",
            "--add-scram", "SCRAM-SHA-512=[name=" + SASL_USER + ",password=" + SASL_PASSWORD + "]"), Map.of(), log);
    if (!format.process().waitFor(60, TimeUnit.SECONDS)) {
      format.kill();
      throw new IllegalStateException("kafka StorageTool format did not finish in 60 s; see " + log);
    }
    if (format.process().exitValue() != 0) {
      throw new IllegalStateException("kafka StorageTool format failed; see " + log);
    }
    ChildJvm jvm = ChildJvm.start("kafka", List.of(), java,
        List.of("-Xmx512m", "-XX:+UseG1GC", "-Djava.net.preferIPv4Stack=true",
            "-Diiot.parent.pid=" + ProcessHandle.current().pid()),
        classpath, "io.iiot.kafka.broker.KafkaBrokerMain", List.of(props.toString()), Map.of(), log);
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    int port = ports.plaintext();
    while (!portOpen(port)) {
      if (!jvm.isAlive()) {
        throw new IllegalStateException("Kafka broker exited with code " + jvm.process().exitValue() + "; see " + log);
      }
      if (System.nanoTime() > deadline) {
        jvm.kill();
        throw new IllegalStateException("Kafka broker not listening on 127.0.0.1:" + port + " after 90 s; see " + log);
      }
      Thread.sleep(100);
    }
    return new KafkaBroker(dir, ports, tls.certPem(), jvm);
  }

  /** {@code host:port} of the PLAINTEXT listener for {@code bootstrap.servers}. */
  public String bootstrapServers() {
    return "127.0.0.1:" + ports.plaintext();
  }

  /** The SASL_PLAINTEXT listener (PLAIN or SCRAM-SHA-256/512: {@value #SASL_USER} / {@value #SASL_PASSWORD}). */
  public String saslPlaintextBootstrapServers() {
    return "127.0.0.1:" + ports.saslPlaintext();
  }

  /** The SSL listener (server authentication only; trust {@link #caPem()}). */
  public String sslBootstrapServers() {
    return "127.0.0.1:" + ports.ssl();
  }

  /** The SASL_SSL listener: TLS as {@link #sslBootstrapServers()}, then PLAIN as {@link #saslPlaintextBootstrapServers()}. */
  public String saslSslBootstrapServers() {
    return "127.0.0.1:" + ports.saslSsl();
  }

  /** PEM file with the TLS listeners' self-signed certificate, for {@code ssl.truststore.location} (type PEM). */
  public Path caPem() {
    return caPem;
  }

  public long pid() {
    return jvm.pid();
  }

  public boolean isRunning() {
    return jvm.isAlive();
  }

  @Override
  public void close() {
    try {
      jvm.stop(Duration.ofSeconds(30));
      Workspace.deleteTree(dir);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // the temp directory stays behind; nothing else to do in a shutdown hook
    }
  }

  private static String properties(Path logDir, Ports p, SelfSignedTls tls) {
    String clientListeners = "PLAINTEXT://127.0.0.1:" + p.plaintext() + ",SASL_PLAINTEXT://127.0.0.1:"
        + p.saslPlaintext() + ",SSL://127.0.0.1:" + p.ssl() + ",SASL_SSL://127.0.0.1:" + p.saslSsl();
    // The broker's own user list for PLAIN (user_<name>="<password>"), on both SASL listeners.
    String plainUsers = "org.apache.kafka.common.security.plain.PlainLoginModule required user_" + SASL_USER + "=\""
        + SASL_PASSWORD + "\";";
    return String.join("\n",
        "process.roles=broker,controller",
        "node.id=1",
        "controller.quorum.voters=1@127.0.0.1:" + p.controller(),
        "listeners=" + clientListeners + ",CONTROLLER://127.0.0.1:" + p.controller(),
        "advertised.listeners=" + clientListeners,
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,"
            + "SASL_SSL:SASL_SSL",
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config=" + plainUsers,
        "listener.name.sasl_ssl.plain.sasl.jaas.config=" + plainUsers,
        "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=" + SCRAM_SERVER,
        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=" + SCRAM_SERVER,
        "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=" + SCRAM_SERVER,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=" + SCRAM_SERVER,
        "ssl.keystore.type=PKCS12",
        "ssl.keystore.location=" + tls.keystore(),
        "ssl.keystore.password=" + tls.password(),
        "ssl.key.password=" + tls.password(),
        "log.dirs=" + logDir,
        "num.partitions=3",
        "offsets.topic.replication.factor=1",
        "offsets.topic.num.partitions=3",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "auto.create.topics.enable=true",
        "");
  }

  /** A KRaft cluster id: 16 random bytes, URL-safe Base64 without padding (what {@code random-uuid} prints). */
  private static String clusterId() {
    UUID u = UUID.randomUUID();
    ByteBuffer b = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  private static boolean portOpen(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 200);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** {@code IIOT_KAFKA_BROKER_DIR}, or the first {@code kafka-broker/} found from the working directory upwards. */
  private static Path locateModuleDir() {
    String configured = System.getenv("IIOT_KAFKA_BROKER_DIR");
    if (configured != null && !configured.isBlank()) {
      return Path.of(configured).toAbsolutePath();
    }
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      Path candidate = p.resolve("kafka-broker");
      if (Files.isRegularFile(candidate.resolve("pom.xml"))) {
        return candidate;
      }
    }
    throw new IllegalStateException("cannot find the kafka-broker module from " + Path.of("").toAbsolutePath()
        + "; set IIOT_KAFKA_BROKER_DIR");
  }
}
