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

/**
 * The MQTT listeners: plain (1883) and, if enabled, TLS (8883), both serving {@link MqttConnection}s. Each listener is
 * one Vert.x MQTT server per core sharing the port, each on its own event loop: Vert.x hands a server's connections
 * all to the event loop it listened on, so a single server would decode, map and acknowledge every device's messages
 * on one core.
 */
public final class MqttIngestServer {
  private static final Logger LOG = LoggerFactory.getLogger(MqttIngestServer.class);
  private final Vertx vertx;
  private final MqttSettings settings;
  private final DeviceAuthenticator authenticator;
  private final TelemetryIngest ingest;
  private final MqttMetrics metrics;
  /** The first server of each listener (plain, TLS), for its bound port. */
  private final List<MqttServer> servers = new ArrayList<>();
  /** Every server instance, on its own event loop (verticle). */
  private final List<String> deployments = new ArrayList<>();
  private final int instances = Math.max(1, Runtime.getRuntime().availableProcessors());
  private final CommandRouter commands;
  private final RegistryCache registry;
  /** Shared by all connections: one look at the writer's saturation every few ms for everyone held back. */
  private final WriterRoom room;

  public MqttIngestServer(Vertx vertx, MqttSettings settings, DeviceAuthenticator authenticator,
      TelemetryIngest ingest, MeterRegistry registry, CommandRouter commands, RegistryCache cache) {
    this.vertx = vertx;
    this.settings = settings;
    this.authenticator = authenticator;
    this.ingest = ingest;
    this.metrics = new MqttMetrics(registry);
    this.commands = commands;
    this.registry = cache;
    this.room = new WriterRoom(vertx, () -> ingest.writer().saturated(), MqttConnection.OVERLOAD_RETRY_MS);
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

  /** Listens on the port of {@code options} with {@link #instances} servers, the first binding the port. */
  private Future<MqttServer> listen(MqttServerOptions options) {
    return instance(options).compose(first -> {
      servers.add(first);
      LOG.info("MQTT{} listening on {}:{} ({} event loops)", options.isSsl() ? " over TLS" : "", options.getHost(),
          first.actualPort(), instances);
      List<Future<MqttServer>> more = new ArrayList<>();
      for (int i = 1; i < instances; i++) {
        more.add(instance(new MqttServerOptions(options).setPort(first.actualPort())));
      }
      return Future.all(more).map(first);
    });
  }

  /** One server, listening from a verticle of its own, hence on an event loop of its own. */
  private Future<MqttServer> instance(MqttServerOptions options) {
    io.vertx.core.Promise<MqttServer> listening = io.vertx.core.Promise.promise();
    return vertx.deployVerticle(new io.vertx.core.AbstractVerticle() {
      @Override
      public void start(io.vertx.core.Promise<Void> started) {
        server(options).listen().onSuccess(s -> {
          listening.complete(s);
          started.complete();
        }).onFailure(started::fail);
      }
    }).onSuccess(deployments::add).compose(id -> listening.future());
  }

  private MqttServer server(MqttServerOptions options) {
    MqttServer server = MqttServer.create(vertx, options);
    // A malformed or oversized FIRST packet (before or as CONNECT) is reported on the socket, not here or at an
    // endpoint: counted through this hook.
    PreConnectErrors.install(server, err -> {
      metrics.protocolError(err);
      LOG.debug("MQTT before CONNECT: {}", err.toString());
    }, socket -> MqttPacketFramer.insert(socket, settings.maxMessageBytes()));
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
          registry, room).start();
    });
    // Vert.x MQTT reports only a CONNECT with an empty client id and no clean session here.
    server.exceptionHandler(err -> {
      metrics.protocolError(err);
      LOG.debug("MQTT: {}", err.toString());
    });
    return server;
  }

  /** Bound ports in start order: plain, then TLS if enabled. */
  public List<Integer> ports() {
    return servers.stream().map(MqttServer::actualPort).toList();
  }

  /** Undeploys every server instance, which closes its server and connections. */
  public Future<Void> stop() {
    List<Future<Void>> closing = deployments.stream().map(vertx::undeploy).toList();
    deployments.clear();
    return Future.join(new ArrayList<>(closing)).mapEmpty();
  }
}
