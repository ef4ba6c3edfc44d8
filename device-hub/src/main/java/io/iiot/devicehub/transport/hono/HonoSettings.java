package io.iiot.devicehub.transport.hono;

import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import io.iiot.devicehub.domain.Device;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code hono.*} keys: where the Hono deployment's Kafka is, which tenants to read, and which tenants register
 * unknown devices on the fly. An empty {@code hono.kafka.bootstrap-servers} turns the connector off.
 */
public record HonoSettings(String bootstrapServers, String groupId, String securityProtocol,
    Optional<String> truststorePem, String saslMechanism, Optional<String> saslUsername, String saslPassword,
    int maxPollRecords, Duration commitInterval, List<String> tenants, Set<String> autoRegisterTenants,
    Optional<String> autoRegisterProfile, int maxQueuedRows, int maxBatchRows) {

  public static HonoSettings from(ServiceConfig config) {
    String servers = config.optional("hono.kafka.bootstrap-servers").orElse("");
    List<String> tenants = config.list("hono.tenants");
    Set<String> autoRegister = Set.copyOf(config.list("hono.auto-register-tenants"));
    for (String t : tenants) {
      checkId("hono.tenants", t);
    }
    Optional<String> profile = config.optional("hono.auto-register-profile");
    if (!autoRegister.isEmpty() && profile.isEmpty()) {
      throw new ConfigException("Invalid configuration: hono.auto-register-tenants is set, so"
          + " hono.auto-register-profile must name the device profile new devices get");
    }
    if (!tenants.containsAll(autoRegister)) {
      throw new ConfigException("Invalid configuration: hono.auto-register-tenants " + autoRegister
          + " must be among hono.tenants " + tenants);
    }
    if (!servers.isEmpty() && tenants.isEmpty()) {
      throw new ConfigException("Invalid configuration: hono.kafka.bootstrap-servers is set but hono.tenants is empty");
    }
    String protocol = config.oneOf("hono.kafka.security-protocol", "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL");
    String mechanism = config.oneOf("hono.kafka.sasl-mechanism", "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512");
    Optional<String> user = config.optional("hono.kafka.sasl-username");
    if (protocol.startsWith("SASL") && user.isEmpty()) {
      throw new ConfigException("Invalid configuration: hono.kafka.security-protocol " + protocol
          + " needs hono.kafka.sasl-username and hono.kafka.sasl-password");
    }
    Duration commit = config.duration("hono.kafka.commit-interval");
    if (commit.toMillis() < 100 || commit.toMinutes() > 10) {
      throw new ConfigException("Invalid configuration: hono.kafka.commit-interval must be 100ms to 10m");
    }
    return new HonoSettings(servers, config.string("hono.kafka.group-id").trim(), protocol,
        config.optional("hono.kafka.ssl-truststore-pem"), mechanism, user, config.string("hono.kafka.sasl-password"),
        config.integer("hono.kafka.max-poll-records", 1, 100_000), commit, tenants, autoRegister, profile,
        config.integer("hono.max-queued-rows", 100, 10_000_000), config.integer("hono.max-batch-rows", 1, 1000));
  }

  public boolean enabled() {
    return !bootstrapServers.isEmpty();
  }

  /** Connection and security settings every Kafka client of the connector shares. */
  public Map<String, String> commonClientConfig() {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", bootstrapServers);
    c.put("security.protocol", securityProtocol);
    truststorePem.ifPresent(path -> {
      c.put("ssl.truststore.type", "PEM");
      c.put("ssl.truststore.location", path);
    });
    if (securityProtocol.startsWith("SASL")) {
      c.put("sasl.mechanism", saslMechanism);
      String module = saslMechanism.equals("PLAIN")
          ? "org.apache.kafka.common.security.plain.PlainLoginModule"
          : "org.apache.kafka.common.security.scram.ScramLoginModule";
      c.put("sasl.jaas.config", module + " required username=\"" + jaasEscape(saslUsername.orElseThrow())
          + "\" password=\"" + jaasEscape(saslPassword) + "\";");
    }
    return c;
  }

  private static String jaasEscape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }

  private static void checkId(String key, String id) {
    try {
      Device.checkId("tenant id", id);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("Invalid configuration: " + key + ": " + e.getMessage());
    }
  }
}
