package io.iiot.devicehub.ingest;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
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
  private final DeviceRegistry registry;
  private final Cache<String, CompletableFuture<Optional<Tenant>>> tenants;
  private final Cache<String, CompletableFuture<Optional<Device>>> devices;
  private final Cache<String, CompletableFuture<Optional<TelemetrySchema>>> schemas;

  public RegistryCache(DeviceRegistry registry, Duration ttl, long maxDevices) {
    this.registry = registry;
    this.tenants = CacheBuilder.newBuilder().expireAfterWrite(ttl).maximumSize(10_000).build();
    this.devices = CacheBuilder.newBuilder().expireAfterWrite(ttl).maximumSize(maxDevices).build();
    this.schemas = CacheBuilder.newBuilder().expireAfterWrite(ttl).maximumSize(10_000).build();
  }

  public DeviceRegistry registry() {
    return registry;
  }

  public CompletionStage<Optional<Tenant>> tenant(String tenant) {
    return cached(tenants, tenant, () -> registry.tenant(tenant));
  }

  public CompletionStage<Optional<Device>> device(String tenant, String deviceId) {
    return cached(devices, tenant + "/" + deviceId, () -> registry.device(tenant, deviceId));
  }

  public CompletionStage<Optional<TelemetrySchema>> schema(String tenant, String profileId) {
    return cached(schemas, tenant + "/" + profileId, () -> registry.profile(tenant, profileId));
  }

  private static <V> CompletionStage<V> cached(Cache<String, CompletableFuture<V>> cache, String key,
      Supplier<CompletionStage<V>> load) {
    // The hit, on every message, is a lock-free read; putIfAbsent (a segment write lock) only on a miss.
    CompletableFuture<V> hit = cache.getIfPresent(key);
    if (hit != null) {
      return hit;
    }
    CompletableFuture<V> mine = new CompletableFuture<>();
    CompletableFuture<V> existing = cache.asMap().putIfAbsent(key, mine);
    if (existing != null) {
      return existing;
    }
    load.get().whenComplete((v, err) -> {
      if (err != null) {
        cache.asMap().remove(key, mine);
        mine.completeExceptionally(err);
      } else {
        mine.complete(v);
      }
    });
    return mine;
  }
}
