package io.iiot.resolver.hierarchy;

import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import java.time.Duration;
import java.util.Optional;

/**
 * The {@code node.*} and {@code hierarchy.*} keys of resolver-node.yaml, validated.
 *
 * @param upstream host and port of the upstream node's Handle interface, if any
 */
public record HierarchySettings(NodeRole role, Optional<HostPort> upstream, boolean recursionEnabled,
    int maxDepth, Duration requestTimeout, int maxInFlight, int cacheSize, Duration cacheMaxAge,
    Duration negativeTtl, Duration upstreamSiteRefresh, Duration prefixCacheMaxAge) {

  /** A {@code host:port} pair. */
  public record HostPort(String host, int port) {
    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  public static HierarchySettings from(ServiceConfig c) {
    NodeRole role;
    try {
      role = NodeRole.parse(c.string("node.role"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("Invalid configuration: node.role = '" + c.string("node.role")
          + "': expected secondary, top-level or enterprise");
    }
    Optional<HostPort> upstream = c.optional("node.upstream.handle-address").map(HierarchySettings::hostPort);
    return new HierarchySettings(role, upstream, c.bool("hierarchy.recursion.enabled"),
        c.integer("hierarchy.recursion.max-depth", 1, 10), c.duration("hierarchy.recursion.timeout"),
        c.integer("hierarchy.recursion.max-in-flight", 1, 1_000_000), c.integer("hierarchy.cache.size", 0, 10_000_000),
        c.duration("hierarchy.cache.max-age"), c.duration("hierarchy.cache.negative-ttl"),
        c.duration("hierarchy.upstream-site-refresh"), c.duration("hierarchy.prefix-cache-max-age"));
  }

  static HostPort hostPort(String s) {
    int colon = s.lastIndexOf(':');
    try {
      if (colon > 0) {
        int port = Integer.parseInt(s.substring(colon + 1).trim());
        if (port >= 1 && port <= 65535) {
          return new HostPort(s.substring(0, colon).trim(), port);
        }
      }
    } catch (NumberFormatException e) {
      // falls through
    }
    throw new ConfigException("Invalid configuration: node.upstream.handle-address = '" + s
        + "': expected host:port of the upstream node's Handle interface");
  }
}
