package io.iiot.devicehub.transport.coap;

import io.iiot.devicehub.domain.AddressException;
import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.domain.Endpoint;
import io.iiot.devicehub.domain.PublishAddress;
import io.iiot.devicehub.ingest.IngestException;
import io.iiot.devicehub.ingest.TelemetryIngest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.security.Principal;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.californium.elements.auth.PreSharedKeyIdentity;

/**
 * Hono's CoAP telemetry and event resources: {@code /t}, {@code /telemetry}, {@code /e}, {@code /event}, each also
 * answering every path below it ({@code /t/<tenant>/<device>}, {@code /t//<device>}).
 *
 * <ul>
 *   <li>DTLS-authenticated devices POST (or PUT) to {@code /t}; the device comes from the PSK identity, gateways name
 *       their device in the path.
 *   <li>Without DTLS, a request must name tenant and device, and is accepted only if {@code coap.allow-unauthenticated}.
 *   <li>CON is at least once: {@code 2.04 Changed} only after the durable write. NON is at most once.
 *   <li>Errors: 4.00 bad payload or address, 4.01 no credentials, 4.03 another tenant or a gateway without rights,
 *       4.04 unknown or disabled device, 4.13 payload too large, 5.03 with Max-Age when overloaded or Cassandra did
 *       not acknowledge. The diagnostic payload says what was wrong.
 * </ul>
 *
 * Runs on Californium's threads; responses are sent from whichever thread completes the write.
 */
final class TelemetryResource extends CoapResource {
  private final Endpoint endpoint;
  private final TelemetryIngest ingest;
  private final RegistryPskStore psk;
  private final CoapSettings settings;
  private final MeterRegistry meters;
  private final CoapCommands commands;
  /** Message counters by "qos/outcome", registered once. */
  private final java.util.Map<String, Counter> counters = new java.util.concurrent.ConcurrentHashMap<>();
  /**
   * The "stored" counters by QoS, the one counted per message (no key built and looked up); registered at first use
   * like the others, since MQTT's counters of the same name carry other tags.
   */
  private final Counter[] stored = new Counter[2];

  TelemetryResource(String name, Endpoint endpoint, TelemetryIngest ingest, RegistryPskStore psk,
      CoapSettings settings, MeterRegistry meters, CoapCommands commands) {
    super(name);
    this.endpoint = endpoint;
    this.ingest = ingest;
    this.psk = psk;
    this.settings = settings;
    this.meters = meters;
    this.commands = commands;
  }

  /** Every sub-path is handled here: the path carries tenant and device, not child resources. */
  @Override
  public Resource getChild(String name) {
    return this;
  }

  @Override
  public void handlePOST(CoapExchange exchange) {
    handle(exchange);
  }

  @Override
  public void handlePUT(CoapExchange exchange) {
    handle(exchange);
  }

  private void handle(CoapExchange exchange) {
    int qos = exchange.advanced().getRequest().isConfirmable() ? 1 : 0;
    if (ingest.writer().saturated()) {
      count(qos, "overloaded");
      respondUnavailable(exchange, "overloaded: too many writes waiting for storage");
      return;
    }
    PublishAddress address;
    Integer ttd;
    try {
      address = PublishAddress.parse(String.join("/", exchange.getRequestOptions().getUriPath()));
      ttd = commands.ttd(exchange);
    } catch (AddressException | IllegalArgumentException e) {
      fail(exchange, qos, new IngestException(IngestException.Kind.INVALID_ADDRESS, e.getMessage()));
      return;
    }
    sender(exchange, address).whenComplete((sender, err) -> {
      if (err != null) {
        fail(exchange, qos, IngestException.of(err));
      } else if (sender.isEmpty()) {
        count(qos, "unauthenticated");
        respond(exchange, ResponseCode.UNAUTHORIZED, "use DTLS with a PSK identity auth-id@tenant");
      } else {
        int format = exchange.getRequestOptions().getContentFormat();
        // 42 (octet-stream) and none: let the mapper tell JSON and the binary form apart by the first byte.
        String contentType = format == MediaTypeRegistry.UNDEFINED || format == MediaTypeRegistry.APPLICATION_OCTET_STREAM
            ? null : MediaTypeRegistry.toString(format);
        ingest.publish(sender.get(), address, qos, exchange.getRequestPayload(), contentType)
            .whenComplete((v, e) -> {
              if (e == null) {
                countStored(qos);
                DeviceRef target = ttd == null ? null : target(address, sender.get());
                if (target == null) {
                  exchange.respond(new PeerResponse(exchange, ResponseCode.CHANGED));
                } else {
                  // hono-ttd: the device waits for a command; it rides in the 2.04 (see CoapCommands).
                  commands.waitForCommand(exchange, target, ttd, getName().length() == 1,
                      CoapDevice.authenticated(exchange));
                }
              } else {
                fail(exchange, qos, IngestException.of(e));
              }
            });
      }
    });
  }

  private static DeviceRef target(PublishAddress address, DeviceRef sender) {
    try {
      return address.target(sender);
    } catch (AddressException e) {
      return null;
    }
  }

  /** The authenticated device, or for plain CoAP (when allowed) the device named in the path. */
  private CompletionStage<Optional<DeviceRef>> sender(CoapExchange exchange, PublishAddress address) {
    Principal peer = exchange.advanced().getRequest().getSourceContext().getPeerIdentity();
    if (peer instanceof PreSharedKeyIdentity id) {
      return psk.device(id.getIdentity());
    }
    if (settings.allowUnauthenticated() && !address.tenant().isEmpty() && !address.deviceId().isEmpty()) {
      return CompletableFuture.completedFuture(Optional.of(new DeviceRef(address.tenant(), address.deviceId())));
    }
    return CompletableFuture.completedFuture(Optional.empty());
  }

  private void fail(CoapExchange exchange, int qos, IngestException e) {
    count(qos, e.kind().name().toLowerCase(Locale.ROOT));
    switch (e.kind()) {
      case OVERLOADED, UNAVAILABLE -> respondUnavailable(exchange, e.getMessage());
      case FORBIDDEN -> respond(exchange, ResponseCode.FORBIDDEN, e.getMessage());
      case NOT_FOUND -> respond(exchange, ResponseCode.NOT_FOUND, e.getMessage());
      case TOO_LARGE -> respond(exchange, ResponseCode.REQUEST_ENTITY_TOO_LARGE, e.getMessage());
      default -> respond(exchange, ResponseCode.BAD_REQUEST, e.getMessage());
    }
  }

  /** A diagnostic payload in plain text, as {@code CoapExchange.respond(code, text)} sends it. */
  private static void respond(CoapExchange exchange, ResponseCode code, String message) {
    Response r = new PeerResponse(exchange, code);
    r.setPayload(message);
    r.getOptions().setContentFormat(MediaTypeRegistry.TEXT_PLAIN);
    exchange.respond(r);
  }

  private void respondUnavailable(CoapExchange exchange, String message) {
    Response r = new PeerResponse(exchange, ResponseCode.SERVICE_UNAVAILABLE);
    r.setPayload(message);
    r.getOptions().setMaxAge(settings.overloadMaxAgeSeconds());
    exchange.respond(r);
  }

  private void countStored(int qos) {
    Counter c = stored[qos];
    if (c == null) {
      c = counter(qos, "stored");
      stored[qos] = c;
    }
    c.increment();
  }

  private void count(int qos, String outcome) {
    counter(qos, outcome).increment();
  }

  private Counter counter(int qos, String outcome) {
    return counters.computeIfAbsent(qos + "/" + outcome, k -> Counter.builder("devicehub.messages")
        .tag("transport", "coap").tag("qos", Integer.toString(qos)).tag("outcome", outcome)
        .tag("endpoint", endpoint.name().toLowerCase(Locale.ROOT)).register(meters));
  }
}
