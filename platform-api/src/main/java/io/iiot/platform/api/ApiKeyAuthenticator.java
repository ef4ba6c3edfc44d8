package io.iiot.platform.api;

import com.google.rpc.Code;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.iiot.platform.domain.ApiKeySecrets;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.RateLimiter;
import io.iiot.platform.storage.ApiKeyStore;
import io.iiot.platform.storage.ApiKeyStore.StoredKey;
import io.iiot.platform.v1.ErrorReason;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * Authenticates every call of the platform services by its {@code x-api-key} header, applies the key's rate limit and
 * puts the {@link Principal} into the gRPC {@link Context} for the service to authorize against.
 *
 * <p>Verified keys are cached for {@link #CACHE_NANOS}, so a revoked key stops working within that time on every
 * replica. Cache misses read Cassandra; gRPC runs interceptors on its call executor, not on a Netty event loop, so
 * the bounded wait here blocks no I/O thread. The key's rate limit is charged only after its secret is verified; cache
 * misses are throttled per key id before they reach Cassandra.
 */
public final class ApiKeyAuthenticator implements ServerInterceptor {
  public static final Metadata.Key<String> API_KEY = Metadata.Key.of("x-api-key", Metadata.ASCII_STRING_MARSHALLER);
  static final Context.Key<Principal> PRINCIPAL = Context.key("iiot-principal");
  static final long CACHE_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final int CACHE_MAX = 10_000;

  private final ApiKeyStore keys;
  private final RateLimiter limiter;
  private final LongSupplier nanoTime;
  private final long lookupTimeoutMs;
  private final Map<String, Cached> cache = new ConcurrentHashMap<>();

  private record Cached(StoredKey key, long expires) {}

  public ApiKeyAuthenticator(ApiKeyStore keys, RateLimiter limiter, LongSupplier nanoTime, long lookupTimeoutMs) {
    this.keys = keys;
    this.limiter = limiter;
    this.nanoTime = nanoTime;
    this.lookupTimeoutMs = lookupTimeoutMs;
  }

  /** The caller of the current call; set by this interceptor before any service method runs. */
  public static Principal principal() {
    Principal p = PRINCIPAL.get();
    if (p == null) {
      throw new IllegalStateException("service reached without authentication");
    }
    return p;
  }

  /** Forgets a key at once on this replica (after DeleteApiKey). */
  void evict(String keyId) {
    cache.remove(keyId);
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Optional<ApiKeySecrets.PresentedKey> presented = ApiKeySecrets.parse(headers.get(API_KEY));
    if (presented.isEmpty()) {
      return reject(call, GrpcErrors.error(Code.UNAUTHENTICATED, ErrorReason.API_KEY_MISSING,
          "send an API key as metadata 'x-api-key: iiotk_<key id>_<secret>'", Map.of()));
    }
    String keyId = presented.get().keyId();
    StoredKey stored;
    try {
      stored = lookup(keyId);
    } catch (StatusRuntimeException e) {
      return reject(call, e);
    }
    if (stored == null || !ApiKeySecrets.matches(presented.get().secret(), stored.secretHash())) {
      return reject(call, GrpcErrors.error(Code.UNAUTHENTICATED, ErrorReason.API_KEY_INVALID,
          "the API key is unknown, revoked or wrong", Map.of("keyId", keyId)));
    }
    // Only verified calls spend the key's budget, so someone who knows a key id but not its secret cannot use it up.
    long wait = limiter.acquire(keyId);
    if (wait > 0) {
      return reject(call, GrpcErrors.rateLimited(wait));
    }
    Context ctx = Context.current().withValue(PRINCIPAL, stored.principal());
    return Contexts.interceptCall(ctx, call, headers, next);
  }

  private StoredKey lookup(String keyId) {
    long now = nanoTime.getAsLong();
    Cached c = cache.get(keyId);
    if (c != null && now - c.expires() < 0) {
      return c.key();
    }
    // Cache misses read Cassandra; they have a budget of their own per key id, so a flood of calls with a made-up
    // or revoked key id is throttled before it reaches the database.
    long wait = limiter.acquire("lookup:" + keyId);
    if (wait > 0) {
      throw GrpcErrors.rateLimited(wait);
    }
    Optional<StoredKey> found;
    try {
      found = keys.find(keyId).toCompletableFuture().get(lookupTimeoutMs, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw GrpcErrors.of(e);
    } catch (ExecutionException | TimeoutException e) {
      throw GrpcErrors.error(Code.UNAVAILABLE, ErrorReason.BACKEND_UNAVAILABLE,
          "cannot verify the API key now; retry with backoff", Map.of("backend", "cassandra"));
    }
    if (found.isEmpty()) {
      cache.remove(keyId);
      return null;
    }
    if (cache.size() >= CACHE_MAX) {
      cache.clear(); // crude bound; a miss only costs one read
    }
    cache.put(keyId, new Cached(found.get(), now + CACHE_NANOS));
    return found.get();
  }

  private static <Q, R> ServerCall.Listener<Q> reject(ServerCall<Q, R> call, StatusRuntimeException e) {
    call.close(e.getStatus(), e.getTrailers() == null ? new Metadata() : e.getTrailers());
    return new ServerCall.Listener<>() { };
  }
}
