package io.iiot.resolver.hierarchy;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.hierarchy.AnswerCache.Answer;
import io.iiot.resolver.hierarchy.HierarchySettings.HostPort;
import io.iiot.resolver.hierarchy.ReferralRouter.Delegated;
import io.iiot.resolver.hierarchy.ReferralRouter.Local;
import io.iiot.resolver.hierarchy.ReferralRouter.PrefixDelegated;
import io.iiot.resolver.hierarchy.ReferralRouter.Route;
import io.iiot.resolver.transport.handle.Bodies;
import io.iiot.resolver.transport.handle.BufWriter;
import io.iiot.resolver.transport.handle.Response;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.iiot.resolver.transport.handle.ValueCodec;
import io.vertx.core.Future;
import java.util.List;

/**
 * The node's place in the hierarchy, consulted for every resolution before storage:
 *
 * <pre>
 * route (ReferralRouter)  Local            → answer from storage
 *                         Delegated        → REC set and recursion on: resolve there (RecursiveResolver), else 302
 *                                            with the prefix handle's HS_SITE/HS_SERV values
 *                         PrefixDelegated  → same, 303 with HS_SITE.PREFIX/HS_SERV.PREFIX (derived prefix handles)
 *                         Foreign          → upstream configured: same, 302 with the upstream's HS_SITE;
 *                                            else 301 "That prefix doesn't live here"
 * </pre>
 *
 * DNRF ("do not refer") turns referrals into 301; a request that already took {@code max-depth} hops gets RC 6.
 */
public final class HierarchyService implements ReferralPoint {
  /** Go to the sites in the values (reference §3.3). */
  public static final int RC_SERVICE_REFERRAL = 302;
  /** The derived prefix handle is held by the sites in the values (§3.2). */
  public static final int RC_PREFIX_REFERRAL = 303;
  static final String NOT_HERE = "That prefix doesn't live here";
  private static final int FORWARDED_FLAGS = ResponseCodes.FLAG_AT | ResponseCodes.FLAG_PO;
  private static final Future<Decision> LOCAL_NOW = Future.succeededFuture(LOCAL);

  private final HierarchySettings settings;
  private final ReferralRouter router;
  private final RecursiveResolver recursion;
  private final HandleExchange exchange;
  private final HierarchyStats stats;
  private volatile Future<SiteRecord> upstreamSite;
  private volatile long upstreamFetchedAt;

  public HierarchyService(HierarchySettings settings, ReferralRouter router, RecursiveResolver recursion,
      HandleExchange exchange, HierarchyStats stats) {
    this.settings = settings;
    this.router = router;
    this.recursion = recursion;
    this.exchange = exchange;
    this.stats = stats;
  }

  public HierarchyStats stats() {
    return stats;
  }

  public HierarchySettings settings() {
    return settings;
  }

  @Override
  public Future<Decision> route(Query q) {
    Future<Route> route = router.route(q.handle());
    // a kept decision is there at once: no future chain per resolution
    return route.succeeded() ? decide(q, route.result()) : route.compose(r -> decide(q, r));
  }

  private Future<Decision> decide(Query q, Route route) {
    if (route instanceof Local) {
      stats.local.increment();
      stats.record(q.handle(), "LOCAL", "", 0);
      return LOCAL_NOW;
    } else if (route instanceof Delegated d) {
      return refer(q, RC_SERVICE_REFERRAL, d.prefixHandle(), d.values(), d.sites(), "REFER-302");
    } else if (route instanceof PrefixDelegated p) {
      return refer(q, RC_PREFIX_REFERRAL, "", p.values(), p.sites(), "REFER-303");
    }
    if (settings.upstream().isEmpty()) {
      return notResponsible(q, NOT_HERE);
    }
    return upstreamSite().compose(
        site -> refer(q, RC_SERVICE_REFERRAL, "", Delegation.siteOnly(site), List.of(site), "REFER-UPSTREAM"),
        err -> {
          stats.upstreamFailures.increment();
          return notResponsible(q, NOT_HERE + " (upstream " + settings.upstream().get() + " unreachable)");
        });
  }

  private Future<Decision> refer(Query q, int rc, String handle, List<HandleValue> values, List<SiteRecord> sites,
      String action) {
    if (q.recursionCount() >= settings.maxDepth()) {
      stats.depthRefused.increment();
      stats.record(q.handle(), "DEPTH", "", ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH);
      return Future.succeededFuture(new Decision(false, ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH,
          Response.errorBody("referral depth limit " + settings.maxDepth() + " reached")));
    }
    if ((q.opFlags() & ResponseCodes.FLAG_REC) != 0 && settings.recursionEnabled()) {
      HandleExchange.Request forward = new HandleExchange.Request(q.asked(), q.indexes(), q.types(),
          q.opFlags() & FORWARDED_FLAGS, q.recursionCount());
      return recursion.resolve(forward, sites, values, (q.opFlags() & ResponseCodes.FLAG_AT) == 0)
          .map(a -> answer(q, a));
    }
    if ((q.opFlags() & ResponseCodes.FLAG_DNRF) != 0) {
      return notResponsible(q, NOT_HERE);
    }
    switch (rc) {
      case RC_PREFIX_REFERRAL -> stats.prefixReferrals.increment();
      default -> (action.equals("REFER-UPSTREAM") ? stats.upstreamReferrals : stats.serviceReferrals).increment();
    }
    String target = sites.isEmpty() ? "" : Endpoint.of(sites.get(0), q.handle()).map(Endpoint::key).orElse("");
    stats.record(q.handle(), action, target, rc);
    BufWriter w = new BufWriter(64 + values.size() * 400).utf8(handle);
    ValueCodec.encodeList(w, values);
    return Future.succeededFuture(new Decision(false, rc, w.toByteArray()));
  }

  private static Decision answer(Query q, Answer a) {
    if (a.responseCode() == ResponseCodes.RC_SUCCESS) {
      return new Decision(false, ResponseCodes.RC_SUCCESS, Bodies.resolutionAnswer(q.asked(), a.values()));
    }
    return new Decision(false, ResponseCodes.isKnown(a.responseCode()) ? a.responseCode() : ResponseCodes.RC_ERROR,
        Response.errorBody(a.message()));
  }

  private Future<Decision> notResponsible(Query q, String message) {
    stats.notResponsible.increment();
    stats.record(q.handle(), "NOT-RESPONSIBLE", "", ResponseCodes.RC_SERVER_NOT_RESP);
    return Future.succeededFuture(new Decision(false, ResponseCodes.RC_SERVER_NOT_RESP, Response.errorBody(message)));
  }

  /** The upstream's site record from its GET_SITEINFO, re-read after {@code upstream-site-refresh} or a failure. */
  private Future<SiteRecord> upstreamSite() {
    Future<SiteRecord> f = upstreamSite;
    long now = System.nanoTime();
    if (f == null || (f.isComplete() && (f.failed()
        || now - upstreamFetchedAt > settings.upstreamSiteRefresh().toNanos()))) {
      HostPort up = settings.upstream().get();
      upstreamFetchedAt = now;
      f = exchange.siteInfo(up.host(), up.port());
      upstreamSite = f;
    }
    return f;
  }
}
