package io.iiot.resolver.hierarchy;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Answers obtained by recursion, bounded in number; each kept for the smallest TTL of its values (relative TTLs
 * from when it arrived, absolute ones until their instant), never longer than {@code maxAge}. "Not found" answers
 * are kept for {@code negativeTtl}.
 */
public final class AnswerCache {
  /** What was answered: the response code, and the values of a success. */
  public record Answer(int responseCode, List<HandleValue> values, String message) {}

  private final Cache<String, Entry> cache;

  private record Entry(Answer answer, long lifeNanos) {}

  public AnswerCache(int size, Duration maxAge, Duration negativeTtl) {
    long maxNanos = maxAge.toNanos();
    long negNanos = Math.min(maxNanos, negativeTtl.toNanos());
    this.negativeNanos = negNanos;
    this.maxNanos = maxNanos;
    cache = Caffeine.newBuilder().maximumSize(size).expireAfter(new Expiry<String, Entry>() {
      @Override
      public long expireAfterCreate(String key, Entry e, long now) {
        return e.lifeNanos();
      }

      @Override
      public long expireAfterUpdate(String key, Entry e, long now, long current) {
        return e.lifeNanos();
      }

      @Override
      public long expireAfterRead(String key, Entry e, long now, long current) {
        return current;
      }
    }).build();
  }

  private final long negativeNanos;
  private final long maxNanos;

  /** The key of a query: folded handle, filters, and whether restricted values were left out. */
  public static String key(String handle, int[] indexes, List<String> types, boolean publicOnly) {
    return Handles.fold(handle) + "|" + Arrays.toString(indexes) + "|"
        + types.stream().map(t -> t.toUpperCase(Locale.ROOT)).toList() + "|" + publicOnly;
  }

  public Optional<Answer> get(String key) {
    Entry e = cache.getIfPresent(key);
    return e == null ? Optional.empty() : Optional.of(e.answer());
  }

  /** Keeps {@code a} if it is cacheable: a success with a positive TTL, or handle/values not found. */
  public void put(String key, Answer a) {
    long life;
    if (a.responseCode() == 1) {
      life = maxNanos;
      long now = System.currentTimeMillis() / 1000;
      for (HandleValue v : a.values()) {
        long ttl = v.ttlType() == 0 ? v.ttl() : v.ttl() - now;
        life = Math.min(life, Math.max(0, ttl) * 1_000_000_000L);
      }
    } else if (a.responseCode() == 100 || a.responseCode() == 200) {
      life = negativeNanos;
    } else {
      return;
    }
    if (life > 0) {
      cache.put(key, new Entry(a, life));
    }
  }

  public long size() {
    return cache.estimatedSize();
  }
}
