package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.Statement;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.MetricSpec;
import io.iiot.devicehub.domain.MetricType;
import io.iiot.devicehub.domain.Tenant;
import io.iiot.devicehub.domain.TelemetrySchema;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Tenants, device profiles (telemetry schemas), devices and credentials in Cassandra. All methods are asynchronous and
 * never block; stages may complete on driver threads.
 */
public final class DeviceRegistry {
  /** Credential types, as stored. */
  public static final String PASSWORD = "hashed-password";
  public static final String PSK = "psk";
  public static final String X509 = "x509-fingerprint";

  private final CqlSession session;
  private final PreparedStatement insertTenant;
  private final PreparedStatement selectTenant;
  private final PreparedStatement insertMetric;
  private final PreparedStatement selectProfile;
  private final PreparedStatement insertDevice;
  private final PreparedStatement selectDevice;
  private final PreparedStatement insertDeviceIfAbsent;
  private final PreparedStatement selectDevicesAfter;
  private final PreparedStatement selectAuthId;
  private final PreparedStatement insertCredential;
  private final PreparedStatement selectCredential;
  private final PreparedStatement insertFingerprint;
  private final PreparedStatement selectFingerprint;

  public DeviceRegistry(CqlSession session, String keyspace) {
    this.session = session;
    String ks = keyspace + ".";
    insertTenant = session.prepare("INSERT INTO " + ks + "tenants (tenant, enabled, telemetry_ttl_seconds, created_at)"
        + " VALUES (?, ?, ?, ?)");
    selectTenant = session.prepare("SELECT enabled, telemetry_ttl_seconds FROM " + ks + "tenants WHERE tenant = ?");
    insertMetric = session.prepare("INSERT INTO " + ks + "device_profiles (tenant, profile_id, metric, metric_id, type,"
        + " unit, min, max, max_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    selectProfile = session.prepare("SELECT metric, metric_id, type, unit, min, max, max_length FROM " + ks
        + "device_profiles WHERE tenant = ? AND profile_id = ?");
    insertDevice = session.prepare("INSERT INTO " + ks + "devices (tenant, device_id, profile_id, enabled, via,"
        + " created_at) VALUES (?, ?, ?, ?, ?, ?)");
    selectDevice = session.prepare("SELECT profile_id, enabled, via, created_at FROM " + ks
        + "devices WHERE tenant = ? AND device_id = ?");
    insertDeviceIfAbsent = session.prepare("INSERT INTO " + ks + "devices (tenant, device_id, profile_id, enabled, via,"
        + " created_at) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS");
    selectDevicesAfter = session.prepare("SELECT device_id, profile_id, enabled, via, created_at FROM " + ks
        + "devices WHERE tenant = ? AND device_id > ? LIMIT ?");
    selectAuthId = session.prepare("SELECT type FROM " + ks + "credentials WHERE tenant = ? AND auth_id = ? LIMIT 1");
    insertCredential = session.prepare("INSERT INTO " + ks + "credentials (tenant, auth_id, type, device_id, secret, key)"
        + " VALUES (?, ?, ?, ?, ?, ?)");
    selectCredential = session.prepare("SELECT device_id, secret, key FROM " + ks
        + "credentials WHERE tenant = ? AND auth_id = ? AND type = ?");
    insertFingerprint = session.prepare("INSERT INTO " + ks + "x509_fingerprints (fingerprint, tenant, auth_id,"
        + " device_id) VALUES (?, ?, ?, ?)");
    selectFingerprint = session.prepare("SELECT tenant, auth_id, device_id FROM " + ks
        + "x509_fingerprints WHERE fingerprint = ?");
  }

  public CompletionStage<Void> putTenant(Tenant tenant) {
    return exec(insertTenant.bind(tenant.id(), tenant.enabled(), (int) tenant.telemetryTtl().toSeconds(),
        Instant.now()));
  }

  public CompletionStage<Optional<Tenant>> tenant(String id) {
    return session.executeAsync(selectTenant.bind(id)).thenApply(rs -> Optional.ofNullable(rs.one())
        .map(r -> new Tenant(id, r.getBoolean("enabled"), Duration.ofSeconds(r.getInt("telemetry_ttl_seconds")))));
  }

  /** Replaces a profile's schema; the metrics go in one partition, so one (single-partition) batch. */
  public CompletionStage<Void> putProfile(String tenant, String profileId, TelemetrySchema schema) {
    List<BoundStatement> rows = new ArrayList<>();
    for (MetricSpec m : schema.metrics()) {
      rows.add(insertMetric.bind(tenant, profileId, m.name(), m.id(), m.type().name(), m.unit(), m.min(), m.max(),
          m.maxLength()));
    }
    return exec(BatchStatement.newInstance(BatchType.UNLOGGED).addAll(rows));
  }

  public CompletionStage<Optional<TelemetrySchema>> profile(String tenant, String profileId) {
    return session.executeAsync(selectProfile.bind(tenant, profileId)).thenApply(rs -> {
      List<MetricSpec> metrics = new ArrayList<>();
      for (Row r : rs.currentPage()) {
        metrics.add(new MetricSpec(r.getInt("metric_id"), r.getString("metric"), MetricType.valueOf(r.getString("type")),
            r.getString("unit"), r.getDouble("min"), r.getDouble("max"), r.getInt("max_length")));
      }
      return metrics.isEmpty() ? Optional.empty() : Optional.of(new TelemetrySchema(metrics));
    });
  }

  public CompletionStage<Void> putDevice(Device d) {
    return exec(insertDevice.bind(d.tenant(), d.deviceId(), d.profileId(), d.enabled(), d.via(), d.createdAt()));
  }

  public CompletionStage<Optional<Device>> device(String tenant, String deviceId) {
    return session.executeAsync(selectDevice.bind(tenant, deviceId)).thenApply(rs -> Optional.ofNullable(rs.one())
        .map(r -> new Device(tenant, deviceId, r.getString("profile_id"), r.getBoolean("enabled"),
            r.getSet("via", String.class), r.getInstant("created_at"))));
  }

  /**
   * Creates a device unless one with its id exists (a lightweight transaction, so two concurrent creates cannot both
   * win). Completes with whether this call created it.
   */
  public CompletionStage<Boolean> createDevice(Device d) {
    return session.executeAsync(insertDeviceIfAbsent.bind(d.tenant(), d.deviceId(), d.profileId(), d.enabled(),
        d.via(), d.createdAt())).thenApply(rs -> rs.wasApplied());
  }

  /** Up to {@code limit} devices of a tenant with ids after {@code afterId} ("" for the first page), by id. */
  public CompletionStage<List<Device>> devices(String tenant, String afterId, int limit) {
    return session.executeAsync(selectDevicesAfter.bind(tenant, afterId, limit)).thenApply(rs -> {
      List<Device> out = new ArrayList<>();
      for (Row r : rs.currentPage()) {
        out.add(new Device(tenant, r.getString("device_id"), r.getString("profile_id"), r.getBoolean("enabled"),
            r.getSet("via", String.class), r.getInstant("created_at")));
      }
      return out;
    });
  }

  /** Whether any credential uses {@code authId@tenant}. */
  public CompletionStage<Boolean> authIdTaken(String tenant, String authId) {
    return session.executeAsync(selectAuthId.bind(tenant, authId)).thenApply(rs -> rs.one() != null);
  }

  /** Stores a password credential; {@code hash} is a {@code PasswordHasher} string, never the password. */
  public CompletionStage<Void> putPassword(String tenant, String authId, String deviceId, String hash) {
    return exec(insertCredential.bind(tenant, authId, PASSWORD, deviceId, hash, null));
  }

  public CompletionStage<Void> putPsk(String tenant, String authId, String deviceId, byte[] key) {
    return exec(insertCredential.bind(tenant, authId, PSK, deviceId, null, ByteBuffer.wrap(key)));
  }

  /** Stores a client-certificate credential: by auth id, and by fingerprint for the TLS login. */
  public CompletionStage<Void> putCertificate(String tenant, String authId, String deviceId, String fingerprint) {
    return exec(BatchStatement.newInstance(BatchType.LOGGED)
        .add(insertCredential.bind(tenant, authId, X509, deviceId, fingerprint, null))
        .add(insertFingerprint.bind(fingerprint, tenant, authId, deviceId)));
  }

  /** Who a certificate fingerprint belongs to. */
  public record CertificateOwner(String tenant, String authId, String deviceId) {}

  public CompletionStage<Optional<CertificateOwner>> certificateOwner(String fingerprint) {
    return session.executeAsync(selectFingerprint.bind(fingerprint)).thenApply(rs -> Optional.ofNullable(rs.one())
        .map(r -> new CertificateOwner(r.getString("tenant"), r.getString("auth_id"), r.getString("device_id"))));
  }

  /** The credential of {@code authId@tenant} of the given type, if any. */
  public CompletionStage<Optional<Credential>> credential(String tenant, String authId, String type) {
    return session.executeAsync(selectCredential.bind(tenant, authId, type)).thenApply(rs -> Optional.ofNullable(rs.one())
        .map(r -> {
          ByteBuffer key = r.getByteBuffer("key");
          byte[] bytes = null;
          if (key != null) {
            bytes = new byte[key.remaining()];
            key.duplicate().get(bytes);
          }
          return new Credential(r.getString("device_id"), r.getString("secret"), bytes);
        }));
  }

  /** A stored credential: the device it authenticates and its secret (hash) or key. */
  public record Credential(String deviceId, String secret, byte[] key) {}

  private CompletionStage<Void> exec(Statement<?> s) {
    return session.executeAsync(s).thenApply(rs -> (Void) null);
  }
}
