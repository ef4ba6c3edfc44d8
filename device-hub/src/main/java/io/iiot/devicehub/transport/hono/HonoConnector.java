package io.iiot.devicehub.transport.hono;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.devicehub.domain.Endpoint;
import io.iiot.devicehub.domain.HonoMessage;
import io.iiot.devicehub.domain.PayloadMapper;
import io.iiot.devicehub.ingest.RegistryCache;
import io.iiot.devicehub.storage.TelemetryWriter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
 * committed offsets, i.e. records not yet durably stored (at most {@code commit-interval} behind), refreshed every {@value #LAG_REFRESH_MS} ms through a Kafka
 * admin client (off the event loop).
 */
public final class HonoConnector {
  private static final Logger LOG = LoggerFactory.getLogger(HonoConnector.class);
  private static final long LAG_REFRESH_MS = 5_000;

  private final Vertx vertx;
  private final HonoSettings settings;
  private final HonoRecordHandler handler;
  private final Map<String, AtomicLong> lagByTenant = new ConcurrentHashMap<>();
  private final Set<String> topics = new LinkedHashSet<>();
  private AsyncHandlingAutoCommitKafkaConsumer<Buffer> consumer;
  private Admin admin;
  private long lagTimer = -1;

  public HonoConnector(Vertx vertx, HonoSettings settings, RegistryCache cache, PayloadMapper mapper,
      TelemetryWriter writer, CqlSession session, String keyspace, MeterRegistry registry) {
    this.vertx = vertx;
    this.settings = settings;
    this.handler = new HonoRecordHandler(vertx, cache, mapper, writer, new DeadLetters(session, keyspace), settings,
        registry);
    for (String tenant : settings.tenants()) {
      AtomicLong lag = new AtomicLong();
      lagByTenant.put(tenant, lag);
      Gauge.builder("devicehub.hono.consumer.lag", lag, AtomicLong::get).tag("tenant", tenant)
          .description("Hono Kafka records of the tenant not yet durably stored (end offset - committed offset)")
          .register(registry);
    }
  }

  /** Subscribes to the tenants' topics; completes once the Kafka consumer is created and subscribed. */
  public Future<Void> start() {
    for (String tenant : settings.tenants()) {
      topics.add(HonoMessage.topic(Endpoint.TELEMETRY, tenant));
      topics.add(HonoMessage.topic(Endpoint.EVENT, tenant));
    }
    Map<String, String> config = new HashMap<>(settings.commonClientConfig());
    config.put("group.id", settings.groupId());
    config.put("client.id", "iiot-device-hub-hono");
    config.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    config.put("value.deserializer", "io.vertx.kafka.client.serialization.BufferDeserializer");
    // A new group starts at the oldest retained record: nothing Hono accepted before our first start is skipped.
    config.put("auto.offset.reset", "earliest");
    config.put("max.poll.records", Integer.toString(settings.maxPollRecords()));
    config.put("auto.commit.interval.ms", Long.toString(settings.commitInterval().toMillis()));
    consumer = new AsyncHandlingAutoCommitKafkaConsumer<>(vertx, topics, handler::handle, config);
    admin = Admin.create(new HashMap<>(settings.commonClientConfig()));
    lagTimer = vertx.setPeriodic(LAG_REFRESH_MS, id -> refreshLag());
    LOG.info("Hono connector consuming {} from {} as group {}", topics, settings.bootstrapServers(),
        settings.groupId());
    return consumer.start();
  }

  /** Stops consuming; offsets of records stored so far are committed, the rest is redelivered later. */
  public Future<Void> stop() {
    handler.stop();
    if (lagTimer >= 0) {
      vertx.cancelTimer(lagTimer);
    }
    Future<Void> stopped = consumer == null ? Future.succeededFuture() : consumer.stop();
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
    admin.describeTopics(topics).allTopicNames().whenComplete((described, err) -> {
      if (err != null) {
        LOG.debug("consumer lag not refreshed: {}", err.toString());
        return;
      }
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      described.values().forEach(d -> d.partitions().forEach(
          p -> latest.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest())));
      admin.listConsumerGroupOffsets(settings.groupId()).partitionsToOffsetAndMetadata()
          .whenComplete((committed, err2) -> {
            if (err2 != null) {
              LOG.debug("consumer lag not refreshed: {}", err2.toString());
              return;
            }
            Map<TopicPartition, OffsetSpec> earliest = new HashMap<>();
            latest.keySet().stream().filter(tp -> committed.get(tp) == null)
                .forEach(tp -> earliest.put(tp, OffsetSpec.earliest()));
            admin.listOffsets(latest).all().whenComplete((ends, err3) -> {
              if (err3 != null) {
                LOG.debug("consumer lag not refreshed: {}", err3.toString());
                return;
              }
              admin.listOffsets(earliest).all().whenComplete((starts, err4) -> {
                if (err4 != null) {
                  LOG.debug("consumer lag not refreshed: {}", err4.toString());
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
              });
            });
          });
    });
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
