package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DefaultProtocolVersion;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.ProtocolVersion;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BatchableStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.BoundStatementBuilder;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Statement;
import com.datastax.oss.driver.api.core.metadata.Node;
import com.datastax.oss.driver.api.core.metadata.TokenMap;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import com.datastax.oss.driver.api.core.type.codec.TypeCodecs;
import io.iiot.base.async.Failures;
import io.iiot.base.cassandra.ReplicaBatches;
import io.iiot.devicehub.domain.TelemetryRow;
import io.iiot.devicehub.domain.TelemetryRow.PartitionKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@link TelemetryWriter} on Cassandra: rows wait in a bounded queue grouped by partition (device and day), and go out
 * as UNLOGGED batches, at most {@code maxInFlight} requests at a time. Under load, rows of many messages of the same
 * device merge into one partition update (a single mutation on the replica), which is what makes partition-grouped
 * writes several times cheaper than single-row inserts; when idle, a message is written at once.
 *
 * <p>What one batch holds is the {@link Grouping}: the rows of one partition (default), or the rows of up to
 * {@code maxBatchPartitions} partitions whose replicas are the same nodes (the driver's token map), oldest partition
 * first, each partition's queued rows together. When few rows of one device are queued at a time (CoAP devices keep one
 * request outstanding; Hono's topics and thousands of MQTT devices interleave) a replica-set batch still carries
 * several devices' rows in one request to a replica, so the per-request cost (protocol, coordinator, driver callback)
 * is paid once per batch instead of once per device, and rows that queue while all requests are out leave together
 * with the next one. Such batches span partitions, so Cassandra counts them against
 * {@code unlogged_batch_across_partitions_warn_threshold} (10 by default: {@code maxBatchPartitions} beyond it needs it
 * raised) and {@code batch_size_warn_threshold} (5 KiB by default, which a batch spanning partitions stays under:
 * {@value #CROSS_PARTITION_MAX_BYTES} estimated bytes); a batch of one partition never exceeds
 * {@value #MAX_BATCH_BYTES} estimated bytes, far below the 50 KiB {@code batch_size_fail_threshold} (Cassandra checks
 * sizes only of batches spanning partitions).
 *
 * <pre>
 * write(rows) ─► bound: a chunk per partition run ─► queue: replica set ─► partition ─► chunks (≤ maxQueuedRows rows)
 *             ─► batch ≤ maxBatchRows, ≤ maxBatchPartitions ─► executeAsync (≤ maxInFlight requests)
 *                                                            └─► completes each write() once all of its rows are written
 * </pre>
 *
 * All state is guarded by {@code this}; driver callbacks and callers on any thread may enter.
 */
public final class CassandraTelemetryWriter implements TelemetryWriter {
  /** Keeps a batch well under Cassandra's 50 KiB batch_size_fail_threshold whatever the text values. */
  private static final int MAX_BATCH_BYTES = 24 * 1024;
  /**
   * A batch spanning partitions stays under Cassandra's default 5 KiB batch_size_warn_threshold (the estimate counts
   * more than the node's data size), so nodes with default settings log no warning for it.
   */
  static final int CROSS_PARTITION_MAX_BYTES = 5 * 1024;
  /** Attempts of a batch that timed out or found the node overloaded, before its rows' writes fail. */
  static final int MAX_ATTEMPTS = 3;
  private static final long RETRY_BACKOFF_MS = 50;
  private static final long MILLIS_PER_DAY = 86_400_000L;
  /** Encoded metric names kept; schemas name a few dozen, so this bound is only a guard. */
  private static final int MAX_CACHED_METRICS = 10_000;
  private static final int MAX_FIXED_TTLS = 32;

  /** What may share one UNLOGGED batch ({@code telemetry.batch-grouping}). */
  public enum Grouping {
    /** Only rows of one partition: one mutation per request. */
    PARTITION,
    /** Rows of partitions with the same replica nodes: fewer requests when few rows of one partition meet. */
    REPLICA_SET;

    /** {@code partition} or {@code replica-set}, as written in the YAML. */
    public static Grouping parse(String value) {
      return valueOf(value.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }
  }

  private final CqlSession session;
  /** The inserts that bind the TTL (7 values a row); each binds only its own value column. */
  private final Inserts boundTtl;
  /**
   * By TTL seconds, the inserts with the TTL written into the statement (6 values a row, one less to bind, size and
   * encode): prepared in the background when a TTL is first written, {@link #boundTtl} meanwhile or if that failed.
   * Tenants share a few TTLs; beyond {@value #MAX_FIXED_TTLS} the TTL stays bound.
   */
  private final Map<Integer, CompletableFuture<Inserts>> fixedTtl = new ConcurrentHashMap<>();
  private final String insertCql;
  private final ProtocolVersion protocol;
  /** Whether a request may name its keyspace (protocol v5): then batches carry it. */
  private final boolean perRequestKeyspace;
  private final Map<String, ByteBuffer> metricNames = new ConcurrentHashMap<>();
  private final int maxInFlight;
  private final int maxQueuedRows;
  private final int maxBatchRows;
  private final int maxBatchPartitions;
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
  /** Requests sent and not yet answered: the in-flight budget. */
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
    this(session, keyspace, registry, maxInFlight, maxQueuedRows, maxBatchRows, Grouping.PARTITION, 1, "devices");
  }

  /**
   * @param keyspace the device-hub keyspace (the session may have none set)
   * @param maxInFlight requests sent to Cassandra and not yet answered
   * @param maxQueuedRows rows accepted but not yet sent; beyond this {@link #write} refuses
   * @param maxBatchRows rows per batch
   * @param grouping which rows may share a batch
   * @param maxBatchPartitions partitions per batch with {@link Grouping#REPLICA_SET}
   * @param path the {@code queue} tag of the writer's metrics: {@code devices} (MQTT), {@code coap} or {@code hono} (not a
   *     {@code path} tag: Vert.x's Micrometer options drop tags of that name)
   */
  public CassandraTelemetryWriter(CqlSession session, String keyspace, MeterRegistry registry, int maxInFlight,
      int maxQueuedRows, int maxBatchRows, Grouping grouping, int maxBatchPartitions, String path) {
    this.session = session;
    this.grouping = grouping;
    this.keyspace = CqlIdentifier.fromCql(keyspace);
    this.maxInFlight = maxInFlight;
    this.maxQueuedRows = maxQueuedRows;
    this.maxBatchRows = maxBatchRows;
    this.maxBatchPartitions = grouping == Grouping.PARTITION ? 1 : maxBatchPartitions;
    this.lowWater = maxQueuedRows / 2;
    this.insertCql = "INSERT INTO " + keyspace + ".telemetry (tenant, device_id, day, ts, metric, %s)"
        + " VALUES (?, ?, ?, ?, ?, ?) USING TTL %s";
    this.boundTtl = new Inserts(session.prepare(String.format(insertCql, "value_double", "?")),
        session.prepare(String.format(insertCql, "value_text", "?")), true);
    this.protocol = session.getContext().getProtocolVersion();
    this.perRequestKeyspace = protocol.getCode() >= DefaultProtocolVersion.V5.getCode();
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
    Request request = new Request(rows.size());
    // Binding and the token look-up happen on the caller's thread, outside the lock.
    List<Chunk> chunks = bind(rows, ttl, request);
    synchronized (this) {
      if (queuedRows + rows.size() > maxQueuedRows) {
        // Only a nearly full queue means "stop reading"; one write larger than the whole queue says nothing about load.
        saturated |= queuedRows > lowWater;
        refused.increment();
        return CompletableFuture.failedFuture(new WriterOverloadedException(
            "telemetry write queue full (" + queuedRows + " rows waiting for Cassandra)"));
      }
      for (Chunk c : chunks) {
        queue.computeIfAbsent(c.group, k -> new Group()).add(c);
      }
      queuedRows += rows.size();
      if (queuedRows >= maxQueuedRows * 3 / 4) {
        saturated = true;
      }
    }
    drain();
    return request.done;
  }

  /**
   * Binds the rows, one {@link Chunk} per run of rows of one partition (a message's rows are usually one run). The
   * values a run's rows share (tenant, device, day, and the time and TTL when equal) are encoded once and the same
   * buffers bound to every row: the driver only reads them (duplicates) when it writes a request. Binding encoded
   * bytes also skips the codec look-up per value.
   */
  private List<Chunk> bind(List<TelemetryRow> rows, Duration ttl, Request request) {
    Optional<TokenMap> tokens = grouping == Grouping.REPLICA_SET ? session.getMetadata().getTokenMap()
        : Optional.empty();
    int ttlSeconds = (int) ttl.toSeconds();
    Inserts inserts = inserts(ttlSeconds);
    ByteBuffer ttlBytes = inserts.ttlBound() ? TypeCodecs.INT.encodePrimitive(ttlSeconds, protocol) : null;
    List<Chunk> chunks = new ArrayList<>(1);
    Chunk chunk = null;
    long tsMillis = Long.MIN_VALUE;
    ByteBuffer tsBytes = null;
    int n = rows.size();
    for (int i = 0; i < n; i++) {
      TelemetryRow row = rows.get(i);
      long ms = row.ts().toEpochMilli();
      long epochDay = Math.floorDiv(ms, MILLIS_PER_DAY);
      if (chunk == null || !chunk.holds(row, epochDay)) {
        chunk = newChunk(row, epochDay, n - i, tokens, request);
        chunks.add(chunk);
      }
      if (ms != tsMillis || tsBytes == null) {
        tsMillis = ms;
        tsBytes = TypeCodecs.BIGINT.encodePrimitive(ms, protocol);
      }
      BoundStatementBuilder b;
      // The absent value stays unset rather than null: binding null would write a tombstone for every sample.
      if (row.number() != null) {
        b = inserts.number().boundStatementBuilder()
            .setBytesUnsafe(5, TypeCodecs.DOUBLE.encodePrimitive(row.number(), protocol));
      } else {
        b = inserts.text().boundStatementBuilder().setBytesUnsafe(5, text(row.text()));
      }
      if (ttlBytes != null) {
        b.setBytesUnsafe(6, ttlBytes);
      }
      b.setBytesUnsafe(0, chunk.tenantBytes)
          .setBytesUnsafe(1, chunk.deviceBytes)
          .setBytesUnsafe(2, chunk.dayBytes)
          .setBytesUnsafe(3, tsBytes)
          .setBytesUnsafe(4, metricBytes(row.metric()))
          .setRoutingKey(chunk.routingKey)
          .setIdempotence(true);
      chunk.add(b.build(), estimatedBytes(row));
    }
    return chunks;
  }

  private Chunk newChunk(TelemetryRow row, long epochDay, int capacity, Optional<TokenMap> tokens, Request request) {
    LocalDate day = LocalDate.ofEpochDay(epochDay);
    ByteBuffer tenantBytes = text(row.tenant());
    ByteBuffer deviceBytes = text(row.deviceId());
    ByteBuffer dayBytes = TypeCodecs.DATE.encode(day, protocol);
    ByteBuffer routingKey = routingKey(tenantBytes, deviceBytes, dayBytes);
    PartitionKey partition = new PartitionKey(row.tenant(), row.deviceId(), day);
    return new Chunk(partition, groupOf(partition, routingKey, tokens), epochDay, tenantBytes, deviceBytes, dayBytes,
        routingKey, capacity, request);
  }

  /** The inserts for rows of this TTL: with it written in, once prepared; until then the ones binding it. */
  private Inserts inserts(int ttlSeconds) {
    CompletableFuture<Inserts> fixed = fixedTtl.get(ttlSeconds);
    if (fixed == null && fixedTtl.size() < MAX_FIXED_TTLS) {
      CompletableFuture<Inserts> mine = new CompletableFuture<>();
      fixed = fixedTtl.putIfAbsent(ttlSeconds, mine);
      if (fixed == null) {
        fixed = mine;
        // Not on the caller's thread: it may be an event loop. A failed prepare leaves this TTL bound.
        session.prepareAsync(String.format(insertCql, "value_double", ttlSeconds))
            .thenCombine(session.prepareAsync(String.format(insertCql, "value_text", ttlSeconds)),
                (number, text) -> new Inserts(number, text, false))
            .whenComplete((done, err) -> {
              if (err != null) {
                mine.completeExceptionally(err);
              } else {
                mine.complete(done);
              }
            });
      }
    }
    return fixed != null && fixed.isDone() && !fixed.isCompletedExceptionally() ? fixed.join() : boundTtl;
  }

  /** Whether rows of this TTL are written with the TTL in the statement (tests). */
  boolean ttlInStatement(Duration ttl) {
    return !inserts((int) ttl.toSeconds()).ttlBound();
  }

  /** The encoded metric name; schemas name few metrics, so they are kept (up to a bound). */
  private ByteBuffer metricBytes(String metric) {
    ByteBuffer b = metricNames.get(metric);
    if (b == null) {
      b = text(metric);
      if (metricNames.size() < MAX_CACHED_METRICS) {
        metricNames.putIfAbsent(metric, b);
      }
    }
    return b;
  }

  /**
   * A text value as the driver's codec encodes it (UTF-8), through String's own encoder: the codec's CharsetEncoder
   * path costs several times more for the short ASCII strings of a row.
   */
  private static ByteBuffer text(String s) {
    return s == null ? null : ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The routing key of a composite partition key, as the driver builds it from bound values (each component as a
   * short length, the bytes, a 0 byte); made once per partition run instead of once per row and per look-up.
   */
  static ByteBuffer routingKey(ByteBuffer... components) {
    int size = 0;
    for (ByteBuffer c : components) {
      size += 2 + c.remaining() + 1;
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    for (ByteBuffer c : components) {
      out.putShort((short) c.remaining());
      out.put(c.duplicate());
      out.put((byte) 0);
    }
    out.flip();
    return out;
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
      Batch batch;
      synchronized (this) {
        if (inFlight >= maxInFlight || queue.isEmpty()) {
          return;
        }
        Iterator<Map.Entry<Object, Group>> it = queue.entrySet().iterator();
        Map.Entry<Object, Group> first = it.next();
        batch = first.getValue().take(maxBatchRows, maxBatchPartitions);
        it.remove();
        if (!first.getValue().isEmpty()) {
          // The rest goes to the back of the queue, so one busy device (or replica set) cannot starve the others.
          queue.put(first.getKey(), first.getValue());
        }
        queuedRows -= batch.rows;
        if (saturated && queuedRows <= lowWater) {
          saturated = false;
        }
        inFlight++;
      }
      send(batch);
    }
  }

  private void send(Batch sent) {
    Statement<?> statement;
    batchRows.record(sent.rows);
    if (sent.statements.size() == 1) {
      statement = sent.statements.get(0);
    } else {
      // Routing key and keyspace are given, so the driver neither asks each statement for them nor builds a key.
      BatchStatementBuilder b = new BatchStatementBuilder(BatchType.UNLOGGED).setIdempotence(true)
          .addStatements(sent.statements).setRoutingKeyspace(keyspace).setRoutingKey(sent.routingKey);
      if (perRequestKeyspace) {
        // Without it the driver scans every statement of the batch for a keyspace, several times per request.
        b.setKeyspace(keyspace);
      }
      // Routed by its first partition: with replica-set grouping every partition has the same replicas.
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
        inFlight--;
      }
      if (err == null) {
        rowsWritten.increment(sent.rows);
      }
      // The freed place goes to queued rows first: completing the writes runs their acks on this thread (a CoAP 2.04
      // is serialized and sent right here), and the next batch need not wait for that.
      drain();
      for (Segment segment : sent.segments) {
        segment.request.rowsDone(segment.rows, err);
      }
    });
  }

  /** Timeouts and overload: the node may well take the same write a moment later. */
  static boolean isTransient(Throwable err) {
    Throwable e = Failures.cause(err);
    return e instanceof WriteTimeoutException || e instanceof OverloadedException
        || e instanceof DriverTimeoutException;
  }

  /**
   * The batch group of a partition: itself, or with {@link Grouping#REPLICA_SET} the set of its replicas (the same
   * {@code Set} for every partition of a token range). Without a token map (metadata off or not loaded yet) rows fall
   * back to their partition.
   */
  private Object groupOf(PartitionKey partition, ByteBuffer routingKey, Optional<TokenMap> tokens) {
    Set<Node> replicas = ReplicaBatches.replicasOf(tokens, keyspace, routingKey);
    return replicas.isEmpty() ? partition : replicas;
  }

  private static int estimatedBytes(TelemetryRow row) {
    return 64 + row.tenant().length() + row.deviceId().length() + row.metric().length()
        + (row.text() == null ? 8 : row.text().length() * 3);
  }

  /** Rows sent in one statement: the statements, which queued chunks they came from, the first partition's routing key. */
  private record Batch(List<BatchableStatement<?>> statements, List<Segment> segments, int rows,
      ByteBuffer routingKey) {}

  /** The insert of rows with a number and of rows with a text; {@code ttlBound}: the TTL is the 7th value. */
  private record Inserts(PreparedStatement number, PreparedStatement text, boolean ttlBound) {}

  /** {@code rows} rows of one write() call sent in a batch. */
  private record Segment(Request request, int rows) {}

  /**
   * Bound rows of one write() call in one partition, in order; {@code next} is the first one not sent yet. The
   * encoded values the rows share are kept here while binding.
   */
  private static final class Chunk {
    final PartitionKey partition;
    final Object group;
    final long epochDay;
    final ByteBuffer tenantBytes;
    final ByteBuffer deviceBytes;
    final ByteBuffer dayBytes;
    final ByteBuffer routingKey;
    final Request request;
    final BoundStatement[] statements;
    final int[] bytes;
    int size;
    int next;

    Chunk(PartitionKey partition, Object group, long epochDay, ByteBuffer tenantBytes, ByteBuffer deviceBytes,
        ByteBuffer dayBytes, ByteBuffer routingKey, int capacity, Request request) {
      this.partition = partition;
      this.group = group;
      this.epochDay = epochDay;
      this.tenantBytes = tenantBytes;
      this.deviceBytes = deviceBytes;
      this.dayBytes = dayBytes;
      this.routingKey = routingKey;
      this.request = request;
      this.statements = new BoundStatement[capacity];
      this.bytes = new int[capacity];
    }

    boolean holds(TelemetryRow row, long day) {
      return day == epochDay && row.deviceId().equals(partition.deviceId()) && row.tenant().equals(partition.tenant());
    }

    void add(BoundStatement statement, int estimatedBytes) {
      statements[size] = statement;
      bytes[size] = estimatedBytes;
      size++;
    }

    int remaining() {
      return size - next;
    }

    int remainingBytes() {
      int b = 0;
      for (int i = next; i < size; i++) {
        b += bytes[i];
      }
      return b;
    }
  }

  /**
   * The queued chunks of one group, by partition in arrival order. A batch takes whole partitions from the head (a
   * partition's rows together make one mutation), stopping at the row and byte budgets; a partition cut there keeps
   * its place at the head. Only the first partition is ever cut: a later one goes in only if all its queued rows fit
   * the budgets of a batch spanning partitions, so each partition stays one mutation.
   */
  private static final class Group {
    final LinkedHashMap<PartitionKey, ArrayDeque<Chunk>> partitions = new LinkedHashMap<>();

    void add(Chunk c) {
      partitions.computeIfAbsent(c.partition, k -> new ArrayDeque<>(4)).add(c);
    }

    boolean isEmpty() {
      return partitions.isEmpty();
    }

    Batch take(int max, int maxPartitions) {
      List<BatchableStatement<?>> statements = new ArrayList<>(Math.min(max, 256));
      List<Segment> segments = new ArrayList<>(32);
      ByteBuffer routingKey = null;
      int bytes = 0;
      int taken = 0;
      Iterator<ArrayDeque<Chunk>> it = partitions.values().iterator();
      outer:
      while (it.hasNext() && statements.size() < max && taken < maxPartitions) {
        ArrayDeque<Chunk> chunks = it.next();
        if (taken > 0 && !fitsWhole(chunks, max - statements.size(), CROSS_PARTITION_MAX_BYTES - bytes)) {
          break;
        }
        boolean tookFromPartition = false;
        while (!chunks.isEmpty()) {
          Chunk c = chunks.peek();
          int from = c.next;
          while (c.next < c.size && statements.size() < max) {
            int b = bytes + c.bytes[c.next];
            if (!statements.isEmpty() && b > MAX_BATCH_BYTES) {
              break;
            }
            bytes = b;
            statements.add(c.statements[c.next]);
            c.statements[c.next] = null; // sent: the batch holds it now
            c.next++;
          }
          if (c.next > from) {
            segments.add(new Segment(c.request, c.next - from));
            if (routingKey == null) {
              routingKey = c.routingKey;
            }
            tookFromPartition = true;
          }
          if (c.remaining() > 0) {
            break; // cut by a budget: the rest keeps its place at the head
          }
          chunks.poll();
        }
        if (tookFromPartition) {
          taken++;
        }
        if (chunks.isEmpty()) {
          it.remove();
        } else {
          break outer;
        }
      }
      return new Batch(statements, segments, statements.size(), routingKey);
    }

    private static boolean fitsWhole(ArrayDeque<Chunk> chunks, int rows, int bytes) {
      for (Chunk c : chunks) {
        rows -= c.remaining();
        bytes -= c.remainingBytes();
        if (rows < 0 || bytes < 0) {
          return false;
        }
      }
      return true;
    }
  }

  /** One write() call: completes when all its rows are written, fails on the first failed batch. */
  private static final class Request {
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private int remaining;

    Request(int rows) {
      this.remaining = rows;
    }

    void rowsDone(int rows, Throwable err) {
      if (err != null) {
        done.completeExceptionally(err);
        return;
      }
      boolean last;
      synchronized (this) {
        remaining -= rows;
        last = remaining == 0;
      }
      if (last) {
        done.complete(null);
      }
    }
  }
}
