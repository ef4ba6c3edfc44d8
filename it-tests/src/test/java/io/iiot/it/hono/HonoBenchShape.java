package io.iiot.it.hono;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.MetricSpec;
import io.iiot.devicehub.domain.MetricType;
import io.iiot.devicehub.domain.TelemetrySchema;
import io.iiot.devicehub.domain.Tenant;
import io.iiot.devicehub.storage.DeviceRegistry;
import io.iiot.it.bench.BenchmarkReport;
import io.iiot.it.bench.DeviceIngestBenchmark;
import io.iiot.it.bench.RawWrites;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * What the benchmark's devices publish, and the same rows written raw. Message {@code i} belongs to device
 * {@code i % DEVICES} (round-robin, as Hono interleaves live devices) at {@code ts = base + i / DEVICES} ms and carries
 * one value of every metric of the shape: one metric (the worst case for merging rows into partition updates), or a
 * snapshot of all metrics of a catalog device template, which is what Hono devices typically publish.
 */
record HonoBenchShape(String name, String profile, List<MetricSpec> metrics, int records) {
  static final int DEVICES = DeviceIngestBenchmark.DEVICES;

  /** One NUMBER metric, as DeviceIngestBenchmark's devices send. */
  static HonoBenchShape oneMetric(int records) {
    return new HonoBenchShape("one-metric", "sensor", List.of(MetricSpec.number(1, "temperature", "°C", -1e9, 1e9)),
        records);
  }

  /** The metrics of platform-api's catalog template {@code id} (NUMBER and BOOLEAN metrics only). */
  static HonoBenchShape template(String id, int records) throws Exception {
    JsonObject profile = new JsonObject(Files.readString(
        BenchmarkReport.home().resolve("platform-api/src/main/resources/catalog/" + id + ".json")))
        .getJsonObject("deviceProfile");
    List<MetricSpec> metrics = new ArrayList<>();
    JsonArray list = profile.getJsonArray("metrics");
    for (int k = 0; k < list.size(); k++) {
      JsonObject m = list.getJsonObject(k);
      MetricType type = MetricType.valueOf(m.getString("type"));
      metrics.add(switch (type) {
        case NUMBER -> MetricSpec.number(m.getInteger("id"), m.getString("name"), m.getString("unit", ""),
            m.getDouble("min"), m.getDouble("max"));
        case BOOLEAN -> MetricSpec.bool(m.getInteger("id"), m.getString("name"));
        default -> throw new IllegalArgumentException(id + ": metric type " + type + " not generated here");
      });
    }
    return new HonoBenchShape(id, profile.getString("profile"), List.copyOf(metrics), records);
  }

  int rows() {
    return records * metrics.size();
  }

  /** Value of metric {@code j} in message {@code i}: inside the metric's range, booleans as 0/1. */
  double value(int i, int j) {
    MetricSpec m = metrics.get(j);
    if (m.type() == MetricType.BOOLEAN) {
      return (i + j) % 2 == 0 ? 1 : 0;
    }
    double span = Math.min(m.max() - m.min(), 1e6);
    return m.min() + ((i * 31L + j * 7L) % 1000) / 1000.0 * span;
  }

  long ts(long base, int i) {
    return base + i / DEVICES;
  }

  /** Message {@code i} as a device publishes it (JSON, as device-hub's schema reader takes it). */
  String json(long base, int i) {
    StringBuilder b = new StringBuilder(32 + 32 * metrics.size()).append("{\"ts\": ").append(ts(base, i));
    for (int j = 0; j < metrics.size(); j++) {
      MetricSpec m = metrics.get(j);
      b.append(", \"").append(m.name()).append("\": ");
      b.append(m.type() == MetricType.BOOLEAN ? Boolean.toString(value(i, j) == 1) : Double.toString(value(i, j)));
    }
    return b.append('}').toString();
  }

  /** The tenant, its profile with this shape's schema, and the 1,000 devices (no credentials: they come via Hono). */
  void provision(DeviceRegistry devices, String tenant) throws Exception {
    devices.putTenant(new Tenant(tenant, true, Duration.ZERO)).toCompletableFuture().get();
    devices.putProfile(tenant, profile, new TelemetrySchema(metrics)).toCompletableFuture().get();
    Semaphore permits = new Semaphore(128);
    List<CompletableFuture<Void>> writes = new ArrayList<>();
    for (int d = 0; d < DEVICES; d++) {
      permits.acquire();
      writes.add(devices.putDevice(new Device(tenant, "dev" + d, profile, true, Set.of(), Instant.now()))
          .toCompletableFuture().whenComplete((v, e) -> permits.release()));
    }
    CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)).get(120, TimeUnit.SECONDS);
  }

  /** Row {@code j} of message {@code i}, bound to {@code insert} (tenant, device_id, day, ts, metric, value_double). */
  BoundStatement row(PreparedStatement insert, String tenant, long base, int i, int j) {
    Instant ts = Instant.ofEpochMilli(ts(base, i));
    return insert.bind(tenant, "dev" + (i % DEVICES), LocalDate.ofInstant(ts, ZoneOffset.UTC), ts,
        metrics.get(j).name(), value(i, j)).setIdempotent(true);
  }

  /** Single-row async inserts of the first {@code maxRows} rows in arrival order; rows/s. */
  double rawSingle(CqlSession session, PreparedStatement insert, String tenant, long base, int maxRows, int inFlight)
      throws InterruptedException {
    int n = Math.min(maxRows, rows());
    return n / RawWrites.send(session, n, inFlight,
        r -> row(insert, tenant, base, r / metrics.size(), r % metrics.size()), "single-row inserts");
  }

  /**
   * All rows as per-partition unlogged batches of {@code perBatch} rows: each device's rows in time order, cut into
   * batches, the batches sent round-robin over the devices (as live ingest arrives); rows/s. Knowing every device's
   * rows in advance is what a live connector never does: it is the baseline.
   */
  double rawPerPartition(CqlSession session, PreparedStatement insert, String tenant, long base, int perBatch,
      int inFlight) throws InterruptedException {
    int perDevice = records / DEVICES * metrics.size();
    int perDeviceBatches = (perDevice + perBatch - 1) / perBatch;
    // batch k: device k % DEVICES, its rows from (k / DEVICES) * perBatch on
    return (double) perDevice * DEVICES / RawWrites.send(session, perDeviceBatches * DEVICES, inFlight, k -> {
      BatchStatementBuilder b = new BatchStatementBuilder(BatchType.UNLOGGED).setIdempotence(true);
      int from = k / DEVICES * perBatch;
      for (int r = from; r < Math.min(from + perBatch, perDevice); r++) {
        b.addStatement(row(insert, tenant, base, r / metrics.size() * DEVICES + k % DEVICES, r % metrics.size()));
      }
      return b.build();
    }, "per-partition batches of " + perBatch);
  }
}
