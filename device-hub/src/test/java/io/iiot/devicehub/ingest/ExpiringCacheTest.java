package io.iiot.devicehub.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class ExpiringCacheTest {

  @Test
  void anEntryLivesForItsTimeToLiveAfterItWasWritten() throws InterruptedException {
    ExpiringCache<String, String> cache = new ExpiringCache<>(Duration.ofMillis(200), 10);
    assertThat(cache.putIfAbsent("a", "1")).isNull();
    assertThat(cache.putIfAbsent("a", "2")).as("a live value is kept").isEqualTo("1");
    assertThat(cache.get("a")).isEqualTo("1");
    Thread.sleep(250);
    assertThat(cache.get("a")).as("expired").isNull();
    assertThat(cache.putIfAbsent("a", "3")).as("an expired value is replaced").isNull();
    assertThat(cache.get("a")).isEqualTo("3");
  }

  @Test
  void removeTakesOnlyTheGivenValue() {
    ExpiringCache<String, String> cache = new ExpiringCache<>(Duration.ofMinutes(1), 10);
    String one = new String("1");
    cache.putIfAbsent("a", one);
    cache.remove("a", new String("1"));
    assertThat(cache.get("a")).as("another instance leaves the entry").isSameAs(one);
    cache.remove("a", one);
    assertThat(cache.get("a")).isNull();
  }

  @Test
  void staysBoundedWhenFull() {
    ExpiringCache<Integer, Integer> cache = new ExpiringCache<>(Duration.ofMinutes(1), 100);
    for (int i = 0; i < 1_000; i++) {
      cache.putIfAbsent(i, i);
    }
    int held = 0;
    for (int i = 0; i < 1_000; i++) {
      held += cache.get(i) == null ? 0 : 1;
    }
    assertThat(held).isBetween(1, 101);
    assertThat(cache.get(999)).as("the entry just written survives its own trim").isEqualTo(999);
  }
}
