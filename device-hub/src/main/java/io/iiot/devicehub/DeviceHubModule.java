package io.iiot.devicehub;

import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.grpc.GrpcServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.runtime.ServiceModule;
import io.iiot.devicehub.api.CommandGrpcService;
import io.iiot.devicehub.api.CommandRelayGrpcService;
import io.iiot.devicehub.api.DeviceGrpcService;
import io.iiot.devicehub.api.GrpcReplicaRelay;
import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.command.CommandSettings;
import io.iiot.devicehub.domain.PasswordHasher;
import io.iiot.devicehub.domain.PayloadMapper;
import io.iiot.devicehub.ingest.DeviceAuthenticator;
import io.iiot.devicehub.ingest.RegistryCache;
import io.iiot.devicehub.ingest.TelemetryIngest;
import io.iiot.devicehub.storage.CassandraTelemetryWriter;
import io.iiot.devicehub.query.LiveTelemetry;
import io.iiot.devicehub.query.PublishingTelemetryWriter;
import io.iiot.devicehub.query.TelemetryQueryGrpcService;
import io.iiot.devicehub.storage.DeviceRegistry;
import io.iiot.devicehub.storage.TelemetryWriter;
import io.iiot.base.tls.SelfSignedTls;
import io.iiot.devicehub.transport.coap.CoapIngestServer;
import io.iiot.devicehub.transport.coap.CoapSettings;
import io.iiot.devicehub.transport.hono.HonoConnector;
import io.iiot.devicehub.transport.hono.HonoSettings;
import io.iiot.devicehub.transport.mqtt.MqttIngestServer;
import io.iiot.devicehub.transport.mqtt.MqttSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PfxOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wiring of device-hub: storage → ingest pipeline → transports.
 *
 * <pre>
 * MQTT 1883/8883 ─┐
 * CoAP 5683/5684 ─┼─► TelemetryIngest (address, registry cache, schema) ─► CassandraTelemetryWriter ─► Cassandra
 * (Hono Kafka) ───┘                                                         (one queue each: MQTT, CoAP, Hono)
 * </pre>
 */
public final class DeviceHubModule implements ServiceModule {
  private static final Logger LOG = LoggerFactory.getLogger(DeviceHubModule.class);

  private final MqttSettings mqtt;
  private final CoapSettings coap;
  private final HonoSettings hono;
  private final int maxPayloadBytes;
  private final Duration cacheTtl;
  private final int maxInFlight;
  private final int maxQueuedRows;
  private final int maxBatchRows;
  private final CassandraTelemetryWriter.Grouping batchGrouping;
  private final int maxBatchPartitions;
  private final CassandraTelemetryWriter.Grouping coapBatchGrouping;
  private final int hashThreads;
  private final int hashQueue;
  private final int pbkdf2Iterations;
  private final int createHashThreads;
  private final int generatedPbkdf2Iterations;
  private final int streamMaxSubscribers;
  private final int streamBufferPoints;
  private final CommandSettings commands;
  private CommandRouter commandRouter;
  private ScheduledExecutorService commandTimers;
  private GrpcReplicaRelay replicaRelay;
  private LiveTelemetry live;
  private Vertx vertx;
  private GrpcServer grpc;
  private MqttIngestServer mqttServer;
  private CoapIngestServer coapServer;
  private HonoConnector honoConnector;
  private ThreadPoolExecutor hashPool;
  private SelfSignedTls devTls;

  public DeviceHubModule(ServiceConfig config) {
    // Validate this module's keys now, so a bad value stops the start before anything listens.
    config.string("grpc.host");
    config.port("grpc.port");
    mqtt = MqttSettings.from(config);
    coap = CoapSettings.from(config);
    hono = HonoSettings.from(config);
    maxPayloadBytes = config.integer("ingest.max-payload-bytes", 16, 16 * 1024 * 1024);
    if (maxPayloadBytes > mqtt.maxMessageBytes()) {
      throw new ConfigException("Invalid configuration: ingest.max-payload-bytes (" + maxPayloadBytes
          + ") must not exceed mqtt.max-message-bytes (" + mqtt.maxMessageBytes() + ")");
    }
    cacheTtl = config.duration("ingest.registry-cache-ttl");
    maxInFlight = config.integer("telemetry.max-in-flight", 1, 4096);
    maxQueuedRows = config.integer("telemetry.max-queued-rows", 100, 10_000_000);
    maxBatchRows = config.integer("telemetry.max-batch-rows", 1, 1000);
    batchGrouping = CassandraTelemetryWriter.Grouping.parse(
        config.oneOf("telemetry.batch-grouping", "replica-set", "partition"));
    maxBatchPartitions = config.integer("telemetry.max-batch-partitions", 1, 1000);
    coapBatchGrouping = CassandraTelemetryWriter.Grouping.parse(
        config.oneOf("coap.batch-grouping", "replica-set", "partition"));
    hashThreads = config.integer("credentials.hash-threads", 1, 64);
    hashQueue = config.integer("credentials.hash-queue", 1, 1_000_000);
    pbkdf2Iterations = config.integer("credentials.pbkdf2-iterations", 1000, 10_000_000);
    generatedPbkdf2Iterations = config.integer("credentials.generated-pbkdf2-iterations", 1000, 10_000_000);
    createHashThreads = config.integer("credentials.create-hash-threads", 1, 64);
    streamMaxSubscribers = config.integer("query.stream-max-subscribers", 1, 100_000);
    streamBufferPoints = config.integer("query.stream-buffer-points", 16, 1_000_000);
    commands = CommandSettings.from(config);
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    vertx = context.vertx();
    String keyspace = context.config().string("cassandra.keyspace");
    DeviceRegistry registry = new DeviceRegistry(context.session(), keyspace);
    RegistryCache cache = new RegistryCache(registry, cacheTtl, 1_000_000);
    // Every ingest path writes through the publishing wrapper: rows reach live stream subscribers after the durable write.
    live = new LiveTelemetry(streamMaxSubscribers, context.registry());
    TelemetryWriter writer = new PublishingTelemetryWriter(new CassandraTelemetryWriter(context.session(), keyspace,
        context.registry(), maxInFlight, maxQueuedRows, maxBatchRows, batchGrouping, maxBatchPartitions, "devices"),
        live);
    TelemetryIngest ingest = new TelemetryIngest(cache, new PayloadMapper(maxPayloadBytes), writer, Clock.systemUTC());
    hashPool = new ThreadPoolExecutor(hashThreads, hashThreads, 60, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(hashQueue), r -> {
          Thread t = new Thread(r, "device-hub-password-hash");
          t.setDaemon(true);
          return t;
        });
    DeviceAuthenticator authenticator = new DeviceAuthenticator(cache, hashPool);

    commandTimers = CommandSettings.timers();
    replicaRelay = new GrpcReplicaRelay(Clock.systemUTC());
    commandRouter = commands.router(context, keyspace, cache, replicaRelay, commandTimers);
    grpc = GrpcServer.startFrom(context, List.of(
        new DeviceGrpcService(registry, new PasswordHasher(pbkdf2Iterations),
            new PasswordHasher(generatedPbkdf2Iterations), createHashThreads),
        new TelemetryQueryGrpcService(context.session(), keyspace, live, streamBufferPoints, streamPumps()),
        new CommandGrpcService(commandRouter, Clock.systemUTC()),
        new CommandRelayGrpcService(commandRouter, Clock.systemUTC())));
    commands.startRefresh(commandRouter, commandTimers);
    // CoAP gets a write queue of its own: its devices hold one request each, so its rows never merge with later ones
    // of the same device; they share requests across devices instead (coap.batch-grouping). MQTT's queue keeps its
    // budget, under which a device's queued messages merge into one partition update.
    TelemetryWriter coapWriter = new PublishingTelemetryWriter(new CassandraTelemetryWriter(context.session(),
        keyspace, context.registry(), coap.maxInFlight(), maxQueuedRows, maxBatchRows, coapBatchGrouping,
        maxBatchPartitions, "coap"), live);
    TelemetryIngest coapIngest = new TelemetryIngest(cache, new PayloadMapper(maxPayloadBytes), coapWriter,
        Clock.systemUTC());
    coapServer = new CoapIngestServer(coap, coapIngest, registry, authenticator, maxPayloadBytes, context.registry(),
        commandRouter, cache, commandTimers);
    coapServer.start();
    mqttServer = new MqttIngestServer(vertx, mqtt, authenticator, ingest, context.registry(), commandRouter, cache);
    if (hono.enabled()) {
      // Hono gets a write queue of its own: its read-ahead (records of 1,000s of interleaved devices, held so that a
      // device's rows merge into one partition update) neither fills the queue of MQTT and CoAP nor delays their acks.
      TelemetryWriter honoWriter = new PublishingTelemetryWriter(new CassandraTelemetryWriter(context.session(),
          keyspace, context.registry(), maxInFlight, hono.maxQueuedRows(), hono.maxBatchRows(), batchGrouping,
          maxBatchPartitions, "hono"), live);
      honoConnector = new HonoConnector(vertx, hono, cache, new PayloadMapper(maxPayloadBytes), honoWriter,
          context.session(), keyspace, context.registry());
      // Not ready while Hono's Kafka is unreachable or refuses our TLS/SASL settings (the reason is in the body).
      context.ops().addReadinessCheck("hono-kafka", 1000, honoConnector::readiness);
      // Commands for devices of the Hono tenants go out through Hono's command topics; responses come back there.
      commandRouter.addTransport(honoConnector.commands(commandRouter));
    }
    return mqttServer.start(tlsOptions())
        .compose(v -> honoConnector == null ? Future.succeededFuture() : honoConnector.start());
  }

  /** Two daemon threads write live telemetry streams (each call's writes serialised by its pump). */
  private static java.util.concurrent.Executor streamPumps() {
    return java.util.concurrent.Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "device-hub-telemetry-stream");
      t.setDaemon(true);
      return t;
    });
  }

  private KeyCertOptions tlsOptions() {
    if (mqtt.tlsPort() == 0) {
      return null;
    }
    if (mqtt.tlsCert().isPresent()) {
      return new PemKeyCertOptions().setCertPath(mqtt.tlsCert().get()).setKeyPath(mqtt.tlsKey().orElseThrow());
    }
    try {
      devTls = SelfSignedTls.generate("device-hub");
    } catch (Exception e) {
      throw new IllegalStateException("cannot generate a self-signed TLS certificate: " + e.getMessage(), e);
    }
    LOG.warn("mqtt.tls-cert not set: MQTT over TLS uses a self-signed development certificate ({}); configure a real"
        + " certificate for production", devTls.certPem());
    return new PfxOptions().setPath(devTls.keystore().toString()).setPassword(devTls.password());
  }

  /** The generated development certificate, or null when a certificate is configured or TLS is off. */
  public SelfSignedTls devTls() {
    return devTls;
  }

  /** Routes commands; other paths to devices (Hono) register with {@link CommandRouter#addTransport}. */
  public CommandRouter commandRouter() {
    return commandRouter;
  }

  /** The bound gRPC port. */
  public int grpcPort() {
    return grpc.port();
  }

  /** Bound MQTT ports: plain, then TLS if enabled. */
  public List<Integer> mqttPorts() {
    return mqttServer.ports();
  }

  @Override
  public Future<Void> stop() {
    Future<Void> mqttStopped = mqttServer == null ? Future.succeededFuture() : mqttServer.stop();
    Future<Void> honoStopped = honoConnector == null ? Future.succeededFuture() : honoConnector.stop();
    if (coapServer != null) {
      coapServer.stop();
    }
    return Future.join(mqttStopped, honoStopped).<Void>mapEmpty()
        .compose(v -> grpc == null ? Future.succeededFuture() : grpc.shutdownAsync(vertx, 10_000))
        .onComplete(v -> {
          if (hashPool != null) {
            hashPool.shutdownNow();
          }
          if (commandTimers != null) {
            commandTimers.shutdownNow();
          }
          if (replicaRelay != null) {
            replicaRelay.close();
          }
        });
  }
}
