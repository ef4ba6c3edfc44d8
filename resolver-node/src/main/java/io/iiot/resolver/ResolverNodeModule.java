package io.iiot.resolver;

import io.iiot.base.config.ServiceConfig;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.runtime.ServiceModule;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.transport.handle.AuthState;
import io.iiot.resolver.transport.handle.HandleRequestProcessor;
import io.iiot.resolver.transport.handle.HandleTcpServer;
import io.iiot.resolver.transport.handle.HandleUdpServer;
import io.iiot.resolver.transport.handle.ServerKeys;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.iiot.resolver.transport.http.HandleJsonApi;
import io.iiot.resolver.transport.http.HttpsApiServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The transports of resolver-node: Handle protocol on UDP and TCP, the handle.net-style JSON API on the HTTP port,
 * gRPC.
 *
 * <pre>
 * config → server key + site record → Cassandra store (+ cache) → prefix handle 0.NA/&lt;prefix&gt;
 *   → request processor (auth state) → UDP + TCP listeners, HTTP routes
 * </pre>
 */
public final class ResolverNodeModule implements ServiceModule {
  private static final Logger LOG = LoggerFactory.getLogger(ResolverNodeModule.class);
  private final HandleSettings settings;
  private final boolean allowRekey;
  private volatile String refusal;
  private Vertx vertx;
  private ResolverGrpcApi api;
  private HandleUdpServer udp;
  private HandleTcpServer tcp;
  private HttpsApiServer https;
  private HandleStore store;
  private HandleRequestProcessor processor;
  private long sweepTimer = -1;
  private final io.iiot.resolver.hierarchy.HierarchySettings hierarchySettings;
  private volatile io.iiot.resolver.hierarchy.transport.NodeHierarchy hierarchy;

  public ResolverNodeModule(ServiceConfig config) {
    // Validate this module's keys now, so a bad value stops the start before anything listens.
    config.string("grpc.host");
    config.port("grpc.port");
    settings = HandleSettings.from(config);
    allowRekey = config.bool("handle.allow-rekey");
    hierarchySettings = io.iiot.resolver.hierarchy.HierarchySettings.from(config);
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    vertx = context.vertx();
    try {
      ServerKeys keys = ServerKeys.loadOrCreate(settings.serverKeyFile());
      SiteRecord site = NodeBootstrap.siteRecord(settings, keys, settings.port());
      store = new HandleStore(context.session(), context.config().string("cassandra.keyspace"), settings.cacheSize(),
          settings.cacheMaxAge());
      try {
        NodeBootstrap.ensurePrefixHandle(settings, store, site, allowRekey);
      } catch (NodeBootstrap.SiteKeyMismatch e) {
        // Up (live, /metrics) but not ready and serving nothing: an operator reads the reason on /health/ready.
        refusal = e.getMessage();
        LOG.error("Not serving: {}", refusal);
        context.ops().addReadinessCheck("handle-site-key", 1_000, () -> Future.failedFuture(refusal));
        return Future.succeededFuture();
      }
      AuthState auth = new AuthState(settings.challengeTimeout().toMillis(), settings.sessionTimeout().toMillis(),
          100_000, settings.maxSessions());
      sweepTimer = vertx.setPeriodic(5_000, t -> auth.sweep());
      processor = new HandleRequestProcessor(vertx, store, auth, keys, settings.prefix(), site,
          settings.maxInFlight());
      HandleJsonApi jsonApi = new HandleJsonApi(vertx, store, processor, settings.httpInsecureAuth(),
          () -> hierarchy == null ? null : hierarchy.referralPoint());
      jsonApi.mount(context.ops().router());
      https = new HttpsApiServer(vertx, HttpsApiServer.Settings.from(context.config()));
      Future<Void> httpsListening = https.start(jsonApi);
      udp = new HandleUdpServer(vertx, processor, settings.udpSockets(), settings.udpReceiveBuffer());
      tcp = new HandleTcpServer(vertx, processor, settings.tcpIdleTimeout(), settings.tcpEventLoops());
      api = ResolverGrpcApi.start(context, settings, store, processor,
          () -> hierarchy == null ? null : hierarchy.referralPoint());
      return io.iiot.resolver.hierarchy.transport.NodeHierarchy.attach(vertx, hierarchySettings, store, processor,
              settings.prefix(), context.registry()).onSuccess(h -> hierarchy = h)
          .compose(h -> udp.listen(settings.host(), settings.port()))
          .compose(s -> tcp.listen(settings.host(), settings.port()))
          .onSuccess(s -> LOG.info("Handle protocol on {}:{} (UDP and TCP), prefix {}", settings.host(),
              tcp.port(), settings.prefix()))
          .compose(s -> httpsListening);
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
  }

  /** Why the node refused to serve (its site key check), or null when it serves. */
  public String refusal() {
    return refusal;
  }

  /** The store (tests). */
  public HandleStore store() {
    return store;
  }

  public HandleRequestProcessor processor() {
    return processor;
  }

  /** The gRPC API (tests: its port). */
  public ResolverGrpcApi api() {
    return api;
  }

  /** The JSON API's HTTPS listener (tests: its port and development certificate). */
  public HttpsApiServer https() {
    return https;
  }

  public HandleSettings settings() {
    return settings;
  }

  /** The node's role, referral/recursion counters and recent routing decisions. */
  public io.iiot.resolver.hierarchy.transport.NodeHierarchy hierarchy() {
    return hierarchy;
  }

  @Override
  public Future<Void> stop() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    Future<Void> f = Future.succeededFuture();
    if (udp != null) {
      f = f.compose(x -> udp.close());
    }
    if (tcp != null) {
      f = f.compose(x -> tcp.close());
    }
    if (https != null) {
      f = f.compose(x -> https.close());
    }
    if (hierarchy != null) {
      f = f.compose(x -> hierarchy.close());
    }
    return api == null ? f : f.compose(x -> api.stop());
  }
}
