package io.iiot.devicehub.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.ProtocolVersion;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.servererrors.DefaultWriteType;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import com.datastax.oss.driver.api.core.type.codec.TypeCodecs;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.domain.TelemetryRow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedCassandraExtension.class)
class CassandraTelemetryWriterTest {
  private final CqlSession session = TestKeyspace.session();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final String tenant = "t" + UUID.randomUUID().toString().substring(0, 8);
  private final Instant t0 = Instant.parse("2026-11-25T23:59:59.500Z");

  private List<Row> stored(String device) {
    List<Row> out = new ArrayList<>();
    for (String day : List.of("2026-11-25", "2026-11-26")) {
      out.addAll(session.execute("SELECT ts, metric, value_double, value_text, TTL(value_double) AS ttl FROM telemetry"
          + " WHERE tenant = ? AND device_id = ? AND day = ?", tenant, device, java.time.LocalDate.parse(day)).all());
    }
    return out;
  }

  @Test
  void storesRowsOfSeveralDevicesAndDaysAndCompletesOnlyAfterTheyAreReadable() throws Exception {
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(session, TestKeyspace.NAME, registry, 8, 1000, 50);
    List<TelemetryRow> rows = List.of(
        new TelemetryRow(tenant, "d1", t0, "temperature", 21.5, null),
        new TelemetryRow(tenant, "d1", t0, "status", null, "ok"),
        new TelemetryRow(tenant, "d1", t0.plusSeconds(1), "temperature", 22.0, null), // next UTC day
        new TelemetryRow(tenant, "d2", t0, "pressure", 3.0, null));
    writer.write(rows, Duration.ZERO).toCompletableFuture().get(10, TimeUnit.SECONDS);

    List<Row> d1 = stored("d1");
    assertThat(d1).extracting(r -> r.getInstant("ts") + " " + r.getString("metric") + " "
            + (r.isNull("value_double") ? r.getString("value_text") : r.getDouble("value_double")))
        .containsExactlyInAnyOrder(t0 + " temperature 21.5", t0 + " status ok",
            t0.plusSeconds(1) + " temperature 22.0");
    assertThat(stored("d2")).extracting(r -> r.getDouble("value_double")).containsExactly(3.0);
    // The unused value column is left unset, not null: no tombstone per sample (the read trace counts them).
    var traced = session.execute(com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance(
        "SELECT * FROM telemetry WHERE tenant = ? AND device_id = 'd1' AND day = ?", tenant,
        java.time.LocalDate.parse("2026-11-25")).setTracing(true));
    assertThat(traced.all()).hasSize(2);
    assertThat(traceOf(traced.getExecutionInfo()).getEvents())
        .extracting(com.datastax.oss.driver.api.core.cql.TraceEvent::getActivity)
        .anyMatch(a -> a.contains("Read 2 live rows and 0 tombstone cells"));
  }

  @Test
  void aRedeliveredMessageIsStoredOnceAndTheTenantTtlIsApplied() throws Exception {
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(session, TestKeyspace.NAME, registry, 8, 1000, 50);
    List<TelemetryRow> message = List.of(new TelemetryRow(tenant, "d1", t0, "temperature", 20.0, null),
        new TelemetryRow(tenant, "d1", t0, "pressure", 2.0, null));
    writer.write(message, Duration.ofDays(30)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    writer.write(message, Duration.ofDays(30)).toCompletableFuture().get(10, TimeUnit.SECONDS);

    List<Row> rows = stored("d1");
    assertThat(rows).hasSize(2);
    assertThat(rows).allSatisfy(r -> assertThat(r.getInt("ttl")).isBetween(30 * 86400 - 60, 30 * 86400));

    // Once the insert with the TTL written in is prepared (in the background), rows go through it: same TTL.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!writer.ttlInStatement(Duration.ofDays(30)) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(writer.ttlInStatement(Duration.ofDays(30))).isTrue();
    writer.write(List.of(new TelemetryRow(tenant, "d2", t0, "temperature", 21.0, null),
        new TelemetryRow(tenant, "d2", t0, "pressure", 2.5, null)), Duration.ofDays(30))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(stored("d2")).hasSize(2).allSatisfy(r -> assertThat(r.getInt("ttl")).isBetween(30 * 86400 - 60,
        30 * 86400));
  }

  @Test
  void groupsQueuedRowsOfOnePartitionIntoFewBatches() throws Exception {
    // One statement in flight: while the first is out, the other messages of the device queue up and merge.
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(session, TestKeyspace.NAME, registry, 1, 10_000, 100);
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      acks.add(writer.write(List.of(new TelemetryRow(tenant, "busy", t0.minusMillis(i), "temperature", (double) i, null)),
          Duration.ZERO).toCompletableFuture());
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);

    assertThat(stored("busy")).hasSize(200);
    long statements = registry.get("devicehub.telemetry.batch.latency").timer().count();
    assertThat(statements).isLessThanOrEqualTo(10);
  }

  @Test
  void groupsQueuedRowsOfManyDevicesWithTheSameReplicasIntoFewBatches() throws Exception {
    // 200 devices interleaved, one row a day each: per partition nothing would merge; on one node all share their
    // replica. 40 requests in flight, at most 10 partitions per batch.
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(session, TestKeyspace.NAME, registry, 40, 10_000, 50,
        CassandraTelemetryWriter.Grouping.REPLICA_SET, 10, "devices");
    List<TelemetryRow> rows = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      rows.add(new TelemetryRow(tenant, "m" + i, t0, "temperature", (double) i, null));
      rows.add(new TelemetryRow(tenant, "m" + i, t0.plusSeconds(1), "temperature", i + 0.5, null));
    }
    writer.write(rows, Duration.ZERO).toCompletableFuture().get(20, TimeUnit.SECONDS);

    for (int i : new int[] {0, 1, 99, 199}) {
      assertThat(stored("m" + i)).extracting(r -> r.getDouble("value_double")).containsExactlyInAnyOrder(
          (double) i, i + 0.5);
    }
    assertThat(session.execute("SELECT COUNT(*) FROM telemetry WHERE tenant = ? AND device_id = 'm150' AND day = ?",
        tenant, java.time.LocalDate.parse("2026-11-26")).one().getLong(0)).isEqualTo(1);
    // 400 partitions (one per device and day) in batches of 10 partitions, not one statement per partition.
    long statements = registry.get("devicehub.telemetry.batch.latency").timer().count();
    assertThat(statements).isEqualTo(40);
    assertThat(registry.get("devicehub.telemetry.batch.rows").summary().max()).isEqualTo(10);
    assertThat(writer.inFlight()).isZero();
  }

  @Test
  void aBatchSpanningPartitionsTakesWholePartitionsUnderTheSizeWarningOfTheNodes() throws Exception {
    // 30 devices' snapshots of 9 rows queue behind one request in flight. Batches span partitions (up to 100), but only
    // as many whole partitions as fit Cassandra's default 5 KiB batch_size_warn_threshold: no device's snapshot is split
    // over two requests (two mutations), and nodes with default settings log no warning.
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(session, TestKeyspace.NAME, registry, 1, 10_000,
        1000, CassandraTelemetryWriter.Grouping.REPLICA_SET, 100, "coap");
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    synchronized (writer) {
      acks.add(writer.write(List.of(new TelemetryRow(tenant, "first", t0, "temperature", 1.0, null)), Duration.ZERO)
          .toCompletableFuture());
      for (int d = 0; d < 30; d++) {
        List<TelemetryRow> snapshot = new ArrayList<>();
        for (int m = 0; m < 9; m++) {
          snapshot.add(new TelemetryRow(tenant, "belt-" + d, t0, "metric-" + m, d + m / 10.0, null));
        }
        acks.add(writer.write(snapshot, Duration.ZERO).toCompletableFuture());
      }
      assertThat(writer.queuedRows()).isEqualTo(270);
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);

    for (int d : new int[] {0, 17, 29}) {
      assertThat(stored("belt-" + d)).hasSize(9);
    }
    var batchRows = registry.get("devicehub.telemetry.batch.rows").summary();
    // The first request carried one row; 270 rows of whole snapshots in the others.
    assertThat(batchRows.totalAmount()).isEqualTo(271);
    assertThat(batchRows.max()).isGreaterThanOrEqualTo(18).isLessThanOrEqualTo(
        CassandraTelemetryWriter.CROSS_PARTITION_MAX_BYTES / 64.0);
    assertThat(batchRows.max() % 9).isZero();
    assertThat(batchRows.count()).isLessThan(16);
  }

  @Test
  void theRoutingKeyOfAPartitionIsTheOneTheDriverBuildsFromTheBoundKey() {
    // The writer binds encoded bytes and gives the driver the routing key itself: it must be the driver's own, or
    // requests would go to a node that is not a replica (and replica-set grouping would group wrongly).
    LocalDate day = LocalDate.parse("2026-11-25");
    var bound = session.prepare("INSERT INTO telemetry (tenant, device_id, day, ts, metric, value_double)"
        + " VALUES (?, ?, ?, ?, ?, ?)").bind(tenant, "dev-1", day, t0, "temperature", 1.0);
    ProtocolVersion v = session.getContext().getProtocolVersion();

    assertThat(CassandraTelemetryWriter.routingKey(TypeCodecs.TEXT.encode(tenant, v),
        TypeCodecs.TEXT.encode("dev-1", v), TypeCodecs.DATE.encode(day, v))).isEqualTo(bound.getRoutingKey());
  }

  @Test
  void rowsOfSeveralMessagesOfOnePartitionKeepTheirOwnAcknowledgements() throws Exception {
    // Three messages of one device queue behind a statement in flight and go out in one batch, the last one cut by
    // max-batch-rows: each write completes once its own rows, wherever they were batched, are written.
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(session, TestKeyspace.NAME, registry, 1, 1000, 4);
    List<CompletableFuture<Void>> acks = new ArrayList<>();
    // Holding the writer's lock keeps the first statement in flight (its completion takes the lock to free its place)
    // until the other three messages are queued behind it: without it, a slow moment of this thread let the first
    // write complete before the next was queued, nothing merged, and the test failed once in a module run.
    synchronized (writer) {
      for (int m = 0; m < 4; m++) {
        List<TelemetryRow> message = new ArrayList<>();
        for (String metric : List.of("temperature", "pressure", "status")) {
          Instant ts = t0.minusSeconds(m);
          message.add(metric.equals("status") ? new TelemetryRow(tenant, "multi", ts, metric, null, "s" + m)
              : new TelemetryRow(tenant, "multi", ts, metric, (double) m, null));
        }
        acks.add(writer.write(message, Duration.ZERO).toCompletableFuture());
      }
      assertThat(writer.inFlight()).isEqualTo(1);
      assertThat(writer.queuedRows()).isEqualTo(9);
    }
    CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);

    assertThat(stored("multi")).extracting(r -> r.getString("metric") + "@" + r.getInstant("ts").getEpochSecond()
        + "=" + (r.isNull("value_double") ? r.getString("value_text") : r.getDouble("value_double")))
        .hasSize(12).contains("status@" + t0.minusSeconds(3).getEpochSecond() + "=s3",
            "pressure@" + t0.getEpochSecond() + "=0.0");
    assertThat(registry.get("devicehub.telemetry.batch.rows").summary().max()).isEqualTo(4);
    assertThat(writer.queuedRows()).isZero();
    assertThat(writer.inFlight()).isZero();
  }

  @Test
  void groupingIsReadFromTheConfigSpelling() {
    assertThat(CassandraTelemetryWriter.Grouping.parse("replica-set"))
        .isEqualTo(CassandraTelemetryWriter.Grouping.REPLICA_SET);
    assertThat(CassandraTelemetryWriter.Grouping.parse(" Partition")).isEqualTo(CassandraTelemetryWriter.Grouping.PARTITION);
  }

  @Test
  void refusesAtOnceWhenTheQueueIsFullAndStoresNothingOfTheRefusedWrite() throws Exception {
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(session, TestKeyspace.NAME, registry, 1, 10, 100);
    List<TelemetryRow> nine = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      nine.add(new TelemetryRow(tenant, "d1", t0.minusMillis(i), "temperature", (double) i, null));
    }
    // The first write goes out at once (nothing queued), the second fills the queue, the third does not fit.
    CompletableFuture<Void> first = writer.write(List.of(nine.get(0)), Duration.ZERO).toCompletableFuture();
    CompletableFuture<Void> second = writer.write(nine.subList(1, 9), Duration.ZERO).toCompletableFuture();
    CompletableFuture<Void> third = writer.write(
        List.of(new TelemetryRow(tenant, "refused", t0, "temperature", 1.0, null),
            new TelemetryRow(tenant, "refused", t0, "pressure", 1.0, null),
            new TelemetryRow(tenant, "refused", t0, "status", null, "x")), Duration.ZERO).toCompletableFuture();

    assertThatThrownBy(() -> third.get(1, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(WriterOverloadedException.class);
    CompletableFuture.allOf(first, second).get(10, TimeUnit.SECONDS);
    assertThat(writer.saturated()).isFalse();
    assertThat(stored("d1")).hasSize(9);
    assertThat(stored("refused")).isEmpty();
    assertThat(registry.get("devicehub.telemetry.writes.refused").counter().count()).isEqualTo(1.0);
  }

  @Test
  void aWriteLargerThanTheWholeQueueIsRefusedWithoutStoppingTheOthers() throws Exception {
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(session, TestKeyspace.NAME, registry, 1, 10, 100);
    List<TelemetryRow> eleven = new ArrayList<>();
    for (int i = 0; i < 11; i++) {
      eleven.add(new TelemetryRow(tenant, "huge", t0.minusMillis(i), "temperature", (double) i, null));
    }

    assertThatThrownBy(() -> writer.write(eleven, Duration.ZERO).toCompletableFuture().get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(WriterOverloadedException.class);
    // Not a sign of load: transports keep reading, and the next write goes through.
    assertThat(writer.saturated()).isFalse();
    writer.write(eleven.subList(0, 3), Duration.ZERO).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(stored("huge")).hasSize(3);
  }

  /** The driver polls a trace only 5 times, 3 ms apart; on a busy machine the node writes it later than that. */
  private static com.datastax.oss.driver.api.core.cql.QueryTrace traceOf(
      com.datastax.oss.driver.api.core.cql.ExecutionInfo info) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        return info.getQueryTrace();
      } catch (IllegalStateException notYet) {
        if (attempt == 40) {
          throw notYet;
        }
        Thread.sleep(250);
      }
    }
  }

  @Test
  void aBatchThatTimedOutIsSentAgainAndItsRowsAreStored() throws Exception {
    AtomicInteger timeoutsLeft = new AtomicInteger(CassandraTelemetryWriter.MAX_ATTEMPTS - 1);
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(timingOut(timeoutsLeft), TestKeyspace.NAME,
        registry, 8, 1000, 50);
    writer.write(List.of(new TelemetryRow(tenant, "d1", t0, "temperature", 20.0, null),
        new TelemetryRow(tenant, "d1", t0, "pressure", 2.0, null)), Duration.ZERO)
        .toCompletableFuture().get(10, TimeUnit.SECONDS);

    assertThat(stored("d1")).hasSize(2);
    assertThat(timeoutsLeft).hasValue(0);
    assertThat(registry.get("devicehub.telemetry.batch.retries").counter().count())
        .isEqualTo(CassandraTelemetryWriter.MAX_ATTEMPTS - 1);
  }

  @Test
  void aBatchThatKeepsTimingOutFailsItsWritesAfterTheLastAttemptAndFreesItsPlace() throws Exception {
    AtomicInteger timeoutsLeft = new AtomicInteger(1000);
    CassandraTelemetryWriter writer = new CassandraTelemetryWriter(timingOut(timeoutsLeft), TestKeyspace.NAME,
        registry, 1, 1000, 50);
    var write = writer.write(List.of(new TelemetryRow(tenant, "d1", t0, "temperature", 20.0, null)), Duration.ZERO)
        .toCompletableFuture();

    assertThatThrownBy(() -> write.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(WriteTimeoutException.class);
    assertThat(1000 - timeoutsLeft.get()).isEqualTo(CassandraTelemetryWriter.MAX_ATTEMPTS);
    assertThat(writer.inFlight()).isZero();
    assertThat(stored("d1")).isEmpty();
  }

  /** The real session, except that its next {@code timeoutsLeft} statements fail as a busy node's write timeout. */
  private CqlSession timingOut(AtomicInteger timeoutsLeft) {
    Node node = session.getMetadata().getNodes().values().iterator().next();
    return (CqlSession) Proxy.newProxyInstance(CqlSession.class.getClassLoader(), new Class<?>[] {CqlSession.class},
        (proxy, method, args) -> {
          if (method.getName().equals("executeAsync") && args.length == 1 && args[0] instanceof Statement<?>
              && timeoutsLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return CompletableFuture.failedFuture(new WriteTimeoutException(node, DefaultConsistencyLevel.LOCAL_QUORUM,
                0, 1, DefaultWriteType.UNLOGGED_BATCH));
          }
          try {
            return method.invoke(session, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
