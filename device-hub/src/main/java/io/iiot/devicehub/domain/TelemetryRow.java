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

  /** The partition of the {@code telemetry} table: device and UTC day. */
  public record PartitionKey(String tenant, String deviceId, LocalDate day) {}
}
