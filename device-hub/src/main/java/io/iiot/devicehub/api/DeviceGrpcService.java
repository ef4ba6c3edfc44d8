package io.iiot.devicehub.api;

import com.google.protobuf.Empty;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.iiot.base.async.Failures;
import io.iiot.device.v1.BatchCreateDevicesRequest;
import io.iiot.device.v1.BatchCreateDevicesResponse;
import io.iiot.device.v1.BatchDeleteDevicesRequest;
import io.iiot.device.v1.BatchDeleteDevicesResponse;
import io.iiot.device.v1.DeleteDeviceRequest;
import io.iiot.device.v1.CreateDeviceRequest;
import io.iiot.device.v1.Credential;
import io.iiot.device.v1.DeviceProfile;
import io.iiot.device.v1.DeviceServiceGrpc;
import io.iiot.device.v1.GetDeviceRequest;
import io.iiot.device.v1.ListDevicesRequest;
import io.iiot.device.v1.ListDevicesResponse;
import io.iiot.device.v1.Metric;
import io.iiot.device.v1.PutDeviceProfileRequest;
import io.iiot.device.v1.PutTenantRequest;
import io.iiot.devicehub.domain.CertificateFingerprint;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.MetricSpec;
import io.iiot.devicehub.domain.MetricType;
import io.iiot.devicehub.domain.PasswordHasher;
import io.iiot.devicehub.domain.TelemetrySchema;
import io.iiot.devicehub.domain.Tenant;
import io.iiot.devicehub.storage.DeviceRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * {@code iiot.device.v1.DeviceService} (see device.proto for the contract). Runs on gRPC's executor threads, never an
 * event loop, so it waits for Cassandra there; password hashing (deliberately slow) happens here too, which keeps it
 * off the pool MQTT logins use.
 */
public final class DeviceGrpcService extends DeviceServiceGrpc.DeviceServiceImplBase {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(DeviceGrpcService.class);
  static final int MAX_BATCH = 1000;
  private static final Duration STORAGE_WAIT = Duration.ofSeconds(30);
  private static final int MIN_GENERATED_PASSWORD = 22;
  /** Storage requests one call keeps in flight (reads of a batch's checks, credential writes, deletions). */
  static final int IN_FLIGHT = 64;
  /**
   * Creation writes of all calls together in flight: requests the driver gives up on (its timeout, a stalled node)
   * stay orphaned on the connection until answered, and past 256 orphans it closes the connection; several large
   * calls at 64 each could reach that.
   */
  static final int CREATION_WRITES_IN_FLIGHT = 128;
  private final java.util.concurrent.Semaphore creationWrites =
      new java.util.concurrent.Semaphore(CREATION_WRITES_IN_FLIGHT);

  private final DeviceRegistry registry;
  private final PasswordHasher hasher;
  private final PasswordHasher generatedSecretHasher;
  private final TenantSequence creations = new TenantSequence();
  /** Hashes passwords of created devices; bounded queue, beyond which the calling gRPC thread hashes (back-pressure). */
  private final ThreadPoolExecutor hashing;
  private static final int HASH_QUEUE = 256;

  public DeviceGrpcService(DeviceRegistry registry, PasswordHasher hasher, PasswordHasher generatedSecretHasher) {
    this(registry, hasher, generatedSecretHasher, Runtime.getRuntime().availableProcessors());
  }

  /**
   * @param generatedSecretHasher for passwords marked {@code generated_password} (random secrets of >= 128 bits, for
   *     which a work factor adds nothing)
   * @param hashThreads threads hashing created devices' passwords (credentials.create-hash-threads), separate from the
   *     pool that verifies MQTT/CoAP logins so onboarding does not starve connects
   */
  public DeviceGrpcService(DeviceRegistry registry, PasswordHasher hasher, PasswordHasher generatedSecretHasher,
      int hashThreads) {
    this.registry = registry;
    this.hasher = hasher;
    this.generatedSecretHasher = generatedSecretHasher;
    this.hashing = new ThreadPoolExecutor(hashThreads, hashThreads, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(HASH_QUEUE), r -> {
          Thread t = new Thread(r, "device-hub-create-hash");
          t.setDaemon(true);
          return t;
        }, new ThreadPoolExecutor.CallerRunsPolicy());
    hashing.allowCoreThreadTimeOut(true);
  }

  @Override
  public void putTenant(PutTenantRequest request, StreamObserver<io.iiot.device.v1.Tenant> response) {
    respond(response, () -> {
      String id = Names.tenant("tenant.name", request.getTenant().getName());
      long ttl = request.getTenant().getTelemetryTtlSeconds();
      if (ttl < 0 || ttl > Tenant.MAX_TTL.toSeconds()) {
        throw ApiErrors.invalid("tenant.telemetry_ttl_seconds", "must be 0 (forever) to 630720000 (20 years)");
      }
      await(registry.putTenant(new Tenant(id, request.getTenant().getEnabled(), Duration.ofSeconds(ttl))));
      return request.getTenant();
    });
  }

  @Override
  public void putDeviceProfile(PutDeviceProfileRequest request, StreamObserver<DeviceProfile> response) {
    respond(response, () -> {
      String[] name = Names.profile("profile.name", request.getProfile().getName());
      List<MetricSpec> metrics = new ArrayList<>();
      ApiErrors.Violations violations = new ApiErrors.Violations();
      List<Metric> in = request.getProfile().getMetricsList();
      if (in.isEmpty()) {
        violations.add("profile.metrics", "at least one metric is required");
      }
      for (int i = 0; i < in.size(); i++) {
        Metric m = in.get(i);
        try {
          metrics.add(new MetricSpec(m.getId(), m.getName(), type(m.getType()), m.getUnit(), m.getMin(), m.getMax(),
              m.getMaxLength()));
        } catch (IllegalArgumentException e) {
          violations.add("profile.metrics[" + i + "]", e.getMessage());
        }
      }
      violations.throwIfAny();
      TelemetrySchema schema;
      try {
        schema = new TelemetrySchema(metrics);
      } catch (IllegalArgumentException e) {
        throw ApiErrors.invalid("profile.metrics", e.getMessage());
      }
      requireTenant(name[0]);
      await(registry.putProfile(name[0], name[1], schema));
      return request.getProfile();
    });
  }

  private static MetricType type(Metric.Type t) {
    return switch (t) {
      case NUMBER -> MetricType.NUMBER;
      case BOOLEAN -> MetricType.BOOLEAN;
      case TEXT -> MetricType.TEXT;
      default -> throw new IllegalArgumentException("type must be NUMBER, BOOLEAN or TEXT");
    };
  }

  @Override
  public void batchCreateDevices(BatchCreateDevicesRequest request, StreamObserver<BatchCreateDevicesResponse> out) {
    long started = System.nanoTime();
    long[] checked = new long[1];
    respond(out, () -> {
      String tenant = Names.tenant("parent", request.getParent());
      List<CreateDeviceRequest> requests = request.getRequestsList();
      if (requests.isEmpty() || requests.size() > MAX_BATCH) {
        throw ApiErrors.invalid("requests", "1 to " + MAX_BATCH + " devices per batch, got " + requests.size());
      }
      ApiErrors.Violations violations = new ApiErrors.Violations();
      Set<String> deviceIds = new HashSet<>();
      // One password and one PSK may share an auth id (the same identity over MQTT and CoAP/DTLS), as stored.
      Map<String, Set<Credential.SecretCase>> credentialTypes = new LinkedHashMap<>();
      Set<String> profiles = new LinkedHashSet<>();
      for (int i = 0; i < requests.size(); i++) {
        validate(requests.get(i), "requests[" + i + "]", request.getParent(), deviceIds, credentialTypes, profiles,
            violations);
      }
      violations.throwIfAny();
      requireTenant(tenant);
      for (String profile : profiles) {
        if (await(registry.profile(tenant, profile)).isEmpty()) {
          throw ApiErrors.notFound("iiot.device.v1.DeviceProfile", "tenants/" + tenant + "/profiles/" + profile);
        }
      }
      // Existence checks all at once: devices and auth ids by reads of 100 ids each, certificates one by one
      // (bounded). Creation claims every id anyway; these reads find devices and credentials from before claims
      // existed, and answer a plain conflict before any claim is made. A tenant created under claims has no
      // credentials from before them, and its auth ids' claims answer a conflict: no read per auth id (one
      // partition each, as many reads as devices).
      CompletableFuture<Set<String>> existing = registry.existingDevices(tenant, deviceIds).toCompletableFuture();
      CompletableFuture<Set<String>> taken = await(registry.claimedFromStart(tenant))
          ? CompletableFuture.completedFuture(Set.of())
          : registry.takenAuthIds(tenant, credentialTypes.keySet()).toCompletableFuture();
      StorageWindow reads = new StorageWindow(IN_FLIGHT);
      Map<String, CompletableFuture<Boolean>> certificates = new LinkedHashMap<>();
      for (CreateDeviceRequest r : requests) {
        for (Credential c : r.getCredentialsList()) {
          if (c.hasX509Sha256Fingerprint()) {
            String fp = CertificateFingerprint.normalize(c.getX509Sha256Fingerprint());
            certificates.put(c.getX509Sha256Fingerprint(), reads.submit(() -> registry.certificateOwner(fp)
                .thenApply(java.util.Optional::isPresent)));
          }
        }
      }
      await(CompletableFuture.allOf(existing, taken, reads.all()), STORAGE_WAIT);
      checked[0] = System.nanoTime();
      for (CreateDeviceRequest r : requests) {
        if (existing.join().contains(r.getDeviceId())) {
          throw ApiErrors.alreadyExists("iiot.device.v1.Device", Names.deviceName(tenant, r.getDeviceId()));
        }
      }
      for (String authId : credentialTypes.keySet()) {
        if (taken.join().contains(authId)) {
          throw ApiErrors.alreadyExists("credential", authId + "@" + tenant);
        }
      }
      for (Map.Entry<String, CompletableFuture<Boolean>> e : certificates.entrySet()) {
        if (e.getValue().join()) {
          throw ApiErrors.alreadyExists("credential", "x509 " + e.getKey());
        }
      }
      CreationTimes times = new CreationTimes();
      BatchCreateDevicesResponse done = create(tenant, requests, times);
      // Where a batch's time goes, for tuning onboarding of thousands of machines: checks, then creation (hashing on
      // the pool, summed over its threads; the claims' conditional batches, including the wait behind other calls'
      // rounds on the same claim partitions; then the writes of devices and credentials).
      LOG.info("BatchCreateDevices of {} devices for tenant {}: {} ms checks, {} ms creation ({} ms hashing summed"
          + " over threads, {} ms claiming in {} conditional batches)", requests.size(), tenant,
          (checked[0] - started) / 1_000_000, (System.nanoTime() - checked[0]) / 1_000_000,
          times.hashNanos.get() / 1_000_000, times.claimNanos / 1_000_000, times.groups);
      return done;
    });
  }

  /**
   * Writes checked devices in two steps. First the call claims every device id and auth id (conditional batches per
   * claim partition, {@link DeviceRegistry#claimBatches}; batches of different partitions at once, of one partition
   * one after another across calls, see {@link TenantSequence}), while the passwords are hashed on the hashing pool.
   * Only if every claim is this call's does it write the devices and their credentials: a call that loses a claim to
   * a concurrent creator gives its claims up and writes nothing (ALREADY_EXISTS), so it can never overwrite the
   * winner's credentials. Should a write fail, the call removes what it wrote and gives its claims up.
   */
  private BatchCreateDevicesResponse create(String tenant, List<CreateDeviceRequest> requests, CreationTimes times) {
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<Device> devices = new ArrayList<>(requests.size());
    List<DeviceRegistry.Claim> claims = new ArrayList<>(requests.size() * 2);
    for (CreateDeviceRequest r : requests) {
      Device d = new Device(tenant, r.getDeviceId(), r.getDevice().getProfile(), r.getDevice().getEnabled(),
          Set.copyOf(r.getDevice().getViaList()), now);
      devices.add(d);
      claims.add(DeviceRegistry.Claim.device(d.deviceId()));
      Set<String> authIds = new LinkedHashSet<>();
      for (Credential c : r.getCredentialsList()) {
        authIds.add(c.getAuthId().isEmpty() ? d.deviceId() : c.getAuthId());
      }
      authIds.forEach(a -> claims.add(DeviceRegistry.Claim.auth(a, d.deviceId())));
    }
    UUID claimId = UUID.randomUUID();
    List<List<DeviceRegistry.Claim>> batches = DeviceRegistry.claimBatches(tenant, claims);
    List<CompletableFuture<java.util.Optional<DeviceRegistry.Claim>>> claimed = new ArrayList<>(batches.size());
    long claimStart = System.nanoTime();
    // Queued at once for all partitions: two calls claiming the same ids meet in the same order on every partition,
    // so the first wins them all and the other loses (rather than each winning some and both failing).
    synchronized (creations) {
      for (List<DeviceRegistry.Claim> batch : batches) {
        claimed.add(creations.then(tenant + "#" + batch.get(0).bucket(),
            () -> registry.claim(tenant, batch, claimId).toCompletableFuture()));
      }
    }
    // Hashing starts once the claims are sent (a full hashing queue makes this thread hash, see CallerRunsPolicy).
    List<CompletableFuture<List<DeviceRegistry.NewCredential>>> hashed = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      CreateDeviceRequest r = requests.get(i);
      Device d = devices.get(i);
      hashed.add(CompletableFuture.supplyAsync(() -> times.hashed(() -> stored(r, d)), hashing));
    }
    // Each statement has the driver's own timeout; this only bounds a stuck call.
    Duration wait = STORAGE_WAIT.multipliedBy(1 + batches.size() / DeviceRegistry.CLAIM_BUCKETS);
    try {
      awaitSettled(claimed, wait);
    } catch (StatusRuntimeException e) {
      // Given up on: whatever this call still wins or may have won is given back when its answer comes.
      hashed.forEach(h -> h.cancel(false));
      for (int i = 0; i < batches.size(); i++) {
        List<DeviceRegistry.Claim> batch = batches.get(i);
        claimed.get(i).whenComplete((foreign, err) -> {
          if (err != null) {
            registry.releaseIfHeld(tenant, batch, claimId);
          } else if (foreign.isEmpty()) {
            registry.release(tenant, batch);
          }
        });
      }
      throw e;
    }
    times.claimNanos = System.nanoTime() - claimStart;
    times.groups = batches.size();
    DeviceRegistry.Claim lost = null;
    Throwable failed = null;
    List<DeviceRegistry.Claim> held = new ArrayList<>();
    List<DeviceRegistry.Claim> unknown = new ArrayList<>();
    for (int i = 0; i < batches.size(); i++) {
      CompletableFuture<java.util.Optional<DeviceRegistry.Claim>> f = claimed.get(i);
      if (f.isCompletedExceptionally()) {
        failed = failed != null ? failed : cause(f);
        unknown.addAll(batches.get(i)); // outcome unknown: the rows may be this call's or another's
      } else if (f.join().isPresent()) {
        lost = lost != null ? lost : f.join().get();
      } else {
        held.addAll(batches.get(i));
      }
    }
    if (lost != null || failed != null) {
      hashed.forEach(h -> h.cancel(false));
      await(CompletableFuture.allOf(registry.release(tenant, held).toCompletableFuture(),
          registry.releaseIfHeld(tenant, unknown, claimId).toCompletableFuture()));
      if (failed != null) {
        throw Status.UNAVAILABLE.withDescription("storage did not answer: " + failed.getMessage()).withCause(failed)
            .asRuntimeException();
      }
      throw DeviceRegistry.DEVICE_CLAIM.equals(lost.kind())
          ? ApiErrors.alreadyExists("iiot.device.v1.Device", Names.deviceName(tenant, lost.id()))
          : ApiErrors.alreadyExists("credential", lost.id() + "@" + tenant);
    }
    // Won: devices and credentials, those of each slice of devices as soon as the slice is hashed (one request per
    // slice rather than per device, see DeviceRegistry#putCredentials; a slice takes a permit per device, so the
    // shared window still bounds the partition updates in flight on the node).
    StorageWindow writes = new StorageWindow(creationWrites);
    writes.submit(() -> registry.putDevices(devices));
    for (int from = 0; from < devices.size(); from += DeviceRegistry.CREDENTIAL_DEVICES_PER_WRITE) {
      int to = Math.min(devices.size(), from + DeviceRegistry.CREDENTIAL_DEVICES_PER_WRITE);
      List<Device> slice = devices.subList(from, to);
      List<CompletableFuture<List<DeviceRegistry.NewCredential>>> credentials = hashed.subList(from, to);
      writes.submit(slice.size(), () -> CompletableFuture.allOf(credentials.toArray(CompletableFuture[]::new))
          .thenCompose(v -> {
            Map<String, List<DeviceRegistry.NewCredential>> byDevice = new LinkedHashMap<>();
            for (int k = 0; k < slice.size(); k++) {
              byDevice.put(slice.get(k).deviceId(), credentials.get(k).join());
            }
            return registry.putCredentials(tenant, byDevice);
          }));
    }
    try {
      await(writes.all(), STORAGE_WAIT.multipliedBy(1 + devices.size() / IN_FLIGHT));
    } catch (StatusRuntimeException e) {
      // Nothing half-created stays behind: devices, credentials and claims of this call go again, best effort and by
      // blind deletes (no reads: the node may be struggling already); the caller is told UNAVAILABLE either way.
      StorageWindow removals = new StorageWindow(IN_FLIGHT);
      for (int i = 0; i < devices.size(); i++) {
        String deviceId = devices.get(i).deviceId();
        List<DeviceRegistry.NewCredential> written = hashed.get(i).getNow(List.of());
        removals.submit(() -> registry.removeCreated(tenant, deviceId, written));
      }
      removals.all().handle((v, err) -> null).thenCompose(v -> registry.release(tenant, claims))
          .whenComplete((v, err) -> {
            if (err != null) {
              LOG.warn("BatchCreateDevices for tenant {}: removing the devices of a failed call failed", tenant, err);
            }
          });
      throw e;
    }
    BatchCreateDevicesResponse.Builder out = BatchCreateDevicesResponse.newBuilder();
    devices.forEach(d -> out.addDevices(toProto(d)));
    return out.build();
  }

  private static void awaitSettled(List<? extends CompletableFuture<?>> all, Duration wait) {
    try {
      CompletableFuture.allOf(all.stream().map(f -> f.handle((v, e) -> null)).toArray(CompletableFuture[]::new))
          .get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    } catch (ExecutionException | TimeoutException e) {
      throw Status.UNAVAILABLE.withDescription("storage did not answer in " + wait).asRuntimeException();
    }
  }

  private static Throwable cause(CompletableFuture<?> failed) {
    try {
      failed.join();
      return null;
    } catch (java.util.concurrent.CompletionException | java.util.concurrent.CancellationException e) {
      return Failures.cause(e);
    }
  }

  /** Where one call's creation time went, for its log line. */
  private static final class CreationTimes {
    final java.util.concurrent.atomic.AtomicLong hashNanos = new java.util.concurrent.atomic.AtomicLong();
    long claimNanos;
    int groups;

    <T> T hashed(Supplier<T> work) {
      long t = System.nanoTime();
      try {
        return work.get();
      } finally {
        hashNanos.addAndGet(System.nanoTime() - t);
      }
    }
  }

  private List<DeviceRegistry.NewCredential> stored(CreateDeviceRequest r, Device d) {
    List<DeviceRegistry.NewCredential> stored = new ArrayList<>(r.getCredentialsCount());
    for (Credential c : r.getCredentialsList()) {
      stored.add(stored(c, d.deviceId()));
    }
    return stored;
  }

  private DeviceRegistry.NewCredential stored(Credential c, String deviceId) {
    String authId = c.getAuthId().isEmpty() ? deviceId : c.getAuthId();
    if (c.hasPassword()) {
      return new DeviceRegistry.NewCredential(authId, DeviceRegistry.PASSWORD,
          (c.getGeneratedPassword() ? generatedSecretHasher : hasher).hash(c.getPassword()), null);
    }
    if (c.hasX509Sha256Fingerprint()) {
      return new DeviceRegistry.NewCredential(authId, DeviceRegistry.X509,
          CertificateFingerprint.normalize(c.getX509Sha256Fingerprint()), null);
    }
    return new DeviceRegistry.NewCredential(authId, DeviceRegistry.PSK, null, c.getPsk().toByteArray());
  }

  @Override
  public void deleteDevice(DeleteDeviceRequest request, StreamObserver<Empty> response) {
    respond(response, () -> {
      String[] name = Names.device("name", request.getName());
      if (!await(registry.deleteDevice(name[0], name[1])) && !request.getAllowMissing()) {
        throw ApiErrors.notFound("iiot.device.v1.Device", request.getName());
      }
      return Empty.getDefaultInstance();
    });
  }

  @Override
  public void batchDeleteDevices(BatchDeleteDevicesRequest request, StreamObserver<BatchDeleteDevicesResponse> out) {
    respond(out, () -> {
      String tenant = Names.tenant("parent", request.getParent());
      List<String> ids = request.getDeviceIdsList();
      if (ids.isEmpty() || ids.size() > MAX_BATCH) {
        throw ApiErrors.invalid("device_ids", "1 to " + MAX_BATCH + " device ids per batch, got " + ids.size());
      }
      ApiErrors.Violations violations = new ApiErrors.Violations();
      for (int i = 0; i < ids.size(); i++) {
        if (!validId(ids.get(i))) {
          violations.add("device_ids[" + i + "]", "not a device id");
        }
      }
      violations.throwIfAny();
      StorageWindow deletions = new StorageWindow(IN_FLIGHT);
      List<CompletableFuture<Boolean>> existed = new ArrayList<>();
      for (String id : new LinkedHashSet<>(ids)) {
        existed.add(deletions.submit(() -> registry.deleteDevice(tenant, id)));
      }
      await(deletions.all(), STORAGE_WAIT.multipliedBy(1 + ids.size() / IN_FLIGHT));
      return BatchDeleteDevicesResponse.newBuilder()
          .setDeletedCount((int) existed.stream().filter(CompletableFuture::join).count()).build();
    });
  }

  private static void validate(CreateDeviceRequest r, String at, String parent, Set<String> deviceIds,
      Map<String, Set<Credential.SecretCase>> credentialTypes, Set<String> profiles, ApiErrors.Violations v) {
    if (!r.getParent().isEmpty() && !r.getParent().equals(parent)) {
      v.add(at + ".parent", "must be empty or the batch's parent " + parent);
    }
    if (!validId(r.getDeviceId())) {
      v.add(at + ".device_id", "1-128 letters, digits, '_', '.', ':', '-', starting with a letter or digit");
    } else if (!deviceIds.add(r.getDeviceId())) {
      v.add(at + ".device_id", "'" + r.getDeviceId() + "' appears twice in the batch");
    }
    if (!validId(r.getDevice().getProfile())) {
      v.add(at + ".device.profile", "required: the id of a device profile of the tenant");
    } else {
      profiles.add(r.getDevice().getProfile());
    }
    for (int j = 0; j < r.getDevice().getViaCount(); j++) {
      if (!validId(r.getDevice().getVia(j))) {
        v.add(at + ".device.via[" + j + "]", "not a device id");
      }
    }
    for (int j = 0; j < r.getCredentialsCount(); j++) {
      Credential c = r.getCredentials(j);
      String cat = at + ".credentials[" + j + "]";
      String authId = c.getAuthId().isEmpty() ? r.getDeviceId() : c.getAuthId();
      if (!validId(authId)) {
        if (!c.getAuthId().isEmpty()) { // a defaulted one repeats the device_id violation
          v.add(cat + ".auth_id", "1-128 letters, digits, '_', '.', ':', '-'");
        }
      } else if (!credentialTypes.computeIfAbsent(authId, k -> EnumSet.noneOf(Credential.SecretCase.class))
          .add(c.getSecretCase())) {
        v.add(cat + ".auth_id", "'" + authId + "' appears twice in the batch with a " + c.getSecretCase());
      }
      switch (c.getSecretCase()) {
        case PASSWORD -> {
          int n = c.getPassword().length();
          if (n < 8 || n > 256) {
            v.add(cat + ".password", "8 to 256 characters");
          } else if (c.getGeneratedPassword() && n < MIN_GENERATED_PASSWORD) {
            v.add(cat + ".generated_password", "a generated password has at least " + MIN_GENERATED_PASSWORD
                + " characters (128 random bits in base64url)");
          }
        }
        case PSK -> {
          int n = c.getPsk().size();
          if (n < 8 || n > 64) {
            v.add(cat + ".psk", "8 to 64 bytes");
          }
        }
        case X509_SHA256_FINGERPRINT -> {
          try {
            CertificateFingerprint.normalize(c.getX509Sha256Fingerprint());
          } catch (IllegalArgumentException e) {
            v.add(cat + ".x509_sha256_fingerprint", e.getMessage());
          }
        }
        default -> v.add(cat, "set password, psk or x509_sha256_fingerprint");
      }
    }
  }

  @Override
  public void getDevice(GetDeviceRequest request, StreamObserver<io.iiot.device.v1.Device> response) {
    respond(response, () -> {
      String[] name = Names.device("name", request.getName());
      return toProto(await(registry.device(name[0], name[1]))
          .orElseThrow(() -> ApiErrors.notFound("iiot.device.v1.Device", request.getName())));
    });
  }

  @Override
  public void listDevices(ListDevicesRequest request, StreamObserver<ListDevicesResponse> response) {
    respond(response, () -> {
      String tenant = Names.tenant("parent", request.getParent());
      int size = request.getPageSize() == 0 ? 100 : request.getPageSize();
      if (size < 1 || size > 1000) {
        throw ApiErrors.invalid("page_size", "1 to 1000 (0 means 100)");
      }
      String after = "";
      if (!request.getPageToken().isEmpty()) {
        try {
          after = new String(Base64.getUrlDecoder().decode(request.getPageToken()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          throw ApiErrors.invalid("page_token", "not a token from a previous response");
        }
      }
      // One more than asked tells whether another page follows.
      List<Device> page = await(registry.devices(tenant, after, size + 1));
      ListDevicesResponse.Builder b = ListDevicesResponse.newBuilder();
      page.stream().limit(size).forEach(d -> b.addDevices(toProto(d)));
      if (page.size() > size) {
        b.setNextPageToken(Base64.getUrlEncoder().withoutPadding()
            .encodeToString(page.get(size - 1).deviceId().getBytes(StandardCharsets.UTF_8)));
      }
      return b.build();
    });
  }

  private void requireTenant(String tenant) {
    if (await(registry.tenant(tenant)).isEmpty()) {
      throw ApiErrors.notFound("iiot.device.v1.Tenant", "tenants/" + tenant);
    }
  }

  private static io.iiot.device.v1.Device toProto(Device d) {
    return io.iiot.device.v1.Device.newBuilder()
        .setName(Names.deviceName(d.tenant(), d.deviceId()))
        .setProfile(d.profileId())
        .setEnabled(d.enabled())
        .setCreateTime(Timestamp.newBuilder().setSeconds(d.createdAt().getEpochSecond())
            .setNanos(d.createdAt().getNano()))
        .addAllVia(d.via().stream().sorted().toList())
        .build();
  }

  private static boolean validId(String id) {
    return id != null && Device.ID.matcher(id).matches();
  }

  private static <T> T await(CompletionStage<T> stage) {
    return await(stage, STORAGE_WAIT);
  }

  private static <T> T await(CompletionStage<T> stage, Duration wait) {
    try {
      return stage.toCompletableFuture().get(wait.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    } catch (ExecutionException | TimeoutException e) {
      Throwable cause = Failures.cause(e);
      throw Status.UNAVAILABLE.withDescription("storage did not answer: " + cause.getMessage()).withCause(cause)
          .asRuntimeException();
    }
  }

  private static <T> void respond(StreamObserver<T> observer, Supplier<T> call) {
    T result;
    try {
      result = call.get();
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
        // The caller sees only the status; what storage said is kept here (onboarding chunks lost under load).
        LOG.warn("call failed: {}", e.getStatus().getDescription(), e.getCause());
      }
      observer.onError(e);
      return;
    } catch (RuntimeException e) {
      LOG.warn("call failed", e);
      observer.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
      return;
    }
    observer.onNext(result);
    observer.onCompleted();
  }
}
