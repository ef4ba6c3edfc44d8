package io.iiot.resolver.hierarchy;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.hierarchy.ReferralRouter.Delegated;
import io.iiot.resolver.hierarchy.ReferralRouter.Foreign;
import io.iiot.resolver.hierarchy.ReferralRouter.Local;
import io.iiot.resolver.hierarchy.ReferralRouter.PrefixDelegated;
import io.iiot.resolver.hierarchy.ReferralRouter.Route;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.Future;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The routing decision over an in-memory set of held prefix handles (what a top-level node holds). */
class ReferralRouterTest {
  static SiteRecord site(int id, int port, byte key) {
    return new SiteRecord(1, 2, 10, 1, true, false, 2, new byte[0], List.of(), List.of(new SiteRecord.Server(id,
        new byte[] {127, 0, 0, 1}, new byte[] {key, key, key}, List.of(new SiteRecord.Interface(SiteRecord.QUERY,
            SiteRecord.UDP, port)))));
  }

  static final SiteRecord TOP = site(1, 1001, (byte) 1);
  static final SiteRecord SECONDARY = site(1, 1002, (byte) 2);
  final Map<String, HandleRecord> held = new HashMap<>();
  final ReferralRouter router = new ReferralRouter(
      h -> Future.succeededFuture(Optional.ofNullable(held.get(Handles.fold(h)))), "88", () -> TOP);

  void hold(String handle, List<HandleValue> values) {
    held.put(Handles.fold(handle), new HandleRecord(handle, values));
  }

  Route route(String handle) {
    return router.route(handle).result();
  }

  @Test
  void delegatedPrefixesAreReferredAndOwnOnesAnsweredHere() {
    hold("0.NA/88", Delegation.siteOnly(TOP));
    hold("0.NA/88.101", Delegation.values(SECONDARY));
    // under the delegated prefix, whatever depth: 302 with HS_SITE (not HS_SITE.PREFIX)
    Route r = route("88.101.5/CNC-0001");
    assertThat(r).isInstanceOf(Delegated.class);
    Delegated d = (Delegated) r;
    assertThat(d.prefixHandle()).isEqualTo("0.NA/88.101");
    assertThat(d.values()).extracting(HandleValue::type).containsExactly("HS_SITE");
    assertThat(Endpoint.of(d.sites().get(0), "88.101.5/CNC-0001").orElseThrow().key()).isEqualTo("127.0.0.1:1002");
    // the node's own prefix and an unallocated one: here
    assertThat(route("88/X")).isInstanceOf(Local.class);
    assertThat(route("88.102/X")).isInstanceOf(Local.class);
    // outside its prefix
    assertThat(route("99.1/X")).isInstanceOf(Foreign.class);
    assertThat(route("0.NA/99.1")).isInstanceOf(Foreign.class);
  }

  @Test
  void derivedPrefixHandlesFollowHsSitePrefix() {
    hold("0.NA/88", Delegation.siteOnly(TOP));
    hold("0.NA/88.101", Delegation.values(SECONDARY));
    assertThat(route("0.NA/88.101")).isInstanceOf(Local.class); // held here: answered by who holds it
    Route r = route("0.NA/88.101.5.7");
    assertThat(r).isInstanceOf(PrefixDelegated.class);
    assertThat(((PrefixDelegated) r).values()).extracting(HandleValue::type).containsExactly("HS_SITE.PREFIX");
    // without HS_SITE.PREFIX the derived prefix handles stay here
    hold("0.NA/88.101", Delegation.siteOnly(SECONDARY));
    assertThat(route("0.NA/88.101.5")).isInstanceOf(Local.class);
  }

  @Test
  void aDelegationToThisNodesOwnSiteOrWithoutSitesIsNoDelegation() {
    hold("0.NA/88.101", Delegation.siteOnly(site(7, 9999, (byte) 1))); // same server key as TOP
    assertThat(route("88.101/X")).isInstanceOf(Local.class);
    hold("0.NA/88.101", List.of(HandleValue.of(100, "HS_ADMIN", new byte[8])));
    assertThat(route("88.101/X")).isInstanceOf(Local.class);
    // a site value nobody may read publicly is not handed out
    hold("0.NA/88.101", List.of(HandleValue.of(1, "HS_SITE", SECONDARY.encode()).withPermissions(
        HandleValue.ADMIN_READ | HandleValue.ADMIN_WRITE)));
    assertThat(route("88.101/X")).isInstanceOf(Local.class);
  }

  @Test
  void keptDecisionsAreDroppedByPrefixHandleWritesOwnSiteChangesAndAge() throws Exception {
    java.util.concurrent.atomic.AtomicInteger reads = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicLong writes = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicReference<SiteRecord> own = new java.util.concurrent.atomic.AtomicReference<>(TOP);
    ReferralRouter kept = ReferralRouter.cached(h -> {
      reads.incrementAndGet();
      return Future.succeededFuture(Optional.ofNullable(held.get(Handles.fold(h))));
    }, writes::get, "88", own::get, java.time.Duration.ofMillis(400));
    hold("0.NA/88", Delegation.siteOnly(TOP));

    assertThat(kept.route("88.101/A").result()).isInstanceOf(Local.class);
    int first = reads.get();
    // another handle of the same prefix: the kept decision, no prefix handle read
    assertThat(kept.route("88.101/B").result()).isInstanceOf(Local.class);
    assertThat(reads.get()).isEqualTo(first);

    // a delegation written (the store's counter moves): followed at once
    hold("0.NA/88.101", Delegation.siteOnly(SECONDARY));
    writes.incrementAndGet();
    assertThat(kept.route("88.101/A").result()).isInstanceOf(Delegated.class);
    // and its removal
    held.remove(Handles.fold("0.NA/88.101"));
    writes.incrementAndGet();
    assertThat(kept.route("88.101/A").result()).isInstanceOf(Local.class);

    // the node's own site becomes the delegate: no delegation any more
    hold("0.NA/88.101", Delegation.siteOnly(SECONDARY));
    writes.incrementAndGet();
    assertThat(kept.route("88.101/A").result()).isInstanceOf(Delegated.class);
    own.set(SECONDARY);
    assertThat(kept.route("88.101/A").result()).isInstanceOf(Local.class);

    // written by another process (no counter here): seen once the kept decision is older than its max age
    held.remove(Handles.fold("0.NA/88.101"));
    own.set(TOP);
    assertThat(kept.route("88.101/A").result()).isInstanceOf(Local.class);
    hold("0.NA/88.101", Delegation.siteOnly(SECONDARY));
    assertThat(kept.route("88.101/A").result()).isInstanceOf(Local.class);
    Thread.sleep(600);
    assertThat(kept.route("88.101/A").result()).isInstanceOf(Delegated.class);
    // prefix handles and foreign prefixes are kept by their own keys
    assertThat(kept.route("0.NA/88.101.5.7").result()).isInstanceOf(Local.class);
    assertThat(kept.route("99.1/X").result()).isInstanceOf(Foreign.class);
  }

  @Test
  void answerCacheHonoursTheSmallestTtlAndKeepsOnlyAnswersWorthKeeping() throws Exception {
    AnswerCache cache = new AnswerCache(10, java.time.Duration.ofSeconds(60), java.time.Duration.ofSeconds(5));
    HandleValue shortTtl = new HandleValue(1, "URL", "x".getBytes(), 0, 1, 0, List.of(), HandleValue.DEFAULT_PERMISSIONS);
    cache.put("a", new AnswerCache.Answer(1, List.of(HandleValue.of(2, "URL", "y"), shortTtl), ""));
    cache.put("b", new AnswerCache.Answer(100, List.of(), ""));
    cache.put("c", new AnswerCache.Answer(2, List.of(), "upstream error"));
    HandleValue zero = new HandleValue(1, "URL", "x".getBytes(), 0, 0, 0, List.of(), HandleValue.DEFAULT_PERMISSIONS);
    cache.put("d", new AnswerCache.Answer(1, List.of(zero), ""));
    assertThat(cache.get("a")).isPresent();
    assertThat(cache.get("b")).isPresent();
    assertThat(cache.get("c")).isEmpty();
    assertThat(cache.get("d")).isEmpty();
    Thread.sleep(1_200);
    assertThat(cache.get("a")).isEmpty();
    assertThat(cache.get("b")).isPresent();
  }
}
