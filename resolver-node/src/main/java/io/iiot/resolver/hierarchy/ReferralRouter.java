package io.iiot.resolver.hierarchy;

import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.Future;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Decides where a handle lives, from the prefix handles this node holds (reference §2.3, §3):
 *
 * <pre>
 * P/x, P under the node's prefix   nearest held 0.NA/P, 0.NA/parent(P), … 0.NA/&lt;node prefix&gt;:
 *                                    HS_SITE/HS_SERV naming another site → {@link Delegated} (service referral)
 *                                    its own site, or no site values     → {@link Local}
 * 0.NA/Q, Q under the node's prefix  held here → {@link Local}; else the nearest ancestor 0.NA/… with
 *                                    HS_SITE.PREFIX/HS_SERV.PREFIX naming another site → {@link PrefixDelegated}
 * anything else                      → {@link Foreign} (upstream, or not responsible)
 * </pre>
 *
 * <p>Lookups go through the store's bounded, write-invalidated cache, so a hot local resolution costs one or two cache
 * reads more.
 */
public final class ReferralRouter {
  /** Where a handle lives. */
  public sealed interface Route permits Local, Delegated, PrefixDelegated, Foreign {}

  /** Answered from this node's storage. */
  public record Local() implements Route {}

  /** The prefix is delegated: {@code prefixHandle} holds {@code values} (HS_SITE/HS_SERV) naming other sites. */
  public record Delegated(String prefixHandle, List<HandleValue> values, List<SiteRecord> sites) implements Route {}

  /** A derived prefix handle held elsewhere: the ancestor {@code prefixHandle}'s HS_SITE.PREFIX/HS_SERV.PREFIX. */
  public record PrefixDelegated(String prefixHandle, List<HandleValue> values, List<SiteRecord> sites)
      implements Route {}

  /** Outside this node's prefix. */
  public record Foreign() implements Route {}

  private static final Local LOCAL = new Local();
  private static final Foreign FOREIGN = new Foreign();

  private final Function<String, Future<Optional<HandleRecord>>> lookup;
  private final String nodePrefix;
  private final Supplier<SiteRecord> ownSite;

  /**
   * @param lookup reads a stored handle (cached)
   * @param ownSite this node's current site record: a delegation to it is no delegation
   */
  public ReferralRouter(Function<String, Future<Optional<HandleRecord>>> lookup, String nodePrefix,
      Supplier<SiteRecord> ownSite) {
    this.lookup = lookup;
    this.nodePrefix = nodePrefix;
    this.ownSite = ownSite;
  }

  /**
   * A router whose prefix-handle lookups are kept for {@code maxAge} (at most 10,000 of them), so that routing
   * costs no Cassandra read even when the store's own cache is off; a new or changed delegation is seen after at
   * most {@code maxAge}.
   */
  public static ReferralRouter cached(Function<String, Future<Optional<HandleRecord>>> lookup, String nodePrefix,
      Supplier<SiteRecord> ownSite, java.time.Duration maxAge) {
    if (maxAge.isZero()) {
      return new ReferralRouter(lookup, nodePrefix, ownSite);
    }
    com.github.benmanes.caffeine.cache.Cache<String, Optional<HandleRecord>> cache =
        com.github.benmanes.caffeine.cache.Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(maxAge).build();
    return new ReferralRouter(h -> {
      String key = Handles.fold(h);
      Optional<HandleRecord> hit = cache.getIfPresent(key);
      return hit != null ? Future.succeededFuture(hit) : lookup.apply(h).andThen(r -> {
        if (r.succeeded()) {
          cache.put(key, r.result());
        }
      });
    }, nodePrefix, ownSite);
  }

  /** @param handle normalised (a slash-less handle already read as {@code 0.NA/…}) and syntactically valid */
  public Future<Route> route(String handle) {
    if (Handles.isPrefixHandle(handle)) {
      String q = Handles.localName(handle);
      if (!Handles.isUnder(q, nodePrefix)) {
        return Future.succeededFuture(FOREIGN);
      }
      return lookup.apply(handle).compose(held -> held.isPresent() ? Future.succeededFuture(LOCAL)
          : prefixReferral(Handles.parentPrefixHandle(handle)));
    }
    String p = Handles.prefix(handle);
    if (!Handles.isUnder(p, nodePrefix)) {
      return Future.succeededFuture(FOREIGN);
    }
    return serviceOf(Handles.prefixHandleOf(p));
  }

  /** Walks from {@code prefixHandle} towards the node's prefix handle; the first one held decides. */
  private Future<Route> serviceOf(String prefixHandle) {
    if (prefixHandle == null || !Handles.isUnder(Handles.localName(prefixHandle), nodePrefix)) {
      return Future.succeededFuture(LOCAL);
    }
    return lookup.apply(prefixHandle).compose(held -> {
      if (held.isEmpty()) {
        return serviceOf(Handles.parentPrefixHandle(prefixHandle));
      }
      List<HandleValue> values = Delegation.serviceValues(held.get().values());
      List<SiteRecord> sites = Delegation.sites(values);
      if (values.isEmpty() || isOwn(sites)) {
        return Future.succeededFuture(LOCAL);
      }
      return Future.succeededFuture(new Delegated(prefixHandle, values, sites));
    });
  }

  /** Walks the ancestors of a derived prefix handle not held here for a prefix delegation. */
  private Future<Route> prefixReferral(String ancestor) {
    if (ancestor == null || !Handles.isUnder(Handles.localName(ancestor), nodePrefix)) {
      return Future.succeededFuture(LOCAL);
    }
    return lookup.apply(ancestor).compose(held -> {
      if (held.isPresent()) {
        List<HandleValue> values = Delegation.prefixValues(held.get().values());
        List<SiteRecord> sites = Delegation.sites(values);
        if (!values.isEmpty() && !isOwn(sites)) {
          return Future.succeededFuture(new PrefixDelegated(ancestor, values, sites));
        }
      }
      return prefixReferral(Handles.parentPrefixHandle(ancestor));
    });
  }

  private boolean isOwn(List<SiteRecord> sites) {
    SiteRecord own = ownSite.get();
    for (SiteRecord s : sites) {
      if (Endpoint.sameServer(s, own)) {
        return true;
      }
    }
    return false;
  }
}
