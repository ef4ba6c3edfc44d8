package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.Statement;
import io.iiot.base.async.Failures;
import io.iiot.base.cassandra.IdempotentRetry;
import io.iiot.base.cassandra.ReplicaBatches;
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
import java.util.UUID;
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
  private final String keyspace;
  private final PreparedStatement insertTenant;
  private final PreparedStatement updateTenant;
  private final PreparedStatement selectTenant;
  private final PreparedStatement selectClaimedFromStart;
  private final PreparedStatement insertMetric;
  private final PreparedStatement selectProfile;
  private final PreparedStatement insertDevice;
  private final PreparedStatement selectDevice;
  private final PreparedStatement insertClaimIfAbsent;
  private final PreparedStatement deleteClaim;
  private final PreparedStatement selectClaimHolders;
  private final PreparedStatement selectDevicesAfter;
  private final PreparedStatement selectAuthIds;
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
    this.keyspace = keyspace;
    String ks = keyspace + ".";
    insertTenant = session.prepare("INSERT INTO " + ks + "tenants (tenant, enabled, telemetry_ttl_seconds, created_at,"
        + " claimed_from_start) VALUES (?, ?, ?, ?, true)");
    updateTenant = session.prepare("UPDATE " + ks + "tenants SET enabled = ?, telemetry_ttl_seconds = ? WHERE"
        + " tenant = ?");
    selectClaimedFromStart = session.prepare("SELECT claimed_from_start FROM " + ks + "tenants WHERE tenant = ?");
    selectTenant = session.prepare("SELECT enabled, telemetry_ttl_seconds FROM " + ks + "tenants WHERE tenant = ?");
    insertMetric = session.prepare("INSERT INTO " + ks + "device_profiles (tenant, profile_id, metric, metric_id, type,"
        + " unit, min, max, max_length) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    selectProfile = session.prepare("SELECT metric, metric_id, type, unit, min, max, max_length FROM " + ks
        + "device_profiles WHERE tenant = ? AND profile_id = ?");
    insertDevice = session.prepare("INSERT INTO " + ks + "devices (tenant, device_id, profile_id, enabled, via,"
        + " created_at) VALUES (?, ?, ?, ?, ?, ?)");
    selectDevice = session.prepare("SELECT profile_id, enabled, via, created_at FROM " + ks
        + "devices WHERE tenant = ? AND device_id = ?");
    insertClaimIfAbsent = session.prepare("INSERT INTO " + ks + "device_claims (tenant, bucket, kind, id, device_id,"
        + " claim) VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS");
    deleteClaim = session.prepare("DELETE FROM " + ks + "device_claims WHERE tenant = ? AND bucket = ? AND kind = ?"
        + " AND id = ?");
    selectClaimHolders = session.prepare("SELECT id, claim FROM " + ks + "device_claims WHERE tenant = ? AND"
        + " bucket = ? AND kind = ? AND id IN ?");
    selectDevicesAfter = session.prepare("SELECT device_id, profile_id, enabled, via, created_at FROM " + ks
        + "devices WHERE tenant = ? AND device_id > ? LIMIT ?");
    selectAuthIds = session.prepare("SELECT auth_id FROM " + ks + "credentials WHERE tenant = ? AND auth_id IN ?"
        + " PER PARTITION LIMIT 1");
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

  /**
   * Creates or updates a tenant. A tenant this creates is marked {@code claimed_from_start} (see
   * {@link #claimedFromStart}); an existing one keeps its mark (or its lack of one) and its creation time. Two
   * concurrent first puts of one tenant both create it, both marked, which is right: neither tenant existed before.
   */
  public CompletionStage<Void> putTenant(Tenant tenant) {
    int ttl = (int) tenant.telemetryTtl().toSeconds();
    return tenant(tenant.id()).thenCompose(existing -> existing.isPresent()
        ? exec(updateTenant.bind(tenant.enabled(), ttl, tenant.id()))
        : exec(insertTenant.bind(tenant.id(), tenant.enabled(), ttl, Instant.now())));
  }

  /**
   * Whether every device and credential of the tenant was created under claims (device_claims): true for a tenant
   * created by {@link #putTenant} since the mark exists; false for an older or unknown one, whose devices and
   * credentials from before claims a creation must read for.
   */
  public CompletionStage<Boolean> claimedFromStart(String tenant) {
    return session.executeAsync(selectClaimedFromStart.bind(tenant)).thenApply(rs -> {
      Row r = rs.one();
      return r != null && !r.isNull(0) && r.getBoolean(0);
    });
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

  /**
   * Writes a device row without claiming its id (as {@link #putPassword}, {@link #putPsk} and {@link #putCertificate}
   * write credentials without claims): for tests and tools seeding data, never in a tenant's creation paths, which go
   * through claims ({@link #createDevice}, BatchCreateDevices); {@link #claimedFromStart} assumes so.
   */
  public CompletionStage<Void> putDevice(Device d) {
    return exec(insertDevice.bind(d.tenant(), d.deviceId(), d.profileId(), d.enabled(), d.via(), d.createdAt()));
  }

  public CompletionStage<Optional<Device>> device(String tenant, String deviceId) {
    return session.executeAsync(selectDevice.bind(tenant, deviceId)).thenApply(rs -> Optional.ofNullable(rs.one())
        .map(r -> new Device(tenant, deviceId, r.getString("profile_id"), r.getBoolean("enabled"),
            r.getSet("via", String.class), r.getInstant("created_at"))));
  }

  /**
   * Creates a device unless one with its id exists (Hono's registration on a first message): a plain read for devices
   * from before claims existed, then the id's claim (a lightweight transaction, so two concurrent creates cannot both
   * win), then the device. Completes with whether this call created it.
   */
  public CompletionStage<Boolean> createDevice(Device d) {
    UUID claimId = UUID.randomUUID();
    List<Claim> claim = List.of(Claim.device(d.deviceId()));
    return device(d.tenant(), d.deviceId()).thenCompose(existing -> existing.isPresent()
        ? CompletableFuture.completedFuture(false)
        : claim(d.tenant(), claim, claimId).thenCompose(foreign -> foreign.isPresent()
            ? CompletableFuture.completedFuture(false)
            : putDevice(d).thenApply(v -> true)));
  }

  /** Most device ids named in one existence read (one partition, so one replica read per chunk). */
  static final int IDS_PER_READ = 100;
  /**
   * Claim partitions per tenant (device_claims.bucket). Part of the stored data: changing it would look for an id's
   * claim in another partition. 16 lets a tenant's creations run 16 Paxos rounds at once.
   */
  public static final int CLAIM_BUCKETS = 16;
  /** Most claims in one conditional batch (one Paxos round on one claim partition). */
  public static final int CLAIMS_PER_CONDITIONAL_BATCH = 250;
  /**
   * Estimated bytes of one conditional batch (an overestimate of what Cassandra counts): under the 40 KiB
   * batch_size_warn_threshold of the platform's nodes and well under Cassandra's default 50 KiB refusal, whatever the
   * lengths of tenants and ids (up to 128 characters each).
   */
  static final int CONDITIONAL_BATCH_BYTES = 36 * 1024;
  /** Most device rows in one (single-partition, unlogged) batch of plain writes. */
  static final int DEVICES_PER_WRITE = 100;

  /** A claim on an id of a tenant: {@code kind} is {@link #DEVICE_CLAIM} or {@link #AUTH_CLAIM}. */
  public record Claim(String kind, String id, String deviceId) {
    public static Claim device(String deviceId) {
      return new Claim(DEVICE_CLAIM, deviceId, deviceId);
    }

    public static Claim auth(String authId, String deviceId) {
      return new Claim(AUTH_CLAIM, authId, deviceId);
    }

    /** The claim partition of this id (a device id and an equal auth id share one, so one batch). */
    public int bucket() {
      return Math.floorMod(id.hashCode(), CLAIM_BUCKETS);
    }

    /** A row's columns plus per-cell overhead (timestamps, lengths) and the condition's copy of the key. */
    int estimatedBytes(String tenant) {
      return 2 * (tenant.length() + kind.length() + id.length()) + deviceId.length() + 96;
    }
  }

  public static final String DEVICE_CLAIM = "device";
  public static final String AUTH_CLAIM = "auth";

  /**
   * Splits claims into conditional batches: one claim partition each (grouped by bucket, buckets in ascending order,
   * claims in their order), at most {@value #CLAIMS_PER_CONDITIONAL_BATCH} claims and {@value #CONDITIONAL_BATCH_BYTES}
   * estimated bytes.
   */
  public static List<List<Claim>> claimBatches(String tenant, List<Claim> claims) {
    Map<Integer, List<Claim>> byBucket = new java.util.TreeMap<>();
    for (Claim c : claims) {
      byBucket.computeIfAbsent(c.bucket(), k -> new ArrayList<>()).add(c);
    }
    List<List<Claim>> batches = new ArrayList<>();
    for (List<Claim> bucket : byBucket.values()) {
      List<Claim> batch = new ArrayList<>();
      int bytes = 0;
      for (Claim c : bucket) {
        int size = c.estimatedBytes(tenant);
        if (!batch.isEmpty() && (batch.size() == CLAIMS_PER_CONDITIONAL_BATCH || bytes + size > CONDITIONAL_BATCH_BYTES)) {
          batches.add(batch);
          batch = new ArrayList<>();
          bytes = 0;
        }
        batch.add(c);
        bytes += size;
      }
      batches.add(batch);
    }
    return batches;
  }

  /** Which of {@code deviceIds} exist in the tenant: one read per {@value #IDS_PER_READ} ids, all at once. */
  public CompletionStage<Set<String>> existingDevices(String tenant, Collection<String> deviceIds) {
    return found(selectDeviceIds, "device_id", tenant, deviceIds);
  }


  /**
   * Claims ids of one tenant (one batch of {@link #claimBatches}, so one claim partition) for the call {@code claimId}
   * unless any of them is claimed, as one conditional batch: all or none. Completes with a claim held by someone else
   * (nothing claimed), or empty when all are this call's. A Paxos round that timed out (outcome unknown) is sent again;
   * rows found with this call's {@code claimId} are its own from the earlier attempt.
   */
  public CompletionStage<Optional<Claim>> claim(String tenant, List<Claim> claims, UUID claimId) {
    if (claims.isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    int bucket = claims.get(0).bucket();
    if (claims.size() > CLAIMS_PER_CONDITIONAL_BATCH || claims.stream().anyMatch(c -> c.bucket() != bucket)) {
      throw new IllegalArgumentException("1 to " + CLAIMS_PER_CONDITIONAL_BATCH + " claims of one bucket");
    }
    if (claims.size() > 1
        && claims.stream().mapToInt(c -> c.estimatedBytes(tenant)).sum() > CONDITIONAL_BATCH_BYTES) {
      throw new IllegalArgumentException("more than " + CONDITIONAL_BATCH_BYTES + " bytes: use claimBatches");
    }
    Statement<?> statement;
    if (claims.size() == 1) {
      Claim c = claims.get(0);
      statement = insertClaimIfAbsent.bind(tenant, bucket, c.kind(), c.id(), c.deviceId(), claimId);
    } else {
      BatchStatementBuilder b = new BatchStatementBuilder(BatchType.LOGGED);
      for (Claim c : claims) {
        b.addStatement(insertClaimIfAbsent.bind(tenant, bucket, c.kind(), c.id(), c.deviceId(), claimId));
      }
      statement = b.build();
    }
    return claimOnce(statement, claimId, CAS_ATTEMPTS);
  }

  /** Conditional batches sent again after a Paxos timeout (whose outcome is unknown). */
  static final int CAS_ATTEMPTS = 3;

  private CompletionStage<Optional<Claim>> claimOnce(Statement<?> statement, UUID claimId, int attempts) {
    return session.executeAsync(statement).thenApply(rs -> {
      if (rs.wasApplied()) {
        return Optional.<Claim>empty();
      }
      // Not applied: the rows returned are the existing ones. Rows with this call's claim id were claimed by an
      // attempt of this call whose answer was lost (a batch is applied whole or not at all).
      for (Row r : rs.currentPage()) {
        String id = r.getColumnDefinitions().contains("id") ? r.getString("id") : null;
        UUID holder = r.getColumnDefinitions().contains("claim") ? r.getUuid("claim") : null;
        if (id != null && !claimId.equals(holder)) {
          return Optional.of(new Claim(r.getString("kind"), id, r.getString("device_id")));
        }
      }
      return Optional.<Claim>empty();
    }).exceptionallyCompose(e -> {
      Throwable cause = Failures.cause(e);
      // A Paxos round of a busy node may also time out in its read phase (a read timeout at SERIAL): as unknown as a
      // CAS write timeout, and resolved the same way (rows with this call's claim id are its own).
      boolean unknown = cause instanceof com.datastax.oss.driver.api.core.servererrors.CASWriteUnknownException
          || cause instanceof com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException t
          && t.getWriteType() == com.datastax.oss.driver.api.core.servererrors.WriteType.CAS
          || cause instanceof com.datastax.oss.driver.api.core.servererrors.ReadTimeoutException r
          && r.getConsistencyLevel().isSerial();
      if (attempts > 1 && unknown) {
        return claimOnce(statement, claimId, attempts - 1);
      }
      return CompletableFuture.failedFuture(cause);
    });
  }

  /**
   * Gives up claims this caller holds (plain deletes, one unlogged batch per claim partition): after a creation that
   * lost another of its claims or failed, or a deletion. Only the holder may call this; deleting twice is harmless.
   */
  public CompletionStage<Void> release(String tenant, Collection<Claim> claims) {
    Map<Integer, BatchStatementBuilder> byBucket = new LinkedHashMap<>();
    for (Claim c : claims) {
      byBucket.computeIfAbsent(c.bucket(), k -> new BatchStatementBuilder(BatchType.UNLOGGED))
          .addStatement(deleteClaim.bind(tenant, c.bucket(), c.kind(), c.id()));
    }
    CompletableFuture<?>[] sent = byBucket.values().stream().map(b -> exec(b.build()).toCompletableFuture())
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(sent);
  }

  /**
   * Gives up those of {@code claims} that the call {@code claimId} holds, and only those: after a claim whose outcome
   * is unknown, when the rows may as well be another call's. The claims of each partition and kind are read in one
   * read at SERIAL consistency (which first completes a Paxos round on the partition still in progress, such as this
   * call's unanswered one), and those that are this call's go with plain deletes ({@link #release}): a row held by
   * this call cannot become another's before it is deleted. Partitions are done at once, the two kinds of one
   * partition one after the other (concurrent Paxos rounds on one partition contend). Not a conditional
   * {@code DELETE ... IF claim = ?} per claim: up to 250 Paxos rounds at once on one partition contend and time out
   * (CAS write timeouts), which under protocol v5 also cost the driver's connection (see
   * CassandraConnector.PROTOCOL_VERSION).
   */
  public CompletionStage<Void> releaseIfHeld(String tenant, Collection<Claim> claims, UUID claimId) {
    Map<Integer, Map<String, Map<String, Claim>>> byBucket = new java.util.TreeMap<>();
    for (Claim c : claims) {
      byBucket.computeIfAbsent(c.bucket(), k -> new java.util.TreeMap<>())
          .computeIfAbsent(c.kind(), k -> new LinkedHashMap<>()).put(c.id(), c);
    }
    List<CompletableFuture<Void>> sent = new ArrayList<>();
    byBucket.forEach((bucket, byKind) -> {
      CompletableFuture<Void> done = CompletableFuture.completedFuture(null);
      for (Map.Entry<String, Map<String, Claim>> kind : byKind.entrySet()) {
        done = done.thenCompose(v -> session.executeAsync(selectClaimHolders.bind(tenant, bucket, kind.getKey(),
            List.copyOf(kind.getValue().keySet())).setConsistencyLevel(DefaultConsistencyLevel.SERIAL))
            .thenCompose(rs -> {
              List<Claim> held = new ArrayList<>();
              for (Row r : rs.currentPage()) {
                if (claimId.equals(r.getUuid("claim"))) {
                  held.add(kind.getValue().get(r.getString("id")));
                }
              }
              return release(tenant, held);
            }).toCompletableFuture());
      }
      sent.add(done);
    });
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
  }

  /**
   * Writes devices of one tenant whose ids this caller has claimed (plain writes, one unlogged batch per
   * {@value #DEVICES_PER_WRITE} rows of the tenant's partition), all at once, each sent once more after a timeout.
   */
  public CompletionStage<Void> putDevices(List<Device> devices) {
    List<CompletableFuture<Void>> sent = new ArrayList<>();
    for (int from = 0; from < devices.size(); from += DEVICES_PER_WRITE) {
      BatchStatementBuilder b = new BatchStatementBuilder(BatchType.UNLOGGED);
      for (Device d : devices.subList(from, Math.min(devices.size(), from + DEVICES_PER_WRITE))) {
        BoundStatement row = insertDevice.bind(d.tenant(), d.deviceId(), d.profileId(), d.enabled(), d.via(),
            d.createdAt());
        // A new row: no via is no cell rather than an empty set (a collection tombstone), read back the same.
        b.addStatement(d.via().isEmpty() ? row.unset("via") : row);
      }
      sent.add(execIdempotent(b.build()).toCompletableFuture());
    }
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
  }

  /** A credential to store for a device; {@code secret} is a password hash or a certificate fingerprint. */
  public record NewCredential(String authId, String type, String secret, byte[] key) {}

  /** Most devices' credentials in one request of {@link #putCredentials} (an unlogged batch of their partitions). */
  public static final int CREDENTIAL_DEVICES_PER_WRITE = 32;
  /**
   * Protocol bytes of one such batch: under the 40 KiB batch_size_warn_threshold of the platform's nodes (which counts
   * less than the protocol size), whatever the lengths of ids and secrets.
   */
  static final int CREDENTIAL_BATCH_BYTES = 30 * 1024;

  /**
   * Stores devices' credentials ({@code byDevice}: device id to its credentials): for each device, which credentials
   * it has under other auth ids than its own id (so a deletion finds them; under its own id a deletion always looks),
   * and the credentials, one partition per auth id (a password and a PSK may share one). The partitions of many
   * devices go in few requests: unlogged batches of partitions on the same replicas ({@link ReplicaBatches}, at most
   * {@value #CREDENTIAL_DEVICES_PER_WRITE} devices' worth each), all sent at once; a certificate with its fingerprint
   * in a logged batch of its own. Writes are idempotent. Only the holder of the devices' and auth ids' claims may call
   * this: credentials of a device that lost its claims would overwrite the winner's. Each request is sent once more
   * after a timeout ({@link IdempotentRetry}).
   */
  public CompletionStage<Void> putCredentials(String tenant, Map<String, List<NewCredential>> byDevice) {
    List<List<BatchableStatement<?>>> partitions = new ArrayList<>();
    List<Statement<?>> writes = new ArrayList<>();
    for (Map.Entry<String, List<NewCredential>> device : byDevice.entrySet()) {
      String deviceId = device.getKey();
      List<BatchableStatement<?>> index = new ArrayList<>();
      Map<String, List<BatchableStatement<?>>> byAuthId = new LinkedHashMap<>();
      for (NewCredential c : device.getValue()) {
        if (!c.authId().equals(deviceId)) {
          // Under the device's own id a deletion looks anyway: no record needed (onboarding's usual case, one write
          // less per device).
          index.add(insertDeviceCredential.bind(tenant, deviceId, c.authId(), c.type()));
        }
        // New rows (the caller holds the auth ids' claims): a secret or key a type does not have is left out (no
        // cell) rather than written as null (a tombstone cell), read back the same.
        BoundStatement row = insertCredential.bind(tenant, c.authId(), c.type(), deviceId, c.secret(),
            c.key() == null ? null : ByteBuffer.wrap(c.key()));
        row = c.secret() == null ? row.unset("secret") : row;
        row = c.key() == null ? row.unset("key") : row;
        if (X509.equals(c.type())) {
          writes.add(BatchStatement.newInstance(BatchType.LOGGED).add(row)
              .add(insertFingerprint.bind(c.secret(), tenant, c.authId(), deviceId)));
        } else {
          byAuthId.computeIfAbsent(c.authId(), k -> new ArrayList<>()).add(row);
        }
      }
      if (!index.isEmpty()) {
        partitions.add(index);
      }
      partitions.addAll(byAuthId.values());
    }
    // A device has one or two partitions here (its credentials; rarely other auth ids or the index).
    int perBatch = Math.max(1, CREDENTIAL_DEVICES_PER_WRITE * partitions.size() / Math.max(1, byDevice.size()));
    writes.addAll(ReplicaBatches.of(session, keyspace, partitions, perBatch, CREDENTIAL_BATCH_BYTES));
    if (writes.size() == 1) {
      return execIdempotent(writes.get(0));
    }
    CompletableFuture<?>[] sent = writes.stream().map(w -> execIdempotent(w).toCompletableFuture())
        .toArray(CompletableFuture[]::new);
    return CompletableFuture.allOf(sent);
  }

  /**
   * Removes what a creation holding the device's claims wrote (or may have written) for it, without reading first:
   * its row, its record of credentials and the given credentials (while the claims are held, no one else's can be
   * under those auth ids). The caller releases the claims afterwards.
   */
  public CompletionStage<Void> removeCreated(String tenant, String deviceId, List<NewCredential> credentials) {
    List<CompletableFuture<Void>> sent = new ArrayList<>();
    sent.add(exec(deleteDevice.bind(tenant, deviceId)).toCompletableFuture());
    sent.add(exec(deleteDeviceCredentials.bind(tenant, deviceId)).toCompletableFuture());
    for (NewCredential c : credentials) {
      sent.add(exec(deleteCredential.bind(tenant, c.authId(), c.type())).toCompletableFuture());
      if (X509.equals(c.type())) {
        sent.add(exec(deleteFingerprint.bind(c.secret())).toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new));
  }

  /**
   * Deletes a device and the credentials that authenticate it (those recorded for it, and any under its own id as
   * auth id that point at it, which covers devices created before credentials were recorded per device), then its
   * claims. Completes with whether the device existed. The credentials go first: a failure half-way leaves a device
   * that cannot log in, never credentials without their device's record of them; the claims go last, so the ids are
   * free again only once nothing of the device is left.
   */
  public CompletionStage<Boolean> deleteDevice(String tenant, String deviceId) {
    // Plain reads and deletes, no LWT: only the creation of ids needs to be exclusive. Deleting twice is harmless.
    return device(tenant, deviceId).thenCompose(existing -> deleteCredentialsOf(tenant, deviceId)
        .thenCompose(authIds -> exec(deleteDevice.bind(tenant, deviceId))
            .thenCompose(v -> exec(deleteDeviceCredentials.bind(tenant, deviceId)))
            .thenCompose(v -> {
              List<Claim> claims = new ArrayList<>();
              claims.add(Claim.device(deviceId));
              authIds.forEach(a -> claims.add(Claim.auth(a, deviceId)));
              return release(tenant, claims);
            }))
        .thenApply(v -> existing.isPresent()));
  }

  /** Deletes the device's credentials; completes with the auth ids it held a credential under. */
  private CompletionStage<Set<String>> deleteCredentialsOf(String tenant, String deviceId) {
    return session.executeAsync(selectDeviceCredentials.bind(tenant, deviceId)).thenCompose(rs -> {
      Map<String, Set<String>> recorded = new LinkedHashMap<>();
      for (Row r : rs.currentPage()) {
        recorded.computeIfAbsent(r.getString("auth_id"), k -> new HashSet<>()).add(r.getString("type"));
      }
      recorded.computeIfAbsent(deviceId, k -> new HashSet<>()).addAll(List.of(PASSWORD, PSK, X509));
      Set<String> held = java.util.concurrent.ConcurrentHashMap.newKeySet();
      List<CompletableFuture<Void>> deletions = new ArrayList<>();
      recorded.forEach((authId, types) -> types.forEach(type -> deletions.add(credential(tenant, authId, type)
          .thenCompose(c -> {
            if (c.isEmpty() || !deviceId.equals(c.get().deviceId())) {
              return CompletableFuture.<Void>completedFuture(null); // none, or another device's
            }
            held.add(authId);
            BatchStatementBuilder b = new BatchStatementBuilder(BatchType.LOGGED)
                .addStatement(deleteCredential.bind(tenant, authId, type));
            if (X509.equals(type) && c.get().secret() != null) {
              b.addStatement(deleteFingerprint.bind(c.get().secret()));
            }
            return exec(b.build());
          }).toCompletableFuture())));
      return CompletableFuture.allOf(deletions.toArray(CompletableFuture[]::new)).thenApply(v -> (Set<String>) held);
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

  /**
   * Which of {@code authIds} any credential of the tenant uses: one read per {@value #IDS_PER_READ} auth ids (each
   * names that many partitions of the credentials table, so the node reads them all but the call pays one request),
   * all at once.
   */
  public CompletionStage<Set<String>> takenAuthIds(String tenant, Collection<String> authIds) {
    return found(selectAuthIds, "auth_id", tenant, authIds);
  }

  /** The {@code ids} that {@code select} (tenant, IN list) finds, read {@value #IDS_PER_READ} at a time, all at once. */
  private CompletionStage<Set<String>> found(PreparedStatement select, String column, String tenant,
      Collection<String> ids) {
    List<String> all = new ArrayList<>(ids);
    List<CompletableFuture<Set<String>>> reads = new ArrayList<>();
    for (int from = 0; from < all.size(); from += IDS_PER_READ) {
      List<String> some = all.subList(from, Math.min(all.size(), from + IDS_PER_READ));
      BoundStatement read = select.bind(tenant, List.copyOf(some)).setIdempotent(true);
      reads.add(IdempotentRetry.once(() -> session.executeAsync(read)).thenApply(rs -> {
        Set<String> found = new HashSet<>();
        for (Row r : rs.currentPage()) {
          found.add(r.getString(column));
        }
        return found;
      }).toCompletableFuture());
    }
    return CompletableFuture.allOf(reads.toArray(CompletableFuture[]::new)).thenApply(v -> {
      Set<String> union = new HashSet<>();
      reads.forEach(r -> union.addAll(r.join()));
      return union;
    });
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

  /**
   * A write whose repetition writes the same rows (plain inserts and deletes): sent once more after a timeout
   * ({@link IdempotentRetry}), so that one slow moment of a busy node does not fail, and roll back, a whole batch of
   * creations.
   */
  private CompletionStage<Void> execIdempotent(Statement<?> s) {
    Statement<?> idempotent = s.setIdempotent(true);
    return IdempotentRetry.once(() -> session.executeAsync(idempotent)).thenApply(rs -> (Void) null);
  }

  private CompletionStage<Void> exec(Statement<?> s) {
    return session.executeAsync(s).thenApply(rs -> (Void) null);
  }
}
