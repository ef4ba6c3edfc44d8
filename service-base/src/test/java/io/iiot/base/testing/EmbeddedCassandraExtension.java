package io.iiot.base.testing;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import io.iiot.base.cassandra.CassandraConnector;
import io.iiot.base.cassandra.SchemaMigrator;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.launch.Workspace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A real Cassandra node for tests: one per test JVM, started on first use on free loopback ports with a fresh data
 * directory under {@code target/}, stopped when the JVM ends. Never a fake.
 *
 * <pre>
 * &#64;ExtendWith(EmbeddedCassandraExtension.class)
 * class TelemetryWriterTest {
 *   CqlSession session = EmbeddedCassandraExtension.session("iiot_device_test", "db/devicehub");
 * </pre>
 */
public final class EmbeddedCassandraExtension implements BeforeAllCallback {
  private static EmbeddedCassandra node;

  @Override
  public void beforeAll(ExtensionContext context) {
    node();
  }

  /** The shared node, started if needed. */
  public static synchronized EmbeddedCassandra node() {
    if (node == null) {
      try {
        Path dir = Path.of("target", "cassandra-test").toAbsolutePath();
        deleteTree(dir);
        // deleted above and killed at exit: schema changes need not be flushed (every test keyspace is migrated)
        EmbeddedCassandra started = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir, freePort(), freePort()))
            .withUnflushedSchemaChanges();
        started.start();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
          try {
            started.kill();
          } catch (InterruptedException ignored) {
            // exiting anyway
          }
        }));
        node = started;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    return node;
  }

  /** "127.0.0.1:port" of the shared node, for CASSANDRA_CONTACT_POINTS. */
  public static String contactPoint() {
    return "127.0.0.1:" + node().settings().nativePort();
  }

  /** A new session (close it) without keyspace. */
  public static CqlSession session() {
    return builder().build();
  }

  /**
   * A session builder for the shared node, with a 10 s request timeout: DDL on a busy 2-core machine can take longer
   * than the driver's 2 s default.
   */
  public static CqlSessionBuilder builder() {
    return CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", node().settings().nativePort()))
        .withLocalDatacenter("datacenter1")
        .withConfigLoader(DriverConfigLoader.programmaticBuilder()
            // as the services' sessions (see CassandraConnector.PROTOCOL_VERSION)
            .withString(DefaultDriverOption.PROTOCOL_VERSION, CassandraConnector.PROTOCOL_VERSION)
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(10)).build());
  }

  /**
   * A new session (close it) on {@code keyspace}, with the migrations of {@code migrationsDir} (e.g.
   * {@code db/devicehub}) applied to it.
   */
  public static CqlSession session(String keyspace, String migrationsDir) {
    try (CqlSession bootstrap = session()) {
      new SchemaMigrator(bootstrap, keyspace, "{'class': 'SimpleStrategy', 'replication_factor': 1}", migrationsDir)
          .migrate();
    }
    // as the services' sessions: bound to the keyspace when built, never switched with USE at runtime
    return builder().withKeyspace(keyspace).build();
  }

  /** A port free on loopback now. */
  public static int freePort() {
    return Workspace.freePort();
  }

  public static void deleteTree(Path dir) throws IOException {
    Workspace.deleteTree(dir);
  }
}
