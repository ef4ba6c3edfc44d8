package io.iiot.base.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceConfigTest {

  @Test
  void readsDefaultsFromTheBundledYaml() {
    ServiceConfig c = ServiceConfig.load("test-svc", Map.of());
    assertThat(c.port("http.port")).isEqualTo(8000);
    assertThat(c.list("cassandra.contact-points")).containsExactly("127.0.0.1:9042", "10.0.0.2:9043");
    assertThat(c.duration("cassandra.request-timeout")).isEqualTo(Duration.ofSeconds(5));
    assertThat(c.bool("flag")).isTrue();
  }

  @Test
  void plainEnvironmentVariableOverridesTheYamlKey() {
    ServiceConfig c = ServiceConfig.load("test-svc", Map.of("HTTP_PORT", "9100",
        "CASSANDRA_CONTACT_POINTS", "db1:9042, db2:9042"));
    assertThat(c.port("http.port")).isEqualTo(9100);
    assertThat(c.list("cassandra.contact-points")).containsExactly("db1:9042", "db2:9042");
  }

  @Test
  void serviceScopedVariableWinsOverThePlainOne() {
    ServiceConfig c = ServiceConfig.load("test-svc", Map.of("HTTP_PORT", "9100", "TEST_SVC_HTTP_PORT", "9200"));
    assertThat(c.port("http.port")).isEqualTo(9200);
    assertThat(ServiceConfig.envName("test-svc", "cassandra.contact-points"))
        .isEqualTo("TEST_SVC_CASSANDRA_CONTACT_POINTS");
  }

  @Test
  void badValueNamesKeyValueSourceAndExpectation() {
    ServiceConfig c = ServiceConfig.load("test-svc", Map.of("HTTP_PORT", "eighty"));
    assertThatThrownBy(() -> c.port("http.port"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("Invalid configuration: http.port = 'eighty' (from environment variable HTTP_PORT): "
            + "expected an integer from 1 to 65535");
    ServiceConfig c2 = ServiceConfig.load("test-svc", Map.of("HTTP_PORT", "70000", "FLAG", "yes",
        "CASSANDRA_REQUEST_TIMEOUT", "5 parsecs", "MODE", "slow"));
    assertThatThrownBy(() -> c2.port("http.port")).hasMessageContaining("'70000'");
    assertThatThrownBy(() -> c2.bool("flag")).hasMessageContaining("expected true or false");
    assertThatThrownBy(() -> c2.duration("cassandra.request-timeout")).hasMessageContaining("expected a duration");
    assertThatThrownBy(() -> c2.oneOf("mode", "fast", "safe")).hasMessageContaining("one of [fast, safe]");
  }

  @Test
  void configFileReplacesDefaultsButMayNotInventKeys(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("custom.yaml");
    Files.writeString(file, "http:\n  port: 8100\n");
    ServiceConfig c = ServiceConfig.load("test-svc", Map.of("CONFIG_FILE", file.toString()));
    assertThat(c.port("http.port")).isEqualTo(8100);
    assertThat(c.string("http.host")).isEqualTo("0.0.0.0");

    Files.writeString(file, "http:\n  prot: 8100\n");
    assertThatThrownBy(() -> ServiceConfig.load("test-svc", Map.of("CONFIG_FILE", file.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown key 'http.prot'");

    Files.writeString(file, "http: [unclosed\n");
    assertThatThrownBy(() -> ServiceConfig.load("test-svc", Map.of("CONFIG_FILE", file.toString())))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("is not valid YAML");
  }

  @Test
  void blankOptionalIsEmptyAndListsDropBlankItems() {
    ServiceConfig c = ServiceConfig.load("test-svc", Map.of("MODE", "  ", "CASSANDRA_CONTACT_POINTS", "a:1,,b:2,"));
    assertThat(c.optional("mode")).isEmpty();
    assertThat(c.list("cassandra.contact-points")).isEqualTo(List.of("a:1", "b:2"));
  }
}
