package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
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
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
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
  private final PreparedStatement selectDeviceIds;
  private final PreparedStatement insertDeviceCredential;
  private final PreparedStatement selectDeviceCredentials;
  private final PreparedStatement deleteDeviceCredentials;
  private final PreparedStatement deleteCredential;
  private final PreparedStatement deleteFingerprint;
  private final PreparedStatement deleteDevice;

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
    selectDeviceIds = session.prepare("SELECT device_id FROM " + ks + "devices WHERE tenant = ? AND device_id IN ?");
    insertDeviceCredential = session.prepare("INSERT INTO " + ks + "device_credentials (tenant, device_id, auth_id,"
        + " type) VALUES (?, ?, ?, ?)");
    selectDeviceCredentials = session.prepare("SELECT auth_id, type FROM " + ks
        + "device_credentials WHERE tenant = ? AND device_id = ?");
    deleteDeviceCredentials = session.prepare("DELETE FROM " + ks + "device_credentials WHERE tenant = ? AND"
        + " device_id = ?");
    deleteCredential = session.prepare("DELETE FROM " + ks + "credentials WHERE tenant = ? AND auth_id = ? AND type = ?");
    deleteFingerprint = session.prepare("DELETE FROM " + ks + "x509_fingerprints WHERE fingerprint = ?");
    deleteDevice = session.prepare("DELETE FROM " + ks + "devices WHERE tenant = ? AND device_id = ?");
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

  /** Most device ids named in one existence read (one partition, so one replica read per chunk). */
  static final int IDS_PER_READ = 100;
  /**
   * Most devices created by one conditional batch: one Paxos round for all of them (they share the tenant's
   * partition). The tenant's Paxos rounds run one at a time, so fewer and larger ones finish a big batch sooner; what
   * bounds a batch is its size in bytes ({@link #CONDITIONAL_BATCH_BYTES}), this only bounds its row count.
   */
  public static final int DEVICES_PER_CONDITIONAL_BATCH = 250;
  /**
   * Estimated bytes of one conditional batch (an overestimate of what Cassandra counts): under the 40 KiB
   * batch_size_warn_threshold of the platform's nodes and well under Cassandra's default 50 KiB refusal, whatever the
   * lengths of ids, profiles and via lists (up to 128 characters each).
   */
  static final int CONDITIONAL_BATCH_BYTES = 36 * 1024;

  /**
   * Splits devices, in order, into groups for {@link #createDevices}: at most {@value #DEVICES_PER_CONDITIONAL_BATCH}
   * each and at most {@value #CONDITIONAL_BATCH_BYTES} estimated bytes.
   */
  public static List<List<Device>> conditionalBatches(List<Device> devices) {
    List<List<Device>> groups = new ArrayList<>();
    List<Device> group = new ArrayList<>();
    int bytes = 0;
    for (Device d : devices) {
      int size = estimatedBytes(d);
      boolean full = group.size() == DEVICES_PER_CONDITIONAL_BATCH || bytes + size > CONDITIONAL_BATCH_BYTES;
      if (!group.isEmpty() && full) {
        groups.add(group);
        group = new ArrayList<>();
        bytes = 0;
      }
      group.add(d);
      bytes += size;
    }
    if (!group.isEmpty()) {
      groups.add(group);
    }
    return groups;
  }

  /** A row's columns plus per-cell overhead (timestamps, lengths) and the condition's copy of the key. */
  static int estimatedBytes(Device d) {
    int via = 0;
    for (String v : d.via()) {
      via += v.length() + 16;
    }
    return 2 * (d.tenant().length() + d.deviceId().length()) + d.profileId().length() + via + 64;
  }

  /** Which of {@code deviceIds} exist in the tenant: one read per {@value #IDS_PER_READ} ids, all at once. */
  public CompletionStage<Set<String>> existingDevices(String tenant, Collection<String> deviceIds) {
    List<String> ids = new ArrayList<>(deviceIds);
    List<CompletableFuture<Set<String>>> reads = new ArrayList<>();
    for (int from = 0; from < ids.size(); from += IDS_PER_READ) {
      List<String> some = ids.subList(from, Math.min(ids.size(), from + IDS_PER_READ));
      reads.add(session.executeAsync(selectDeviceIds.bind(tenant, List.copyOf(some))).thenApply(rs -> {
        Set<String> found = new HashSet<>();
        for (Row r : rs.currentPage()) {
          found.add(r.getString("device_id"));
        }
        return found;
      }).toCompletableFuture());
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
      Set<String> all = new HashSet<>();
      reads.forEach(r -> all.addAll(r.join()));
      return all;
    });
  }

  /**
   * Creates devices of one tenant (a group of {@link #conditionalBatches}) unless any of them exists, as one
   * conditional batch: all are created or none. Completes with the id of an existing device (nothing created), or
   * empty when all were created.
   */
  public CompletionStage<Optional<String>> createDevices(List<Device> devices) {
    if (devices.isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    if (devices.size() > DEVICES_PER_CONDITIONAL_BATCH
        || devices.stream().anyMatch(d -> !d.tenant().equals(devices.get(0).tenant()))) {
      throw new IllegalArgumentException("1 to " + DEVICES_PER_CONDITIONAL_BATCH + " devices of one tenant");
    }
    if (devices.stream().mapToInt(DeviceRegistry::estimatedBytes).sum() > CONDITIONAL_BATCH_BYTES
        && devices.size() > 1) {
      throw new IllegalArgumentException("more than " + CONDITIONAL_BATCH_BYTES + " bytes: use conditionalBatches");
    }
    if (devices.size() == 1) {
      return createDevice(devices.get(0)).thenApply(created -> created ? Optional.<String>empty()
          : Optional.of(devices.get(0).deviceId()));
    }
    BatchStatementBuilder b = new BatchStatementBuilder(BatchType.LOGGED);
    for (Device d : devices) {
      b.addStatement(insertDeviceIfAbsent.bind(d.tenant(), d.deviceId(), d.profileId(), d.enabled(), d.via(),
          d.createdAt()));
    }
    return createOnce(b.build(), devices, CAS_ATTEMPTS);
  }

  /** Conditional batches sent again after a Paxos timeout (whose outcome is unknown). */
  static final int CAS_ATTEMPTS = 3;

  private CompletionStage<Optional<String>> createOnce(BatchStatement batch, List<Device> devices, int attempts) {
    return session.executeAsync(batch).thenApply(rs -> {
      if (rs.wasApplied()) {
        return Optional.<String>empty();
      }
      // Not applied: the rows returned are the existing ones. If they carry this batch's creation time, they are
      // this batch's own devices, committed by an attempt that timed out (a batch is applied whole or not at all).
      String foreign = null;
      for (Row r : rs.currentPage()) {
        String id = r.getString("device_id");
        Device mine = devices.stream().filter(d -> d.deviceId().equals(id)).findFirst().orElse(null);
        boolean same = mine != null && r.getColumnDefinitions().contains("created_at")
            && mine.createdAt().equals(r.getInstant("created_at"));
        if (id != null && !same) {
          foreign = id;
          break;
        }
      }
      return foreign == null && attempts < CAS_ATTEMPTS ? Optional.<String>empty()
          : Optional.of(foreign != null ? foreign : devices.get(0).deviceId());
    }).exceptionallyCompose(e -> {
      Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null
          ? e.getCause() : e;
      if (attempts > 1 && cause instanceof com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException t
          && t.getWriteType() == com.datastax.oss.driver.api.core.servererrors.WriteType.CAS) {
        return createOnce(batch, devices, attempts - 1);
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  /** A credential to store for a device; {@code secret} is a password hash or a certificate fingerprint. */
  public record NewCredential(String authId, String type, String secret, byte[] key) {}

  /**
   * Stores a device's credentials: which credentials the device has (so a deletion finds them) and the credentials,
   * one single-partition batch per auth id (a password and a PSK may share one), all sent at once (different tables,
   * so different partitions: one request could not hold them without a logged batch). Writes are idempotent; a failure
   * fails the call before its device is created, and a deletion also looks under the device's own id as auth id.
   */
  public CompletionStage<Void> putCredentials(String tenant, String deviceId, List<NewCredential> credentials) {
    if (credentials.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    BatchStatementBuilder index = new BatchStatementBuilder(BatchType.UNLOGGED);
    Map<String, BatchStatementBuilder> byAuthId = new LinkedHashMap<>();
    List<Statement<?>> writes = new ArrayList<>();
    for (NewCredential c : credentials) {
      index.addStatement(insertDeviceCredential.bind(tenant, deviceId, c.authId(), c.type()));
      BoundStatement row = insertCredential.bind(tenant, c.authId(), c.type(), deviceId, c.secret(),
          c.key() == null ? null : ByteBuffer.wrap(c.key()));
      if (X509.equals(c.type())) {
        writes.add(BatchStatement.newInstance(BatchType.LOGGED).add(row)
            .add(insertFingerprint.bind(c.secret(), tenant, c.authId(), deviceId)));
      } else {
        byAuthId.computeIfAbsent(c.authId(), k -> new BatchStatementBuilder(BatchType.UNLOGGED)).addStatement(row);
      }
    }
    writes.add(index.build());
    byAuthId.values().forEach(b -> writes.add(b.build()));
    if (writes.size() == 2) {
      CompletableFuture<Void> first = exec(writes.get(0)).toCompletableFuture();
      CompletableFuture<Void> second = exec(writes.get(1)).toCompletableFuture();
      return first.thenCombine(second, (a, b) -> (Void) null);
    }
    CompletableFuture<?>[] sent = writes.stream().map(w -> exec(w).toCompletableFuture())
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(sent);
  }

  /**
   * Deletes a device and the credentials that authenticate it (those recorded for it, and any under its own id as
   * auth id that point at it, which covers devices created before credentials were recorded per device). Completes
   * with whether the device existed. The credentials go first: a failure half-way leaves a device that cannot log in,
   * never credentials without their device's record of them.
   */
  public CompletionStage<Boolean> deleteDevice(String tenant, String deviceId) {
    // A plain read then a plain delete, no LWT: every device of a tenant shares one partition, and concurrent Paxos
    // rounds on one partition contend. Deleting twice is harmless.
    return device(tenant, deviceId).thenCompose(existing -> deleteCredentialsOf(tenant, deviceId)
        .thenCompose(v -> exec(deleteDevice.bind(tenant, deviceId)))
        .thenCompose(v -> exec(deleteDeviceCredentials.bind(tenant, deviceId)))
        .thenApply(v -> existing.isPresent()));
  }

  private CompletionStage<Void> deleteCredentialsOf(String tenant, String deviceId) {
    return session.executeAsync(selectDeviceCredentials.bind(tenant, deviceId)).thenCompose(rs -> {
      Map<String, Set<String>> recorded = new LinkedHashMap<>();
      for (Row r : rs.currentPage()) {
        recorded.computeIfAbsent(r.getString("auth_id"), k -> new HashSet<>()).add(r.getString("type"));
      }
      recorded.computeIfAbsent(deviceId, k -> new HashSet<>()).addAll(List.of(PASSWORD, PSK, X509));
      List<CompletableFuture<Void>> deletions = new ArrayList<>();
      recorded.forEach((authId, types) -> types.forEach(type -> deletions.add(credential(tenant, authId, type)
          .thenCompose(c -> {
            if (c.isEmpty() || !deviceId.equals(c.get().deviceId())) {
              return CompletableFuture.<Void>completedFuture(null); // none, or another device's
            }
            BatchStatementBuilder b = new BatchStatementBuilder(BatchType.LOGGED)
                .addStatement(deleteCredential.bind(tenant, authId, type));
            if (X509.equals(type) && c.get().secret() != null) {
              b.addStatement(deleteFingerprint.bind(c.get().secret()));
            }
            return exec(b.build());
          }).toCompletableFuture())));
      return CompletableFuture.allOf(deletions.toArray(CompletableFuture[]::new));
    });
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
