package io.iiot.devicehub.ingest;

import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.TelemetrySchema;
import io.iiot.devicehub.domain.Tenant;
import io.iiot.devicehub.storage.DeviceRegistry;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Registry look-ups on the message path, cached so a message costs no registry read: tenants, devices and schemas
 * for {@code ttl} (a disabled device is refused within that time), bounded in size. Concurrent misses for the same
 * key share one read; failed reads are not cached. Thread-safe.
 */
public final class RegistryCache {
  /**
   * A device or profile within its tenant (no key string built per look-up). equals and hashCode written out: a
   * record's generated ones run through method-handle chains that showed up on the message path's profile.
   */
  private record Key(String tenant, String id) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && tenant.equals(k.tenant) && id.equals(k.id);
    }

    @Override
    public int hashCode() {
      return 31 * tenant.hashCode() + id.hashCode();
    }
  }

  private final DeviceRegistry registry;
  private final ExpiringCache<String, CompletableFuture<Optional<Tenant>>> tenants;
  private final ExpiringCache<Key, CompletableFuture<Optional<Device>>> devices;
  private final ExpiringCache<Key, CompletableFuture<Optional<TelemetrySchema>>> schemas;

  public RegistryCache(DeviceRegistry registry, Duration ttl, int maxDevices) {
    this.registry = registry;
    this.tenants = new ExpiringCache<>(ttl, 10_000);
    this.devices = new ExpiringCache<>(ttl, maxDevices);
    this.schemas = new ExpiringCache<>(ttl, 10_000);
  }

  public DeviceRegistry registry() {
    return registry;
  }

  public CompletableFuture<Optional<Tenant>> tenant(String tenant) {
    return cached(tenants, tenant, () -> registry.tenant(tenant));
  }

  public CompletableFuture<Optional<Device>> device(String tenant, String deviceId) {
    return cached(devices, new Key(tenant, deviceId), () -> registry.device(tenant, deviceId));
  }

  public CompletableFuture<Optional<TelemetrySchema>> schema(String tenant, String profileId) {
    return cached(schemas, new Key(tenant, profileId), () -> registry.profile(tenant, profileId));
  }

  private static <K, V> CompletableFuture<V> cached(ExpiringCache<K, CompletableFuture<V>> cache, K key,
      Supplier<CompletionStage<V>> load) {
    // The hit, on every message, is a lock-free read; a write only on a miss.
    CompletableFuture<V> hit = cache.get(key);
    if (hit != null) {
      return hit;
    }
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> existing = cache.putIfAbsent(key, mine);
    if (existing != null) {
      return existing;
    }
    load.get().whenComplete((v, err) -> {
      if (err != null) {
        cache.remove(key, mine);
        mine.completeExceptionally(err);
      } else {
        mine.complete(v);
      }
    });
    return mine;
  }
}
