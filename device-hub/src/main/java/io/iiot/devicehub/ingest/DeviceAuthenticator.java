package io.iiot.devicehub.ingest;

import io.iiot.devicehub.domain.AuthId;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.domain.PasswordHasher;
import io.iiot.devicehub.storage.DeviceRegistry;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Checks a device's user name ({@code auth-id@tenant}) and password, and that the device and its tenant are enabled.
 * The PBKDF2 check runs on {@code hashPool}, a bounded pool: never on an event loop, and a connection storm gets
 * "server busy" instead of an unbounded queue.
 */
public final class DeviceAuthenticator {
  /** The outcome; {@code device} is set when {@code result} is {@link Result#ACCEPTED}. */
  public record Outcome(Result result, DeviceRef device) {}

  /** Kept apart so transports can answer with the right code. */
  public enum Result { ACCEPTED, BAD_CREDENTIALS, BUSY, UNAVAILABLE }

  private final RegistryCache cache;
  private final Executor hashPool;

  public DeviceAuthenticator(RegistryCache cache, Executor hashPool) {
    this.cache = cache;
    this.hashPool = hashPool;
  }

  /** Never fails: every problem is an {@link Outcome}. May complete on any thread. */
  public CompletionStage<Outcome> authenticate(String username, String password) {
    AuthId id = AuthId.parse(username);
    if (id == null || password == null) {
      return CompletableFuture.completedFuture(new Outcome(Result.BAD_CREDENTIALS, null));
    }
    return cache.registry().credential(id.tenant(), id.authId(), DeviceRegistry.PASSWORD)
        .thenCompose(cred -> {
          if (cred.isEmpty()) {
            return CompletableFuture.completedFuture(new Outcome(Result.BAD_CREDENTIALS, null));
          }
          CompletableFuture<Boolean> verified = new CompletableFuture<>();
          try {
            hashPool.execute(() -> verified.complete(PasswordHasher.verify(password, cred.get().secret())));
          } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(new Outcome(Result.BUSY, null));
          }
          DeviceRef ref = new DeviceRef(id.tenant(), cred.get().deviceId());
          return verified.thenCompose(ok -> ok ? enabled(ref) : CompletableFuture.completedFuture(
              new Outcome(Result.BAD_CREDENTIALS, null)));
        })
        .exceptionally(err -> new Outcome(Result.UNAVAILABLE, null));
  }

  /** Accepts a device already identified by its transport (a DTLS PSK handshake) if it and its tenant are enabled. */
  public CompletionStage<Outcome> enabled(DeviceRef ref) {
    return cache.tenant(ref.tenant()).thenCombine(cache.device(ref.tenant(), ref.deviceId()),
        (Optional<io.iiot.devicehub.domain.Tenant> t, Optional<Device> d) ->
            t.isPresent() && t.get().enabled() && d.isPresent() && d.get().enabled()
                ? new Outcome(Result.ACCEPTED, ref)
                : new Outcome(Result.BAD_CREDENTIALS, null));
  }
}
