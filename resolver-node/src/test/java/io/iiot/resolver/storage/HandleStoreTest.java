package io.iiot.resolver.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.ValueReference;
import io.vertx.core.Future;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The store against a real Cassandra node. */
@Tag("medium")
@ExtendWith(EmbeddedCassandraExtension.class)
class HandleStoreTest {
  static CqlSession session;

  @BeforeAll
  static void open() {
    EmbeddedCassandraExtension.session("iiot_resolver_store", "db/resolver").close();
    session = EmbeddedCassandraExtension.session();
  }

  @AfterAll
  static void close() {
    session.close();
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void createReadModifyListDelete() throws Exception {
    HandleStore store = new HandleStore(session, "iiot_resolver_store", 1000, Duration.ofSeconds(30));
    HandleValue url = new HandleValue(1, "URL", "http://a/".getBytes(), 0, 3600, 1_700_000_000,
        List.of(new ValueReference("88.101/X", 3)), 0x0E);
    HandleValue email = HandleValue.of(2, "EMAIL", "a@b.c").withTimestamp(1_700_000_001);
    assertThat(await(store.create("88.101.5/Store-1", List.of(url, email)))).isTrue();
    assertThat(await(store.create("88.101.5/STORE-1", List.of(url)))).isFalse();

    HandleRecord rec = await(store.get("88.101.5/store-1")).orElseThrow();
    assertThat(rec.handle()).isEqualTo("88.101.5/Store-1");
    assertThat(rec.values()).containsExactly(url, email);

    HandleValue url2 = HandleValue.of(1, "URL", "http://b/").withTimestamp(1_700_000_002);
    await(store.putValues("88.101.5/Store-1", List.of(url2)));
    await(store.removeValues("88.101.5/Store-1", new int[] {2}));
    assertThat(await(store.get("88.101.5/Store-1")).orElseThrow().values()).containsExactly(url2);

    await(store.create("88.101.5/Store-2", List.of(url)));
    assertThat(await(store.list("88.101.5"))).containsExactly("88.101.5/Store-1", "88.101.5/Store-2");

    await(store.delete("88.101.5/Store-1"));
    assertThat(await(store.get("88.101.5/Store-1"))).isEmpty();
    assertThat(await(store.list("88.101.5"))).containsExactly("88.101.5/Store-2");
    // delete is idempotent; the handle can be created again
    await(store.delete("88.101.5/Store-1"));
    assertThat(await(store.create("88.101.5/Store-1", List.of(url)))).isTrue();
  }

  /**
   * Bulk imports leave columns at their default out of the stored rows: the records read back are the same as
   * written, whatever the permissions, TTL type and references, and a handle with no values exists by its spelling.
   */
  @Test
  void importedHandlesReadBackAsWritten() throws Exception {
    HandleStore store = new HandleStore(session, "iiot_resolver_store", 1000, Duration.ofSeconds(30));
    HandleValue plain = HandleValue.of(1, "URL", "http://a/").withTimestamp(1_700_000_000);
    HandleValue absolute = new HandleValue(2, "EMAIL", "a@b.c".getBytes(), 1, 1_900_000_000, 1_700_000_001,
        List.of(new ValueReference("88.101/X", 3), new ValueReference("88.101/Y", 300)), 0x0F);
    HandleValue none = new HandleValue(3, "DESC", new byte[0], 0, 0, 0, List.of(), 0);
    HandleValue odd = new HandleValue(4, "DESC", "x".getBytes(), 0, 60, 1, List.of(), HandleValue.PUBLIC_WRITE
        | HandleValue.ADMIN_WRITE);
    java.util.Map<String, List<HandleValue>> byHandle = new java.util.LinkedHashMap<>();
    byHandle.put("88.101.6/Imp-1", List.of(plain, absolute, none, odd));
    byHandle.put("88.101.6/Imp-2", List.of());
    await(store.importHandles("88.101.6", byHandle));
    store.clearCache();
    HandleRecord rec = await(store.get("88.101.6/imp-1")).orElseThrow();
    assertThat(rec.handle()).isEqualTo("88.101.6/Imp-1");
    assertThat(rec.values()).containsExactly(plain, absolute, none, odd);
    assertThat(await(store.get("88.101.6/Imp-2")).orElseThrow().handle()).isEqualTo("88.101.6/Imp-2");
    assertThat(await(store.existing(List.of("88.101.6/imp-1", "88.101.6/Imp-2", "88.101.6/Imp-3"))))
        .containsExactlyInAnyOrder("88.101.6/IMP-1", "88.101.6/IMP-2");
    assertThat(await(store.list("88.101.6"))).containsExactly("88.101.6/Imp-1", "88.101.6/Imp-2");
  }

  @Test
  void anotherProcessSeesDeletesWithinTheCacheBound() throws Exception {
    HandleStore a = new HandleStore(session, "iiot_resolver_store", 1000, Duration.ofSeconds(1));
    HandleStore b = new HandleStore(session, "iiot_resolver_store", 1000, Duration.ofSeconds(1));
    await(a.create("88.101.5/Shared", List.of(HandleValue.of(1, "URL", "http://s/"))));
    assertThat(await(b.get("88.101.5/Shared"))).isPresent();
    await(a.delete("88.101.5/Shared"));
    assertThat(await(a.get("88.101.5/Shared"))).isEmpty();
    long deadline = System.nanoTime() + Duration.ofMillis(1500).toNanos();
    Optional<HandleRecord> seen;
    do {
      seen = await(b.get("88.101.5/Shared"));
    } while (seen.isPresent() && System.nanoTime() < deadline);
    assertThat(seen).isEmpty();
  }

  @Test
  void aCachedFormIsMadeOncePerCacheEntryAndDroppedWithIt() throws Exception {
    HandleStore s = new HandleStore(session, "iiot_resolver_store", 1000, Duration.ofHours(1));
    java.util.concurrent.atomic.AtomicInteger made = new java.util.concurrent.atomic.AtomicInteger();
    await(s.create("88.101.5/Form", List.of(HandleValue.of(1, "URL", "http://f/"))));
    await(s.get("88.101.5/Form"));
    assertThat(s.getCachedForm("88.101.5/Form")).isNull(); // cached before a form was asked for: none
    s.keepForm(rec -> {
      made.incrementAndGet();
      return rec.map(r -> r.values().get(0).dataAsString()).orElse("none");
    });
    assertThat(s.getCachedForm("88.101.5/Other")).isNull(); // not cached
    // a write drops the entry; the next read caches the new record with its form
    await(s.putValues("88.101.5/Form", List.of(HandleValue.of(1, "URL", "http://g/"))));
    assertThat(s.getCachedForm("88.101.5/Form")).isNull();
    assertThat(made).hasValue(0);
    await(s.get("88.101.5/form"));
    assertThat(s.getCachedForm("88.101.5/FORM")).isEqualTo("http://g/");
    assertThat(s.getCachedForm("88.101.5/Form")).isEqualTo("http://g/");
    assertThat(made).hasValue(1);
    // a cached "no such handle" has its form too
    await(s.delete("88.101.5/Form"));
    await(s.get("88.101.5/Form"));
    assertThat(s.getCachedForm("88.101.5/Form")).isEqualTo("none");
    assertThat(made).hasValue(2);
  }

  @Test
  void cacheHonoursShortTtl() throws Exception {
    HandleStore s = new HandleStore(session, "iiot_resolver_store", 1000, Duration.ofHours(1));
    HandleStore writer = new HandleStore(session, "iiot_resolver_store", 1000, Duration.ofHours(1));
    HandleValue v = new HandleValue(1, "URL", "http://t/".getBytes(), 0, 1, 0, List.of(), 0x0E);
    await(writer.create("88.101.5/Ttl", List.of(v)));
    assertThat(await(s.get("88.101.5/Ttl"))).isPresent();
    await(writer.delete("88.101.5/Ttl"));
    Thread.sleep(1100);
    assertThat(await(s.get("88.101.5/Ttl"))).isEmpty();
  }
}
