package io.iiot.devicehub.domain;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;

/**
 * One stored sample: a metric of a device at a time. Exactly one of {@code number} and {@code text} is set.
 * The key (tenant, device, ts, metric) makes a redelivered sample overwrite itself instead of adding a row.
 *
 * @param ts sample time, UTC, millisecond precision
 */
public record TelemetryRow(String tenant, String deviceId, Instant ts, String metric, Double number, String text) {

  /** The partition bucket: the UTC day of {@code ts}. */
  public LocalDate day() {
    return LocalDate.ofInstant(ts, ZoneOffset.UTC);
  }

  /** Rows with equal keys land in the same Cassandra partition. */
  public PartitionKey partition() {
    return new PartitionKey(tenant, deviceId, day());
  }

  /**
   * The partition of the {@code telemetry} table: device and UTC day.
   *
   * <p>equals and hashCode are written out: the writer looks every queued row's key up in its maps, and the
   * generated ones (method-handle chains) took about a tenth of the Hono connector's CPU in a profile
   * (docs/BENCHMARKS.md, hono-ingest).
   */
  public record PartitionKey(String tenant, String deviceId, LocalDate day) {
    @Override
    public boolean equals(Object o) {
      return this == o || o instanceof PartitionKey k && deviceId.equals(k.deviceId) && day.equals(k.day)
          && tenant.equals(k.tenant);
    }

    @Override
    public int hashCode() {
      return (deviceId.hashCode() * 31 + tenant.hashCode()) * 31 + day.hashCode();
    }
  }
}
