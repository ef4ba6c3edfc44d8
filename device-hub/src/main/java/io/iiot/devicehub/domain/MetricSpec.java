package io.iiot.devicehub.domain;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One metric of a telemetry schema.
 *
 * @param id stable small number (0..255) naming the metric in the compact binary payload
 * @param name the JSON key, e.g. {@code temperature}
 * @param unit free text such as {@code °C} or {@code bar}; informational
 * @param min lowest accepted value (inclusive) for NUMBER; ignored otherwise
 * @param max highest accepted value (inclusive) for NUMBER; ignored otherwise
 * @param maxLength longest accepted string, in characters, for TEXT; ignored otherwise
 */
public record MetricSpec(int id, String name, MetricType type, String unit, double min, double max, int maxLength) {
  private static final Pattern NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,63}");

  public MetricSpec {
    Objects.requireNonNull(type, "type");
    unit = unit == null ? "" : unit;
    if (name == null || !NAME.matcher(name).matches() || name.equals("ts")) {
      throw new IllegalArgumentException("metric name '" + name
          + "' must start with a letter, use letters, digits, '_', '.', '-', at most 64 characters, and not be 'ts'");
    }
    if (id < 0 || id > 255) {
      throw new IllegalArgumentException("metric id of '" + name + "' must be 0..255, was " + id);
    }
    if (type == MetricType.NUMBER && !(Double.isFinite(min) && Double.isFinite(max) && min <= max)) {
      throw new IllegalArgumentException("metric '" + name + "' needs a finite range min <= max");
    }
    if (type == MetricType.TEXT && (maxLength < 1 || maxLength > 4096)) {
      throw new IllegalArgumentException("metric '" + name + "' needs a maxLength of 1..4096");
    }
  }

  public static MetricSpec number(int id, String name, String unit, double min, double max) {
    return new MetricSpec(id, name, MetricType.NUMBER, unit, min, max, 0);
  }

  public static MetricSpec bool(int id, String name) {
    return new MetricSpec(id, name, MetricType.BOOLEAN, "", 0, 1, 0);
  }

  public static MetricSpec text(int id, String name, int maxLength) {
    return new MetricSpec(id, name, MetricType.TEXT, "", 0, 0, maxLength);
  }
}
