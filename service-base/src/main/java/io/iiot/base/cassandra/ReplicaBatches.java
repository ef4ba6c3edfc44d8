package io.iiot.base.cassandra;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.metadata.TokenMap;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Packs many single-partition writes into few UNLOGGED batches, each holding only partitions whose replicas are the
 * same nodes (the driver's token map), so bulk creation sends one request per few dozen partitions instead of one
 * each. The node still applies one mutation per partition; what goes is the per-request work (framing, parsing,
 * dispatch, the answer), which dominates for small rows. Not atomic across partitions, like separate requests.
 *
 * <p>Such batches span partitions: Cassandra checks them against {@code batch_size_warn_threshold} (40 KiB on the
 * platform's nodes; {@code batch_size_fail_threshold} refuses from 50 KiB) and
 * {@code unlogged_batch_across_partitions_warn_threshold}. {@code maxBytes} bounds the protocol size of a batch,
 * which is larger than what Cassandra counts.
 */
public final class ReplicaBatches {
  private ReplicaBatches() {}

  /**
   * Batches of {@code partitions}, each element being the writes of one partition (kept together in one batch, so
   * applied as one mutation), in their order within each replica set: at most {@code maxPartitions} partitions and
   * about {@code maxBytes} per batch (a single partition larger than that goes alone). Without a token map (metadata
   * off or not loaded) or a routing key, partitions are grouped as if all had the same replicas.
   */
  public static List<BatchStatement> of(CqlSession session, String keyspace,
      List<? extends List<? extends BatchableStatement<?>>> partitions, int maxPartitions, int maxBytes) {
    Optional<TokenMap> tokens = session.getMetadata().getTokenMap();
    CqlIdentifier ks = CqlIdentifier.fromInternal(keyspace);
    Map<Object, Open> open = new LinkedHashMap<>();
    List<BatchStatement> out = new ArrayList<>();
    for (List<? extends BatchableStatement<?>> writes : partitions) {
      if (writes.isEmpty()) {
        continue;
      }
      Object group = replicas(tokens, ks, writes.get(0));
      int bytes = 0;
      for (BatchableStatement<?> s : writes) {
        bytes += s.computeSizeInBytes(session.getContext());
      }
      Open batch = open.get(group);
      if (batch != null && (batch.partitions == maxPartitions || batch.bytes + bytes > maxBytes)) {
        out.add(batch.builder.build());
        batch = null;
      }
      if (batch == null) {
        batch = new Open();
        open.put(group, batch);
      }
      for (BatchableStatement<?> s : writes) {
        batch.builder.addStatement(s);
      }
      batch.partitions++;
      batch.bytes += bytes;
    }
    open.values().forEach(b -> out.add(b.builder.build()));
    return out;
  }

  private static Object replicas(Optional<TokenMap> tokens, CqlIdentifier keyspace, BatchableStatement<?> first) {
    Set<Node> replicas = replicasOf(tokens, keyspace, first.getRoutingKey());
    return replicas.isEmpty() ? "" : replicas;
  }

  /**
   * The nodes holding the partition of {@code routingKey}, the same {@code Set} for every partition of a token range;
   * empty when unknown (no token map: metadata off or not loaded yet; no routing key).
   */
  public static Set<Node> replicasOf(Optional<TokenMap> tokens, CqlIdentifier keyspace, ByteBuffer routingKey) {
    return tokens.isPresent() && routingKey != null ? tokens.get().getReplicas(keyspace, routingKey) : Set.of();
  }

  private static final class Open {
    final BatchStatementBuilder builder = new BatchStatementBuilder(BatchType.UNLOGGED);
    int partitions;
    int bytes;
  }
}
