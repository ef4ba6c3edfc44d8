package io.iiot.it.foundation;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.support.Http;
import io.iiot.it.support.ServiceProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each deployable as a real process: env overrides, readiness that follows Cassandra, clear config errors. */
class ServiceLifecycleIT {

  @Test
  void readinessFollowsCassandraAndEnvironmentOverridesTheYaml() throws Exception {
    Path dir = Path.of("target", "readiness-it").toAbsolutePath();
    EmbeddedCassandraExtension.deleteTree(dir);
    EmbeddedCassandra node = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir,
        EmbeddedCassandraExtension.freePort(), EmbeddedCassandraExtension.freePort()));
    node.start();
    Map<String, String> env = new HashMap<>(ServiceProcess.freePorts("resolver-node"));
    env.put("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + node.settings().nativePort());
    try (ServiceProcess service = ServiceProcess.start("resolver-node", env)) {
      int port = service.port("resolver-node", "http.port");
      assertThat(port).isNotEqualTo(8000); // the env variable, not the YAML default
      String ready = "http://127.0.0.1:" + port + "/health/ready";
      awaitReady(service, ready, 200, Duration.ofSeconds(120));

      node.stop();
      awaitReady(service, ready, 503, Duration.ofSeconds(60));
      assertThat(Http.get(ready).body()).contains("cassandra").contains("DOWN");
      assertThat(Http.status("http://127.0.0.1:" + port + "/health/live")).isEqualTo(200);

      node.start();
      awaitReady(service, ready, 200, Duration.ofSeconds(120));

      service.jvm().process().destroy();
      assertThat(service.jvm().process().waitFor(20, TimeUnit.SECONDS)).as("stopped within 20 s of SIGTERM").isTrue();
      assertThat(service.output()).contains("resolver-node stopped").doesNotContain("Exception in thread");
    } finally {
      node.stop();
    }
  }

  private static void awaitReady(ServiceProcess service, String url, int status, Duration timeout) throws Exception {
    try {
      Http.await(url, s -> s == status, timeout);
    } catch (AssertionError e) {
      throw new AssertionError(e.getMessage() + "\nservice output:\n" + service.output(), e);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"resolver-node", "device-hub", "platform-api"})
  void badConfigValueStopsTheServiceWithOneClearLine(String service) throws Exception {
    assertRefused(service, Map.of("HTTP_PORT", "eighty"),
        service + ": Invalid configuration: http.port = 'eighty' (from environment variable HTTP_PORT): "
            + "expected an integer from 1 to 65535");
    String scoped = service.toUpperCase().replace('-', '_') + "_CASSANDRA_REPLICATION";
    assertRefused(service, Map.of(scoped, "EverywhereStrategy:3"),
        service + ": Invalid configuration: cassandra.replication = 'EverywhereStrategy:3'");
  }

  private static void assertRefused(String service, Map<String, String> env, String expected) throws Exception {
    try (ServiceProcess p = ServiceProcess.start(service, env)) {
      assertThat(p.jvm().process().waitFor(30, TimeUnit.SECONDS)).as(service + " exits").isTrue();
      assertThat(p.jvm().process().exitValue()).isEqualTo(2);
      assertThat(p.output()).contains(expected).doesNotContain("Exception").doesNotContain("\tat ");
    }
  }
}
