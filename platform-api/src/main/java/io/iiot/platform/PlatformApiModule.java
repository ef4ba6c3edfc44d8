package io.iiot.platform;

import io.grpc.BindableService;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptors;
import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.grpc.GrpcServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.runtime.ServiceModule;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.iiot.platform.api.ApiKeyApi;
import io.iiot.platform.api.CommandApi;
import io.iiot.platform.api.DeviceApi;
import io.iiot.platform.api.IdentifierApi;
import io.iiot.platform.api.OnboardingApi;
import io.iiot.platform.api.TelemetryApi;
import io.iiot.platform.backend.BearerToken;
import io.iiot.platform.backend.DeviceHubDirectory;
import io.iiot.platform.backend.ResolverIdentifierRegistry;
import io.iiot.platform.domain.Onboarder;
import io.iiot.platform.storage.RequestIdStore;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import io.iiot.platform.api.ApiKeyAuthenticator;
import io.iiot.platform.api.TemplateApi;
import io.iiot.platform.api.TenantApi;
import io.iiot.platform.catalog.CatalogSeeder;
import io.iiot.platform.catalog.ShippedCatalog;
import io.iiot.platform.domain.ApiKeySecrets;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.RateLimiter;
import io.iiot.platform.storage.ApiKeyStore;
import io.iiot.platform.storage.TemplateStore;
import io.iiot.platform.storage.TenantStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The transports of platform-api: the authenticated {@code iiot.platform.v1} services on one gRPC server. */
public final class PlatformApiModule implements ServiceModule {
  /** Tenant id of operator keys; tenant ids start with a letter, so no tenant can have it. */
  public static final String OPERATOR_TENANT = "_platform";
  private static final Logger LOG = LoggerFactory.getLogger(PlatformApiModule.class);
  private final Optional<ApiKeySecrets.PresentedKey> operatorKey;
  private final byte[] pageTokenKey;
  private final Duration pageTokenLifetime;
  private final int ratePerSecond;
  private final int burst;
  private final Duration lookupTimeout;
  private final ServerCredentials credentials;
  private final String resolverTarget;
  private final java.nio.file.Path resolverToken;
  private final Duration resolverDeadline;
  private final String hubTarget;
  private final List<String> hubReplicas;
  private final Duration hubDeadline;
  private final int batchConcurrency;
  private final String mqttUri;
  private final String coapUri;
  private final int streamBuffer;
  private final List<ManagedChannel> channels = new java.util.ArrayList<>();
  private ExecutorService backendPool;
  private Vertx vertx;
  private GrpcServer grpc;

  public PlatformApiModule(ServiceConfig config) {
    // Validate this module's keys now, so a bad value stops the start before anything listens.
    config.string("grpc.host");
    config.port("grpc.port");
    credentials = GrpcTls.fromConfig(config);
    operatorKey = config.optional("auth.operator-key").map(k -> ApiKeySecrets.parse(k)
        .filter(p -> p.secret().length() >= 32)
        .orElseThrow(() -> new ConfigException("Invalid configuration: auth.operator-key must be"
            + " iiotk_<16 of [a-z0-9]>_<secret of 32..200 characters>")));
    pageTokenKey = config.optional("api.page-token-key").map(k -> {
      if (k.length() < 32) {
        throw new ConfigException("Invalid configuration: api.page-token-key must have at least 32 characters");
      }
      return k.getBytes(StandardCharsets.UTF_8);
    }).orElseGet(() -> {
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      return random;
    });
    pageTokenLifetime = config.duration("api.page-token-lifetime");
    ratePerSecond = config.integer("auth.rate-per-second", 1, 1_000_000);
    burst = config.integer("auth.burst", 1, 1_000_000);
    lookupTimeout = config.duration("auth.lookup-timeout");
    resolverTarget = config.string("resolver.target");
    resolverToken = java.nio.file.Path.of(config.string("resolver.service-token-file"));
    resolverDeadline = config.duration("resolver.deadline");
    hubTarget = config.string("device-hub.target");
    hubReplicas = config.list("device-hub.replica-targets").isEmpty() ? List.of(hubTarget)
        : config.list("device-hub.replica-targets");
    hubDeadline = config.duration("device-hub.deadline");
    batchConcurrency = config.integer("device-hub.batch-concurrency", 1, 64);
    mqttUri = config.string("onboarding.mqtt-uri");
    coapUri = config.string("onboarding.coap-uri");
    streamBuffer = config.integer("telemetry.stream-buffer", 16, 1_000_000);
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    vertx = context.vertx();
    try {
      // Called on a worker thread: preparing statements and seeding may block.
      // The runtime's session has no current keyspace: every statement names it.
      String keyspace = context.config().string("cassandra.keyspace");
      TenantStore tenants = new TenantStore(context.session(), keyspace);
      ApiKeyStore keys = new ApiKeyStore(context.session(), keyspace);
      TemplateStore templates = new TemplateStore(context.session(), keyspace);
      int seeded = CatalogSeeder.seed(templates, ShippedCatalog.load()).toCompletableFuture()
          .get(60, TimeUnit.SECONDS);
      LOG.info("onboarding template catalogue: {} templates added", seeded);
      if (operatorKey.isPresent()) {
        ApiKeySecrets.PresentedKey k = operatorKey.get();
        keys.save(new Principal(k.keyId(), OPERATOR_TENANT, Principal.Role.OPERATOR),
            ApiKeySecrets.hash(k.secret()), "bootstrap operator key").toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
      PageTokens tokens = new PageTokens(pageTokenKey, pageTokenLifetime, Clock.systemUTC());
      ApiKeyAuthenticator auth = new ApiKeyAuthenticator(keys,
          new RateLimiter(ratePerSecond, burst, 100_000, System::nanoTime), System::nanoTime, lookupTimeout.toMillis());
      ManagedChannel resolver = channel(resolverTarget);
      ManagedChannel hub = channel(hubTarget);
      List<io.grpc.Channel> replicas = hubReplicas.stream().<io.grpc.Channel>map(t -> t.equals(hubTarget) ? hub
          : channel(t)).toList();
      BearerToken resolverAuth = new BearerToken(resolverToken);
      // Blocking device-hub batch calls (bounded by the thread count) and stream writes run here, never on gRPC's or
      // Vert.x's threads.
      backendPool = Executors.newFixedThreadPool(batchConcurrency + 2, r -> {
        Thread t = new Thread(r, "platform-api-backend");
        t.setDaemon(true);
        return t;
      });
      Onboarder onboarder = new Onboarder(new ResolverIdentifierRegistry(resolver, resolverAuth,
          resolverDeadline.toMillis()), new DeviceHubDirectory(hub, backendPool, hubDeadline.toMillis(),
          batchConcurrency), mqttUri, coapUri);
      List<BindableService> services = List.of(
          new TenantApi(tenants, tokens), new ApiKeyApi(keys, tenants, tokens, auth), new TemplateApi(templates, tokens),
          new OnboardingApi(tenants, templates, new RequestIdStore(context.session(), keyspace), onboarder),
          new DeviceApi(hub, tokens, hubDeadline.toMillis()),
          new IdentifierApi(resolver, resolverAuth, tenants, tokens, resolverDeadline.toMillis()),
          new TelemetryApi(hub, replicas, tokens, hubDeadline.toMillis(), backendPool, streamBuffer),
          new CommandApi(hub, tokens, hubDeadline.toMillis()));
      grpc = new GrpcServer(context.config().string("grpc.host"), context.config().port("grpc.port"), credentials,
          context.registry(), services.stream()
          .<BindableService>map(s -> () -> ServerInterceptors.intercept(s, auth)).toList()).start();
      LOG.info("platform-api gRPC on port {}", grpc.port());
      return Future.succeededFuture();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Future.failedFuture(e);
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
  }

  private ManagedChannel channel(String target) {
    ManagedChannel c = NettyChannelBuilder.forTarget(target).usePlaintext().build();
    channels.add(c);
    return c;
  }

  /** The bound gRPC port (after start). */
  public int grpcPort() {
    return grpc.port();
  }

  @Override
  public Future<Void> stop() {
    Future<Void> stopped = grpc == null ? Future.succeededFuture() : grpc.shutdownAsync(vertx, 10_000);
    return stopped.onComplete(v -> {
      channels.forEach(ManagedChannel::shutdownNow);
      if (backendPool != null) {
        backendPool.shutdownNow();
      }
    });
  }
}
