package io.iiot.devicehub.transport.coap;

import io.iiot.base.async.Failures;
import io.iiot.devicehub.command.CommandDeliveryException;
import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.command.DeviceChannel;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.DeviceRef;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MessageObserverAdapter;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.observe.ObserveRelation;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;

/**
 * Commands pushed with CoAP Observe (RFC 7641), device-hub's addition to Hono's hono-ttd long polling:
 * {@code GET /command} (or {@code /c}) with Observe 0 over DTLS (the device from its PSK identity; a gateway adds
 * {@code /<tenant>/<device>}), or {@code GET /command/<tenant>/<device>} on plain CoAP when
 * {@code coap.allow-unauthenticated}. The registration is answered 2.05 with an empty payload once this replica is
 * registered as the device's; each command then arrives as a 2.05 CON notification carrying the command as in
 * {@link CoapCommands#commandResponse} (Location-Query {@code hono-command}, Location-Path {@code command_response/<req-id>}
 * or {@code cr/<req-id>}). A command counts as DELIVERED when the device ACKs its notification; the next waits for
 * that ACK, so none is overwritten by a newer notification. Cancelling the observation ends the channel.
 */
final class CommandObserveResource extends CoapResource {
  private final CommandRouter router;
  private final CoapDevice devices;
  private final boolean shortForm;
  private final Map<ObserveRelation, ObserveChannel> channels = new ConcurrentHashMap<>();

  CommandObserveResource(String name, CommandRouter router, CoapDevice devices) {
    super(name);
    this.router = router;
    this.devices = devices;
    this.shortForm = name.length() == 1;
    setObservable(true);
    setObserveType(Type.CON);
  }

  @Override
  public Resource getChild(String name) {
    return this;
  }

  @Override
  public void handleGET(CoapExchange exchange) {
    ObserveRelation relation = exchange.advanced().getRelation();
    ObserveChannel existing = relation == null ? null : channels.get(relation);
    if (existing != null) {
      existing.notification(exchange);
      return;
    }
    if (relation == null) {
      exchange.respond(ResponseCode.BAD_REQUEST, "observe this resource (Observe option 0) to receive commands");
      return;
    }
    devices.resolve(exchange, CoapCommands.rest(exchange)).whenComplete((target, err) -> {
      Throwable e = Failures.cause(err);
      if (e instanceof SecurityException) {
        exchange.respond(ResponseCode.FORBIDDEN, e.getMessage());
      } else if (e instanceof IllegalArgumentException) {
        exchange.respond(ResponseCode.BAD_REQUEST, e.getMessage());
      } else if (e != null) {
        exchange.respond(ResponseCode.SERVICE_UNAVAILABLE, "registry did not answer: " + e.getMessage());
      } else if (target.isEmpty()) {
        exchange.respond(ResponseCode.UNAUTHORIZED, "use DTLS with a PSK identity auth-id@tenant");
      } else {
        ObserveChannel ch = new ObserveChannel(relation, target.get().device(), target.get().authenticated());
        channels.put(relation, ch);
        router.local().attach(ch.device, ch).whenComplete((v, attachErr) -> {
          if (attachErr != null) {
            channels.remove(relation);
            router.local().detach(ch.device, ch);
            exchange.respond(ResponseCode.SERVICE_UNAVAILABLE, "registry did not answer: " + attachErr.getMessage());
          } else {
            exchange.respond(ResponseCode.CONTENT);
          }
        });
      }
    });
  }

  @Override
  public void removeObserveRelation(ObserveRelation relation) {
    super.removeObserveRelation(relation);
    ObserveChannel ch = channels.remove(relation);
    if (ch != null) {
      ch.close();
    }
  }

  /** One observation: commands queue here and go out one notification at a time. */
  private final class ObserveChannel implements DeviceChannel {
    final ObserveRelation relation;
    final DeviceRef device;
    final boolean authenticated;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private Pending inFlight;
    private boolean closed;

    private record Pending(Command command, CompletableFuture<Void> delivered) {}

    ObserveChannel(ObserveRelation relation, DeviceRef device, boolean authenticated) {
      this.relation = relation;
      this.device = device;
      this.authenticated = authenticated;
    }

    @Override
    public String transport() {
      return "coap-observe";
    }

    @Override
    public CompletionStage<Void> deliver(Command command) {
      Pending p = new Pending(command, new CompletableFuture<>());
      boolean notify;
      synchronized (this) {
        if (closed) {
          return CompletableFuture.failedFuture(gone());
        }
        queue.add(p);
        notify = inFlight == null;
      }
      if (notify) {
        changed(r -> r == relation);
      }
      return p.delivered;
    }

    /** Californium asks for the notification's content: the next queued command. */
    void notification(CoapExchange exchange) {
      Pending p;
      synchronized (this) {
        p = inFlight != null ? inFlight : queue.poll();
        inFlight = p;
      }
      if (p == null) {
        exchange.respond(ResponseCode.CONTENT);
        return;
      }
      Response r = CoapCommands.commandResponse(ResponseCode.CONTENT, p.command, shortForm, authenticated);
      r.setType(Type.CON);
      r.addMessageObserver(new MessageObserverAdapter() {
        @Override
        public void onAcknowledgement() {
          acknowledged(p);
        }

        @Override
        protected void failed() {
          synchronized (ObserveChannel.this) {
            if (inFlight == p) {
              inFlight = null;
            }
          }
          p.delivered.completeExceptionally(gone());
        }
      });
      exchange.respond(r);
    }

    private void acknowledged(Pending p) {
      boolean more;
      synchronized (this) {
        if (inFlight == p) {
          inFlight = null;
        }
        more = !queue.isEmpty() && !closed;
      }
      p.delivered.complete(null);
      if (more) {
        changed(r -> r == relation);
      }
    }

    void close() {
      synchronized (this) {
        closed = true;
      }
      router.local().detach(device, this);
      Pending p;
      while ((p = pollAny()) != null) {
        p.delivered.completeExceptionally(gone());
      }
    }

    private synchronized Pending pollAny() {
      if (inFlight != null) {
        Pending p = inFlight;
        inFlight = null;
        return p;
      }
      return queue.poll();
    }

    private CommandDeliveryException gone() {
      return new CommandDeliveryException(CommandDeliveryException.Kind.NOT_CONNECTED,
          "device " + device + " stopped observing commands");
    }
  }
}
