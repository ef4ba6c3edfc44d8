package io.iiot.resolver.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import io.iiot.resolver.domain.filing.PrefixApplication;
import io.iiot.resolver.storage.FilingQueue;
import io.iiot.resolver.storage.FilingStore;
import io.iiot.resolver.storage.HandleStore;
import io.vertx.core.Future;
import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An approval interrupted half-way (the application is APPROVED with its prefix allocated, but the prefix handle was
 * not created and the filing report not queued: the node died between the steps) is completed by the node on its
 * own, without the operator approving again: the prefix handle resolves over the Handle protocol (CNRI's client)
 * and the report is queued once. Running the sweep again changes nothing.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class ApprovalCompletionTest {
  // HandleStoreTest's keyspace (no schema migration of its own); node prefix nobody else uses
  static final String KEYSPACE = "iiot_resolver_store";
  static final String NODE_PREFIX = "88.778";

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @Test
  void anApprovalInterruptedHalfWayIsCompletedByTheNodeItself() throws Exception {
    EmbeddedCassandraExtension.session(KEYSPACE, "db/resolver").close();
    String id = UUID.randomUUID().toString();
    String prefix = NODE_PREFIX + "." + (1000 + Math.abs(id.hashCode() % 100_000));
    try (CqlSession session = EmbeddedCassandraExtension.session()) {
      FilingStore filings = new FilingStore(session, KEYSPACE);
      FilingQueue queue = new FilingQueue(session, KEYSPACE);
      // steps 1 and 2 of PrefixApproval, then the "crash"
      Instant now = Instant.now();
      PrefixApplication submitted = PrefixApplication.submit(id, new PrefixApplication.EnterpriseRecords("半途企业",
          FilingSteps.creditCode("MA0000077"), "福州市工业路 7 号", "李工 13800000007", "B", "0610"), "ent-77", now);
      await(filings.insert("ent-77", submitted, new byte[0], now));
      assertThat(await(filings.claim(prefix, id, "ent-77"))).isTrue();
      FilingStore.Stored stored = await(filings.get(id)).orElseThrow();
      assertThat(await(filings.transition(stored, submitted.approve("operator", prefix, now), "", now))).isTrue();
      assertThat(await(queue.get(PrefixApproval.reportId(id)))).isEmpty();

      // the node completes it when it starts (and every filing.completion-sweep-interval)
      try (ResolverNodeHarness node = ResolverNodeHarness.start(KEYSPACE, Map.of("HANDLE_PREFIX", NODE_PREFIX))) {
        AbstractResponse r = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
          r = new HandleResolver().sendHdlUdpRequest(new ResolutionRequest(Util.encodeString("0.NA/" + prefix),
              null, null, null), InetAddress.getLoopbackAddress(), node.handlePort);
          if (r.responseCode == AbstractMessage.RC_SUCCESS) {
            break;
          }
          Thread.sleep(200);
        }
        assertThat(r.responseCode).as(String.valueOf(r)).isEqualTo(AbstractMessage.RC_SUCCESS);
        assertThat(((ResolutionResponse) r).getHandleValues()).extracting(v -> v.getTypeAsString())
            .contains("HS_SITE", "HS_ADMIN");
        // the sweep creates the prefix handle first and queues the report after it: wait for the report too
        Optional<FilingQueue.Report> queued = await(queue.get(PrefixApproval.reportId(id)));
        while (queued.isEmpty() && System.nanoTime() < deadline) {
          Thread.sleep(100);
          queued = await(queue.get(PrefixApproval.reportId(id)));
        }
        FilingQueue.Report report = queued.orElseThrow();
        assertThat(report.applicationId()).isEqualTo(id);
        assertThat(await(filings.owner(prefix)).orElseThrow().approved()).isTrue();
        assertThat(await(filings.prefixes("ent-77"))).contains(prefix);

        // idempotent: a second sweep finds nothing to do and leaves the queued report as it is
        PrefixApproval approval = new PrefixApproval(filings, queue, new HandleStore(session, KEYSPACE, 0,
            Duration.ZERO), NODE_PREFIX, () -> node.module.processor().site().encode(), () -> { });
        assertThat(await(approval.completeInterrupted())).isZero();
        FilingQueue.Report again = await(queue.get(PrefixApproval.reportId(id))).orElseThrow();
        assertThat(again.report()).isEqualTo(report.report());
      }
    }
  }
}
