package io.iiot.resolver.hierarchy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.LongSupplier;
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
 * <p>Lookups go through the store's bounded, write-invalidated cache; {@link #cached} also keeps the decision per
 * prefix, so that a hot resolution costs one map read for routing.
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
  private static final Future<Route> FOREIGN_NOW = Future.succeededFuture(FOREIGN);
  private static final String ZERO_NA_SLASH = Handles.ZERO_NA + "/";

  private final Function<String, Future<Optional<HandleRecord>>> lookup;
  private final String nodePrefix;
  private final Supplier<SiteRecord> ownSite;
  /** Moves on every write of a prefix handle through this process (see {@link HandleStore#prefixHandleWrites}). */
  private final LongSupplier prefixWrites;
  /** Decisions by prefix ({@code P} for {@code P/x}, the whole handle for {@code 0.NA/Q}); null = not kept. */
  private final Cache<String, Kept> decisions;

  /** A decision, the prefix-write count and the own site record it was taken with, and its answer made once. */
  private record Kept(Future<Route> route, long prefixWrites, SiteRecord site, long deadline) {}

  /**
   * The decision for the prefix routed last ({@code P} of {@code P/x}), so that the next resolution under it (a node
   * serves few prefixes) costs no substring and no map read; held to the same checks as a kept decision, its
   * {@link System#nanoTime} deadline being the map's expiry.
   */
  private record Last(String prefix, Kept kept) {}

  private volatile Last last;
  private final long maxAgeNanos;

  /**
   * A router that takes every decision afresh (tests).
   *
   * @param lookup reads a stored handle (cached)
   * @param ownSite this node's current site record: a delegation to it is no delegation
   */
  public ReferralRouter(Function<String, Future<Optional<HandleRecord>>> lookup, String nodePrefix,
      Supplier<SiteRecord> ownSite) {
    this(lookup, nodePrefix, ownSite, () -> 0, null, 0);
  }

  private ReferralRouter(Function<String, Future<Optional<HandleRecord>>> lookup, String nodePrefix,
      Supplier<SiteRecord> ownSite, LongSupplier prefixWrites, Cache<String, Kept> decisions, long maxAgeNanos) {
    this.lookup = lookup;
    this.nodePrefix = nodePrefix;
    this.ownSite = ownSite;
    this.prefixWrites = prefixWrites;
    this.decisions = decisions;
    this.maxAgeNanos = maxAgeNanos;
  }

  /**
   * A router over {@code store} that keeps its decision per prefix (at most 10,000 prefixes), so that a hot
   * resolution costs one map read for routing instead of reading and decoding prefix handles. A kept decision is
   * dropped when a prefix handle is written through this process ({@link HandleStore#prefixHandleWrites}, any
   * interface: Handle admin, HTTP, gRPC, registration), when the node's own site record changes, and after
   * {@code maxAge}; a delegation written by another process on the same Cassandra is followed after at most
   * {@code maxAge} plus the store's cache max-age. {@code maxAge} 0 = decide every time.
   */
  public static ReferralRouter cached(HandleStore store, String nodePrefix, Supplier<SiteRecord> ownSite,
      Duration maxAge) {
    return cached(store::get, store::prefixHandleWrites, nodePrefix, ownSite, maxAge);
  }

  /** {@link #cached(HandleStore, String, Supplier, Duration)} over any lookup and write counter. */
  static ReferralRouter cached(Function<String, Future<Optional<HandleRecord>>> lookup, LongSupplier prefixWrites,
      String nodePrefix, Supplier<SiteRecord> ownSite, Duration maxAge) {
    if (maxAge.isZero()) {
      return new ReferralRouter(lookup, nodePrefix, ownSite);
    }
    return new ReferralRouter(lookup, nodePrefix, ownSite, prefixWrites,
        Caffeine.newBuilder().maximumSize(10_000).expireAfterWrite(maxAge).build(), maxAge.toNanos());
  }

  /** @param handle normalised (a slash-less handle already read as {@code 0.NA/…}) and syntactically valid */
  public Future<Route> route(String handle) {
    if (decisions == null) {
      return decide(handle);
    }
    int slash = handle.indexOf('/');
    boolean prefixHandle = slash == ZERO_NA_SLASH.length() - 1
        && handle.regionMatches(true, 0, ZERO_NA_SLASH, 0, ZERO_NA_SLASH.length());
    SiteRecord own = ownSite.get();
    long writes = prefixWrites.getAsLong();
    Last l = last;
    if (l != null && !prefixHandle && l.prefix().length() == slash && handle.startsWith(l.prefix())
        && valid(l.kept(), writes, own)) {
      return l.kept().route();
    }
    String key = prefixHandle ? handle : handle.substring(0, slash);
    Kept kept = decisions.getIfPresent(key);
    if (kept != null && valid(kept, writes, own)) {
      if (!prefixHandle) {
        last = new Last(key, kept);
      }
      return kept.route();
    }
    return decide(handle).andThen(r -> {
      if (r.succeeded()) {
        decisions.put(key, new Kept(Future.succeededFuture(r.result()), writes, own,
            System.nanoTime() + maxAgeNanos));
      }
    });
  }

  private static boolean valid(Kept kept, long writes, SiteRecord own) {
    return kept.prefixWrites() == writes && kept.site() == own && kept.deadline() - System.nanoTime() > 0;
  }

  private Future<Route> decide(String handle) {
    if (Handles.isPrefixHandle(handle)) {
      String q = Handles.localName(handle);
      if (!Handles.isUnder(q, nodePrefix)) {
        return FOREIGN_NOW;
      }
      return lookup.apply(handle).compose(held -> held.isPresent() ? Future.succeededFuture(LOCAL)
          : prefixReferral(Handles.parentPrefixHandle(handle)));
    }
    String p = Handles.prefix(handle);
    if (!Handles.isUnder(p, nodePrefix)) {
      return FOREIGN_NOW;
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
