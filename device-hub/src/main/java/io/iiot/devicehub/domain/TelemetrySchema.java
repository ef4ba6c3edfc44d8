package io.iiot.devicehub.domain;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The metrics a device profile accepts: names, types, units and valid ranges. Immutable; lookups by name (JSON
 * payloads) and by id (binary payloads).
 */
public final class TelemetrySchema {
  private final List<MetricSpec> metrics;
  private final Map<String, MetricSpec> byName = new HashMap<>();
  private final MetricSpec[] byId = new MetricSpec[256];

  public TelemetrySchema(List<MetricSpec> metrics) {
    if (metrics.isEmpty()) {
      throw new IllegalArgumentException("a telemetry schema needs at least one metric");
    }
    this.metrics = List.copyOf(metrics);
    for (MetricSpec m : this.metrics) {
      if (byName.put(m.name(), m) != null) {
        throw new IllegalArgumentException("metric name '" + m.name() + "' appears twice");
      }
      if (byId[m.id()] != null) {
        throw new IllegalArgumentException("metric id " + m.id() + " used by both '" + byId[m.id()].name()
            + "' and '" + m.name() + "'");
      }
      byId[m.id()] = m;
    }
  }

  public List<MetricSpec> metrics() {
    return metrics;
  }

  /** The metric of that name, or null: the per-key look-up of JSON payloads. */
  public MetricSpec metric(String name) {
    return byName.get(name);
  }

  public Optional<MetricSpec> byName(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  public Optional<MetricSpec> byId(int id) {
    return id < 0 || id > 255 ? Optional.empty() : Optional.ofNullable(byId[id]);
  }
}
