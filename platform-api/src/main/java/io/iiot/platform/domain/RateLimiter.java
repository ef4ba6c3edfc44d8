package io.iiot.platform.domain;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * A token bucket per API key: {@code ratePerSecond} sustained, bursts up to {@code burst}. Per replica: with N
 * replicas a key gets at most N times the rate. The key map is bounded (least recently used keys are forgotten, which
 * only ever refills their bucket).
 */
public final class RateLimiter {
  private final double ratePerNano;
  private final double burst;
  private final LongSupplier nanoTime;
  private final Map<String, Bucket> buckets;

  private static final class Bucket {
    double tokens;
    long updated;
  }

  public RateLimiter(double ratePerSecond, int burst, int maxKeys, LongSupplier nanoTime) {
    if (ratePerSecond <= 0 || burst < 1 || maxKeys < 1) {
      throw new IllegalArgumentException("rate, burst and maxKeys must be positive");
    }
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.nanoTime = nanoTime;
    this.buckets = new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Bucket> eldest) {
        return size() > maxKeys;
      }
    };
  }

  /**
   * Takes one token for {@code keyId}. Returns 0 when the call may proceed, else the nanoseconds until a token will be
   * available (for RetryInfo).
   */
  public synchronized long acquire(String keyId) {
    long now = nanoTime.getAsLong();
    Bucket b = buckets.get(keyId);
    if (b == null) {
      b = new Bucket();
      b.tokens = burst;
      b.updated = now;
      buckets.put(keyId, b);
    }
    b.tokens = Math.min(burst, b.tokens + (now - b.updated) * ratePerNano);
    b.updated = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return (long) Math.ceil((1 - b.tokens) / ratePerNano);
  }
}
