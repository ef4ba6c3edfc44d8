package io.iiot.devicehub.command;

import io.iiot.base.async.Failures;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.CommandResponse;
import io.iiot.devicehub.domain.CommandState;
import io.iiot.devicehub.domain.CommandStatus;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.ingest.RegistryCache;
import io.iiot.devicehub.storage.CommandStore;
import io.iiot.devicehub.storage.DeviceConnections;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes a command to its device and records what became of it.
 *
 * <ol>
 *   <li>A registered {@link CommandTransport} that handles the tenant (Hono) takes it, on this replica.
 *   <li>Else the device must exist and be enabled, and be connected: here ({@link LocalDevices}) → delivered
 *       locally; on another replica (connection registry) → stored here and relayed to that replica over gRPC;
 *       nowhere → {@link CommandDeliveryException.Kind#NOT_CONNECTED}, nothing stored.
 * </ol>
 *
 * The replica that delivers a command also times it out at its expiry, and wakes up a SendCommand waiting for the
 * answer. Readers see an overdue command as TIMED_OUT even if that replica died first
 * ({@link CommandState#effectiveStatus}). Thread-safe; never blocks the calling thread.
 */
public final class CommandRouter implements CommandResponses {
  private static final Logger LOG = LoggerFactory.getLogger(CommandRouter.class);

  private final CommandStore store;
  private final LocalDevices local;
  private final RegistryCache registry;
  private final Supplier<ReplicaRelay> relay;
  private final ScheduledExecutorService timers;
  private final Clock clock;
  private final List<CommandTransport> transports = new CopyOnWriteArrayList<>();
  /** Commands delivered from here that may still change: completed with their final state. */
  private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
  private final MeterRegistry metrics;

  private record Tracked(Command command, CompletableFuture<CommandState> done, ScheduledFuture<?> timeout) {}

  public CommandRouter(CommandStore store, LocalDevices local, RegistryCache registry, Supplier<ReplicaRelay> relay,
      ScheduledExecutorService timers, Clock clock, MeterRegistry metrics) {
    this.store = store;
    this.local = local;
    this.registry = registry;
    this.relay = relay;
    this.timers = timers;
    this.clock = clock;
    this.metrics = metrics;
  }

  /** Adds a path for the tenants it {@link CommandTransport#handles handles}; the first registered wins. */
  public void addTransport(CommandTransport transport) {
    transports.add(transport);
  }

  public LocalDevices local() {
    return local;
  }

  public CommandStore store() {
    return store;
  }

  /**
   * Sends a new command. Completes with its state once delivered, or — for a request/response command with a positive
   * {@code responseWait} — once answered, ended, or after that wait. Fails with {@link CommandDeliveryException}
   * (kind UNKNOWN_DEVICE, NOT_CONNECTED, UNAVAILABLE, REJECTED) or the storage error.
   */
  public CompletionStage<CommandState> send(Command command, Duration responseWait) {
    DeviceRef device = command.device();
    for (CommandTransport t : transports) {
      if (t.handles(device.tenant())) {
        count("sent", t.name());
        return store.insert(command)
            .thenCompose(v -> deliverTracked(command, responseWait, () -> t.deliver(command, this)));
      }
    }
    return registry.device(device.tenant(), device.deviceId()).thenCompose(found -> {
      if (found.filter(Device::enabled).isEmpty()) {
        throw new CommandDeliveryException(CommandDeliveryException.Kind.UNKNOWN_DEVICE,
            "device " + device + " does not exist or is disabled");
      }
      DeviceChannel here = localChannel(found.get());
      if (here != null) {
        count("sent", here.transport());
        return store.insert(command)
            .thenCompose(v -> deliverTracked(command, responseWait, () -> here.deliver(command)));
      }
      return registeredElsewhere(found.get()).thenCompose(entry -> {
        if (entry.isEmpty()) {
          count("not_connected", "none");
          throw notConnected(device);
        }
        count("relayed", entry.get().transport());
        return store.insert(command).thenCompose(v -> relay.get().relay(entry.get(), command, responseWait)
            .exceptionallyCompose(err -> {
              CommandDeliveryException why = deliveryError(err);
              return markEnded(command, CommandStatus.FAILED, "relay to replica " + entry.get().replicaId()
                  + " failed: " + why.getMessage()).thenApply(s -> {
                    throw why;
                  });
            }));
      });
    });
  }

  /** The device's own channel here, else a channel here of a gateway that acts for all its devices. */
  private DeviceChannel localChannel(Device device) {
    DeviceChannel own = local.channel(device.ref());
    if (own != null) {
      return own;
    }
    for (String gateway : device.via()) {
      DeviceChannel g = local.channel(new DeviceRef(device.tenant(), gateway));
      if (g != null && g.forGatewayDevices()) {
        return g;
      }
    }
    return null;
  }

  /** The registry entry of the device on another replica, else of one of its gateways. */
  private CompletionStage<Optional<DeviceConnections.Entry>> registeredElsewhere(Device device) {
    CompletionStage<Optional<DeviceConnections.Entry>> found = other(device.ref());
    for (String gateway : device.via().stream().sorted().toList()) {
      found = found.thenCompose(e -> e.isPresent() ? CompletableFuture.completedFuture(e)
          : other(new DeviceRef(device.tenant(), gateway)));
    }
    return found;
  }

  private CompletionStage<Optional<DeviceConnections.Entry>> other(DeviceRef ref) {
    return local.connections().get(ref).thenApply(e -> e.filter(x -> !x.replicaId().equals(local.self().id())));
  }

  /**
   * A command another replica stored and relayed here because the registry says the device is connected to
   * {@code replicaId}.
   */
  public CompletionStage<CommandState> deliverRelayed(Command command, Duration responseWait, String replicaId) {
    if (!replicaId.equals(local.self().id())) {
      return CompletableFuture.failedFuture(notConnected(command.device()));
    }
    return registry.device(command.device().tenant(), command.device().deviceId()).thenCompose(found -> {
      DeviceChannel here = found.map(this::localChannel).orElse(null);
      if (here == null) {
        throw notConnected(command.device());
      }
      return deliverTracked(command, responseWait, () -> here.deliver(command));
    });
  }

  public CompletionStage<Optional<CommandState>> get(DeviceRef device, String commandId) {
    return store.get(device, commandId);
  }

  public CompletionStage<CommandStore.Page> list(DeviceRef device, String after, int limit) {
    return store.list(device, after, limit);
  }

  @Override
  public CompletionStage<Optional<CommandState>> answer(DeviceRef device, String commandId, CommandResponse response) {
    return store.markAnswered(device, commandId, response).thenCompose(applied -> store.get(device, commandId)
        .thenApply(state -> {
          if (applied) {
            count("answered", "any");
            state.ifPresent(s -> finish(commandId, s));
          }
          return state;
        }));
  }

  @Override
  public CompletionStage<Optional<CommandState>> failed(DeviceRef device, String commandId, String reason) {
    return store.get(device, commandId).thenCompose(found -> found.isEmpty()
        ? CompletableFuture.completedFuture(Optional.<CommandState>empty())
        : markEnded(found.get().command(), CommandStatus.FAILED, reason).thenApply(Optional::of));
  }

  /** Delivers a stored command through {@code deliver}, records DELIVERED / FAILED, times it out, waits if asked. */
  private CompletionStage<CommandState> deliverTracked(Command command, Duration responseWait,
      Supplier<CompletionStage<Void>> deliver) {
    Duration untilExpiry = Duration.between(clock.instant(), command.expiresAt());
    ScheduledFuture<?> timeout = timers.schedule(() -> timeOut(command), Math.max(0, untilExpiry.toMillis()),
        TimeUnit.MILLISECONDS);
    Tracked t = new Tracked(command, new CompletableFuture<>(), timeout);
    tracked.put(command.id(), t);
    CompletableFuture<Void> delivered;
    try {
      // A device that never acknowledges (QoS 1 without PUBACK) must not hold SendCommand past the command's life.
      delivered = deliver.get().toCompletableFuture().orTimeout(Math.max(1, untilExpiry.toMillis()),
          TimeUnit.MILLISECONDS);
    } catch (RuntimeException e) {
      delivered = CompletableFuture.failedFuture(e);
    }
    return delivered.handle((v, err) -> err).thenCompose(err -> {
      if (err != null && Failures.cause(err) instanceof TimeoutException) {
        return t.done.thenApply(s -> s);
      }
      if (err != null) {
        CommandDeliveryException why = deliveryError(err);
        count("failed", "deliver");
        return markEnded(command, CommandStatus.FAILED, why.getMessage()).thenApply(s -> {
          throw why;
        });
      }
      count("delivered", "any");
      return store.markDelivered(command.device(), command.id(), clock.instant()).thenCompose(applied -> {
        if (!command.responseRequired()) {
          finish(command.id(), null);
        }
        if (command.responseRequired() && !responseWait.isNegative() && !responseWait.isZero()) {
          return t.done.completeOnTimeout(null, Math.min(responseWait.toMillis(), untilExpiry.toMillis()),
              TimeUnit.MILLISECONDS).thenCompose(s -> current(command));
        }
        return current(command);
      });
    });
  }

  private CompletionStage<CommandState> current(Command command) {
    return store.get(command.device(), command.id()).thenApply(s -> s.orElseThrow(() ->
        new CommandDeliveryException(CommandDeliveryException.Kind.UNAVAILABLE, "command " + command.id()
            + " vanished from storage")));
  }

  private void timeOut(Command command) {
    markEnded(command, CommandStatus.TIMED_OUT, "").whenComplete((s, err) -> {
      if (err != null) {
        LOG.warn("command {} of {} not marked timed out: {}", command.id(), command.device(), err.toString());
      }
    });
  }

  /** Ends a command (FAILED, TIMED_OUT) if it may still move there; completes with its state afterwards. */
  private CompletionStage<CommandState> markEnded(Command command, CommandStatus status, String failure) {
    return store.markEnded(command.device(), command.id(), status, failure, command.responseRequired(),
        clock.instant()).thenCompose(applied -> {
          if (applied && status == CommandStatus.TIMED_OUT) {
            count("timed_out", "any");
          }
          return current(command);
        }).thenApply(s -> {
          if (s.status().isFinal()) {
            finish(command.id(), s);
          }
          return s;
        });
  }

  private void finish(String commandId, CommandState state) {
    Tracked t = tracked.remove(commandId);
    if (t != null) {
      t.timeout.cancel(false);
      t.done.complete(state);
    }
  }

  /** Commands this replica delivered and still watches (answer or timeout pending). */
  public int tracked() {
    return tracked.size();
  }

  private void count(String outcome, String path) {
    Counter.builder("devicehub.commands").description("Commands by what became of them")
        .tag("outcome", outcome).tag("path", path).register(metrics).increment();
  }

  private static CommandDeliveryException notConnected(DeviceRef device) {
    return new CommandDeliveryException(CommandDeliveryException.Kind.NOT_CONNECTED, "device " + device
        + " is not connected: not subscribed to its command topic (MQTT), not waiting with hono-ttd nor observing"
        + " the command resource (CoAP)");
  }

  private static CommandDeliveryException deliveryError(Throwable err) {
    Throwable e = Failures.cause(err);
    return e instanceof CommandDeliveryException d ? d
        : new CommandDeliveryException(CommandDeliveryException.Kind.UNAVAILABLE, String.valueOf(e.getMessage()));
  }
}
