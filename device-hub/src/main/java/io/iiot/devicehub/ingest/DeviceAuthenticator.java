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

  /**
   * A client certificate presented in the TLS handshake (MQTT 8883): its SHA-256 fingerprint must be a registered
   * credential and its subject CN that credential's auth id. The TLS layer accepted the certificate without a CA: the
   * registered fingerprint is what is trusted.
   */
  public CompletionStage<Outcome> authenticateCertificate(java.security.cert.X509Certificate cert) {
    String fingerprint;
    String cn;
    try {
      fingerprint = io.iiot.devicehub.domain.CertificateFingerprint.of(cert.getEncoded());
      cn = io.iiot.devicehub.domain.CertificateFingerprint.commonName(
          cert.getSubjectX500Principal().getName(javax.security.auth.x500.X500Principal.RFC2253));
    } catch (java.security.cert.CertificateEncodingException e) {
      return CompletableFuture.completedFuture(new Outcome(Result.BAD_CREDENTIALS, null));
    }
    return cache.registry().certificateOwner(fingerprint)
        .thenCompose(owner -> owner.isEmpty() || !owner.get().authId().equals(cn)
            ? CompletableFuture.completedFuture(new Outcome(Result.BAD_CREDENTIALS, null))
            : enabled(new DeviceRef(owner.get().tenant(), owner.get().deviceId())))
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
