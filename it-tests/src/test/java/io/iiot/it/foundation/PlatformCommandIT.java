package io.iiot.it.foundation;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.support.Http;
import io.iiot.it.support.PlatformProcess;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The README's run command, started as a newcomer would (minus the build, which Maven already did): everything gets
 * ready, answers on the documented ports, and nothing survives SIGTERM or kill -9 of the command.
 */
class PlatformCommandIT {
  private static final Map<String, String> ENV = Map.of(
      "CASSANDRA_EMBEDDED_DATA_DIR", Path.of("target", "platform-it-data").toAbsolutePath().toString());
  private PlatformProcess platform;

  @AfterEach
  void leaveNothingRunning() {
    if (platform != null) {
      platform.killAll();
    }
  }

  @Test
  void runCommandGetsEverythingReadyAndSigtermStopsAllOfIt() throws Exception {
    platform = PlatformProcess.start(ENV);
    Duration ready = platform.awaitReady(Duration.ofSeconds(120));
    System.out.println("platform ready in " + ready.toMillis() + " ms");

    try (CqlSession cql = CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", 9042))
        .withLocalDatacenter("datacenter1").build()) {
      List<String> keyspaces = cql.execute("SELECT keyspace_name FROM system_schema.keyspaces").all().stream()
          .map(r -> r.getString(0)).toList();
      assertThat(keyspaces).contains("iiot_resolver", "iiot_device", "iiot_platform");
      Row migration = cql.execute("SELECT name FROM iiot_device.schema_migrations WHERE version = 1").one();
      assertThat(migration).isNotNull();
      assertThat(migration.getString("name")).isEqualTo("init");
    }
    for (int port : PlatformProcess.READY_PORTS) {
      assertThat(Http.status("http://127.0.0.1:" + port + "/health/live")).isEqualTo(200);
      assertThat(Http.get("http://127.0.0.1:" + port + "/metrics").body()).contains("jvm_memory_used_bytes");
    }
    assertThat(platform.output()).contains("IIoT platform ready", "127.0.0.1:9042", "127.0.0.1:50051",
        "127.0.0.1:8000", "127.0.0.1:8081", "127.0.0.1:8082");

    List<ProcessHandle> tree = platform.tree();
    assertThat(tree).hasSizeGreaterThanOrEqualTo(5); // launcher, Cassandra, three services
    long t0 = System.nanoTime();
    platform.process().destroy(); // SIGTERM
    List<ProcessHandle> left = PlatformProcess.awaitGone(tree, Duration.ofSeconds(20));
    assertThat(left).as("processes left 20 s after SIGTERM").isEmpty();
    System.out.println("stopped in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    assertThat(platform.output()).contains("Embedded Cassandra stopped").doesNotContain("Exception in thread");
  }

  @Test
  void withContactPointsSetNothingIsLaunchedAndTheServicesUseThatCluster() throws Exception {
    Path dir = Path.of("target", "external-it").toAbsolutePath();
    EmbeddedCassandraExtension.deleteTree(dir);
    EmbeddedCassandra external = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir,
        EmbeddedCassandraExtension.freePort(), EmbeddedCassandraExtension.freePort()));
    external.start();
    try {
      platform = PlatformProcess.start(Map.of("CASSANDRA_CONTACT_POINTS",
          "127.0.0.1:" + external.settings().nativePort()));
      platform.awaitReady(Duration.ofSeconds(180));
      assertThat(platform.tree().stream().map(h -> h.info().commandLine().orElse("")))
          .noneMatch(c -> c.contains("-Dcassandra.config="));
      assertThat(platform.output()).contains("Using the external Cassandra cluster at 127.0.0.1:"
          + external.settings().nativePort());
      try (CqlSession cql = CqlSession.builder()
          .addContactPoint(new InetSocketAddress("127.0.0.1", external.settings().nativePort()))
          .withLocalDatacenter("datacenter1").build()) {
        assertThat(cql.execute("SELECT keyspace_name FROM system_schema.keyspaces").all().stream()
            .map(r -> r.getString(0)).toList()).contains("iiot_resolver", "iiot_device", "iiot_platform");
      }
      List<ProcessHandle> tree = platform.tree();
      platform.process().destroy();
      assertThat(PlatformProcess.awaitGone(tree, Duration.ofSeconds(30))).isEmpty();
      assertThat(external.isRunning()).as("an external cluster is not ours to stop").isTrue();
    } finally {
      external.stop();
    }
  }

  @Test
  void killMinus9OfTheLauncherLeavesNoCassandraAndNoServiceBehind() throws Exception {
    platform = PlatformProcess.start(ENV);
    platform.awaitReady(Duration.ofSeconds(180));
    List<ProcessHandle> children = platform.tree().subList(1, platform.tree().size());
    assertThat(children.stream().map(h -> h.info().commandLine().orElse("")))
        .anyMatch(c -> c.contains("-Dcassandra.config=")); // /proc truncates the long command line

    platform.process().destroyForcibly(); // kill -9: no shutdown hook runs in the launcher
    List<ProcessHandle> left = PlatformProcess.awaitGone(children, Duration.ofSeconds(30));
    assertThat(left).as("orphans after kill -9 of the launcher").isEmpty();
  }
}
