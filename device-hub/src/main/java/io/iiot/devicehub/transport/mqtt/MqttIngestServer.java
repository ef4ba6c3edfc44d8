package io.iiot.devicehub.transport.mqtt;

import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.ingest.DeviceAuthenticator;
import io.iiot.devicehub.ingest.RegistryCache;
import io.iiot.devicehub.ingest.TelemetryIngest;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.KeyCertOptions;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.vertx.mqtt.MqttServer;
import io.vertx.mqtt.MqttServerOptions;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The MQTT listeners: plain (1883) and, if enabled, TLS (8883), both serving {@link MqttConnection}s. */
public final class MqttIngestServer {
  private static final Logger LOG = LoggerFactory.getLogger(MqttIngestServer.class);
  private final Vertx vertx;
  private final MqttSettings settings;
  private final DeviceAuthenticator authenticator;
  private final TelemetryIngest ingest;
  private final MqttMetrics metrics;
  private final List<MqttServer> servers = new ArrayList<>();
  private final CommandRouter commands;
  private final RegistryCache registry;

  public MqttIngestServer(Vertx vertx, MqttSettings settings, DeviceAuthenticator authenticator,
      TelemetryIngest ingest, MeterRegistry registry, CommandRouter commands, RegistryCache cache) {
    this.vertx = vertx;
    this.settings = settings;
    this.authenticator = authenticator;
    this.ingest = ingest;
    this.metrics = new MqttMetrics(registry);
    this.commands = commands;
    this.registry = cache;
  }

  /**
   * Listens on the plain port and, when {@code tls} is not null, on the TLS port. Fails if a port is taken.
   */
  public Future<Void> start(KeyCertOptions tls) {
    Future<MqttServer> plain = listen(options().setPort(settings.port()));
    if (tls == null || settings.tlsPort() == 0) {
      return plain.mapEmpty();
    }
    // Client certificates are asked for, not required (password logins stay possible on 8883), and accepted without a
    // CA: the device is then known only if the certificate's SHA-256 fingerprint is a registered credential
    // (DeviceAuthenticator#authenticateCertificate), which is the trust decision.
    return plain.compose(p -> listen(options().setPort(settings.tlsPort()).setSsl(true).setKeyCertOptions(tls)
        .setClientAuth(io.vertx.core.http.ClientAuth.REQUEST)
        .setTrustOptions(io.vertx.core.net.TrustOptions.wrap(new FingerprintTrust())))).mapEmpty();
  }

  private MqttServerOptions options() {
    MqttServerOptions o = new MqttServerOptions().setHost(settings.host());
    // Vert.x's default (8092 bytes) silently drops bigger packets; payload limits are checked later with a reason.
    o.setMaxMessageSize(settings.maxMessageBytes());
    return o;
  }

  private Future<MqttServer> listen(MqttServerOptions options) {
    MqttServer server = MqttServer.create(vertx, options);
    server.endpointHandler(endpoint -> {
      // Counted against accepted connections only: CONNECTs still authenticating may overshoot by their number, which
      // is bounded by what the event loops read at once.
      if (metrics.connections.get() >= settings.maxConnections()) {
        metrics.connect("limit");
        endpoint.reject(endpoint.protocolVersion() == 5 ? MqttConnectReturnCode.CONNECTION_REFUSED_QUOTA_EXCEEDED
            : MqttConnectReturnCode.CONNECTION_REFUSED_SERVER_UNAVAILABLE);
        return;
      }
      new MqttConnection(vertx, endpoint, authenticator, ingest, metrics, settings.maxUnacked(), commands,
          registry).start();
    });
    // Errors before CONNECT was read (a malformed or oversized first packet) arrive here, later ones at the endpoint.
    server.exceptionHandler(err -> {
      metrics.protocolError(err);
      LOG.debug("MQTT: {}", err.toString());
    });
    return server.listen().onSuccess(s -> {
      servers.add(s);
      LOG.info("MQTT{} listening on {}:{}", options.isSsl() ? " over TLS" : "", options.getHost(), s.actualPort());
    });
  }

  /** Bound ports in start order: plain, then TLS if enabled. */
  public List<Integer> ports() {
    return servers.stream().map(MqttServer::actualPort).toList();
  }

  public Future<Void> stop() {
    List<Future<Void>> closing = servers.stream().map(MqttServer::close).toList();
    return Future.join(new ArrayList<>(closing)).mapEmpty();
  }
}
