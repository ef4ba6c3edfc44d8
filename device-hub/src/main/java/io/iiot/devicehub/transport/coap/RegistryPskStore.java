package io.iiot.devicehub.transport.coap;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import io.iiot.devicehub.domain.AuthId;
import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.ingest.DeviceAuthenticator;
import io.iiot.devicehub.storage.DeviceRegistry;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.crypto.SecretKey;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.dtls.PskPublicInformation;
import org.eclipse.californium.scandium.dtls.PskSecretResult;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedPskStore;
import org.eclipse.californium.scandium.util.SecretUtil;
import org.eclipse.californium.scandium.util.ServerNames;

/**
 * DTLS pre-shared keys from the device registry. The PSK identity is {@code auth-id@tenant}, as Hono's; the key is
 * looked up asynchronously (Scandium waits for the result handler), and only for an enabled device of an enabled
 * tenant. Remembers which device each identity belongs to, for the requests that follow the handshake.
 */
final class RegistryPskStore implements AdvancedPskStore {
  private final DeviceRegistry registry;
  private final DeviceAuthenticator authenticator;
  private final Cache<String, DeviceRef> devices = CacheBuilder.newBuilder()
      .expireAfterAccess(Duration.ofHours(1)).maximumSize(1_000_000).build();
  private final Counter found;
  private final Counter unknown;
  private volatile HandshakeResultHandler resultHandler;

  RegistryPskStore(DeviceRegistry registry, DeviceAuthenticator authenticator, MeterRegistry meters) {
    this.registry = registry;
    this.authenticator = authenticator;
    this.found = Counter.builder("devicehub.coap.psk.lookups").tag("result", "found").register(meters);
    this.unknown = Counter.builder("devicehub.coap.psk.lookups").tag("result", "unknown").register(meters);
  }

  @Override
  public boolean hasEcdhePskSupported() {
    return true;
  }

  @Override
  public PskSecretResult requestPskSecretResult(ConnectionId cid, ServerNames serverName,
      PskPublicInformation identity, String hmacAlgorithm, SecretKey otherSecret, byte[] seed,
      boolean useExtendedMasterSecret) {
    AuthId id = AuthId.parse(identity.getPublicInfoAsString());
    if (id == null) {
      unknown.increment();
      return new PskSecretResult(cid, identity, null);
    }
    registry.credential(id.tenant(), id.authId(), DeviceRegistry.PSK)
        .thenCompose(cred -> {
          if (cred.isEmpty() || cred.get().key() == null) {
            return CompletableFuture.completedFuture(Optional.<byte[]>empty());
          }
          DeviceRef ref = new DeviceRef(id.tenant(), cred.get().deviceId());
          return authenticator.enabled(ref).thenApply(o -> {
            if (o.result() != DeviceAuthenticator.Result.ACCEPTED) {
              return Optional.<byte[]>empty();
            }
            devices.put(identity.getPublicInfoAsString(), ref);
            return Optional.of(cred.get().key());
          });
        })
        .whenComplete((key, err) -> {
          boolean ok = err == null && key.isPresent();
          (ok ? found : unknown).increment();
          // A null secret fails the handshake: the client learns nothing about which part was wrong.
          SecretKey secret = ok ? SecretUtil.create(key.get(), PskSecretResult.ALGORITHM_PSK) : null;
          resultHandler.apply(new PskSecretResult(cid, identity, secret));
        });
    return null; // answered asynchronously through the result handler
  }

  /** The device behind a PSK identity that completed a handshake. */
  CompletionStage<Optional<DeviceRef>> device(String identity) {
    DeviceRef known = devices.getIfPresent(identity);
    if (known != null) {
      return CompletableFuture.completedFuture(Optional.of(known));
    }
    AuthId id = AuthId.parse(identity);
    if (id == null) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return registry.credential(id.tenant(), id.authId(), DeviceRegistry.PSK)
        .thenApply(c -> c.map(cred -> new DeviceRef(id.tenant(), cred.deviceId())));
  }

  @Override
  public PskPublicInformation getIdentity(InetSocketAddress peerAddress, ServerNames virtualHost) {
    return null; // server side only
  }

  @Override
  public void setResultHandler(HandshakeResultHandler resultHandler) {
    this.resultHandler = resultHandler;
  }
}
