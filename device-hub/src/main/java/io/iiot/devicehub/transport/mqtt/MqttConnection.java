package io.iiot.devicehub.transport.mqtt;

import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.domain.AddressException;
import io.iiot.devicehub.domain.CommandTopic;
import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.domain.Endpoint;
import io.iiot.devicehub.domain.PublishAddress;
import io.iiot.devicehub.ingest.DeviceAuthenticator;
import io.iiot.devicehub.ingest.IngestException;
import io.iiot.devicehub.ingest.RegistryCache;
import io.iiot.devicehub.ingest.TelemetryIngest;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttProperties;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.mqtt.MqttEndpoint;
import io.vertx.mqtt.messages.MqttPublishMessage;
import io.vertx.mqtt.messages.codes.MqttDisconnectReasonCode;
import io.vertx.mqtt.messages.codes.MqttPubAckReasonCode;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device (or gateway) connection. Everything here runs on the connection's event loop; storage completions hop
 * back to it.
 *
 * <ul>
 *   <li>CONNECT: {@code auth-id@tenant} + password; refused with 4 / 0x86 (bad credentials), 3 / 0x89 (busy) or
 *       3 / 0x88 (registry unavailable), the code chosen by protocol version. No session state (session-present 0).
 *   <li>PUBLISH QoS 1: PUBACK only after the write is durable, in arrival order. A message that is not stored gets no
 *       PUBACK: MQTT 5 clients get a PUBACK with an error reason code, 3.1.1 clients are disconnected (the only signal
 *       3.1.1 has; they resend the unacknowledged messages after reconnecting).
 *   <li>PUBLISH QoS 0: stored best effort and counted. QoS 0 has nothing to refuse with, so bad input (bad payload,
 *       topic, tenant) ends the connection (MQTT 5: DISCONNECT with a reason code); under overload it is dropped and
 *       counted.
 *   <li>QoS 2 is not offered (MQTT 5 CONNACK says Maximum QoS 1); a QoS 2 PUBLISH ends the connection.
 *   <li>Backpressure: with {@code maxUnacked} messages waiting for storage, or while the writer is saturated, the socket
 *       is not read. A QoS 1 message that finds the write queue full waits and is offered again: a client within its
 *       window is never refused, nor a 3.1.1 client disconnected, because other clients filled the queue.
 * </ul>
 */
final class MqttConnection {
  private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);
  private static final int MQTT_5 = 5;
  /** How soon a QoS 1 message refused for a full write queue is offered again (the queue drains in milliseconds). */
  static final long OVERLOAD_RETRY_MS = 20;
  /** Metric endpoint tags besides telemetry and event. */
  private static final String COMMAND_RESPONSE_ENDPOINT = "command_response";
  private static final String UNKNOWN_ENDPOINT = "unknown";

  private final Vertx vertx;
  private final Context context;
  private final MqttEndpoint endpoint;
  private final DeviceAuthenticator authenticator;
  private final TelemetryIngest ingest;
  private final MqttMetrics metrics;
  private final int maxUnacked;
  private final InOrderAcks<IngestException> acks;
  private final CommandRouter commandRouter;
  private final RegistryCache registry;
  private MqttCommands commands;
  private DeviceRef device;
  private int pending;
  private boolean paused;
  /** Waiting for {@link #room} to call {@link #throttle} again. */
  private boolean awaitingRoom;
  private final WriterRoom room;
  /** QoS 1 messages refused for a full write queue, to be offered again once it has drained. */
  private final ArrayDeque<Runnable> waitingForRoom = new ArrayDeque<>();
  private boolean closed;

  MqttConnection(Vertx vertx, MqttEndpoint endpoint, DeviceAuthenticator authenticator, TelemetryIngest ingest,
      MqttMetrics metrics, int maxUnacked, CommandRouter commandRouter, RegistryCache registry, WriterRoom room) {
    this.vertx = vertx;
    this.room = room;
    this.context = vertx.getOrCreateContext();
    this.endpoint = endpoint;
    this.authenticator = authenticator;
    this.ingest = ingest;
    this.metrics = metrics;
    this.maxUnacked = maxUnacked;
    this.acks = new InOrderAcks<>(this::release);
    this.commandRouter = commandRouter;
    this.registry = registry;
  }

  private boolean v5() {
    return endpoint.protocolVersion() == MQTT_5;
  }

  void start() {
    endpoint.exceptionHandler(err -> {
      metrics.protocolError(err);
      LOG.debug("MQTT client {}: {}", endpoint.clientIdentifier(), err.toString());
    });
    // Set before authenticating: a client may leave while its password is being checked.
    endpoint.closeHandler(v -> onClose());
    java.security.cert.X509Certificate cert = clientCertificate();
    if (cert != null && (endpoint.auth() == null || endpoint.auth().getUsername() == null
        || endpoint.auth().getUsername().isEmpty())) {
      authenticator.authenticateCertificate(cert)
          .whenComplete((outcome, err) -> context.runOnContext(v -> connected(outcome)));
      return;
    }
    if (endpoint.auth() == null) {
      refuse("bad_credentials", MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
          MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD);
      return;
    }
    authenticator.authenticate(endpoint.auth().getUsername(), endpoint.auth().getPassword())
        .whenComplete((outcome, err) -> context.runOnContext(v -> connected(outcome)));
  }

  /** The client certificate of a TLS connection that presented one, else null. */
  private java.security.cert.X509Certificate clientCertificate() {
    if (!endpoint.isSsl() || endpoint.sslSession() == null) {
      return null;
    }
    try {
      java.security.cert.Certificate[] chain = endpoint.sslSession().getPeerCertificates();
      return chain.length > 0 && chain[0] instanceof java.security.cert.X509Certificate x ? x : null;
    } catch (javax.net.ssl.SSLPeerUnverifiedException noCertificate) {
      return null;
    }
  }

  private void connected(DeviceAuthenticator.Outcome outcome) {
    if (outcome == null || outcome.result() == DeviceAuthenticator.Result.UNAVAILABLE) {
      refuse("unavailable", MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
          MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE_5);
      return;
    }
    switch (outcome.result()) {
      case BAD_CREDENTIALS -> refuse("bad_credentials", MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USER_NAME_OR_PASSWORD,
          MqttConnectReturnCode.CONNECTION_REFUSED_BAD_USERNAME_OR_PASSWORD);
      case BUSY -> refuse("busy", MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE,
          MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_BUSY);
      default -> accept(outcome.device());
    }
  }

  private void refuse(String result, MqttConnectReturnCode v3, MqttConnectReturnCode v5) {
    metrics.connect(result);
    if (closed) {
      return;
    }
    // A 5.0 client reads the 3.1.1 code 4 as "disconnect with will": the code must follow the protocol version.
    endpoint.reject(v5() ? v5 : v3);
  }

  private void accept(DeviceRef authenticated) {
    if (closed) {
      return;
    }
    device = authenticated;
    endpoint.publishAutoAck(false);
    endpoint.publishHandler(this::onPublish);
    commands = new MqttCommands(context, endpoint, authenticated, commandRouter, registry, Clock.systemUTC(), v5());
    endpoint.subscribeHandler(commands::onSubscribe);
    endpoint.unsubscribeHandler(commands::onUnsubscribe);
    MqttProperties props = new MqttProperties();
    if (v5()) {
      props.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.RECEIVE_MAXIMUM.value(), maxUnacked));
      props.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.MAXIMUM_QOS.value(), 1));
      props.add(new MqttProperties.IntegerProperty(MqttProperties.MqttPropertyType.RETAIN_AVAILABLE.value(), 0));
    }
    endpoint.accept(false, props);
    metrics.connect("accepted");
    metrics.connections.incrementAndGet();
  }

  private void onClose() {
    closed = true;
    if (device != null) {
      metrics.connections.decrementAndGet();
    }
    if (commands != null) {
      commands.close();
    }
  }

  private void onPublish(MqttPublishMessage msg) {
    int qos = msg.qosLevel().value();
    if (qos > 1) {
      metrics.message(UNKNOWN_ENDPOINT, qos, "qos_not_allowed");
      disconnect(MqttDisconnectReasonCode.QOS_NOT_SUPPORTED);
      return;
    }
    InOrderAcks.Slot<IngestException> slot = qos == 1 ? acks.add(msg.messageId()) : null;
    pending++;
    throttle();
    String contentType = v5() ? contentType(msg.properties()) : null;
    if (CommandTopic.isCommandTopic(msg.topicName())) {
      commands.onResponse(msg.topicName(), msg.payload().getBytes(), contentType)
          .whenComplete((v, err) -> context.runOnContext(x -> done(slot, qos, COMMAND_RESPONSE_ENDPOINT,
              err == null ? null : IngestException.of(err))));
      return;
    }
    PublishAddress address;
    try {
      address = PublishAddress.parse(msg.topicName());
    } catch (AddressException e) {
      done(slot, qos, UNKNOWN_ENDPOINT, new IngestException(IngestException.Kind.INVALID_ADDRESS, e.getMessage()));
      return;
    }
    store(slot, qos, address, msg.payload().getBytes(), contentType);
  }

  /**
   * Writes one message. A QoS 1 message the writer refuses because its queue is full stays here and is offered again
   * once the queue has drained below its low-water mark: the client sent it within its window, and the queue is full
   * because of everyone else's messages, so refusing it would end a 3.1.1 connection (the only refusal 3.1.1 has) for
   * other clients' load. Its socket stays paused meanwhile ({@link #throttle}), so what waits here is bounded by the
   * messages already read: at most {@code maxUnacked} per connection.
   */
  private void store(InOrderAcks.Slot<IngestException> slot, int qos, PublishAddress address, byte[] payload,
      String contentType) {
    ingest.publish(device, address, qos, payload, contentType).whenComplete((v, err) -> context.runOnContext(x -> {
      IngestException refusal = err == null ? null : IngestException.of(err);
      if (refusal != null && refusal.kind() == IngestException.Kind.OVERLOADED && slot != null && !closed) {
        metrics.overloadWait();
        throttle();
        retryWhenDrained(() -> store(slot, qos, address, payload, contentType));
        return;
      }
      done(slot, qos, address.endpoint() == Endpoint.EVENT ? "event" : "telemetry", refusal);
    }));
  }

  /**
   * Runs {@code retry} once the writer is no longer saturated ({@link WriterRoom} looks every few ms), then offers all
   * of the connection's waiting messages again, in arrival order.
   */
  private void retryWhenDrained(Runnable retry) {
    waitingForRoom.add(retry);
    if (waitingForRoom.size() == 1) {
      room.whenRoom(() -> context.runOnContext(v -> offerWaiting()));
    }
  }

  private void offerWaiting() {
    if (closed) {
      waitingForRoom.clear();
      return;
    }
    if (ingest.writer().saturated()) {
      room.whenRoom(() -> context.runOnContext(v -> offerWaiting()));
      return;
    }
    List<Runnable> retries = new ArrayList<>(waitingForRoom);
    waitingForRoom.clear();
    retries.forEach(Runnable::run);
  }

  private static String contentType(MqttProperties props) {
    MqttProperties.MqttProperty<?> p = props.getProperty(MqttProperties.MqttPropertyType.CONTENT_TYPE.value());
    return p == null ? null : String.valueOf(p.value());
  }

  private void done(InOrderAcks.Slot<IngestException> slot, int qos, String endpoint, IngestException refusal) {
    pending--;
    metrics.message(endpoint, qos,
        refusal == null ? "stored" : refusal.kind().name().toLowerCase(java.util.Locale.ROOT));
    if (refusal != null) {
      LOG.debug("MQTT {} message refused: {}", device, refusal.getMessage());
    }
    if (slot != null) {
      acks.finish(slot, refusal);
    } else if (refusal != null && refusal.kind() != IngestException.Kind.OVERLOADED) {
      // QoS 0 has no acknowledgement to refuse, so bad input ends the connection (as in Hono); dropping under
      // overload is what QoS 0 (best effort) allows, so that alone keeps the connection.
      disconnect(disconnectCode(refusal.kind()));
    }
    throttle();
  }

  /** Called in arrival order for QoS 1 messages. */
  private void release(int packetId, IngestException refusal) {
    // After the client's DISCONNECT Vert.x refuses to write (the socket may still be open): nothing left to ack.
    if (closed || !endpoint.isConnected()) {
      return;
    }
    if (refusal == null) {
      endpoint.publishAcknowledge(packetId);
    } else if (!v5()) {
      // 3.1.1 has no negative PUBACK: closing is the only way not to acknowledge and still tell the client.
      disconnect(MqttDisconnectReasonCode.UNSPECIFIED_ERROR);
    } else if (refusal.kind() == IngestException.Kind.TOO_LARGE) {
      disconnect(MqttDisconnectReasonCode.PACKET_TOO_LARGE);
    } else {
      endpoint.publishAcknowledge(packetId, reasonCode(refusal.kind()), MqttProperties.NO_PROPERTIES);
    }
  }

  static MqttPubAckReasonCode reasonCode(IngestException.Kind kind) {
    return switch (kind) {
      case INVALID_ADDRESS -> MqttPubAckReasonCode.TOPIC_NAME_INVALID;
      case FORBIDDEN, NOT_FOUND -> MqttPubAckReasonCode.NOT_AUTHORIZED;
      case BAD_PAYLOAD -> MqttPubAckReasonCode.PAYLOAD_FORMAT_INVALID;
      case OVERLOADED -> MqttPubAckReasonCode.QUOTA_EXCEEDED;
      case QOS_NOT_ALLOWED, TOO_LARGE -> MqttPubAckReasonCode.IMPLEMENTATION_SPECIFIC_ERROR;
      case UNAVAILABLE -> MqttPubAckReasonCode.UNSPECIFIED_ERROR;
    };
  }

  static MqttDisconnectReasonCode disconnectCode(IngestException.Kind kind) {
    return switch (kind) {
      case INVALID_ADDRESS -> MqttDisconnectReasonCode.TOPIC_NAME_INVALID;
      case FORBIDDEN, NOT_FOUND -> MqttDisconnectReasonCode.NOT_AUTHORIZED;
      case BAD_PAYLOAD -> MqttDisconnectReasonCode.PAYLOAD_FORMAT_INVALID;
      case TOO_LARGE -> MqttDisconnectReasonCode.PACKET_TOO_LARGE;
      case QOS_NOT_ALLOWED -> MqttDisconnectReasonCode.QOS_NOT_SUPPORTED;
      case OVERLOADED -> MqttDisconnectReasonCode.QUOTA_EXCEEDED;
      case UNAVAILABLE -> MqttDisconnectReasonCode.UNSPECIFIED_ERROR;
    };
  }

  private void disconnect(MqttDisconnectReasonCode code) {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (v5()) {
        // Sends DISCONNECT with the reason, then closes the connection.
        endpoint.disconnect(code, MqttProperties.NO_PROPERTIES);
      } else {
        endpoint.close();
      }
    } catch (IllegalStateException alreadyClosed) {
      // The client went away first: nothing left to tell it.
    }
  }

  /** Pauses reading while this connection has too much waiting or the writer is saturated; resumes below half. */
  private void throttle() {
    if (closed) {
      return;
    }
    boolean saturated = ingest.writer().saturated();
    if (!paused && (pending >= maxUnacked || saturated)) {
      paused = true;
      SocketReadControl.pause(endpoint);
    } else if (paused && pending <= maxUnacked / 2) {
      if (saturated) {
        // The writer tells no one when it drains: WriterRoom looks for everyone.
        if (!awaitingRoom) {
          awaitingRoom = true;
          room.whenRoom(() -> context.runOnContext(v -> {
            awaitingRoom = false;
            throttle();
          }));
        }
      } else {
        paused = false;
        SocketReadControl.resume(endpoint);
      }
    }
  }
}
