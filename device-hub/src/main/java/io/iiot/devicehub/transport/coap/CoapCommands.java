package io.iiot.devicehub.transport.coap;

import io.iiot.devicehub.command.CommandDeliveryException;
import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.command.DeviceChannel;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.DeviceRef;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands over CoAP as in Hono: a telemetry/event request with {@code hono-ttd=<s>} is answered (2.04) only when a
 * command arrives or the ttd runs out; a command rides in that response. Hono's response options:
 * Location-Query {@code hono-command=<name>}, and for request/response commands Location-Path
 * {@code command_response/<req-id>} ({@code cr/<req-id>} when the request used the short resource names;
 * {@code …/<tenant>/<device>/<req-id>} for unauthenticated devices), the payload and its Content-Format.
 */
final class CoapCommands {
  private static final Logger LOG = LoggerFactory.getLogger(CoapCommands.class);
  /** Answer a waiting CON request with an empty ACK before the client's ACK timeout (2 s) makes it resend. */
  static final long EMPTY_ACK_AFTER_MS = 1000;

  private final CommandRouter router;
  private final ScheduledExecutorService timers;
  private final int maxTtdSeconds;

  CoapCommands(CommandRouter router, ScheduledExecutorService timers, int maxTtdSeconds) {
    this.router = router;
    this.timers = timers;
    this.maxTtdSeconds = maxTtdSeconds;
  }

  /** The {@code hono-ttd} query parameter: null if absent; throws IllegalArgumentException if not 1..max or -1. */
  Integer ttd(CoapExchange exchange) {
    for (String q : exchange.getRequestOptions().getUriQuery()) {
      if (q.startsWith("hono-ttd=")) {
        int ttd;
        try {
          ttd = Integer.parseInt(q.substring("hono-ttd=".length()));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("hono-ttd must be a number of seconds");
        }
        if (ttd < 0 || ttd > maxTtdSeconds) {
          throw new IllegalArgumentException("hono-ttd must be 0 to " + maxTtdSeconds + " seconds");
        }
        return ttd == 0 ? null : ttd;
      }
    }
    return null;
  }

  /** Holds {@code exchange} (whose message is already stored) open for a command for up to {@code ttdSeconds}. */
  void waitForCommand(CoapExchange exchange, DeviceRef device, int ttdSeconds, boolean shortForm,
      boolean authenticated) {
    TtdChannel ch = new TtdChannel(exchange, device, shortForm, authenticated);
    router.local().attach(device, ch).whenComplete((v, err) -> {
      if (err != null) {
        // Stored, but not reachable for commands: answer the message now rather than wait for nothing.
        LOG.debug("{} not registered for commands: {}", device, err.toString());
        ch.finish(null);
      }
    });
    ch.ackTimer = exchange.advanced().getRequest().isConfirmable()
        ? timers.schedule(ch::acceptIfWaiting, EMPTY_ACK_AFTER_MS, TimeUnit.MILLISECONDS) : null;
    ch.ttdTimer = timers.schedule(() -> ch.finish(null), ttdSeconds, TimeUnit.SECONDS);
  }

  /** A 2.04 (ttd) or 2.05 (Observe) response carrying {@code c} with Hono's options. */
  static Response commandResponse(ResponseCode code, Command c, boolean shortForm, boolean authenticated) {
    Response r = new Response(code);
    r.setPayload(c.payload());
    if (!c.contentType().isEmpty()) {
      int format = MediaTypeRegistry.parse(c.contentType());
      if (format != MediaTypeRegistry.UNDEFINED) {
        r.getOptions().setContentFormat(format);
      }
    }
    r.getOptions().addLocationQuery("hono-command=" + c.name());
    if (c.responseRequired()) {
      r.getOptions().addLocationPath(shortForm ? "cr" : "command_response");
      if (!authenticated) {
        r.getOptions().addLocationPath(c.device().tenant()).addLocationPath(c.device().deviceId());
      }
      r.getOptions().addLocationPath(c.id());
    }
    return r;
  }

  static List<String> rest(CoapExchange exchange) {
    List<String> path = exchange.getRequestOptions().getUriPath();
    return path.subList(1, path.size());
  }

  /** One request waiting with hono-ttd: takes at most one command. */
  private final class TtdChannel implements DeviceChannel {
    private final CoapExchange exchange;
    private final DeviceRef device;
    private final boolean shortForm;
    private final boolean authenticated;
    private boolean done;
    private boolean accepted;
    volatile ScheduledFuture<?> ackTimer;
    volatile ScheduledFuture<?> ttdTimer;

    TtdChannel(CoapExchange exchange, DeviceRef device, boolean shortForm, boolean authenticated) {
      this.exchange = exchange;
      this.device = device;
      this.shortForm = shortForm;
      this.authenticated = authenticated;
    }

    @Override
    public String transport() {
      return "coap-ttd";
    }

    @Override
    public CompletionStage<Void> deliver(Command command) {
      return finish(command) ? CompletableFuture.completedFuture(null)
          : CompletableFuture.failedFuture(new CommandDeliveryException(CommandDeliveryException.Kind.NOT_CONNECTED,
              "device " + device + " stopped waiting (hono-ttd ran out)"));
    }

    synchronized void acceptIfWaiting() {
      if (!done && !accepted) {
        accepted = true;
        exchange.accept();
      }
    }

    /** Answers the request, with the command if not null; false if it was answered already. */
    boolean finish(Command command) {
      synchronized (this) {
        if (done) {
          return false;
        }
        done = true;
      }
      router.local().detach(device, this);
      if (ackTimer != null) {
        ackTimer.cancel(false);
      }
      if (ttdTimer != null) {
        ttdTimer.cancel(false);
      }
      exchange.respond(command == null ? new Response(ResponseCode.CHANGED)
          : commandResponse(ResponseCode.CHANGED, command, shortForm, authenticated));
      return true;
    }
  }
}
