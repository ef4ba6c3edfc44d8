package io.iiot.resolver.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class ClockCacheTest {
  @Test
  void holdsAtMostItsCapacityAndEvictsWhatWasNotReadSinceTheHandPassed() {
    ClockCache<String, Integer> c = new ClockCache<>(3);
    c.put("a", 1);
    c.put("b", 2);
    c.put("c", 3);
    assertThat(c.get("a")).isEqualTo(1); // a and c read: b is the one not read
    assertThat(c.get("c")).isEqualTo(3);
    c.put("d", 4);
    assertThat(c.size()).isEqualTo(3);
    assertThat(c.get("b")).isNull();
    assertThat(c.get("a")).isEqualTo(1);
    assertThat(c.get("c")).isEqualTo(3);
    assertThat(c.get("d")).isEqualTo(4);
    // all read since: one turn clears the bits, then the first one passed goes
    c.put("e", 5);
    assertThat(c.size()).isEqualTo(3);
    assertThat(List.of("a", "c", "d").stream().filter(k -> c.get(k) == null)).hasSize(1);
    assertThat(c.get("e")).isEqualTo(5);
  }

  @Test
  void replacesInvalidatesAndClears() {
    ClockCache<String, Integer> c = new ClockCache<>(4);
    c.put("a", 1);
    c.put("b", 2);
    c.put("a", 10);
    assertThat(c.size()).isEqualTo(2);
    assertThat(c.get("a")).isEqualTo(10);
    c.invalidate("a");
    c.invalidate("missing");
    assertThat(c.get("a")).isNull();
    assertThat(c.get("b")).isEqualTo(2);
    assertThat(c.size()).isEqualTo(1);
    for (int i = 0; i < 10; i++) {
      c.put("k" + i, i);
    }
    assertThat(c.size()).isEqualTo(4);
    c.invalidateAll();
    assertThat(c.size()).isZero();
    assertThat(c.get("k9")).isNull();
    c.put("z", 26);
    assertThat(c.get("z")).isEqualTo(26);
  }

  @Test
  void growsToItsCapacityAndNoFurther() {
    ClockCache<Integer, Integer> c = new ClockCache<>(5000);
    for (int i = 0; i < 6000; i++) {
      c.put(i, i);
    }
    assertThat(c.size()).isEqualTo(5000);
    assertThat(c.get(5999)).isEqualTo(5999); // the newest is held: the hand evicted the oldest unreferenced ones
    assertThat(c.get(0)).isNull();
  }

  @Test
  void capacityZeroHoldsNothing() {
    ClockCache<String, Integer> c = new ClockCache<>(0);
    c.put("a", 1);
    assertThat(c.get("a")).isNull();
    assertThat(c.size()).isZero();
  }

  @Test
  void concurrentReadersWritersAndInvalidationsKeepTheBoundAndTheMapConsistent() throws Exception {
    ClockCache<Integer, Integer> c = new ClockCache<>(100);
    AtomicBoolean failed = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int seed = t;
      threads.add(new Thread(() -> {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = 0; i < 200_000; i++) {
          int k = r.nextInt(300);
          switch (r.nextInt(4)) {
            case 0 -> c.put(k, k);
            case 1 -> c.invalidate(k);
            default -> {
              Integer v = c.get(k);
              if (v != null && v != k) {
                failed.set(true);
              }
            }
          }
        }
      }));
    }
    threads.forEach(Thread::start);
    for (Thread t : threads) {
      t.join();
    }
    assertThat(failed).isFalse();
    assertThat(c.size()).isBetween(0, 100);
    int held = 0;
    for (int k = 0; k < 300; k++) {
      if (c.get(k) != null) {
        held++;
      }
    }
    assertThat(held).isEqualTo(c.size());
  }
}
