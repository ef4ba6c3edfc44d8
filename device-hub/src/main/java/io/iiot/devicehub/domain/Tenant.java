package io.iiot.devicehub.domain;

import java.time.Duration;

/**
 * A tenant (an enterprise).
 *
 * @param telemetryTtl how long its telemetry is kept; zero keeps it forever
 */
public record Tenant(String id, boolean enabled, Duration telemetryTtl) {
  /** Cassandra's limit for a TTL: 20 years. */
  public static final Duration MAX_TTL = Duration.ofSeconds(630_720_000);

  public Tenant {
    Device.checkId("tenant id", id);
    if (telemetryTtl.isNegative() || telemetryTtl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("telemetry TTL must be 0 (keep forever) up to 20 years");
    }
  }
}
