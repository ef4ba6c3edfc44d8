package io.iiot.devicehub.transport.mqtt;

import io.iiot.devicehub.command.CommandDeliveryException;
import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.command.DeviceChannel;
import io.iiot.devicehub.domain.AddressException;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.CommandResponse;
import io.iiot.devicehub.domain.CommandState;
import io.iiot.devicehub.domain.CommandStatus;
import io.iiot.devicehub.domain.CommandTopic;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.ingest.IngestException;
import io.iiot.devicehub.ingest.RegistryCache;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.MqttTopicSubscription;
import io.vertx.mqtt.messages.MqttSubscribeMessage;
import io.vertx.mqtt.messages.MqttUnsubscribeMessage;
import io.vertx.mqtt.messages.codes.MqttSubAckReasonCode;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The command side of one MQTT connection (Hono's command topics, see {@link CommandTopic}): subscriptions become
 * {@link DeviceChannel}s attached to the {@link CommandRouter}'s local devices, commands go out as PUBLISH (QoS of
 * the subscription, at most 1; DELIVERED once written, for QoS 1 once PUBACKed), responses published by the device
 * are stored through the router. Confined to the connection's event loop, like {@link MqttConnection}.
 */
final class MqttCommands {
  private final Context context;
  private final MqttEndpoint endpoint;
  private final DeviceRef device;
  private final CommandRouter router;
  private final RegistryCache registry;
  private final Clock clock;
  private final boolean v5;
  /** Attached channels by subscription filter. */
  private final Map<String, Channel> channels = new LinkedHashMap<>();
  /** Commands published at QoS 1 waiting for their PUBACK, by packet id. */
  private final Map<Integer, CompletableFuture<Void>> unacked = new HashMap<>();
  private int nextPacketId = 1;
  private boolean closed;

  MqttCommands(Context context, MqttEndpoint endpoint, DeviceRef device, CommandRouter router, RegistryCache registry,
      Clock clock, boolean v5) {
    this.context = context;
    this.endpoint = endpoint;
    this.device = device;
    this.router = router;
    this.registry = registry;
    this.clock = clock;
    this.v5 = v5;
    endpoint.publishAcknowledgeHandler(this::onPubAck);
  }

  /**
   * SUBSCRIBE: each command filter is granted (QoS ≤ 1) once this replica is registered as the device's in the
   * connection registry; any other filter, another tenant, a device the gateway may not act for, or a registry
   * failure is refused for that filter.
   */
  void onSubscribe(MqttSubscribeMessage m) {
    List<CompletableFuture<MqttSubAckReasonCode>> results = new ArrayList<>();
    for (MqttTopicSubscription s : m.topicSubscriptions()) {
      results.add(subscribe(s.topicName(), s.qualityOfService()).toCompletableFuture()
          .exceptionally(err -> MqttSubAckReasonCode.UNSPECIFIED_ERROR));
    }
    CompletableFuture.allOf(results.toArray(CompletableFuture[]::new)).whenComplete((v, err) ->
        context.runOnContext(x -> {
          if (closed) {
            return;
          }
          List<MqttSubAckReasonCode> codes = results.stream().map(CompletableFuture::join).toList();
          if (v5) {
            endpoint.subscribeAcknowledge(m.messageId(), codes, MqttProperties.NO_PROPERTIES);
          } else {
            endpoint.subscribeAcknowledge(m.messageId(), codes.stream().map(c -> switch (c) {
              case GRANTED_QOS0 -> MqttQoS.AT_MOST_ONCE;
              case GRANTED_QOS1 -> MqttQoS.AT_LEAST_ONCE;
              default -> MqttQoS.FAILURE;
            }).toList());
          }
        }));
  }

  private CompletionStage<MqttSubAckReasonCode> subscribe(String filter, MqttQoS requested) {
    CommandTopic topic;
    DeviceRef target;
    try {
      topic = CommandTopic.parseSubscription(filter);
      target = topic.anyDevice() ? device : topic.target(device);
    } catch (AddressException e) {
      return CompletableFuture.completedFuture(e.kind() == AddressException.Kind.FORBIDDEN
          ? MqttSubAckReasonCode.NOT_AUTHORIZED : MqttSubAckReasonCode.TOPIC_FILTER_INVALID);
    }
    MqttQoS qos = requested == MqttQoS.AT_MOST_ONCE ? MqttQoS.AT_MOST_ONCE : MqttQoS.AT_LEAST_ONCE;
    return mayActFor(target).thenCompose(allowed -> {
      if (!allowed) {
        return CompletableFuture.completedFuture(MqttSubAckReasonCode.NOT_AUTHORIZED);
      }
      CompletableFuture<MqttSubAckReasonCode> out = new CompletableFuture<>();
      context.runOnContext(x -> {
        if (closed) {
          out.complete(MqttSubAckReasonCode.UNSPECIFIED_ERROR);
          return;
        }
        Channel previous = channels.remove(filter);
        if (previous != null) {
          router.local().detach(previous.target, previous);
        }
        Channel ch = new Channel(topic, target, qos);
        channels.put(filter, ch);
        router.local().attach(target, ch).whenComplete((v, err) -> out.complete(err != null
            ? MqttSubAckReasonCode.UNSPECIFIED_ERROR
            : qos == MqttQoS.AT_MOST_ONCE ? MqttSubAckReasonCode.GRANTED_QOS0 : MqttSubAckReasonCode.GRANTED_QOS1));
      });
      return out;
    });
  }

  /** The device itself, or a device that lists this gateway in its via. */
  private CompletionStage<Boolean> mayActFor(DeviceRef target) {
    if (target.equals(device)) {
      return CompletableFuture.completedFuture(true);
    }
    return registry.device(target.tenant(), target.deviceId())
        .thenApply(d -> d.filter(Device::enabled).map(x -> x.acceptsGateway(device.deviceId())).orElse(false));
  }

  void onUnsubscribe(MqttUnsubscribeMessage m) {
    for (String filter : m.topics()) {
      Channel ch = channels.remove(filter);
      if (ch != null) {
        router.local().detach(ch.target, ch);
      }
    }
    endpoint.unsubscribeAcknowledge(m.messageId());
  }

  /**
   * A device's response ({@code command/[t]/[d]/res/<req-id>/<status>}). Completes once stored; fails with an
   * {@link IngestException} (bad topic, another tenant, a device the gateway may not act for, unknown command) so the
   * connection acknowledges or refuses it like any message.
   */
  CompletionStage<Void> onResponse(String topicName, byte[] payload, String contentType) {
    CommandTopic.Response r;
    DeviceRef target;
    CommandResponse response;
    try {
      r = CommandTopic.parseResponse(topicName);
      target = r.address().target(device);
      response = new CommandResponse(r.status(), payload, contentType, clock.instant());
    } catch (AddressException e) {
      return CompletableFuture.failedFuture(new IngestException(e.kind() == AddressException.Kind.FORBIDDEN
          ? IngestException.Kind.FORBIDDEN : IngestException.Kind.INVALID_ADDRESS, e.getMessage()));
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(new IngestException(IngestException.Kind.TOO_LARGE, e.getMessage()));
    }
    return mayActFor(target).thenCompose(allowed -> {
      if (!allowed) {
        throw new IngestException(IngestException.Kind.FORBIDDEN, "gateway " + device + " may not act for "
            + target.deviceId());
      }
      return router.answer(target, r.requestId(), response);
    }).thenAccept(state -> {
      if (state.isEmpty()) {
        throw new IngestException(IngestException.Kind.NOT_FOUND, "no command " + r.requestId() + " for " + target);
      }
      // A late answer (command timed out) or a repeated one is acknowledged but changes nothing.
    });
  }

  private void onPubAck(int packetId) {
    CompletableFuture<Void> f = unacked.remove(packetId);
    if (f != null) {
      f.complete(null);
    }
  }

  void close() {
    closed = true;
    channels.values().forEach(ch -> router.local().detach(ch.target, ch));
    channels.clear();
    unacked.values().forEach(f -> f.completeExceptionally(new CommandDeliveryException(
        CommandDeliveryException.Kind.NOT_CONNECTED, "device " + device + " disconnected before acknowledging")));
    unacked.clear();
  }

  private int packetId() {
    // Only this class publishes to the device, so it owns the packet id space of server-to-client PUBLISHes.
    for (int i = 0; i < 65535; i++) {
      int id = nextPacketId;
      nextPacketId = nextPacketId == 65535 ? 1 : nextPacketId + 1;
      if (!unacked.containsKey(id)) {
        return id;
      }
    }
    return -1;
  }

  /** One granted command subscription. */
  private final class Channel implements DeviceChannel {
    final CommandTopic topic;
    final DeviceRef target;
    final MqttQoS qos;

    Channel(CommandTopic topic, DeviceRef target, MqttQoS qos) {
      this.topic = topic;
      this.target = target;
      this.qos = qos;
    }

    @Override
    public String transport() {
      return "mqtt";
    }

    @Override
    public boolean forGatewayDevices() {
      return topic.anyDevice();
    }

    @Override
    public CompletionStage<Void> deliver(Command command) {
      CompletableFuture<Void> out = new CompletableFuture<>();
      context.runOnContext(x -> publish(command, out));
      return out;
    }

    private void publish(Command command, CompletableFuture<Void> out) {
      if (closed) {
        out.completeExceptionally(new CommandDeliveryException(CommandDeliveryException.Kind.NOT_CONNECTED,
            "device " + target + " disconnected"));
        return;
      }
      MqttProperties props = new MqttProperties();
      if (v5 && !command.contentType().isEmpty()) {
        props.add(new MqttProperties.StringProperty(MqttProperties.MqttPropertyType.CONTENT_TYPE.value(),
            command.contentType()));
      }
      String topicName = topic.deliveryTopic(command.device().deviceId(), command);
      int id = 0;
      if (qos == MqttQoS.AT_LEAST_ONCE) {
        id = packetId();
        if (id < 0) {
          out.completeExceptionally(new CommandDeliveryException(CommandDeliveryException.Kind.UNAVAILABLE,
              "65535 commands wait for the device's PUBACK"));
          return;
        }
        unacked.put(id, out);
      }
      int packet = id;
      endpoint.publish(topicName, Buffer.buffer(command.payload()), qos, false, false, id, props)
          .onComplete(ar -> {
            if (ar.failed()) {
              unacked.remove(packet);
              out.completeExceptionally(new CommandDeliveryException(CommandDeliveryException.Kind.NOT_CONNECTED,
                  "publish to " + target + " failed: " + ar.cause()));
            } else if (qos == MqttQoS.AT_MOST_ONCE) {
              out.complete(null);
            }
          });
    }
  }
}
