package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.iiot.devicehub.domain.DeviceRef;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The connection registry ({@code device_connections}, V004): which replica (id and internal gRPC address) a device
 * that can take commands is connected to. Entries expire unless their replica rewrites them.
 */
public final class DeviceConnections {
  /** A device's entry. */
  public record Entry(String replicaId, String grpcAddress, String transport) {}

  private final CqlSession session;
  private final PreparedStatement upsert;
  private final PreparedStatement select;
  private final PreparedStatement deleteIfOwner;

  public DeviceConnections(CqlSession session, String keyspace) {
    this.session = session;
    String t = keyspace + ".device_connections";
    upsert = session.prepare("INSERT INTO " + t + " (tenant, device_id, replica_id, grpc_address, transport,"
        + " connected_at) VALUES (?, ?, ?, ?, ?, ?) USING TTL ?");
    select = session.prepare("SELECT replica_id, grpc_address, transport FROM " + t
        + " WHERE tenant = ? AND device_id = ?");
    deleteIfOwner = session.prepare("DELETE FROM " + t + " WHERE tenant = ? AND device_id = ? IF replica_id = ?");
  }

  public CompletionStage<Void> put(DeviceRef device, Entry entry, Instant connectedAt, Duration ttl) {
    return session.executeAsync(upsert.bind(device.tenant(), device.deviceId(), entry.replicaId(),
        entry.grpcAddress(), entry.transport(), connectedAt, (int) Math.max(1, ttl.toSeconds())))
        .thenApply(rs -> null);
  }

  public CompletionStage<Optional<Entry>> get(DeviceRef device) {
    return session.executeAsync(select.bind(device.tenant(), device.deviceId()))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(r -> new Entry(r.getString("replica_id"),
            r.getString("grpc_address"), r.getString("transport"))));
  }

  /** Removes the entry only if it is still {@code replicaId}'s: the device may have moved to another replica. */
  public CompletionStage<Boolean> remove(DeviceRef device, String replicaId) {
    return session.executeAsync(deleteIfOwner.bind(device.tenant(), device.deviceId(), replicaId))
        .thenApply(AsyncResultSet::wasApplied);
  }
}
