package io.iiot.devicehub.transport.coap;

import io.iiot.base.async.Failures;
import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.CommandResponse;
import io.iiot.devicehub.domain.DeviceRef;
import java.time.Clock;
import java.util.List;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;

/**
 * Hono's CoAP command response resource, {@code /command_response} and {@code /cr}: an authenticated device POSTs
 * {@code /cr/<req-id>?hono-cmd-status=<code>} (a gateway {@code /cr/<tenant>/<device>/<req-id>}), an
 * unauthenticated one (with {@code coap.allow-unauthenticated}) PUTs {@code /cr/<tenant>/<device>/<req-id>}. The
 * payload and Content-Format are the response's. 2.04 once stored; 4.00 missing/bad status or path, 4.01 no
 * identity, 4.03 another tenant or a gateway without rights, 4.04 no such command, 5.03 storage did not answer.
 */
final class CommandResponseResource extends CoapResource {
  private final CommandRouter router;
  private final CoapDevice devices;
  private final Clock clock;

  CommandResponseResource(String name, CommandRouter router, CoapDevice devices, Clock clock) {
    super(name);
    this.router = router;
    this.devices = devices;
    this.clock = clock;
  }

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
    List<String> rest = CoapCommands.rest(exchange);
    if (rest.size() != 1 && rest.size() != 3 || !Command.ID.matcher(rest.get(rest.size() - 1)).matches()) {
      exchange.respond(ResponseCode.BAD_REQUEST, "path must be " + getName() + "/<req-id> or " + getName()
          + "/<tenant>/<device>/<req-id>, req-id as received in the command's Location-Path");
      return;
    }
    String requestId = rest.get(rest.size() - 1);
    CommandResponse response;
    try {
      String status = exchange.getRequestOptions().getUriQuery().stream()
          .filter(q -> q.startsWith("hono-cmd-status=")).map(q -> q.substring("hono-cmd-status=".length()))
          .findFirst().orElseThrow(() -> new IllegalArgumentException("query parameter hono-cmd-status is missing"));
      int format = exchange.getRequestOptions().getContentFormat();
      response = new CommandResponse(CommandResponse.parseStatus(status), exchange.getRequestPayload(),
          format == MediaTypeRegistry.UNDEFINED ? "" : MediaTypeRegistry.toString(format), clock.instant());
    } catch (IllegalArgumentException e) {
      exchange.respond(ResponseCode.BAD_REQUEST, e.getMessage());
      return;
    }
    devices.resolve(exchange, rest.subList(0, rest.size() - 1))
        .thenCompose(target -> {
          if (target.isEmpty()) {
            exchange.respond(ResponseCode.UNAUTHORIZED, "use DTLS with a PSK identity auth-id@tenant");
            return java.util.concurrent.CompletableFuture.completedFuture(null);
          }
          DeviceRef device = target.get().device();
          return router.answer(device, requestId, response).thenAccept(state -> {
            if (state.isEmpty()) {
              exchange.respond(ResponseCode.NOT_FOUND, "no command " + requestId + " for device " + device);
            } else {
              exchange.respond(ResponseCode.CHANGED);
            }
          });
        })
        .whenComplete((v, err) -> {
          if (err != null) {
            Throwable e = Failures.cause(err);
            if (e instanceof SecurityException) {
              exchange.respond(ResponseCode.FORBIDDEN, e.getMessage());
            } else if (e instanceof IllegalArgumentException) {
              exchange.respond(ResponseCode.BAD_REQUEST, e.getMessage());
            } else {
              exchange.respond(ResponseCode.SERVICE_UNAVAILABLE, "storage did not answer: " + e.getMessage());
            }
          }
        });
  }
}
