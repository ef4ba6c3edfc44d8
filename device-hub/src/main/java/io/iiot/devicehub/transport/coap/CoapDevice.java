package io.iiot.devicehub.transport.coap;

import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.ingest.RegistryCache;
import java.security.Principal;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.elements.auth.PreSharedKeyIdentity;

/**
 * Who a command-related CoAP request is from and for: the DTLS PSK identity, or (plain CoAP, only with
 * {@code coap.allow-unauthenticated}) the tenant and device named in the path.
 */
final class CoapDevice {
  /** The requesting device (null: not authenticated) and the device the request is about. */
  record Target(DeviceRef sender, DeviceRef device, boolean authenticated) {}

  private final RegistryPskStore psk;
  private final RegistryCache registry;
  private final boolean allowUnauthenticated;

  CoapDevice(RegistryPskStore psk, RegistryCache registry, boolean allowUnauthenticated) {
    this.psk = psk;
    this.registry = registry;
    this.allowUnauthenticated = allowUnauthenticated;
  }

  static boolean authenticated(CoapExchange exchange) {
    return exchange.advanced().getRequest().getSourceContext().getPeerIdentity() instanceof PreSharedKeyIdentity;
  }

  /**
   * Resolves {@code path} = [tenant, device] or [] (authenticated device itself). Empty when the request has no
   * usable identity; fails with {@link SecurityException} for another tenant or a device the gateway may not act for,
   * {@link IllegalArgumentException} for a malformed path.
   */
  CompletionStage<Optional<Target>> resolve(CoapExchange exchange, List<String> path) {
    if (!path.isEmpty() && path.size() != 2) {
      return CompletableFuture.failedFuture(new IllegalArgumentException("path must be empty or <tenant>/<device>"));
    }
    Principal peer = exchange.advanced().getRequest().getSourceContext().getPeerIdentity();
    if (peer instanceof PreSharedKeyIdentity id) {
      return psk.device(id.getIdentity()).thenCompose(sender -> {
        if (sender.isEmpty()) {
          return CompletableFuture.completedFuture(Optional.<Target>empty());
        }
        DeviceRef me = sender.get();
        if (path.isEmpty()) {
          return CompletableFuture.completedFuture(Optional.of(new Target(me, me, true)));
        }
        String tenant = path.get(0).isEmpty() ? me.tenant() : path.get(0);
        if (!tenant.equals(me.tenant())) {
          throw new SecurityException("tenant '" + tenant + "' is not the tenant of the authenticated device");
        }
        DeviceRef target = new DeviceRef(tenant, path.get(1));
        if (target.equals(me)) {
          return CompletableFuture.completedFuture(Optional.of(new Target(me, me, true)));
        }
        return registry.device(tenant, target.deviceId()).thenApply(d -> {
          if (d.filter(Device::enabled).map(x -> x.acceptsGateway(me.deviceId())).orElse(false)) {
            return Optional.of(new Target(me, target, true));
          }
          throw new SecurityException("gateway " + me + " may not act for device " + target.deviceId());
        });
      });
    }
    if (allowUnauthenticated && path.size() == 2 && !path.get(0).isEmpty() && !path.get(1).isEmpty()) {
      DeviceRef target = new DeviceRef(path.get(0), path.get(1));
      return CompletableFuture.completedFuture(Optional.of(new Target(null, target, false)));
    }
    return CompletableFuture.completedFuture(Optional.empty());
  }
}
