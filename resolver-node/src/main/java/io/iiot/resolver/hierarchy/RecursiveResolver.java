package io.iiot.resolver.hierarchy;

import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.hierarchy.AnswerCache.Answer;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Resolves on a client's behalf (reference §3.4): sends the request, REC cleared and RecursionCount + 1, to the
 * sites a referral names, follows the service (302) and prefix (303) referrals that come back, and caches the final
 * answer ({@link AnswerCache}).
 *
 * <p>A referral may name sites directly ({@code HS_SITE}, {@code HS_SITE.6}, {@code HS_SITE.PREFIX}) or through a
 * service handle ({@code HS_SERV}, {@code HS_SERV.PREFIX}): the service handle's own {@code HS_SITE} values are then
 * used, read from this node's storage when it holds the handle, else resolved at the node that sent the referral
 * (CNRI's client resolves it from its root; a node has no root, and the referring node is the one that knows its
 * service handles). The exchange it is given decides the transport (UDP, then TCP: {@code FallbackExchange}).
 *
 * <p>Bounded: at most {@code maxDepth} hops counted from the RecursionCount the request arrived with (RC 6 beyond),
 * service-handle lookups included; never the same server twice in one resolution, this node included, nor the same
 * service handle twice (RC 6 "referral loop").
 */
public final class RecursiveResolver {
  private static final List<String> SERVICE_TYPES = List.of("HS_SITE", "HS_SITE.6", "HS_SERV");

  private final HandleExchange exchange;
  private final Supplier<SiteRecord> ownSite;
  private final int maxDepth;
  private final AnswerCache cache;
  private final HierarchyStats stats;
  private final Function<String, Future<Optional<HandleRecord>>> localLookup;

  /** Where to send a request next: sites, or service handles naming them, and the site that named them. */
  private record Targets(List<SiteRecord> sites, List<String> serviceHandles, List<SiteRecord> referrer) {}

  public RecursiveResolver(HandleExchange exchange, Supplier<SiteRecord> ownSite, int maxDepth, AnswerCache cache,
      HierarchyStats stats) {
    this(exchange, ownSite, maxDepth, cache, stats, h -> Future.succeededFuture(Optional.empty()));
  }

  /** @param localLookup reads a handle from this node's storage (service handles held here) */
  public RecursiveResolver(HandleExchange exchange, Supplier<SiteRecord> ownSite, int maxDepth, AnswerCache cache,
      HierarchyStats stats, Function<String, Future<Optional<HandleRecord>>> localLookup) {
    this.exchange = exchange;
    this.ownSite = ownSite;
    this.maxDepth = maxDepth;
    this.cache = cache;
    this.stats = stats;
    this.localLookup = localLookup;
  }

  /** As {@link #resolve(HandleExchange.Request, List, List, boolean)} with the sites only. */
  public Future<Answer> resolve(HandleExchange.Request request, List<SiteRecord> sites, boolean useCache) {
    return resolve(request, sites, List.of(), useCache);
  }

  /**
   * @param request the client's request as it should be forwarded (REC cleared), at the RecursionCount it arrived
   *     with
   * @param sites where the referral points
   * @param values the referral's values: their {@code HS_SERV}/{@code HS_SERV.PREFIX} service handles are followed
   *     when {@code sites} is empty
   * @param useCache false for authoritative (AT) requests, which skip caches
   */
  public Future<Answer> resolve(HandleExchange.Request request, List<SiteRecord> sites, List<HandleValue> values,
      boolean useCache) {
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
    Targets first = new Targets(sites, serviceHandles(values), List.of());
    return hop(request, first, request.recursionCount() + 1, new HashSet<>()).andThen(r -> {
      if (r.succeeded()) {
        cache.put(key, r.result());
      }
    });
  }

  private Future<Answer> hop(HandleExchange.Request request, Targets targets, int depth, Set<String> visited) {
    String handle = request.handle();
    if (depth > maxDepth) {
      stats.depthRefused.increment();
      stats.record(handle, "DEPTH", "", ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH);
      return Future.succeededFuture(new Answer(ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH, List.of(),
          "recursion depth limit " + maxDepth + " exceeded resolving " + handle));
    }
    if (targets.sites().isEmpty() && !targets.serviceHandles().isEmpty()) {
      return serviceSites(targets.serviceHandles(), targets.referrer(), depth, visited).compose(found -> found
          .isEmpty() ? Future.succeededFuture(new Answer(ResponseCodes.RC_ERROR, List.of(), "service handle(s) "
              + targets.serviceHandles() + " name no site for " + handle))
          : hop(request, new Targets(found, List.of(), targets.referrer()), depth + 1, visited));
    }
    SiteRecord own = ownSite.get();
    Endpoint target = null;
    SiteRecord targetSite = null;
    for (SiteRecord s : targets.sites()) {
      if (Endpoint.sameServer(s, own)) {
        return loop(handle, "this node");
      }
      Optional<Endpoint> e = Endpoint.of(s, handle);
      if (e.isPresent()) {
        target = e.get();
        targetSite = s;
        break;
      }
    }
    if (target == null) {
      stats.record(handle, "NO-ANSWER", "", ResponseCodes.RC_ERROR);
      return Future.succeededFuture(new Answer(ResponseCodes.RC_ERROR, List.of(),
          "the referral for " + handle + " names no site with a UDP or TCP query interface"));
    }
    if (!visited.add(target.key())) {
      return loop(handle, target.key());
    }
    Endpoint to = target;
    List<SiteRecord> referrer = List.of(targetSite);
    stats.hopsSent.increment();
    HandleExchange.Request forwarded = new HandleExchange.Request(handle, request.indexes(), request.types(),
        request.opFlags() & ~ResponseCodes.FLAG_REC, depth);
    return exchange.resolve(to, forwarded).compose(reply -> {
      stats.record(handle, "RECURSE", to.key(), reply.responseCode());
      return switch (reply.responseCode()) {
        case 302 -> follow(request, Delegation.serviceValues(reply.values()), referrer, depth, visited,
            "service referral from " + to.key());
        case 303 -> follow(request, Delegation.prefixValues(reply.values()), referrer, depth, visited,
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

  private Future<Answer> follow(HandleExchange.Request request, List<HandleValue> values, List<SiteRecord> referrer,
      int depth, Set<String> visited, String what) {
    List<SiteRecord> sites = Delegation.sites(values);
    List<String> services = serviceHandles(values);
    if (sites.isEmpty() && services.isEmpty()) {
      return Future.succeededFuture(new Answer(ResponseCodes.RC_ERROR, List.of(),
          what + " names no site record and no service handle"));
    }
    return hop(request, new Targets(sites, services, referrer), depth + 1, visited);
  }

  /**
   * The sites of the first of {@code handles} that names any: from this node's storage, else resolved at
   * {@code referrer} (its referrals followed, a lookup of its own: the servers it visits may be asked again for
   * the request itself).
   */
  private Future<List<SiteRecord>> serviceSites(List<String> handles, List<SiteRecord> referrer, int depth,
      Set<String> visited) {
    if (handles.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    String service = handles.get(0);
    List<String> rest = handles.subList(1, handles.size());
    if (!visited.add("service " + Handles.fold(service))) {
      return loop(service, "service handle " + service).map(a -> List.<SiteRecord>of())
          .compose(none -> serviceSites(rest, referrer, depth, visited));
    }
    Future<List<HandleValue>> values = localLookup.apply(Handles.normalize(service)).compose(local -> {
      if (local.isPresent()) {
        stats.record(service, "SERVICE-LOCAL", "", ResponseCodes.RC_SUCCESS);
        return Future.succeededFuture(local.get().values());
      }
      if (referrer.isEmpty()) {
        return Future.succeededFuture(List.<HandleValue>of());
      }
      HandleExchange.Request lookup = new HandleExchange.Request(service, new int[0], SERVICE_TYPES,
          ResponseCodes.FLAG_PO, depth);
      Set<String> ownVisits = new HashSet<>();
      visited.stream().filter(k -> k.startsWith("service ")).forEach(ownVisits::add);
      return hop(lookup, new Targets(referrer, List.of(), List.of()), depth + 1, ownVisits)
          .map(a -> a.responseCode() == ResponseCodes.RC_SUCCESS ? a.values() : List.<HandleValue>of());
    });
    return values.compose(v -> {
      List<HandleValue> served = Delegation.serviceValues(v);
      List<SiteRecord> sites = Delegation.sites(served);
      if (!sites.isEmpty()) {
        return Future.succeededFuture(sites);
      }
      List<String> nested = serviceHandles(served);
      return nested.isEmpty() ? serviceSites(rest, referrer, depth, visited)
          : serviceSites(concat(nested, rest), referrer, depth + 1, visited);
    });
  }

  /** The service handles named by {@code HS_SERV} / {@code HS_SERV.PREFIX} values (data: the handle, UTF-8). */
  static List<String> serviceHandles(List<HandleValue> values) {
    List<String> out = new ArrayList<>();
    for (HandleValue v : values) {
      if (v.hasType("HS_SERV") || v.hasType("HS_SERV.PREFIX")) {
        String h = new String(v.data(), StandardCharsets.UTF_8).trim();
        if (!h.isEmpty()) {
          out.add(h);
        }
      }
    }
    return out;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private Future<Answer> loop(String handle, String where) {
    stats.loopsRefused.increment();
    stats.record(handle, "LOOP", where, ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH);
    return Future.succeededFuture(new Answer(ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH, List.of(),
        "referral loop resolving " + handle + ": " + where + " was already asked"));
  }
}
