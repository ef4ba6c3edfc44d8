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
import io.vertx.core.Vertx;

/**
 * A node's hierarchy part put together: the UDP client it resolves other nodes with, the router over its stored
 * prefix handles, recursion with its answer cache, attached to the Handle request dispatch.
 */
public final class NodeHierarchy {
  private final HierarchySettings settings;
  private final HandleUdpClient client;
  private final HierarchyService service;

  private NodeHierarchy(HierarchySettings settings, HandleUdpClient client, HierarchyService service) {
    this.settings = settings;
    this.client = client;
    this.service = service;
  }

  /** Starts the client and routes {@code processor}'s resolutions through the hierarchy. */
  public static Future<NodeHierarchy> attach(Vertx vertx, HierarchySettings s, HandleStore store,
      HandleRequestProcessor processor, String nodePrefix) {
    HandleUdpClient client = new HandleUdpClient(vertx, s.requestTimeout().toMillis(), s.maxInFlight());
    HierarchyStats stats = new HierarchyStats();
    ReferralRouter router = new ReferralRouter(store::get, nodePrefix, processor::site);
    RecursiveResolver recursion = new RecursiveResolver(client, processor::site, s.maxDepth(),
        new AnswerCache(s.cacheSize(), s.cacheMaxAge(), s.negativeTtl()), stats);
    HierarchyService service = new HierarchyService(s, router, recursion, client, stats);
    return client.start().map(x -> {
      processor.referralPoint(service);
      return new NodeHierarchy(s, client, service);
    });
  }

  public NodeRole role() {
    return settings.role();
  }

  public HierarchySettings settings() {
    return settings;
  }

  public HierarchyStats stats() {
    return service.stats();
  }

  public Future<Void> close() {
    return client.close();
  }
}
