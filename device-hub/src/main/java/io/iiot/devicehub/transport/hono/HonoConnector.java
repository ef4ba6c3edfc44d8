package io.iiot.devicehub.transport.hono;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.devicehub.command.CommandResponses;
import io.iiot.devicehub.command.CommandTransport;
import io.iiot.devicehub.domain.Endpoint;
import io.iiot.devicehub.domain.HonoMessage;
import io.iiot.devicehub.domain.PayloadMapper;
import io.iiot.devicehub.ingest.RegistryCache;
import io.iiot.devicehub.storage.TelemetryWriter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.hono.client.kafka.consumer.AsyncHandlingAutoCommitKafkaConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads an existing Eclipse Hono deployment's northbound Kafka topics ({@code hono.telemetry.<tenant>},
 * {@code hono.event.<tenant>} of each configured tenant) into device-hub's time series, at least once.
 *
 * <p>Built on Hono's {@link AsyncHandlingAutoCommitKafkaConsumer}, not on {@code KafkaApplicationClientImpl}'s
 * consumers: those use Kafka's plain auto-commit, which can commit a record whose Cassandra write is still pending
 * (lost on a crash). This one commits a partition only up to the last record whose handling future completed in
 * sequence, and {@link HonoRecordHandler} completes that future only after the rows (or the dead-letter entry) are
 * durably written. Redelivery after a crash rewrites the same rows: the telemetry key is (tenant, device, time, metric)
 * and the time comes from the record.
 *
 * <p>Consumer lag ({@code devicehub.hono.consumer.lag}, per tenant) is the broker's end offsets minus the group's
 * committed offsets, i.e. records not yet durably stored (at most {@code commit-interval} behind), refreshed every
 * {@value #LAG_REFRESH_MS} ms through a Kafka admin client (off the event loop). The same calls probe the connection:
 * an unreachable broker, a failed TLS handshake or refused SASL credentials make {@link #readiness()} fail with the
 * reason ({@link KafkaConnectionState}).
 */
public final class HonoConnector {
  private static final Logger LOG = LoggerFactory.getLogger(HonoConnector.class);
  private static final long LAG_REFRESH_MS = 5_000;
  private static final long START_RETRY_MS = 5_000;

  private final Vertx vertx;
  private final HonoSettings settings;
  private final HonoRecordHandler handler;
  private final Map<String, AtomicLong> lagByTenant = new ConcurrentHashMap<>();
  private final Set<String> topics = new LinkedHashSet<>();
  private final Map<String, String> consumerConfig = new HashMap<>();
  private final KafkaConnectionState connection;
  private volatile AsyncHandlingAutoCommitKafkaConsumer<byte[]> consumer;
  private volatile boolean consuming;
  private volatile boolean stopping;
  private final MeterRegistry registry;
  private HonoCommands commands;
  private Admin admin;
  private Context context;
  private long lagTimer = -1;
  /** One lag refresh (= probe) at a time, even when the brokers answer slower than the refresh period. */
  private final AtomicBoolean refreshing = new AtomicBoolean();

  public HonoConnector(Vertx vertx, HonoSettings settings, RegistryCache cache, PayloadMapper mapper,
      TelemetryWriter writer, CqlSession session, String keyspace, MeterRegistry registry) {
    this.vertx = vertx;
    this.settings = settings;
    this.handler = new HonoRecordHandler(vertx, cache, mapper, writer, new DeadLetters(session, keyspace), settings,
        registry);
    this.registry = registry;
    this.connection = new KafkaConnectionState(settings, registry);
    for (String tenant : settings.tenants()) {
      AtomicLong lag = new AtomicLong();
      lagByTenant.put(tenant, lag);
      Gauge.builder("devicehub.hono.consumer.lag", lag, AtomicLong::get).tag("tenant", tenant)
          .description("Hono Kafka records of the tenant not yet durably stored (end offset - committed offset)")
          .register(registry);
    }
  }

  /**
   * Starts consuming the tenants' topics in the background and completes at once: a Hono Kafka that is unreachable or
   * refuses our credentials must not keep device-hub's own transports from starting. Until the consumer has joined its
   * group and the brokers accept the connection, {@link #readiness()} fails with the reason (also logged as an error
   * and shown by {@code devicehub_hono_kafka_connected}); a failed start is retried.
   */
  public Future<Void> start() {
    for (String tenant : settings.tenants()) {
      topics.add(HonoMessage.topic(Endpoint.TELEMETRY, tenant));
      topics.add(HonoMessage.topic(Endpoint.EVENT, tenant));
    }
    consumerConfig.putAll(settings.commonClientConfig());
    consumerConfig.put("group.id", settings.groupId());
    consumerConfig.put("client.id", "iiot-device-hub-hono");
    consumerConfig.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    // The payload as Kafka read it: a Vert.x Buffer would copy every record's bytes once more.
    consumerConfig.put("value.deserializer", "org.apache.kafka.common.serialization.ByteArrayDeserializer");
    // A new group starts at the oldest retained record: nothing Hono accepted before our first start is skipped.
    consumerConfig.put("auto.offset.reset", "earliest");
    consumerConfig.put("max.poll.records", Integer.toString(settings.maxPollRecords()));
    consumerConfig.put("auto.commit.interval.ms", Long.toString(settings.commitInterval().toMillis()));
    Map<String, Object> adminConfig = new HashMap<>(settings.commonClientConfig());
    adminConfig.put("client.id", "iiot-device-hub-hono-admin");
    // Probe answers within one refresh period, so an unreachable broker shows up as a failed probe, not a hung one.
    adminConfig.put("request.timeout.ms", (int) Math.min(LAG_REFRESH_MS, 5_000));
    adminConfig.put("default.api.timeout.ms", (int) LAG_REFRESH_MS);
    admin = Admin.create(adminConfig);
    refreshLag();
    lagTimer = vertx.setPeriodic(LAG_REFRESH_MS, id -> refreshLag());
    context = vertx.getOrCreateContext();
    startConsumer();
    if (commands != null) {
      commands.start().onFailure(err -> LOG.error("Hono command sender did not start: {}", err.getMessage()));
    }
    return Future.succeededFuture();
  }

  /**
   * The path for commands to devices of the Hono tenants (Hono's command topics), storing their responses through
   * {@code responses}; register it with the command router. Call before {@link #start()}, which starts it too.
   */
  public CommandTransport commands(CommandResponses responses) {
    if (commands == null) {
      commands = new HonoCommands(vertx, settings, responses, registry);
    }
    return commands;
  }

  /** Ready once the consumer has joined its group and the latest probe of the brokers succeeded. */
  public Future<Void> readiness() {
    String problem = connection.problem();
    if (problem != null) {
      return Future.failedFuture("Hono Kafka " + settings.bootstrapServers() + ": " + problem);
    }
    if (!consuming) {
      return Future.failedFuture("Hono Kafka " + settings.bootstrapServers() + ": consumer group " + settings.groupId()
          + " not joined yet");
    }
    return Future.succeededFuture();
  }

  /** Starts a consumer unless one runs; on the connector's context. */
  private void startConsumer() {
    if (stopping || consumer != null) {
      return;
    }
    AsyncHandlingAutoCommitKafkaConsumer<byte[]> c = new AsyncHandlingAutoCommitKafkaConsumer<>(vertx, topics,
        handler::handle, new HashMap<>(consumerConfig));
    consumer = c;
    c.start().onSuccess(v -> {
      if (consumer == c) {
        consuming = true;
        LOG.info("Hono connector subscribed to {} at {} as group {}", topics, settings.bootstrapServers(),
            settings.groupId());
      }
    }).onFailure(err -> {
      // Hono's consumer handles no record once its start failed; a new one is made after the pause.
      LOG.error("Hono connector could not join consumer group {} at {} ({}); retrying in {} s", settings.groupId(),
          settings.bootstrapServers(), err.getMessage(), START_RETRY_MS / 1000);
      stopConsumer(c);
      vertx.setTimer(START_RETRY_MS, id -> startConsumer());
    });
  }

  private void stopConsumer(AsyncHandlingAutoCommitKafkaConsumer<byte[]> c) {
    if (consumer == c) {
      consumer = null;
      consuming = false;
    }
    c.stop();
  }

  /**
   * Follows the probe: refused credentials or an untrusted certificate will not heal by polling (Kafka's consumer would
   * log the same failure several times a second), so the consumer is stopped until a probe succeeds again, e.g. after
   * the broker's users or certificates were fixed; then a new one starts where the group's offsets are.
   */
  private void followProbe(boolean ok, boolean refused) {
    if (ok) {
      startConsumer();
    } else if (refused && consumer != null) {
      LOG.warn("Hono connector: Kafka consumer stopped until the brokers accept the connection (probed every {} s)",
          LAG_REFRESH_MS / 1000);
      stopConsumer(consumer);
    }
  }

  /** Stops consuming; offsets of records stored so far are committed, the rest is redelivered later. */
  public Future<Void> stop() {
    stopping = true;
    handler.stop();
    if (lagTimer >= 0) {
      vertx.cancelTimer(lagTimer);
    }
    AsyncHandlingAutoCommitKafkaConsumer<byte[]> c = consumer;
    Future<Void> stopped = Future.join(
        c == null ? Future.succeededFuture() : c.stop().recover(err -> Future.succeededFuture()),
        commands == null ? Future.succeededFuture() : commands.stop()).mapEmpty();
    return stopped.onComplete(v -> {
      if (admin != null) {
        admin.close(java.time.Duration.ofSeconds(5));
      }
    });
  }

  /**
   * Lag per tenant = sum over the tenant's partitions of (end offset - committed offset). A partition the group never
   * committed counts from its earliest retained offset, so a consumer stuck on its very first record shows its backlog
   * rather than 0.
   */
  private void refreshLag() {
    if (!refreshing.compareAndSet(false, true)) {
      return;
    }
    admin.describeTopics(topics).allTopicNames().whenComplete((described, err) -> {
      if (err != null) {
        done(err);
        return;
      }
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      described.values().forEach(d -> d.partitions().forEach(
          p -> latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
      admin.listConsumerGroupOffsets(settings.groupId()).partitionsToOffsetAndMetadata()
          .whenComplete((committed, err2) -> {
            if (err2 != null) {
              done(err2);
              return;
            }
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            latest.keySet().stream().filter(tp -> committed.get(tp) == null)
                .forEach(tp -> earliest.put(tp, OffsetSpec.earliest()));
            admin.listOffsets(latest).all().whenComplete((ends, err3) -> {
              if (err3 != null) {
                done(err3);
                return;
              }
              admin.listOffsets(earliest).all().whenComplete((starts, err4) -> {
                if (err4 != null) {
                  done(err4);
                  return;
                }
                Map<String, Long> sums = new HashMap<>();
                settings.tenants().forEach(t -> sums.put(t, 0L));
                for (Map.Entry<TopicPartition, ListOffsetsResultInfo> e : ends.entrySet()) {
                  OffsetAndMetadata c = committed.get(e.getKey());
                  long from = c != null ? c.offset() : starts.get(e.getKey()).offset();
                  sums.merge(tenantOf(e.getKey().topic()), Math.max(0, e.getValue().offset() - from), Long::sum);
                }
                sums.forEach((tenant, lag) -> lagByTenant.get(tenant).set(lag));
                done(null);
              });
            });
          });
    });
  }

  /** End of one lag refresh, which doubles as the probe of the brokers; on the admin client's thread. */
  private void done(Throwable err) {
    boolean refused = connection.probed(err);
    refreshing.set(false);
    context.runOnContext(v -> followProbe(err == null, refused));
  }

  private String tenantOf(String topic) {
    for (String tenant : settings.tenants()) {
      if (topic.equals(HonoMessage.topic(Endpoint.TELEMETRY, tenant))
          || topic.equals(HonoMessage.topic(Endpoint.EVENT, tenant))) {
        return tenant;
      }
    }
    return null;
  }
}
