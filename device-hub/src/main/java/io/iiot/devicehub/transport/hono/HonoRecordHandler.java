package io.iiot.devicehub.transport.hono;

import com.google.common.cache.Cache;
import com.google.common.cache.CacheBuilder;
import io.iiot.base.async.Failures;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.HonoMessage;
import io.iiot.devicehub.domain.PayloadException;
import io.iiot.devicehub.domain.PayloadMapper;
import io.iiot.devicehub.domain.TelemetryRow;
import io.iiot.devicehub.domain.TelemetrySchema;
import io.iiot.devicehub.domain.Tenant;
import io.iiot.devicehub.ingest.RegistryCache;
import io.iiot.devicehub.storage.TelemetryWriter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns one Hono Kafka record into telemetry rows on the shared write path and says when its offset may be committed:
 * the returned future completes only once the record's outcome is durable.
 *
 * <pre>
 * headers → HonoMessage ──invalid──────────────────────────────► dead-letter table ─┐
 *   tenant unknown/disabled ───────────────────────────────────► counted, skipped ──┤
 *   device unknown/disabled (auto-registration off) ───────────► counted, skipped ──┤
 *   payload through the device's schema ──unreadable/invalid───► dead-letter table ─┤
 *   rows wait for room (RowBudget: ≤ hono.max-queued-rows pending) │
 *   TelemetryWriter.write (grouped by partition, durable) ─────► stored ────────────┴─► future completes → offset
 * </pre>
 *
 * A transient failure (Cassandra down or slow, writer queue full, registry read failed) is retried with back-off and
 * never completes the future: Hono's consumer commits offsets of completed futures, failed ones included, so
 * completing on such a failure would lose the record. While records wait, the consumer pauses polling on its own.
 */
final class HonoRecordHandler {
  private static final Logger LOG = LoggerFactory.getLogger(HonoRecordHandler.class);
  private static final long MIN_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 5_000;

  /** What became of a record; the {@code outcome} tag of {@code devicehub.hono.records}. */
  enum Outcome { STORED, DEAD_LETTERED, UNKNOWN_TENANT, UNKNOWN_DEVICE, NO_SCHEMA }

  private final Vertx vertx;
  private final RegistryCache cache;
  private final PayloadMapper mapper;
  private final TelemetryWriter writer;
  private final DeadLetters deadLetters;
  private final Set<String> autoRegisterTenants;
  private final Optional<String> autoRegisterProfile;
  private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);
  private final Counter retries;
  private final Counter registered;
  /** Rows handed to the writer and not yet written: at most hono.max-queued-rows, so the writer never refuses. */
  private final RowBudget budget;
  /** Registrations of new devices, kept longer than the registry cache's "unknown" answers live. */
  private final Cache<String, CompletableFuture<Optional<Device>>> registrations = CacheBuilder.newBuilder()
      .maximumSize(100_000).expireAfterWrite(Duration.ofMinutes(10)).build();
  private volatile boolean stopped;

  HonoRecordHandler(Vertx vertx, RegistryCache cache, PayloadMapper mapper, TelemetryWriter writer,
      DeadLetters deadLetters, HonoSettings settings, MeterRegistry registry) {
    this.vertx = vertx;
    this.cache = cache;
    this.mapper = mapper;
    this.writer = writer;
    this.deadLetters = deadLetters;
    this.autoRegisterTenants = settings.autoRegisterTenants();
    this.autoRegisterProfile = settings.autoRegisterProfile();
    for (Outcome o : Outcome.values()) {
      outcomes.put(o, Counter.builder("devicehub.hono.records").tag("outcome", o.name().toLowerCase())
          .description("Hono Kafka records by what became of them").register(registry));
    }
    retries = Counter.builder("devicehub.hono.retries")
        .description("Attempts repeated after a transient storage or registry failure").register(registry);
    registered = Counter.builder("devicehub.hono.devices.registered")
        .description("Devices registered on their first Hono message (per-tenant switch)").register(registry);
    budget = new RowBudget(settings.maxQueuedRows());
    Gauge.builder("devicehub.hono.rows.pending", budget, RowBudget::used)
        .description("Rows of Hono records handed to the writer and not yet written (at most hono.max-queued-rows)")
        .register(registry);
    Gauge.builder("devicehub.hono.records.waiting", budget, RowBudget::waiting)
        .description("Hono records waiting for room in the connector's write queue").register(registry);
  }

  /** Stops retrying: records still pending then stay uncommitted and are redelivered to the next consumer. */
  void stop() {
    stopped = true;
  }

  /** Called on the consumer's context; the future completes there too. */
  Future<Void> handle(KafkaConsumerRecord<String, byte[]> record) {
    Context context = vertx.getOrCreateContext();
    Promise<Void> done = Promise.promise();
    attempt(record, context, done, MIN_BACKOFF_MS);
    return done.future();
  }

  private void attempt(KafkaConsumerRecord<String, byte[]> record, Context context, Promise<Void> done, long backoff) {
    CompletionStage<Outcome> outcome;
    try {
      outcome = process(record, command -> context.runOnContext(v -> command.run()));
    } catch (RuntimeException e) {
      outcome = CompletableFuture.failedFuture(e);
    }
    outcome.whenComplete((o, err) -> context.runOnContext(v -> {
      if (err == null) {
        outcomes.get(o).increment();
        done.complete();
      } else if (stopped) {
        LOG.info("Hono record {}/{}@{} left uncommitted at stop: {}", record.topic(), record.partition(),
            record.offset(), Failures.cause(err).toString());
      } else {
        retries.increment();
        LOG.warn("Hono record {}/{}@{} not stored yet, retrying in {} ms: {}", record.topic(), record.partition(),
            record.offset(), backoff, Failures.cause(err).toString());
        vertx.setTimer(backoff, id -> attempt(record, context, done, Math.min(backoff * 2, MAX_BACKOFF_MS)));
      }
    }));
  }

  /**
   * The registry look-ups are cache hits for nearly every record: their stages are then already complete and the
   * record is handled straight through, without a composed stage per look-up.
   *
   * @param onContext runs a task on the consumer's context
   */
  private CompletionStage<Outcome> process(KafkaConsumerRecord<String, byte[]> record, Executor onContext) {
    HonoMessage msg;
    try {
      msg = HonoMessage.from(record.topic(), messageHeaders(record), record.timestamp());
    } catch (HonoMessage.InvalidException e) {
      Map<String, String> headers = headers(record.headers());
      return deadLetter(record, tenantOf(record.topic()), headers.get("device_id"), e.getMessage(), headers,
          payload(record));
    }
    CompletionStage<Optional<Tenant>> tenant = cache.tenant(msg.tenant());
    Optional<Tenant> t = now(tenant);
    return t != null ? withTenant(record, msg, t, onContext)
        : tenant.thenCompose(found -> withTenant(record, msg, found, onContext));
  }

  private CompletionStage<Outcome> withTenant(KafkaConsumerRecord<String, byte[]> record, HonoMessage msg,
      Optional<Tenant> tenant, Executor onContext) {
    Optional<Tenant> t = tenant.filter(Tenant::enabled);
    if (t.isEmpty()) {
      LOG.debug("Hono record for unknown or disabled tenant {} skipped", msg.tenant());
      return CompletableFuture.completedFuture(Outcome.UNKNOWN_TENANT);
    }
    CompletionStage<Optional<Device>> device = device(msg);
    Optional<Device> d = now(device);
    return d != null ? withDevice(record, msg, t.get(), d, onContext)
        : device.thenCompose(found -> withDevice(record, msg, t.get(), found, onContext));
  }

  private CompletionStage<Outcome> withDevice(KafkaConsumerRecord<String, byte[]> record, HonoMessage msg,
      Tenant tenant, Optional<Device> device, Executor onContext) {
    Optional<Device> d = device.filter(Device::enabled);
    if (d.isEmpty()) {
      LOG.debug("Hono record for unknown or disabled device {}@{} skipped", msg.deviceId(), msg.tenant());
      return CompletableFuture.completedFuture(Outcome.UNKNOWN_DEVICE);
    }
    CompletionStage<Optional<TelemetrySchema>> schema = cache.schema(msg.tenant(), d.get().profileId());
    Optional<TelemetrySchema> s = now(schema);
    return s != null ? withSchema(record, msg, tenant, s, onContext)
        : schema.thenCompose(found -> withSchema(record, msg, tenant, found, onContext));
  }

  private CompletionStage<Outcome> withSchema(KafkaConsumerRecord<String, byte[]> record, HonoMessage msg,
      Tenant tenant, Optional<TelemetrySchema> schema, Executor onContext) {
    if (schema.isEmpty()) {
      return CompletableFuture.completedFuture(Outcome.NO_SCHEMA);
    }
    return store(record, msg, schema.get(), tenant, onContext);
  }

  /** The value of a stage that has completed normally, or null (the look-ups never yield null themselves). */
  private static <T> T now(CompletionStage<T> stage) {
    if (stage instanceof CompletableFuture<T> f && f.isDone() && !f.isCompletedExceptionally()) {
      return f.join();
    }
    return null;
  }

  private CompletionStage<Outcome> store(KafkaConsumerRecord<String, byte[]> record, HonoMessage msg,
      TelemetrySchema schema, Tenant tenant, Executor onContext) {
    List<TelemetryRow> rows;
    byte[] payload = payload(record);
    try {
      rows = mapper.map(payload, msg.contentType(), schema, msg.tenant(), msg.deviceId(), msg.creationTime());
    } catch (PayloadException e) {
      return deadLetter(record, msg.tenant(), msg.deviceId(), e.getMessage(), headers(record.headers()), payload);
    }
    int n = rows.size();
    CompletableFuture<Void> room = budget.acquire(n).toCompletableFuture();
    if (room.isDone()) {
      return written(rows, tenant);
    }
    // Room was made by a write completing on a driver thread: bind and queue back on the consumer's context.
    return room.thenComposeAsync(v -> written(rows, tenant), onContext);
  }

  /** Writes rows whose room in the budget was acquired, and gives the room back once they are written or failed. */
  private CompletionStage<Outcome> written(List<TelemetryRow> rows, Tenant tenant) {
    CompletionStage<Void> written;
    try {
      written = writer.write(rows, tenant.telemetryTtl());
    } catch (RuntimeException e) {
      written = CompletableFuture.failedFuture(e);
    }
    return written.handle((w, err) -> {
      budget.release(rows.size());
      if (err != null) {
        throw err instanceof CompletionException c ? c : new CompletionException(err);
      }
      return Outcome.STORED;
    });
  }

  /** The device, registered first when it is unknown and its tenant registers devices on the fly. */
  private CompletionStage<Optional<Device>> device(HonoMessage msg) {
    return cache.device(msg.tenant(), msg.deviceId()).thenCompose(d -> {
      if (d.isPresent() || !autoRegisterTenants.contains(msg.tenant())) {
        return CompletableFuture.completedFuture(d);
      }
      return register(msg);
    });
  }

  /**
   * One registration per new device, however many of its records arrive before the registry cache forgets that it
   * was unknown: concurrent records share the lightweight transaction and the read-back (a failed attempt is
   * forgotten, so the next record tries again).
   */
  private CompletionStage<Optional<Device>> register(HonoMessage msg) {
    String key = msg.tenant() + "/" + msg.deviceId();
    CompletableFuture<Optional<Device>> mine = new CompletableFuture<>();
    CompletableFuture<Optional<Device>> existing = registrations.asMap().putIfAbsent(key, mine);
    if (existing != null) {
      return existing;
    }
    Device created = new Device(msg.tenant(), msg.deviceId(), autoRegisterProfile.orElseThrow(), true, Set.of(),
        Instant.now());
    cache.registry().createDevice(created).thenCompose(isNew -> {
      if (isNew) {
        registered.increment();
        LOG.info("Device {}@{} registered on its first Hono message (profile {})", msg.deviceId(), msg.tenant(),
            created.profileId());
      }
      // Read back from the registry, not the cache: the cache holds the "unknown" answer for its TTL.
      return cache.registry().device(msg.tenant(), msg.deviceId());
    }).whenComplete((d, err) -> {
      if (err != null) {
        registrations.asMap().remove(key, mine);
        mine.completeExceptionally(err);
      } else {
        mine.complete(d);
      }
    });
    return mine;
  }

  private CompletionStage<Outcome> deadLetter(KafkaConsumerRecord<String, byte[]> record, String tenant,
      String deviceId, String reason, Map<String, String> headers, byte[] payload) {
    LOG.debug("Hono record {}/{}@{} dead-lettered: {}", record.topic(), record.partition(), record.offset(), reason);
    return deadLetters.add(tenant, record.topic(), record.partition(), record.offset(), deviceId, reason, headers,
        payload, Instant.ofEpochMilli(record.timestamp())).thenApply(v -> Outcome.DEAD_LETTERED);
  }

  private static String tenantOf(String topic) {
    if (topic.startsWith(HonoMessage.TELEMETRY_PREFIX)) {
      return topic.substring(HonoMessage.TELEMETRY_PREFIX.length());
    }
    if (topic.startsWith(HonoMessage.EVENT_PREFIX)) {
      return topic.substring(HonoMessage.EVENT_PREFIX.length());
    }
    return topic;
  }

  /**
   * Only the headers {@link HonoMessage} reads, from the Kafka record itself (no wrapper per header, no decoding of
   * the others); the last one wins when a key repeats.
   */
  private static Map<String, String> messageHeaders(KafkaConsumerRecord<String, byte[]> record) {
    Map<String, String> out = new HashMap<>(8);
    for (Header h : record.record().headers()) {
      String key = h.key();
      if (HonoMessage.HEADERS.contains(key)) {
        out.put(key, h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static byte[] payload(KafkaConsumerRecord<String, byte[]> record) {
    return record.value() == null ? new byte[0] : record.value();
  }


  /** All headers, for the dead-letter table. */
  private static Map<String, String> headers(List<KafkaHeader> headers) {
    Map<String, String> out = new HashMap<>();
    for (KafkaHeader h : headers) {
      out.put(h.key(), h.value() == null ? "" : new String(h.value().getBytes(), StandardCharsets.UTF_8));
    }
    return out;
  }
}
