package io.iiot.devicehub.command;

import io.iiot.base.config.ServiceConfig;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.devicehub.ingest.RegistryCache;
import io.iiot.devicehub.storage.CommandStore;
import io.iiot.devicehub.storage.DeviceConnections;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code replica.*} and {@code commands.*} keys, and the command router built from them.
 *
 * @param replica this replica's id ({@code replica.id}, generated when empty) and the gRPC address other replicas
 *     relay commands to ({@code replica.advertised-grpc-address}, default {@code 127.0.0.1:<grpc.port>})
 * @param retention how long commands and responses are kept
 * @param presenceTtl lifetime of a connection registry entry; {@code presenceRefresh} how often entries are rewritten
 */
public record CommandSettings(ReplicaIdentity replica, Duration retention, Duration presenceTtl,
    Duration presenceRefresh) {
  private static final Logger LOG = LoggerFactory.getLogger(CommandSettings.class);

  public static CommandSettings from(ServiceConfig config) {
    String id = config.optional("replica.id").orElse(UUID.randomUUID().toString());
    String address = config.optional("replica.advertised-grpc-address")
        .orElse("127.0.0.1:" + config.port("grpc.port"));
    if (!address.matches("[^:/\\s]+:\\d{1,5}")) {
      throw new io.iiot.base.config.ConfigException("Invalid configuration: replica.advertised-grpc-address ("
          + address + ") must be host:port");
    }
    Duration retention = config.duration("commands.retention");
    Duration ttl = config.duration("commands.presence-ttl");
    Duration refresh = config.duration("commands.presence-refresh");
    if (retention.compareTo(Duration.ofHours(1)) < 0 || refresh.isZero() || refresh.isNegative()
        || ttl.compareTo(refresh.multipliedBy(2)) < 0) {
      throw new io.iiot.base.config.ConfigException("Invalid configuration: commands.retention must be at least 1h"
          + " and commands.presence-ttl at least twice commands.presence-refresh (> 0)");
    }
    return new CommandSettings(new ReplicaIdentity(id, address), retention, ttl, refresh);
  }

  /** One daemon thread for command expiry, CoAP ttd timers and registry refreshes (all short, non-blocking). */
  public static ScheduledExecutorService timers() {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "device-hub-command-timers");
      t.setDaemon(true);
      return t;
    });
  }

  public CommandRouter router(ServiceContext context, String keyspace, RegistryCache cache, ReplicaRelay relay,
      ScheduledExecutorService timers) {
    LocalDevices local = new LocalDevices(new DeviceConnections(context.session(), keyspace), replica, presenceTtl,
        Clock.systemUTC());
    LOG.info("device-hub replica {} relays commands at {}", replica.id(), replica.grpcAddress());
    return new CommandRouter(new CommandStore(context.session(), keyspace, retention), local, cache, () -> relay,
        timers, Clock.systemUTC(), context.registry());
  }

  /** Rewrites this replica's connection registry entries every {@code presenceRefresh}. */
  public void startRefresh(CommandRouter router, ScheduledExecutorService timers) {
    long ms = presenceRefresh.toMillis();
    // The refresh itself runs on a pool thread of its own: it waits for write permits, which must not hold the timer.
    ScheduledExecutorService refresher = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "device-hub-connection-refresh");
      t.setDaemon(true);
      return t;
    });
    timers.scheduleAtFixedRate(() -> refresher.execute(() -> router.local().refresh().whenComplete((v, err) -> {
      if (err != null) {
        LOG.warn("connection registry refresh failed (entries expire after {}): {}", presenceTtl, err.toString());
      }
    })), ms, ms, TimeUnit.MILLISECONDS);
  }
}
