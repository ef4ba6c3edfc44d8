package io.iiot.base.cassandra;

import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Where a service's Cassandra is and how its keyspace is replicated, read from the {@code cassandra.*} keys.
 *
 * @param replication CQL replication map, e.g. {@code {'class': 'SimpleStrategy', 'replication_factor': 1}}
 */
public record CassandraSettings(
    List<InetSocketAddress> contactPoints,
    String localDatacenter,
    String keyspace,
    String replication,
    String consistency,
    Duration requestTimeout,
    int maxConcurrentRequests,
    Optional<String> username,
    Optional<String> password) {

  /** Reads and validates the {@code cassandra.*} keys. */
  public static CassandraSettings from(ServiceConfig config) {
    List<InetSocketAddress> points = new ArrayList<>();
    for (String p : config.list("cassandra.contact-points")) {
      points.add(parseHostPort("cassandra.contact-points", p));
    }
    if (points.isEmpty()) {
      throw new ConfigException("Invalid configuration: cassandra.contact-points is empty: expected host:port[,host:port...]");
    }
    String keyspace = config.string("cassandra.keyspace");
    if (!keyspace.matches("[a-z][a-z0-9_]{0,47}")) {
      throw new ConfigException("Invalid configuration: cassandra.keyspace = '" + keyspace
          + "': expected a lower-case CQL identifier (letters, digits, _; at most 48)");
    }
    return new CassandraSettings(
        List.copyOf(points),
        config.string("cassandra.local-datacenter"),
        keyspace,
        replicationCql(config.string("cassandra.replication")),
        config.oneOf("cassandra.consistency", "ONE", "LOCAL_ONE", "LOCAL_QUORUM", "QUORUM"),
        config.duration("cassandra.request-timeout"),
        config.integer("cassandra.max-concurrent-requests", 1, 65536),
        config.optional("cassandra.username"),
        config.optional("cassandra.password"));
  }

  /** {@code host:port}; the port defaults to 9042. */
  public static InetSocketAddress parseHostPort(String key, String value) {
    String v = value.trim();
    int colon = v.lastIndexOf(':');
    String host = colon < 0 ? v : v.substring(0, colon);
    int port = 9042;
    if (colon >= 0) {
      try {
        port = Integer.parseInt(v.substring(colon + 1));
      } catch (NumberFormatException e) {
        port = -1;
      }
    }
    if (host.isBlank() || port < 1 || port > 65535) {
      throw new ConfigException("Invalid configuration: " + key + " item '" + value + "': expected host:port");
    }
    return InetSocketAddress.createUnresolved(host, port);
  }

  /**
   * Turns {@code SimpleStrategy:1} or {@code NetworkTopologyStrategy:dc1=3,dc2=3} into a CQL replication map.
   */
  static String replicationCql(String spec) {
    String s = spec.trim();
    String error = "Invalid configuration: cassandra.replication = '" + spec
        + "': expected SimpleStrategy:<rf> or NetworkTopologyStrategy:<dc>=<rf>[,<dc>=<rf>...]";
    int colon = s.indexOf(':');
    if (colon < 0) {
      throw new ConfigException(error);
    }
    String strategy = s.substring(0, colon);
    String rest = s.substring(colon + 1);
    try {
      if (strategy.equals("SimpleStrategy")) {
        int rf = Integer.parseInt(rest.trim());
        if (rf < 1) {
          throw new ConfigException(error);
        }
        return "{'class': 'SimpleStrategy', 'replication_factor': " + rf + "}";
      }
      if (strategy.equals("NetworkTopologyStrategy")) {
        Map<String, Integer> dcs = new LinkedHashMap<>();
        for (String item : rest.split(",")) {
          String[] kv = item.split("=");
          if (kv.length != 2 || !kv[0].trim().matches("[A-Za-z0-9_.-]+")) {
            throw new ConfigException(error);
          }
          int rf = Integer.parseInt(kv[1].trim());
          if (rf < 1) {
            throw new ConfigException(error);
          }
          dcs.put(kv[0].trim(), rf);
        }
        StringBuilder cql = new StringBuilder("{'class': 'NetworkTopologyStrategy'");
        dcs.forEach((dc, rf) -> cql.append(", '").append(dc).append("': ").append(rf));
        return cql.append('}').toString();
      }
    } catch (NumberFormatException e) {
      throw new ConfigException(error);
    }
    throw new ConfigException(error);
  }
}
