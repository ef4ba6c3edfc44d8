package io.iiot.devicehub.query;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * min/max/avg/count per metric and interval, accumulated one sample at a time (memory: one accumulator per non-empty
 * bucket and metric, at most {@code maxBuckets} x metrics). Buckets are aligned to the range start.
 */
final class Aggregation {
  private final long startMs;
  private final long intervalMs;
  private final Map<Key, Acc> buckets = new HashMap<>();

  Aggregation(Instant start, Duration interval) {
    this.startMs = start.toEpochMilli();
    this.intervalMs = interval.toMillis();
  }

  void add(Instant ts, String metric, Double number) {
    long bucket = (ts.toEpochMilli() - startMs) / intervalMs;
    Acc a = buckets.computeIfAbsent(new Key(bucket, metric), k -> new Acc());
    a.count++;
    if (number != null) {
      if (a.numeric == 0 || number < a.min) {
        a.min = number;
      }
      if (a.numeric == 0 || number > a.max) {
        a.max = number;
      }
      a.sum += number;
      a.numeric++;
    }
  }

  /** Ordered by bucket start, then metric. */
  List<Result> results() {
    List<Result> out = new ArrayList<>(buckets.size());
    buckets.forEach((k, a) -> out.add(new Result(k.metric, Instant.ofEpochMilli(startMs + k.bucket * intervalMs),
        a.count, a.min, a.max, a.numeric == 0 ? 0 : a.sum / a.numeric, a.numeric)));
    out.sort(Comparator.comparing(Result::start).thenComparing(Result::metric));
    return out;
  }

  record Result(String metric, Instant start, long count, double min, double max, double avg, long numericCount) {}

  private record Key(long bucket, String metric) {}

  private static final class Acc {
    long count;
    long numeric;
    double min;
    double max;
    double sum;
  }
}
