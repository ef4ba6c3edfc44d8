package io.iiot.base.cassandra;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultProtocolVersion;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedCassandraExtension.class)
class CassandraConnectorTest {
  /** Why v4, not the v5 both sides support: see {@link CassandraConnector#PROTOCOL_VERSION}. */
  @Test
  void servicesAndTestsSpeakNativeProtocolV4WithCassandra5() throws Exception {
    Vertx vertx = Vertx.vertx();
    CassandraConnector connector = new CassandraConnector(vertx, new CassandraSettings(
        List.of(new InetSocketAddress("127.0.0.1", EmbeddedCassandraExtension.node().settings().nativePort())),
        "datacenter1", "conn_v4", "{'class': 'SimpleStrategy', 'replication_factor': 1}", "LOCAL_ONE",
        Duration.ofSeconds(10), 1024, Optional.empty(), Optional.empty()), "db/good");
    try {
      CqlSession session = connector.start().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(session.getContext().getProtocolVersion()).isEqualTo(DefaultProtocolVersion.V4);
      try (CqlSession test = EmbeddedCassandraExtension.session()) {
        assertThat(test.getContext().getProtocolVersion()).isEqualTo(DefaultProtocolVersion.V4);
      }
    } finally {
      connector.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }
}
