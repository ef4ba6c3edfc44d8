package io.iiot.devicehub.domain;

/** How a metric's value is carried and stored. */
public enum MetricType {
  /** A finite IEEE-754 double, checked against the metric's range; stored in {@code value_double}. */
  NUMBER,
  /** true/false; stored in {@code value_double} as 1.0/0.0 so it can be aggregated like a number. */
  BOOLEAN,
  /** A UTF-8 string of bounded length; stored in {@code value_text}. */
  TEXT
}
