package io.iiot.devicehub.command;

import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.storage.DeviceConnections;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Devices that can take commands on this replica, and their entries in the connection registry. Every attached
 * device's entry is rewritten every {@code refresh} with a TTL of {@code ttl}, so entries of a replica that died
 * expire. Thread-safe.
 */
public final class LocalDevices {
  private static final Logger LOG = LoggerFactory.getLogger(LocalDevices.class);
  private static final int REFRESH_CONCURRENCY = 32;

  private final DeviceConnections connections;
  private final ReplicaIdentity self;
  private final Duration ttl;
  private final Clock clock;
  private final Map<DeviceRef, Deque<DeviceChannel>> channels = new ConcurrentHashMap<>();

  public LocalDevices(DeviceConnections connections, ReplicaIdentity self, Duration ttl, Clock clock) {
    this.connections = connections;
    this.self = self;
    this.ttl = ttl;
    this.clock = clock;
  }

  public DeviceConnections connections() {
    return connections;
  }

  public ReplicaIdentity self() {
    return self;
  }

  /** Attaches a channel; completes once the registry says the device is here (fails if Cassandra did not answer). */
  public CompletionStage<Void> attach(DeviceRef device, DeviceChannel channel) {
    channels.computeIfAbsent(device, d -> new ConcurrentLinkedDeque<>()).addLast(channel);
    return connections.put(device, entry(channel), clock.instant(), ttl);
  }

  /** Detaches a channel; the registry entry goes when the device's last channel here went. */
  public void detach(DeviceRef device, DeviceChannel channel) {
    boolean[] last = {false};
    channels.computeIfPresent(device, (d, q) -> {
      q.remove(channel);
      last[0] = q.isEmpty();
      return q.isEmpty() ? null : q;
    });
    if (last[0]) {
      connections.remove(device, self.id()).whenComplete((applied, err) -> {
        if (err != null) {
          LOG.debug("connection entry of {} not removed (it expires): {}", device, err.toString());
        }
      });
    }
  }

  /** The most recently attached channel of the device, or null. */
  public DeviceChannel channel(DeviceRef device) {
    Deque<DeviceChannel> q = channels.get(device);
    return q == null ? null : q.peekLast();
  }

  public int size() {
    return channels.size();
  }

  /** Rewrites every attached device's entry (bounded concurrency); completes when all writes did. */
  public CompletionStage<Void> refresh() {
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    Semaphore permits = new Semaphore(REFRESH_CONCURRENCY);
    for (Map.Entry<DeviceRef, Deque<DeviceChannel>> e : channels.entrySet()) {
      DeviceChannel ch = e.getValue().peekLast();
      if (ch == null) {
        continue;
      }
      // Runs on a timer thread of its own: waiting for a permit here blocks no event loop.
      permits.acquireUninterruptibly();
      writes.add(connections.put(e.getKey(), entry(ch), clock.instant(), ttl).toCompletableFuture()
          .whenComplete((v, err) -> permits.release()));
    }
    return CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new));
  }

  private DeviceConnections.Entry entry(DeviceChannel ch) {
    return new DeviceConnections.Entry(self.id(), self.grpcAddress(), ch.transport());
  }
}
