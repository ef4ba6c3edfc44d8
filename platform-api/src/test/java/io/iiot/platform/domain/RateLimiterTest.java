package io.iiot.platform.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class RateLimiterTest {
  @Test
  void allowsTheBurstThenTheRatePerKey() {
    AtomicLong now = new AtomicLong();
    RateLimiter limiter = new RateLimiter(10, 3, 100, now::get);
    assertThat(limiter.acquire("a")).isZero();
    assertThat(limiter.acquire("a")).isZero();
    assertThat(limiter.acquire("a")).isZero();
    long wait = limiter.acquire("a");
    assertThat(wait).isEqualTo(100_000_000L); // one token per 100 ms at 10/s
    assertThat(limiter.acquire("b")).as("other keys have their own bucket").isZero();
    now.addAndGet(100_000_000L);
    assertThat(limiter.acquire("a")).isZero();
    assertThat(limiter.acquire("a")).isPositive();
  }
}
