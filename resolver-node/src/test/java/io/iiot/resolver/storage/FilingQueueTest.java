package io.iiot.resolver.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The upstream filing queue on a real Cassandra node: of several senders (replicas) leasing one report at the same
 * moment exactly one wins; an expired lease can be taken over; an acknowledged report is out of the queue and can
 * no longer be leased. Also: a prefix is claimed by one application only.
 */
@Tag("medium")
@ExtendWith(EmbeddedCassandraExtension.class)
class FilingQueueTest {
  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void oneSenderAtATimeAndExactlyOneClaimPerPrefix() throws Exception {
    // RegistrationGrpcTest's keyspace: one schema migration less in the suite (ids and prefixes here are distinct)
    String ks = "iiot_resolver_grpc";
    EmbeddedCassandraExtension.session(ks, "db/resolver").close();
    try (CqlSession session = EmbeddedCassandraExtension.session()) {
      FilingQueue queue = new FilingQueue(session, ks);
      Instant now = Instant.now();
      await(queue.enqueue("filing-app-1", "app-1", "report".getBytes(StandardCharsets.UTF_8), now));
      await(queue.enqueue("filing-app-1", "app-1", "other".getBytes(StandardCharsets.UTF_8), now)); // kept as is
      FilingQueue.Report r = await(queue.get("filing-app-1")).orElseThrow();
      assertThat(new String(r.report(), StandardCharsets.UTF_8)).isEqualTo("report");
      assertThat(await(queue.pending(1000))).contains("filing-app-1");

      List<Future<Boolean>> racing = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        racing.add(queue.lease(r, "replica-" + i, now, now.plusSeconds(30)));
      }
      await(Future.join(racing));
      assertThat(racing.stream().filter(Future::result).count()).isEqualTo(1);
      FilingQueue.Report leased = await(queue.get("filing-app-1")).orElseThrow();
      assertThat(leased.state()).isEqualTo(FilingQueue.State.SENT);
      assertThat(leased.attempts()).isEqualTo(1);
      // while leased nobody else gets it; after expiry another replica takes over
      assertThat(await(queue.lease(leased, "replica-x", now.plusSeconds(1), now.plusSeconds(60)))).isFalse();
      assertThat(await(queue.lease(leased, "replica-x", now.plusSeconds(31), now.plusSeconds(60)))).isTrue();
      await(queue.acknowledged("filing-app-1", now.plusSeconds(32)));
      FilingQueue.Report acked = await(queue.get("filing-app-1")).orElseThrow();
      assertThat(acked.state()).isEqualTo(FilingQueue.State.ACKNOWLEDGED);
      assertThat(await(queue.pending(1000))).doesNotContain("filing-app-1");
      assertThat(await(queue.lease(acked, "replica-y", now.plusSeconds(120), now.plusSeconds(150)))).isFalse();

      FilingStore filings = new FilingStore(session, ks);
      List<Future<Boolean>> claims = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        claims.add(filings.claim("88.101.42", "app-" + i, "ent-" + i));
      }
      await(Future.join(claims));
      assertThat(claims.stream().filter(Future::result).count()).isEqualTo(1);
    }
  }
}
