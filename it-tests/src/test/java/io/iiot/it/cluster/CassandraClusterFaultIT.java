package io.iiot.it.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.metadata.NodeState;
import io.iiot.base.cassandra.CassandraConnector;
import io.iiot.base.cassandra.CassandraSettings;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.it.bench.BenchmarkReport;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Three real Cassandra nodes (127.0.0.1-3, one data centre, device-hub's keyspace on NetworkTopologyStrategy with
 * replication factor 3, LOCAL_QUORUM through the services' own connector) take a steady stream of telemetry inserts
 * while one node is killed with {@code kill -9} and restarted. Every write the cluster acknowledged must be readable
 * afterwards, and every LOCAL_QUORUM read of a just-acknowledged row during the run must return it; the error rate and
 * throughput before, during and after the fault are written to docs/BENCHMARKS.md.
 *
 * <p>Runs only with {@code mvn -B -pl it-tests verify -Pcluster} (4-6 minutes on a shared 2-core machine).
 */
@Tag("cluster")
class CassandraClusterFaultIT {
  private static final String DC = "dc1";
  private static final String KEYSPACE = "iiot_device_cluster";
  private static final int IN_FLIGHT = 64;
  private static final int WARM_UP_S = 5;
  private static final int BEFORE_S = 20;
  private static final int DOWN_S = 20;
  private static final int AFTER_S = 20;
  /** The killed node: not the seed, like most nodes of a real cluster. */
  private static final int VICTIM = 1;

  @Test
  void everyAcknowledgedWriteSurvivesKillMinus9AndRestartOfOneNode() throws Exception {
    Path dir = Path.of("target", "cluster-it").toAbsolutePath();
    long clusterStart = System.nanoTime();
    Vertx vertx = Vertx.vertx();
    try (LoopbackCluster cluster = LoopbackCluster.start(dir, 3, "iiot-cluster-it", DC, "512M")) {
      double clusterStartS = (System.nanoTime() - clusterStart) / 1e9;
      // The production settings of issue 8, through the same config rule and connector the services use.
      ServiceConfig config = ServiceConfig.load("device-hub", Map.of(
          "CASSANDRA_CONTACT_POINTS", cluster.contactPoints(),
          "CASSANDRA_LOCAL_DATACENTER", DC,
          "CASSANDRA_KEYSPACE", KEYSPACE,
          "CASSANDRA_REPLICATION", "NetworkTopologyStrategy:" + DC + "=3",
          "CASSANDRA_CONSISTENCY", "LOCAL_QUORUM"));
      CassandraConnector connector = new CassandraConnector(vertx, CassandraSettings.from(config), "db/devicehub");
      CqlSession session = connector.start().toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
      try {
        assertThat(session.getMetadata().getKeyspace(KEYSPACE).orElseThrow().getReplication())
            .containsEntry("class", "org.apache.cassandra.locator.NetworkTopologyStrategy")
            .containsEntry(DC, "3");
        assertThat(session.getMetadata().getNodes().values()).hasSize(3)
            .allSatisfy(n -> assertThat(n.getState()).isEqualTo(NodeState.UP));

        EmbeddedCassandra victim = cluster.node(VICTIM);
        String victimAddress = LoopbackCluster.address(VICTIM);
        Timeline t = new Timeline();
        try (SteadyWriteLoad load = new SteadyWriteLoad(session, KEYSPACE, IN_FLIGHT).start();
            ReadYourWritesProbe reads = new ReadYourWritesProbe(session, KEYSPACE, load).start()) {
          sleepUntil(load, WARM_UP_S + BEFORE_S);
          t.kill = load.elapsedSeconds();
          t.loadAverages += " / " + BenchmarkReport.loadAverage();
          victim.kill();
          sleepUntil(load, t.kill + DOWN_S);
          t.restart = load.elapsedSeconds();
          victim.start();
          t.cqlReady = load.elapsedSeconds();
          while (!up(session, victimAddress)) {
            assertThat(load.elapsedSeconds() - t.cqlReady).as("seconds until the driver sees the node up")
                .isLessThan(60);
            Thread.sleep(100);
          }
          t.driverUp = load.elapsedSeconds();
          sleepUntil(load, t.driverUp + AFTER_S);
          t.end = load.elapsedSeconds();
          t.loadAverages += " / " + BenchmarkReport.loadAverage();
          reads.close();
          load.close();

          Set<Long> stored = readAll(session, load);
          Set<Long> lost = new HashSet<>(load.acked());
          lost.removeAll(stored);
          Report r = new Report(load, reads, t, lost.size(), stored.size(), clusterStartS);
          r.write();
          assertThat(lost).as("acknowledged writes missing after the fault").isEmpty();
          assertThat(reads.firstWrong()).as("a LOCAL_QUORUM read that missed an acknowledged write").isNull();
          assertThat(reads.correct((int) Math.ceil(t.kill), (int) t.restart))
              .as("reads answered while the node was down").isPositive();
          assertThat(load.acked((int) Math.ceil(t.kill), (int) t.restart))
              .as("writes acknowledged while the node was down").isPositive();
          assertThat(load.acked((int) Math.ceil(t.driverUp), (int) t.end))
              .as("writes acknowledged after the node came back").isPositive();
        }
      } finally {
        connector.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** Moments of the run, in seconds since the load started. */
  static final class Timeline {
    double kill;
    double restart;
    double cqlReady;
    double driverUp;
    double end;
    /** 1-minute load average of the machine at load start, kill and end: other builds share these 2 cores. */
    String loadAverages = BenchmarkReport.loadAverage();
  }


  private static boolean up(CqlSession session, String address) {
    for (Node n : session.getMetadata().getNodes().values()) {
      if (n.getEndPoint().resolve() instanceof InetSocketAddress a && a.getAddress().getHostAddress().equals(address)) {
        return n.getState() == NodeState.UP;
      }
    }
    return false;
  }

  /** Every stored sequence number of the load's devices, read at LOCAL_QUORUM with all three nodes up. */
  private static Set<Long> readAll(CqlSession session, SteadyWriteLoad load) {
    PreparedStatement select = session.prepare("SELECT value_double FROM " + KEYSPACE
        + ".telemetry WHERE tenant = ? AND device_id = ? AND day = ?");
    Set<Long> stored = new HashSet<>();
    for (int d = 0; d < SteadyWriteLoad.DEVICES; d++) {
      for (Row row : session.execute(select.bind(SteadyWriteLoad.TENANT, SteadyWriteLoad.device(d), load.day()))) {
        stored.add((long) row.getDouble(0));
      }
    }
    return stored;
  }

  private static void sleepUntil(SteadyWriteLoad load, double second) throws InterruptedException {
    while (load.elapsedSeconds() < second) {
      Thread.sleep(50);
    }
  }

  /** The figures of one run, as a section of docs/BENCHMARKS.md. */
  private record Report(SteadyWriteLoad load, ReadYourWritesProbe reads, Timeline t, int lost, int stored,
      double clusterStartS) {
    void write() throws Exception {
      int before0 = WARM_UP_S;
      int before1 = (int) t.kill;
      int fault0 = (int) Math.ceil(t.kill);
      int fault1 = (int) t.driverUp;
      int after0 = (int) Math.ceil(t.driverUp);
      int after1 = (int) t.end;
      long faultAcked = load.acked(fault0, fault1 + 1);
      long faultFailed = load.failed(fault0, fault1 + 1);
      StringBuilder md = new StringBuilder();
      md.append("Three real Cassandra 5.0 nodes (`EmbeddedCassandra`, 512 MB heap each, batch commit log) on 127.0.0.1-3 of")
          .append(" one 2-core machine, shared with the client; device-hub's keyspace and migrations on")
          .append(" `NetworkTopologyStrategy:dc1=3`, `LOCAL_QUORUM`, through the services' `CassandraConnector`.")
          .append(" One telemetry row per insert, idempotent, ").append(IN_FLIGHT).append(" in flight; alongside,")
          .append(" 16 reads in flight of just-acknowledged rows at LOCAL_QUORUM (a missing row or another value would")
          .append(" be a wrong read).")
          .append(" Node 127.0.0.").append(VICTIM + 1).append(" is killed with SIGKILL after ")
          .append(WARM_UP_S + BEFORE_S).append(" s of load and restarted ").append(DOWN_S).append(" s later.\n\n");
      md.append("| phase | seconds | writes acknowledged/s | vs. before | failed writes | write error rate | reads/s"
          + " | wrong reads | failed reads |\n|---|---|---|---|---|---|---|---|---|\n");
      row(md, "before (all 3 up)", before0, before1);
      row(md, "node down (kill until restart begins)", fault0, (int) t.restart);
      row(md, "node restarting (until the driver sees it up)", (int) Math.ceil(t.restart), fault1 + 1);
      row(md, "whole fault (kill until the driver sees it up)", fault0, fault1 + 1);
      row(md, "after (all 3 up)", after0, after1);
      md.append('\n');
      md.append(String.format("- Acknowledged writes: %d; read back at LOCAL_QUORUM afterwards: %d; **lost: %d**%n",
          load.acked().size(), stored, lost));
      md.append(String.format("- Error rate during the fault: %.3f %% (%d failed of %d)%n",
          faultAcked + faultFailed == 0 ? 0.0 : 100.0 * faultFailed / (faultAcked + faultFailed), faultFailed,
          faultAcked + faultFailed));
      md.append("- Failed writes by kind over the whole run: ").append(load.errorKinds().isEmpty() ? "none"
          : load.errorKinds().toString()).append('\n');
      md.append(String.format("- Time to recover: restart until CQL answers %.1f s; until the driver has the node up"
          + " again %.1f s (node down %.1f s in total)%n", t.cqlReady - t.restart, t.driverUp - t.restart,
          t.driverUp - t.kill));
      md.append(String.format("- Cluster start (3 nodes one after another): %.1f s%n", clusterStartS));
      md.append("- Machine load average (1 min) at load start / kill / end: ").append(t.loadAverages)
          .append(" (other engineers' builds and tests share the 2 cores, so absolute rates are low and noisy;")
          .append(" compare the phases of one run)\n");
      md.append("\nAcknowledged writes per second, in 5-s steps (K = kill, R = restart begins, U = driver sees it up):\n\n");
      md.append("| from s | acks/s | failed |\n|---|---|---|\n");
      for (int s = 0; s + 5 <= (int) t.end; s += 5) {
        String mark = mark(s, t.kill, "K") + mark(s, t.restart, "R") + mark(s, t.driverUp, "U");
        md.append("| ").append(s).append(mark.isEmpty() ? "" : " " + mark).append(" | ")
            .append(load.acked(s, s + 5) / 5).append(" | ").append(load.failed(s, s + 5)).append(" |\n");
      }
      BenchmarkReport.writeSection("cassandra-cluster-fault", "Cassandra cluster: kill -9 of one of three nodes under"
          + " LOCAL_QUORUM writes", "mvn -B -pl it-tests verify -Pcluster", md.toString());
    }

    private void row(StringBuilder md, String phase, int from, int to) {
      long acked = load.acked(from, to);
      long failed = load.failed(from, to);
      int seconds = Math.max(1, to - from);
      double before = (double) load.acked(WARM_UP_S, (int) t.kill) / Math.max(1, (int) t.kill - WARM_UP_S);
      md.append(String.format("| %s | %d | %d | %.2f | %d | %.3f %% | %d | %d | %d |%n", phase, seconds,
          acked / seconds, before == 0 ? 0.0 : acked / (double) seconds / before, failed, acked + failed == 0 ? 0.0 : 100.0 * failed / (acked + failed),
          (reads.correct(from, to) + reads.wrong(from, to)) / seconds, reads.wrong(from, to), reads.failed(from, to)));
    }

    private static String mark(int from, double at, String letter) {
      return at >= from && at < from + 5 ? letter : "";
    }
  }
}
