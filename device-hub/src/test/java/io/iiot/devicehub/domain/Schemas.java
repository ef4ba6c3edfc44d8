package io.iiot.devicehub.domain;

import java.util.List;

/** The schema the tests share: a pump with a pressure sensor. */
public final class Schemas {
  private Schemas() {}

  public static TelemetrySchema pump() {
    return new TelemetrySchema(List.of(
        MetricSpec.number(1, "temperature", "°C", -40, 150),
        MetricSpec.number(2, "pressure", "bar", 0, 16),
        MetricSpec.bool(3, "running"),
        MetricSpec.text(4, "status", 32)));
  }
}
