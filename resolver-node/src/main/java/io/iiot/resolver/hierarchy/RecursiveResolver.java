package io.iiot.resolver.hierarchy;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.hierarchy.AnswerCache.Answer;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.Future;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Resolves on a client's behalf (reference §3.4): sends the request, REC cleared and RecursionCount + 1, to the
 * sites a referral names, follows the service (302) and prefix (303) referrals that come back, and caches the final
 * answer ({@link AnswerCache}).
 *
 * <p>Bounded: at most {@code maxDepth} hops counted from the RecursionCount the request arrived with (RC 6 beyond),
 * and never the same server twice in one resolution, this node included (RC 6 "referral loop").
 */
public final class RecursiveResolver {
  private final HandleExchange exchange;
  private final Supplier<SiteRecord> ownSite;
  private final int maxDepth;
  private final AnswerCache cache;
  private final HierarchyStats stats;

  public RecursiveResolver(HandleExchange exchange, Supplier<SiteRecord> ownSite, int maxDepth, AnswerCache cache,
      HierarchyStats stats) {
    this.exchange = exchange;
    this.ownSite = ownSite;
    this.maxDepth = maxDepth;
    this.cache = cache;
    this.stats = stats;
  }

  /**
   * @param request the client's request as it should be forwarded (REC cleared), at the RecursionCount it arrived
   *     with
   * @param sites where the referral points
   * @param useCache false for authoritative (AT) requests, which skip caches
   */
  public Future<Answer> resolve(HandleExchange.Request request, List<SiteRecord> sites, boolean useCache) {
    String key = AnswerCache.key(request.handle(), request.indexes(), request.types(),
        (request.opFlags() & ResponseCodes.FLAG_PO) != 0);
    if (useCache) {
      Optional<Answer> hit = cache.get(key);
      if (hit.isPresent()) {
        stats.cacheHits.increment();
        stats.record(request.handle(), "RECURSE-CACHED", "", hit.get().responseCode());
        return Future.succeededFuture(hit.get());
      }
    }
    stats.recursions.increment();
    return hop(request, sites, request.recursionCount() + 1, new HashSet<>()).andThen(r -> {
      if (r.succeeded()) {
        cache.put(key, r.result());
      }
    });
  }

  private Future<Answer> hop(HandleExchange.Request request, List<SiteRecord> sites, int depth, Set<String> visited) {
    String handle = request.handle();
    if (depth > maxDepth) {
      stats.depthRefused.increment();
      stats.record(handle, "DEPTH", "", ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH);
      return Future.succeededFuture(new Answer(ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH, List.of(),
          "recursion depth limit " + maxDepth + " exceeded resolving " + handle));
    }
    SiteRecord own = ownSite.get();
    Endpoint target = null;
    for (SiteRecord s : sites) {
      if (Endpoint.sameServer(s, own)) {
        return loop(handle, "this node");
      }
      Optional<Endpoint> e = Endpoint.of(s, handle);
      if (e.isPresent()) {
        target = e.get();
        break;
      }
    }
    if (target == null) {
      stats.record(handle, "NO-ANSWER", "", ResponseCodes.RC_ERROR);
      return Future.succeededFuture(new Answer(ResponseCodes.RC_ERROR, List.of(),
          "the referral for " + handle + " names no site with a UDP query interface"));
    }
    if (!visited.add(target.key())) {
      return loop(handle, target.key());
    }
    Endpoint to = target;
    stats.hopsSent.increment();
    HandleExchange.Request forwarded = new HandleExchange.Request(handle, request.indexes(), request.types(),
        request.opFlags() & ~ResponseCodes.FLAG_REC, depth);
    return exchange.resolve(to, forwarded).compose(reply -> {
      stats.record(handle, "RECURSE", to.key(), reply.responseCode());
      return switch (reply.responseCode()) {
        case 302 -> follow(request, Delegation.sites(Delegation.serviceValues(reply.values())), depth, visited,
            "service referral from " + to.key());
        case 303 -> follow(request, Delegation.sites(Delegation.prefixValues(reply.values())), depth, visited,
            "prefix referral from " + to.key());
        default -> Future.succeededFuture(new Answer(reply.responseCode(), reply.values(), reply.message()));
      };
    }, err -> {
      stats.upstreamFailures.increment();
      stats.record(handle, "NO-ANSWER", to.key(), ResponseCodes.RC_ERROR);
      if (err instanceof HandleExchange.Busy) {
        return Future.succeededFuture(new Answer(ResponseCodes.RC_SERVER_TOO_BUSY, List.<HandleValue>of(),
            "too many recursive requests in flight"));
      }
      return Future.succeededFuture(new Answer(ResponseCodes.RC_ERROR, List.<HandleValue>of(),
          "no answer from " + to.key() + " resolving " + handle + ": " + err.getMessage()));
    });
  }

  private Future<Answer> follow(HandleExchange.Request request, List<SiteRecord> sites, int depth,
      Set<String> visited, String what) {
    if (sites.isEmpty()) {
      return Future.succeededFuture(new Answer(ResponseCodes.RC_ERROR, List.of(),
          what + " names no site record (HS_SERV is not followed by recursion)"));
    }
    return hop(request, sites, depth + 1, visited);
  }

  private Future<Answer> loop(String handle, String where) {
    stats.loopsRefused.increment();
    stats.record(handle, "LOOP", where, ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH);
    return Future.succeededFuture(new Answer(ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH, List.of(),
        "referral loop resolving " + handle + ": " + where + " was already asked"));
  }
}
