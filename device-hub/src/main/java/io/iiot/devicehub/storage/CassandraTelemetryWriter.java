package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.metadata.TokenMap;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import io.iiot.devicehub.domain.TelemetryRow;
import io.iiot.devicehub.domain.TelemetryRow.PartitionKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@link TelemetryWriter} on Cassandra: rows wait in a bounded queue grouped by partition (device and day), and go out
 * as UNLOGGED batches, at most {@code maxInFlight} partition updates at a time. Under load, rows of many messages of the same
 * device merge into one partition update (a single mutation on the replica), which is what makes partition-grouped
 * writes several times cheaper than single-row inserts; when idle, a message is written at once.
 *
 * <p>What one batch holds is the {@link Grouping}: the rows of one partition (default), or the rows of several
 * partitions whose replicas are the same nodes (the driver's token map), oldest partition first, each partition's
 * queued rows together. When many devices interleave (Hono's topics, thousands of MQTT devices) few rows of one device
 * are queued at a time; a replica-set batch still carries them in one request to a replica, so the per-request cost
 * (protocol, coordinator, driver callback) is paid once per batch instead of once per device. The replica applies one
 * mutation per partition either way, so {@code maxInFlight} bounds partition updates, not requests: a replica-set
 * batch of k partitions takes k of it (and at most a quarter of it, so that several requests overlap). The node's work
 * in flight, and with it how long rows wait to merge with later rows of their partition, is then the same under
 * both groupings. Such batches span partitions, so Cassandra counts them against
 * {@code unlogged_batch_across_partitions_warn_threshold} and {@code batch_size_warn_threshold} (raise both on the
 * cluster, see docs/BENCHMARKS.md "hono-ingest"); a batch never exceeds {@value #MAX_BATCH_BYTES} estimated bytes, far
 * below the 50 KiB {@code batch_size_fail_threshold}.
 *
 * <pre>
 * write(rows) ─► queue: replica set ─► partition ─► rows (≤ maxQueuedRows)
 *             ─► batch ≤ maxBatchRows, ≤ MAX_BATCH_BYTES ─► executeAsync (≤ maxInFlight partitions)
 *                                                            └─► completes each write() once all of its rows are written
 * </pre>
 *
 * All state is guarded by {@code this}; driver callbacks and callers on any thread may enter.
 */
public final class CassandraTelemetryWriter implements TelemetryWriter {
  /** Keeps a batch well under Cassandra's 50 KiB batch_size_fail_threshold whatever the text values. */
  private static final int MAX_BATCH_BYTES = 24 * 1024;
  /** Attempts of a batch that timed out or found the node overloaded, before its rows' writes fail. */
  static final int MAX_ATTEMPTS = 3;
  private static final long RETRY_BACKOFF_MS = 50;

  /** What may share one UNLOGGED batch ({@code telemetry.batch-grouping}). */
  public enum Grouping {
    /** Only rows of one partition: one mutation per request. */
    PARTITION,
    /** Rows of all partitions with the same replica nodes: fewer requests when few rows of one partition meet. */
    REPLICA_SET;

    /** {@code partition} or {@code replica-set}, as written in the YAML. */
    public static Grouping parse(String value) {
      return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }
  }

  private final CqlSession session;
  private final PreparedStatement insert;
  private final int maxInFlight;
  private final int maxQueuedRows;
  private final int maxBatchRows;
  private final int lowWater;
  private final Grouping grouping;
  private final CqlIdentifier keyspace;
  /** Groups (replica sets, or single partitions) in the order they were last served; each holds its partitions. */
  private final Map<Object, Group> queue = new LinkedHashMap<>();
  private final Counter rowsWritten;
  private final Counter refused;
  private final Counter retries;
  private final Timer batchTimer;
  private final DistributionSummary batchRows;
  private int queuedRows;
  /** Partition updates sent and not yet answered: the in-flight budget. */
  private int inFlight;
  /** Requests sent and not yet answered (the gauge). */
  private int statementsInFlight;
  private boolean saturated;

  /**
   * @param keyspace the device-hub keyspace (the session may have none set)
   * @param maxInFlight statements sent to Cassandra and not yet answered
   * @param maxQueuedRows rows accepted but not yet sent; beyond this {@link #write} refuses
   * @param maxBatchRows rows per partition batch
   */
  public CassandraTelemetryWriter(CqlSession session, String keyspace, MeterRegistry registry, int maxInFlight,
      int maxQueuedRows, int maxBatchRows) {
    this(session, keyspace, registry, maxInFlight, maxQueuedRows, maxBatchRows, Grouping.PARTITION, "devices");
  }

  /**
   * @param keyspace the device-hub keyspace (the session may have none set)
   * @param maxInFlight partition updates sent to Cassandra and not yet answered
   * @param maxQueuedRows rows accepted but not yet sent; beyond this {@link #write} refuses
   * @param maxBatchRows rows per batch
   * @param grouping which rows may share a batch
   * @param path the {@code queue} tag of the writer's metrics: {@code devices} (MQTT and CoAP) or {@code hono} (not a
   *     {@code path} tag: Vert.x's Micrometer options drop tags of that name)
   */
  public CassandraTelemetryWriter(CqlSession session, String keyspace, MeterRegistry registry, int maxInFlight,
      int maxQueuedRows, int maxBatchRows, Grouping grouping, String path) {
    this.session = session;
    this.grouping = grouping;
    this.keyspace = CqlIdentifier.fromCql(keyspace);
    this.maxInFlight = maxInFlight;
    this.maxQueuedRows = maxQueuedRows;
    this.maxBatchRows = maxBatchRows;
    this.lowWater = maxQueuedRows / 2;
    this.insert = session.prepare("INSERT INTO " + keyspace + ".telemetry (tenant, device_id, day, ts, metric, value_double, value_text)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?");
    this.rowsWritten = Counter.builder("devicehub.telemetry.rows.written").tag("queue", path).register(registry);
    this.refused = Counter.builder("devicehub.telemetry.writes.refused").tag("reason", "overloaded")
        .tag("queue", path).register(registry);
    this.retries = Counter.builder("devicehub.telemetry.batch.retries").tag("queue", path)
        .description("Batches sent again after a timeout or an overloaded node").register(registry);
    this.batchTimer = Timer.builder("devicehub.telemetry.batch.latency").tag("queue", path)
        .publishPercentiles(0.5, 0.99).register(registry);
    this.batchRows = DistributionSummary.builder("devicehub.telemetry.batch.rows")
        .tag("queue", path)
        .description("Rows per statement sent to Cassandra").register(registry);
    Gauge.builder("devicehub.telemetry.rows.queued", this, w -> w.queuedRows()).tag("queue", path).register(registry);
    Gauge.builder("devicehub.telemetry.statements.inflight", this, w -> w.inFlight()).tag("queue", path)
        .register(registry);
  }

  @Override
  public CompletionStage<Void> write(List<TelemetryRow> rows, Duration ttl) {
    if (rows.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    int ttlSeconds = (int) ttl.toSeconds();
    Request request = new Request();
    // Binding and the token look-up happen on the caller's thread, outside the lock.
    List<Pending> pending = new ArrayList<>(rows.size());
    Optional<TokenMap> tokens = grouping == Grouping.REPLICA_SET ? session.getMetadata().getTokenMap()
        : Optional.empty();
    for (TelemetryRow row : rows) {
      BoundStatement statement = bind(row, ttlSeconds);
      pending.add(new Pending(row.partition(), groupOf(row, statement, tokens), statement, estimatedBytes(row),
          request));
    }
    synchronized (this) {
      if (queuedRows + rows.size() > maxQueuedRows) {
        // Only a nearly full queue means "stop reading"; one write larger than the whole queue says nothing about load.
        saturated |= queuedRows > lowWater;
        refused.increment();
        return CompletableFuture.failedFuture(new WriterOverloadedException(
            "telemetry write queue full (" + queuedRows + " rows waiting for Cassandra)"));
      }
      request.remaining = pending.size();
      for (Pending p : pending) {
        queue.computeIfAbsent(p.group, k -> new Group()).add(p);
      }
      queuedRows += rows.size();
      if (queuedRows >= maxQueuedRows * 3 / 4) {
        saturated = true;
      }
    }
    drain();
    return request.done;
  }

  @Override
  public synchronized boolean saturated() {
    // Also cleared here, not only when a batch is taken, so the flag can never outlive the backlog it stands for.
    if (saturated && queuedRows <= lowWater) {
      saturated = false;
    }
    return saturated;
  }

  synchronized int queuedRows() {
    return queuedRows;
  }

  synchronized int inFlight() {
    return statementsInFlight;
  }

  /** Sends queued partitions while there is room in flight. Statements are built under the lock, sent outside it. */
  private void drain() {
    while (true) {
      Batch batch;
      synchronized (this) {
        if (inFlight >= maxInFlight || queue.isEmpty()) {
          return;
        }
        Iterator<Map.Entry<Object, Group>> it = queue.entrySet().iterator();
        Map.Entry<Object, Group> first = it.next();
        int partitions = grouping == Grouping.PARTITION ? 1 : Math.max(1, Math.min(maxInFlight - inFlight,
            maxInFlight / 4));
        batch = first.getValue().take(maxBatchRows, partitions);
        it.remove();
        if (!first.getValue().isEmpty()) {
          // The rest goes to the back of the queue, so one busy device (or replica set) cannot starve the others.
          queue.put(first.getKey(), first.getValue());
        }
        queuedRows -= batch.rows.size();
        if (saturated && queuedRows <= lowWater) {
          saturated = false;
        }
        inFlight += batch.partitions;
        statementsInFlight++;
      }
      send(batch);
    }
  }

  private void send(Batch sent) {
    List<Pending> batch = sent.rows;
    Statement<?> statement;
    batchRows.record(batch.size());
    if (batch.size() == 1) {
      statement = batch.get(0).statement;
    } else {
      BatchStatementBuilder b = new BatchStatementBuilder(BatchType.UNLOGGED).setIdempotence(true);
      for (Pending p : batch) {
        b.addStatement(p.statement);
      }
      // Routed by its first statement's partition: with replica-set grouping every row has the same replicas.
      statement = b.build();
    }
    execute(sent, statement, 1, System.nanoTime());
  }

  /**
   * Sends one attempt of a batch. A batch that timed out or found the node overloaded is sent again (after
   * {@value #RETRY_BACKOFF_MS} ms times the attempt) up to {@value #MAX_ATTEMPTS} attempts before its rows' writes
   * fail: the statement is idempotent, and a busy node's timeout says nothing about the rows, while failing them would
   * make every device whose rows the batch carries refuse or resend (an MQTT 3.1.1 client is disconnected). The
   * batch keeps its place in flight meanwhile, so the retries add no load beyond the in-flight bound.
   */
  private void execute(Batch sent, Statement<?> statement, int attempt, long start) {
    List<Pending> batch = sent.rows;
    CompletionStage<?> stage;
    try {
      stage = session.executeAsync(statement);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete((rs, err) -> {
      if (err != null && attempt < MAX_ATTEMPTS && isTransient(err)) {
        retries.increment();
        CompletableFuture.delayedExecutor(RETRY_BACKOFF_MS * attempt, TimeUnit.MILLISECONDS)
            .execute(() -> execute(sent, statement, attempt + 1, start));
        return;
      }
      batchTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      synchronized (this) {
        inFlight -= sent.partitions;
        statementsInFlight--;
      }
      if (err == null) {
        rowsWritten.increment(batch.size());
      }
      for (Pending p : batch) {
        p.request.rowDone(err);
      }
      drain();
    });
  }

  /** Timeouts and overload: the node may well take the same write a moment later. */
  static boolean isTransient(Throwable err) {
    Throwable e = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
    return e instanceof WriteTimeoutException || e instanceof OverloadedException
        || e instanceof DriverTimeoutException;
  }

  /**
   * The batch group of a row: its partition, or with {@link Grouping#REPLICA_SET} the set of its replicas (the same
   * {@code Set} for every partition of a token range). Without a token map (metadata off or not loaded yet) rows fall
   * back to their partition.
   */
  private Object groupOf(TelemetryRow row, BoundStatement statement, Optional<TokenMap> tokens) {
    if (tokens.isPresent()) {
      ByteBuffer routingKey = statement.getRoutingKey();
      if (routingKey != null) {
        Set<Node> replicas = tokens.get().getReplicas(keyspace, routingKey);
        if (!replicas.isEmpty()) {
          return replicas;
        }
      }
    }
    return row.partition();
  }

  private BoundStatement bind(TelemetryRow r, int ttlSeconds) {
    BoundStatementBuilder b = insert.boundStatementBuilder()
        .setString(0, r.tenant())
        .setString(1, r.deviceId())
        .setLocalDate(2, r.day())
        .setInstant(3, r.ts())
        .setString(4, r.metric())
        .setInt(7, ttlSeconds)
        .setIdempotence(true);
    // The absent value stays unset rather than null: binding null would write a tombstone for every sample.
    if (r.number() != null) {
      b.setDouble(5, r.number());
    } else {
      b.setString(6, r.text());
    }
    return b.build();
  }

  private static int estimatedBytes(TelemetryRow row) {
    return 64 + row.tenant().length() + row.deviceId().length() + row.metric().length()
        + (row.text() == null ? 8 : row.text().length() * 3);
  }

  /** Rows sent in one statement, and how many partition updates they make on the replica. */
  private record Batch(List<Pending> rows, int partitions) {}

  private record Pending(PartitionKey partition, Object group, BoundStatement statement, int bytes,
      Request request) {}

  /**
   * The queued rows of one group, by partition in arrival order. A batch takes whole partitions from the head (a
   * partition's rows together make one mutation), stopping at the row and byte budgets; a partition cut there keeps
   * its place at the head.
   */
  private static final class Group {
    final LinkedHashMap<PartitionKey, List<Pending>> partitions = new LinkedHashMap<>();

    void add(Pending p) {
      partitions.computeIfAbsent(p.partition, k -> new ArrayList<>()).add(p);
    }

    boolean isEmpty() {
      return partitions.isEmpty();
    }

    Batch take(int max, int maxPartitions) {
      List<Pending> batch = new ArrayList<>(Math.min(max, 64));
      int bytes = 0;
      int taken = 0;
      Iterator<List<Pending>> it = partitions.values().iterator();
      while (it.hasNext() && batch.size() < max && taken < maxPartitions) {
        List<Pending> rows = it.next();
        int n = 0;
        while (n < rows.size() && batch.size() < max) {
          bytes += rows.get(n).bytes;
          if (!batch.isEmpty() && bytes > MAX_BATCH_BYTES) {
            break;
          }
          batch.add(rows.get(n));
          n++;
        }
        if (n > 0) {
          taken++;
        }
        if (n == rows.size()) {
          it.remove();
        } else {
          rows.subList(0, n).clear();
          break;
        }
      }
      return new Batch(batch, taken);
    }
  }

  /** One write() call: completes when all its rows are written, fails on the first failed batch. */
  private static final class Request {
    final CompletableFuture<Void> done = new CompletableFuture<>();
    int remaining;

    void rowDone(Throwable err) {
      if (err != null) {
        done.completeExceptionally(err);
        return;
      }
      boolean last;
      synchronized (this) {
        last = --remaining == 0;
      }
      if (last) {
        done.complete(null);
      }
    }
  }
}
