package io.iiot.devicehub.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.iiot.base.cassandra.SchemaMigrator;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.launch.Workspace;
import io.iiot.devicehub.domain.TelemetryRow;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The platform's own nodes raise Cassandra's warning thresholds for batches; a production cluster keeps the defaults
 * (10 partitions, 5 KiB), where a warning would be logged for every batch that crosses them, on the node and in
 * device-hub. This runs a node of its own with the defaults.
 */
class CrossPartitionBatchWarningsTest {
  private static final String KEYSPACE = "iiot_device";
  private final Instant t0 = Instant.parse("2026-11-25T12:00:00Z");

  @Test
  void replicaSetBatchesDrawNoWarningFromANodeWithCassandrasDefaultThresholds(@TempDir Path dir) throws Exception {
    EmbeddedCassandra node = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir, Workspace.freePort(),
        Workspace.freePort())).withUnflushedSchemaChanges().withDefaultBatchWarnings();
    node.start();
    try (CqlSession session = CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", node.settings().nativePort()))
        .withLocalDatacenter("datacenter1").build()) {
      new SchemaMigrator(session, KEYSPACE, "{'class': 'SimpleStrategy', 'replication_factor': 1}", "db/devicehub")
          .migrate();
      List<String> warnings = Collections.synchronizedList(new ArrayList<>());
      CqlSession recording = recordingWarnings(session, warnings);

      // The node does warn here: a batch of 11 partitions.
      PreparedStatement insert = session.prepare("INSERT INTO " + KEYSPACE + ".telemetry (tenant, device_id, day, ts,"
          + " metric, value_double) VALUES (?, ?, ?, ?, ?, ?)");
      BatchStatementBuilder eleven = BatchStatement.builder(BatchType.UNLOGGED);
      for (int d = 0; d < 11; d++) {
        eleven.addStatement(insert.bind("t1", "probe-" + d, LocalDate.parse("2026-11-25"), t0, "temperature", 1.0));
      }
      recording.executeAsync(eleven.build()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(warnings).anyMatch(w -> w.contains("11 partitions"));
      warnings.clear();
      // And for size: 8 of the long-named snapshots below in one batch.
      BatchStatementBuilder large = BatchStatement.builder(BatchType.UNLOGGED);
      for (int d = 0; d < 8; d++) {
        for (int m = 0; m < 9; m++) {
          large.addStatement(insert.bind("t1", "belt-conveyor-with-a-long-device-name-" + d,
              LocalDate.parse("2026-11-25"), t0, "a-long-metric-name-" + m, (double) m));
        }
      }
      recording.executeAsync(large.build()).toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(warnings).anyMatch(w -> w.contains("exceeding specified threshold"));
      warnings.clear();

      // CoAP's writer as configured by default (replica-set, 10 partitions a batch), one request in flight while 40
      // one-metric messages and 20 long-named snapshots queue behind it.
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      CassandraTelemetryWriter writer = new CassandraTelemetryWriter(recording, KEYSPACE, registry, 1, 10_000, 100,
          CassandraTelemetryWriter.Grouping.REPLICA_SET, 10, "coap");
      List<CompletableFuture<Void>> acks = new ArrayList<>();
      synchronized (writer) {
        for (int d = 0; d < 40; d++) {
          acks.add(writer.write(List.of(new TelemetryRow("t1", "sensor-" + d, t0, "temperature", (double) d, null)),
              Duration.ZERO).toCompletableFuture());
        }
        for (int d = 0; d < 20; d++) {
          List<TelemetryRow> snapshot = new ArrayList<>();
          for (int m = 0; m < 9; m++) {
            snapshot.add(new TelemetryRow("t1", "belt-conveyor-with-a-long-device-name-" + d, t0,
                "a-long-metric-name-" + m, (double) m, null));
          }
          acks.add(writer.write(snapshot, Duration.ofDays(30)).toCompletableFuture());
        }
      }
      CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);

      assertThat(count(session, "sensor-39")).isEqualTo(1);
      assertThat(count(session, "belt-conveyor-with-a-long-device-name-19")).isEqualTo(9);
      // Batches did span partitions (10 sensors' rows in one), and none drew a warning.
      assertThat(registry.get("devicehub.telemetry.batch.rows").summary().max()).isGreaterThanOrEqualTo(10);
      assertThat(warnings).isEmpty();
    } finally {
      node.stop();
    }
  }

  private static long count(CqlSession session, String device) {
    return session.execute("SELECT COUNT(*) FROM " + KEYSPACE + ".telemetry WHERE tenant = 't1' AND device_id = ?"
        + " AND day = ?", device, LocalDate.parse("2026-11-25")).one().getLong(0);
  }

  /** The session, recording the node's warnings on every statement executed through it. */
  private static CqlSession recordingWarnings(CqlSession session, List<String> warnings) {
    return (CqlSession) Proxy.newProxyInstance(CqlSession.class.getClassLoader(), new Class<?>[] {CqlSession.class},
        (proxy, method, args) -> {
          Object result;
          try {
            result = method.invoke(session, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
          if (method.getName().equals("executeAsync") && result instanceof CompletionStage<?> stage) {
            return stage.thenApply(rs -> {
              warnings.addAll(((AsyncResultSet) rs).getExecutionInfo().getWarnings());
              return rs;
            });
          }
          return result;
        });
  }
}
