package io.iiot.resolver.hierarchy.transport;

import io.iiot.resolver.hierarchy.AnswerCache;
import io.iiot.resolver.hierarchy.HierarchyService;
import io.iiot.resolver.hierarchy.HierarchySettings;
import io.iiot.resolver.hierarchy.HierarchyStats;
import io.iiot.resolver.hierarchy.NodeRole;
import io.iiot.resolver.hierarchy.RecursiveResolver;
import io.iiot.resolver.hierarchy.ReferralRouter;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.transport.handle.HandleRequestProcessor;
import io.vertx.core.Future;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * A node's hierarchy part put together: the UDP client it resolves other nodes with (TCP when UDP cannot answer),
 * the router over its stored prefix handles, recursion with its answer cache, attached to the Handle request
 * dispatch.
 */
public final class NodeHierarchy {
  private final HierarchySettings settings;
  private final HandleUdpClient client;
  private final HandleTcpClient tcp;
  private final HierarchyService service;

  private NodeHierarchy(HierarchySettings settings, HandleUdpClient client, HandleTcpClient tcp,
      HierarchyService service) {
    this.settings = settings;
    this.client = client;
    this.tcp = tcp;
    this.service = service;
  }

  /**
   * Starts the client and routes {@code processor}'s resolutions through the hierarchy; its counters go to
   * {@code registry} as {@code resolver_hierarchy_decisions_total{action}} and {@code resolver_hierarchy_*_total}.
   */
  public static Future<NodeHierarchy> attach(Vertx vertx, HierarchySettings s, HandleStore store,
      HandleRequestProcessor processor, String nodePrefix, MeterRegistry registry) {
    HandleUdpClient client = new HandleUdpClient(vertx, s.requestTimeout().toMillis(), s.maxInFlight());
    HandleTcpClient tcp = new HandleTcpClient(vertx, s.requestTimeout().toMillis(), s.maxInFlight());
    FallbackExchange exchange = new FallbackExchange(client, tcp);
    HierarchyStats stats = new HierarchyStats();
    register(registry, stats);
    ReferralRouter router = ReferralRouter.cached(store, nodePrefix, processor::site, s.prefixCacheMaxAge());
    RecursiveResolver recursion = new RecursiveResolver(exchange, processor::site, s.maxDepth(),
        new AnswerCache(s.cacheSize(), s.cacheMaxAge(), s.negativeTtl()), stats, store::get);
    HierarchyService service = new HierarchyService(s, router, recursion, exchange, stats);
    return client.start().map(x -> {
      processor.referralPoint(service);
      return new NodeHierarchy(s, client, tcp, service);
    });
  }

  private static void register(MeterRegistry registry, HierarchyStats st) {
    Map<String, LongAdder> decisions = Map.of("local", st.local, "service_referral", st.serviceReferrals,
        "prefix_referral", st.prefixReferrals, "upstream_referral", st.upstreamReferrals, "not_responsible",
        st.notResponsible, "recursion", st.recursions, "recursion_cache_hit", st.cacheHits, "loop_refused",
        st.loopsRefused, "depth_refused", st.depthRefused);
    decisions.forEach((action, adder) -> FunctionCounter.builder("resolver.hierarchy.decisions", adder,
        LongAdder::sum).tag("action", action).description("resolutions by routing decision").register(registry));
    FunctionCounter.builder("resolver.hierarchy.hops", st.hopsSent, LongAdder::sum)
        .description("requests sent to other nodes while resolving recursively").register(registry);
    FunctionCounter.builder("resolver.hierarchy.upstream.failures", st.upstreamFailures, LongAdder::sum)
        .description("requests to other nodes that got no answer").register(registry);
  }

  public NodeRole role() {
    return settings.role();
  }

  public HierarchySettings settings() {
    return settings;
  }

  /** The routing decision the Handle dispatch takes, for the node's other interfaces (gRPC, HTTP JSON). */
  public io.iiot.resolver.hierarchy.ReferralPoint referralPoint() {
    return service;
  }

  public HierarchyStats stats() {
    return service.stats();
  }

  public Future<Void> close() {
    return client.close().compose(x -> tcp.close());
  }
}
