package io.iiot.resolver;

import io.grpc.BindableService;
import io.grpc.ServerInterceptors;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.grpc.GrpcServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.resolver.api.AuthInterceptor;
import io.iiot.resolver.api.EnterpriseGrpcService;
import io.iiot.resolver.api.FilingReceiverGrpcService;
import io.iiot.resolver.api.IdentifierGrpcService;
import io.iiot.resolver.api.PrefixAccess;
import io.iiot.resolver.api.PrefixApplicationGrpcService;
import io.iiot.resolver.api.PrefixApproval;
import io.iiot.resolver.api.ResolutionGrpcService;
import io.iiot.resolver.api.StatisticsGrpcService;
import io.iiot.resolver.api.TemplateGrpcService;
import io.iiot.resolver.api.UpstreamFilingSender;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.domain.auth.Tokens;
import io.iiot.resolver.storage.EnterpriseStore;
import io.iiot.resolver.storage.FilingQueue;
import io.iiot.resolver.storage.FilingStore;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.storage.IdentifierRegistry;
import io.iiot.resolver.storage.ReceivedFilings;
import io.iiot.resolver.storage.RequestLog;
import io.iiot.resolver.storage.StatisticsRecorder;
import io.iiot.resolver.storage.StatisticsStore;
import io.iiot.resolver.storage.TemplateStore;
import io.iiot.resolver.transport.handle.HandleRequestProcessor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * The node's gRPC API (iiot.resolver.v1) and what it needs: every service behind {@link AuthInterceptor} (operator
 * and service tokens from their files, generated at first start), filing with the upstream sender, statistics fed by
 * registrations and by every resolution answer (Handle, HTTP, gRPC), and in top-level mode the filing receiver.
 * Blocking start (token files, gRPC bind): call from the module's worker-thread start.
 */
public final class ResolverGrpcApi {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ResolverGrpcApi.class);
  private final Vertx vertx;
  private final GrpcServer grpc;
  private final UpstreamFilingSender sender;
  private final StatisticsRecorder stats;
  private final long flushTimer;
  private final long sweepTimer;

  private ResolverGrpcApi(Vertx vertx, GrpcServer grpc, UpstreamFilingSender sender, StatisticsRecorder stats,
      long flushTimer, long sweepTimer) {
    this.vertx = vertx;
    this.grpc = grpc;
    this.sender = sender;
    this.stats = stats;
    this.flushTimer = flushTimer;
    this.sweepTimer = sweepTimer;
  }

  /** Approvals interrupted half-way are completed now and then every {@code interval} (one sweep at a time). */
  private static long startCompletionSweep(Vertx vertx, PrefixApproval approval, java.time.Duration interval) {
    java.util.concurrent.atomic.AtomicBoolean running = new java.util.concurrent.atomic.AtomicBoolean();
    Runnable sweep = () -> {
      if (!running.compareAndSet(false, true)) {
        return;
      }
      approval.completeInterrupted().onComplete(r -> {
        running.set(false);
        if (r.failed()) {
          LOG.warn("Completing interrupted approvals failed ({}); next try in {}", r.cause().toString(), interval);
        } else if (r.result() > 0) {
          LOG.info("Completed {} approval(s) that had been interrupted half-way", r.result());
        }
      });
    };
    vertx.runOnContext(v -> sweep.run());
    return vertx.setPeriodic(Math.max(1, interval.toMillis()), t -> sweep.run());
  }

  /**
   * @param hierarchy the node's routing for ResolveHandle (the same decision the Handle protocol takes); null until
   *     the hierarchy is attached
   */
  public static ResolverGrpcApi start(ServiceContext ctx, HandleSettings settings, HandleStore store,
      HandleRequestProcessor processor, java.util.function.Supplier<io.iiot.resolver.hierarchy.ReferralPoint> hierarchy)
      throws Exception {
    ServiceConfig c = ctx.config();
    Vertx vertx = ctx.vertx();
    String keyspace = c.string("cassandra.keyspace");
    String role = c.oneOf("node.role", "secondary", "top-level", "enterprise");
    Tokens.Token operator = CredentialFiles.loadOrCreate(Path.of(c.string("auth.operator-token-file")),
        Principal.OPERATOR_ID);
    Tokens.Token service = CredentialFiles.loadOrCreate(Path.of(c.string("auth.service-token-file")),
        Principal.SERVICE_ID);

    TemplateStore templates = new TemplateStore(ctx.session(), keyspace);
    IdentifierRegistry registry = new IdentifierRegistry(store, templates, settings.prefix());
    EnterpriseStore enterprises = new EnterpriseStore(ctx.session(), keyspace);
    FilingStore filings = new FilingStore(ctx.session(), keyspace);
    FilingQueue queue = new FilingQueue(ctx.session(), keyspace);
    StatisticsStore statisticsStore = new StatisticsStore(ctx.session(), keyspace);
    StatisticsRecorder stats = new StatisticsRecorder(statisticsStore, ctx.registry(), Clock.systemUTC());
    processor.onResolution(stats::resolved);
    long flushTimer = vertx.setPeriodic(c.duration("statistics.flush-interval").toMillis(), t -> stats.flush());

    String upstream = c.string("filing.upstream.grpc-target");
    UpstreamFilingSender sender = new UpstreamFilingSender(vertx, queue, filings, new UpstreamFilingSender.Settings(
        upstream, CredentialFiles.read(c.string("filing.upstream.token-file")),
        c.duration("filing.upstream.poll-interval"), c.duration("filing.upstream.retry-initial"),
        c.duration("filing.upstream.retry-max"), c.duration("filing.upstream.lease"),
        c.duration("filing.upstream.call-timeout")));
    PrefixAccess access = new PrefixAccess(filings);
    PrefixApproval approval = new PrefixApproval(filings, queue, store, settings.prefix(),
        () -> processor.site().encode(), sender::kick);

    List<BindableService> services = new ArrayList<>(List.of(new TemplateGrpcService(templates),
        new IdentifierGrpcService(registry, new RequestLog(ctx.session(), keyspace), access, stats),
        new EnterpriseGrpcService(enterprises, filings),
        new PrefixApplicationGrpcService(filings, enterprises, queue, approval, upstream),
        new StatisticsGrpcService(statisticsStore, access),
        new ResolutionGrpcService(store, hierarchy, processor::homed, processor::resolved)));
    if (role.equals("top-level")) {
      services.add(new FilingReceiverGrpcService(new ReceivedFilings(ctx.session(), keyspace), store,
          settings.prefix()));
    }
    AuthInterceptor auth = new AuthInterceptor(operator, service, enterprises);
    List<BindableService> authenticated = services.stream()
        .map(s -> (BindableService) () -> ServerInterceptors.intercept(s, auth)).toList();
    GrpcServer grpc = GrpcServer.startFrom(ctx, authenticated);
    sender.start();
    long sweepTimer = startCompletionSweep(vertx, approval, c.duration("filing.completion-sweep-interval"));
    return new ResolverGrpcApi(vertx, grpc, sender, stats, flushTimer, sweepTimer);
  }

  public int port() {
    return grpc.port();
  }

  public Future<Void> stop() {
    vertx.cancelTimer(flushTimer);
    vertx.cancelTimer(sweepTimer);
    return sender.stop().compose(x -> stats.flush()).compose(x -> grpc.shutdownAsync(vertx, 10_000));
  }
}
