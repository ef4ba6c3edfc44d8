package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import io.iiot.devicehub.domain.TelemetryRow;
import io.iiot.devicehub.domain.TelemetryRow.PartitionKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@link TelemetryWriter} on Cassandra: rows wait in a bounded queue grouped by partition (device and day), and each
 * partition's rows go out as one UNLOGGED batch (a single mutation on the replica), at most {@code maxInFlight}
 * statements at a time. Under load, rows of many messages of the same device merge into one batch, which is what
 * makes partition-grouped writes several times cheaper than single-row inserts; when idle, a message is written at
 * once.
 *
 * <pre>
 * write(rows) ─► per-partition queue (≤ maxQueuedRows) ─► batch ≤ maxBatchRows ─► executeAsync (≤ maxInFlight)
 *                                                                                  └─► completes each write() once all
 *                                                                                      of its partitions are written
 * </pre>
 *
 * All state is guarded by {@code this}; driver callbacks and callers on any thread may enter.
 */
public final class CassandraTelemetryWriter implements TelemetryWriter {
  /** Keeps a batch well under Cassandra's 50 KiB batch_size_fail_threshold whatever the text values. */
  private static final int MAX_BATCH_BYTES = 24 * 1024;

  private final CqlSession session;
  private final PreparedStatement insert;
  private final int maxInFlight;
  private final int maxQueuedRows;
  private final int maxBatchRows;
  private final int lowWater;
  private final Map<PartitionKey, PartitionQueue> queue = new LinkedHashMap<>();
  private final Counter rowsWritten;
  private final Counter refused;
  private final Timer batchTimer;
  private int queuedRows;
  private int inFlight;
  private boolean saturated;

  /**
   * @param keyspace the device-hub keyspace (the session may have none set)
   * @param maxInFlight statements sent to Cassandra and not yet answered
   * @param maxQueuedRows rows accepted but not yet sent; beyond this {@link #write} refuses
   * @param maxBatchRows rows per partition batch
   */
  public CassandraTelemetryWriter(CqlSession session, String keyspace, MeterRegistry registry, int maxInFlight,
      int maxQueuedRows, int maxBatchRows) {
    this.session = session;
    this.maxInFlight = maxInFlight;
    this.maxQueuedRows = maxQueuedRows;
    this.maxBatchRows = maxBatchRows;
    this.lowWater = maxQueuedRows / 2;
    this.insert = session.prepare("INSERT INTO " + keyspace + ".telemetry (tenant, device_id, day, ts, metric, value_double, value_text)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?) USING TTL ?");
    this.rowsWritten = Counter.builder("devicehub.telemetry.rows.written").register(registry);
    this.refused = Counter.builder("devicehub.telemetry.writes.refused").tag("reason", "overloaded").register(registry);
    this.batchTimer = Timer.builder("devicehub.telemetry.batch.latency").publishPercentiles(0.5, 0.99)
        .register(registry);
    Gauge.builder("devicehub.telemetry.rows.queued", this, w -> w.queuedRows()).register(registry);
    Gauge.builder("devicehub.telemetry.statements.inflight", this, w -> w.inFlight()).register(registry);
  }

  @Override
  public CompletionStage<Void> write(List<TelemetryRow> rows, Duration ttl) {
    if (rows.isEmpty()) {
      return CompletableFuture.completedFuture(null);
    }
    int ttlSeconds = (int) ttl.toSeconds();
    Request request = new Request();
    synchronized (this) {
      if (queuedRows + rows.size() > maxQueuedRows) {
        // Only a nearly full queue means "stop reading"; one write larger than the whole queue says nothing about load.
        saturated |= queuedRows > lowWater;
        refused.increment();
        return CompletableFuture.failedFuture(new WriterOverloadedException(
            "telemetry write queue full (" + queuedRows + " rows waiting for Cassandra)"));
      }
      for (TelemetryRow row : rows) {
        PartitionQueue pq = queue.computeIfAbsent(row.partition(), k -> new PartitionQueue());
        pq.rows.add(new Pending(row, ttlSeconds, request));
        request.remaining++;
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
    return inFlight;
  }

  /** Sends queued partitions while there is room in flight. Statements are built under the lock, sent outside it. */
  private void drain() {
    while (true) {
      List<Pending> batch;
      synchronized (this) {
        if (inFlight >= maxInFlight || queue.isEmpty()) {
          return;
        }
        Iterator<Map.Entry<PartitionKey, PartitionQueue>> it = queue.entrySet().iterator();
        Map.Entry<PartitionKey, PartitionQueue> first = it.next();
        batch = first.getValue().take(maxBatchRows);
        it.remove();
        if (!first.getValue().rows.isEmpty()) {
          // The rest goes to the back of the queue, so one busy device cannot starve the others.
          queue.put(first.getKey(), first.getValue());
        }
        queuedRows -= batch.size();
        if (saturated && queuedRows <= lowWater) {
          saturated = false;
        }
        inFlight++;
      }
      send(batch);
    }
  }

  private void send(List<Pending> batch) {
    Statement<?> statement;
    if (batch.size() == 1) {
      statement = bind(batch.get(0));
    } else {
      BatchStatementBuilder b = new BatchStatementBuilder(BatchType.UNLOGGED).setIdempotence(true);
      for (Pending p : batch) {
        b.addStatement(bind(p));
      }
      statement = b.build();
    }
    long start = System.nanoTime();
    CompletionStage<?> stage;
    try {
      stage = session.executeAsync(statement);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete((rs, err) -> {
      batchTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      synchronized (this) {
        inFlight--;
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

  private BoundStatement bind(Pending p) {
    TelemetryRow r = p.row;
    BoundStatementBuilder b = insert.boundStatementBuilder()
        .setString(0, r.tenant())
        .setString(1, r.deviceId())
        .setLocalDate(2, r.day())
        .setInstant(3, r.ts())
        .setString(4, r.metric())
        .setInt(7, p.ttlSeconds)
        .setIdempotence(true);
    // The absent value stays unset rather than null: binding null would write a tombstone for every sample.
    if (r.number() != null) {
      b.setDouble(5, r.number());
    } else {
      b.setString(6, r.text());
    }
    return b.build();
  }

  private record Pending(TelemetryRow row, int ttlSeconds, Request request) {
    int estimatedBytes() {
      return 64 + row.tenant().length() + row.deviceId().length() + row.metric().length()
          + (row.text() == null ? 8 : row.text().length() * 3);
    }
  }

  private static final class PartitionQueue {
    final List<Pending> rows = new ArrayList<>();

    /** Takes up to {@code max} rows from the head, stopping early at the batch byte budget. */
    List<Pending> take(int max) {
      int n = 0;
      int bytes = 0;
      while (n < rows.size() && n < max) {
        bytes += rows.get(n).estimatedBytes();
        if (n > 0 && bytes > MAX_BATCH_BYTES) {
          break;
        }
        n++;
      }
      List<Pending> head = new ArrayList<>(rows.subList(0, n));
      rows.subList(0, n).clear();
      return head;
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
