package io.iiot.it.bench;

import com.datastax.oss.driver.api.core.cql.BoundStatement;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.iiot.devicehub.domain.MetricSpec;
import io.iiot.devicehub.domain.MetricType;
import io.iiot.devicehub.domain.TelemetrySchema;
import io.iiot.platform.catalog.ShippedCatalog;
import io.iiot.platform.v1.Metric;
import io.iiot.platform.v1.OnboardingTemplate;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What one benchmark message carries: the metrics of a device profile, all of them in every message (the snapshot a
 * PLC or edge gateway publishes each cycle), and the rows they become. Message {@code i} belongs to device
 * {@code i % devices} and carries ts = base + i / devices, so no two messages share a key; its values are a
 * deterministic function of {@code i} inside each metric's valid range, so the raw driver baseline writes exactly the
 * rows device-hub stores after validating the JSON through the profile's schema.
 *
 * @param name how the shape is called in the report
 * @param metrics the profile's metrics (NUMBER and BOOLEAN; BOOLEAN is stored as 0/1 in {@code value_double})
 */
public record TelemetryShape(String name, String profile, List<MetricSpec> metrics) {

  public TelemetryShape {
    metrics = List.copyOf(metrics);
    for (MetricSpec m : metrics) {
      if (m.type() == MetricType.TEXT) {
        throw new IllegalArgumentException("TEXT metric " + m.name() + " not supported by the benchmark rows");
      }
    }
  }

  /** The worst case: one metric per message ({@code {"ts": .., "temperature": i}}), the shape before snapshots. */
  public static TelemetryShape oneMetric() {
    return new TelemetryShape("one metric per message", "sensor",
        List.of(MetricSpec.number(1, "temperature", "°C", -1e9, 1e9)));
  }

  /** The device profile of a template shipped in platform-api's catalogue (e.g. {@code mine-belt-conveyor}). */
  public static TelemetryShape template(String id) {
    OnboardingTemplate t = ShippedCatalog.load().stream().filter(x -> x.getName().equals("templates/" + id))
        .findFirst().orElseThrow(() -> new IllegalArgumentException("no catalogue template " + id));
    List<MetricSpec> metrics = new ArrayList<>();
    for (Metric m : t.getDeviceProfile().getMetricsList()) {
      metrics.add(switch (m.getType()) {
        case NUMBER -> MetricSpec.number(m.getId(), m.getName(), m.getUnit(), m.getMin(), m.getMax());
        case BOOLEAN -> MetricSpec.bool(m.getId(), m.getName());
        default -> MetricSpec.text(m.getId(), m.getName(), m.getMaxLength());
      });
    }
    return new TelemetryShape(id + " snapshot (" + metrics.size() + " metrics per message)",
        t.getDeviceProfile().getProfile(), metrics);
  }

  public int rowsPerMessage() {
    return metrics.size();
  }

  public TelemetrySchema schema() {
    return new TelemetrySchema(metrics);
  }

  /** Value of {@code metric} in message {@code i}: inside its range, exact in JSON and in a double. */
  public double value(int i, int metric) {
    MetricSpec m = metrics.get(metric);
    if (m.type() == MetricType.BOOLEAN) {
      return (i + metric) % 2;
    }
    if (m.min() <= -1e9 && m.max() >= 1e9) {
      return i; // the one-metric rows' historic values
    }
    return m.min() + (m.max() - m.min()) * ((i * 7 + metric * 13) % 1000) / 1000.0;
  }

  /** Message {@code i} as the JSON device-hub maps through the profile's schema. */
  public byte[] json(long base, int devices, int i) {
    StringBuilder b = new StringBuilder(32 + 28 * metrics.size()).append("{\"ts\": ").append(base + i / devices);
    for (int k = 0; k < metrics.size(); k++) {
      MetricSpec m = metrics.get(k);
      b.append(", \"").append(m.name()).append("\": ");
      double v = value(i, k);
      if (m.type() == MetricType.BOOLEAN) {
        b.append(v == 1 ? "true" : "false");
      } else if (v == Math.rint(v) && Math.abs(v) < 1e15) {
        b.append((long) v);
      } else {
        b.append(String.format(Locale.ROOT, "%s", v));
      }
    }
    return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Row {@code r} of the stream a device produces, in arrival order: message {@code r / rowsPerMessage()} of that
   * device's messages, metric {@code r % rowsPerMessage()}. {@code insert} binds (tenant, device_id, day, ts, metric,
   * value_double).
   */
  public BoundStatement row(PreparedStatement insert, String tenant, long base, int devices, int device, int r) {
    int i = (r / metrics.size()) * devices + device;
    int k = r % metrics.size();
    Instant ts = Instant.ofEpochMilli(base + i / devices);
    return insert.bind(tenant, "dev" + device, LocalDate.ofInstant(ts, ZoneOffset.UTC), ts, metrics.get(k).name(),
        value(i, k)).setIdempotent(true);
  }
}
