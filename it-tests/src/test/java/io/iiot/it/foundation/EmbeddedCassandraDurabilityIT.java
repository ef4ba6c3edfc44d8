package io.iiot.it.foundation;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Every write the embedded node acknowledged survives kill -9 of the node (batch commit log). */
class EmbeddedCassandraDurabilityIT {

  @Test
  void acknowledgedWritesSurviveKillMinus9OfTheNode() throws Exception {
    Path dir = Path.of("target", "durability-it").toAbsolutePath();
    EmbeddedCassandraExtension.deleteTree(dir);
    EmbeddedCassandra node = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir,
        EmbeddedCassandraExtension.freePort(), EmbeddedCassandraExtension.freePort()));
    node.start();
    int rows = 10_000;
    AtomicInteger acked = new AtomicInteger();
    try {
      try (CqlSession s = session(node)) {
        s.execute("CREATE KEYSPACE dur WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}");
        s.execute("CREATE TABLE dur.rows (id int PRIMARY KEY, payload text)");
        PreparedStatement insert = s.prepare("INSERT INTO dur.rows (id, payload) VALUES (?, ?)");
        Semaphore inFlight = new Semaphore(128);
        CompletableFuture<?>[] all = new CompletableFuture<?>[rows];
        for (int i = 0; i < rows; i++) {
          inFlight.acquire();
          all[i] = s.executeAsync(insert.bind(i, "row-" + i).setIdempotent(true)).toCompletableFuture()
              .whenComplete((r, err) -> {
                inFlight.release();
                if (err == null) {
                  acked.incrementAndGet();
                }
              });
        }
        CompletableFuture.allOf(all).join();
        // Crash right after the last acknowledgement: no drain, no flush.
        node.kill();
      }
      assertThat(acked.get()).isEqualTo(rows);

      node.start();
      try (CqlSession s = session(node)) {
        Set<Integer> ids = new HashSet<>();
        s.execute("SELECT id, payload FROM dur.rows").forEach(r -> {
          assertThat(r.getString("payload")).isEqualTo("row-" + r.getInt("id"));
          ids.add(r.getInt("id"));
        });
        assertThat(ids).hasSize(rows);
      }
    } finally {
      node.stop();
    }
  }

  private static CqlSession session(EmbeddedCassandra node) {
    // DDL on a busy 2-core machine can take longer than the driver's 2 s default
    return CqlSession.builder().addContactPoint(new InetSocketAddress("127.0.0.1", node.settings().nativePort()))
        .withLocalDatacenter("datacenter1")
        .withConfigLoader(DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(30)).build())
        .build();
  }
}
