package io.iiot.resolver;

import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** The {@code handle.*} keys of resolver-node.yaml, validated. */
public record HandleSettings(String host, int port, byte[] advertisedAddress, String prefix, Path dataDir,
    Path serverKeyFile, Optional<String> adminSecret, boolean udpAdmin, Duration tcpIdleTimeout,
    Duration challengeTimeout, Duration sessionTimeout, int maxSessions, int maxInFlight, int cacheSize,
    Duration cacheMaxAge, boolean httpInsecureAuth, int udpSockets, int udpReceiveBuffer,
    int tcpEventLoops) {

  public static HandleSettings from(ServiceConfig c) {
    String advertised = c.string("handle.advertised-address").trim();
    byte[] addr;
    try {
      addr = InetAddress.getByName(advertised).getAddress();
    } catch (UnknownHostException e) {
      throw new ConfigException("Invalid configuration: handle.advertised-address = '" + advertised
          + "': expected an IPv4 or IPv6 address");
    }
    String prefix = c.string("handle.prefix").trim();
    if (prefix.isEmpty() || prefix.contains("/") || prefix.startsWith(".") || prefix.endsWith(".")) {
      throw new ConfigException("Invalid configuration: handle.prefix = '" + prefix
          + "': expected a prefix such as 88.101");
    }
    Path dataDir = Path.of(c.string("handle.data-dir").trim());
    Path keyFile = c.optional("handle.server-key-file").map(Path::of).orElse(dataDir.resolve("server-key.pk8"));
    return new HandleSettings(c.string("handle.host").trim(), c.port("handle.port"), addr, prefix, dataDir, keyFile,
        c.optional("handle.admin-secret"), c.bool("handle.udp-admin"), c.duration("handle.tcp-idle-timeout"),
        c.duration("handle.challenge-timeout"), c.duration("handle.session-timeout"),
        c.integer("handle.max-sessions", 1, 10_000_000), c.integer("handle.max-in-flight", 1, 10_000_000),
        c.integer("handle.cache.size", 0, 100_000_000), c.duration("handle.cache.max-age"),
        c.bool("handle.http-insecure-auth"), udpSockets(c.integer("handle.udp-sockets", 0, 256)),
        c.integer("handle.udp-receive-buffer", 0, 1 << 30),
        udpSockets(c.integer("handle.tcp-event-loops", 0, 256)));
  }

  /**
   * 0 = one UDP socket (or TCP event loop) per core, at least 2: one loop stalling must not stall every client.
   */
  private static int udpSockets(int configured) {
    return configured > 0 ? configured : Math.max(2, Runtime.getRuntime().availableProcessors());
  }
}
