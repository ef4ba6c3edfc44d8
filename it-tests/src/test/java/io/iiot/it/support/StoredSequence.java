package io.iiot.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.IntFunction;

/**
 * The read-back of a crash test: device {@code c} sent message {@code i} as metric {@code seq = i} at timestamp
 * {@code base + i} ms, so each acknowledged message must be exactly one row of device-hub's telemetry table with that
 * timestamp and value. Reads every day partition the messages can fall in, at the session's consistency.
 */
public final class StoredSequence {
  private StoredSequence() {}

  /** The result of a read-back: messages acknowledged, and how many of them are missing or have another value. */
  public record Check(int acknowledged, int stored, int missing, String firstMissing) {}

  /**
   * Reads back what {@code senders} had acknowledged; fails on a second row for one message (never possible with
   * device-hub's key, but the check says what "exactly once" means).
   */
  public static Check read(CqlSession session, String keyspace, String tenant, IntFunction<String> deviceId,
      long base, AckedSenders senders) {
    PreparedStatement select = session.prepare("SELECT ts, value_double FROM " + keyspace + ".telemetry"
        + " WHERE tenant = ? AND device_id = ? AND day = ?");
    int acknowledged = 0;
    int storedTotal = 0;
    int missing = 0;
    String firstMissing = null;
    for (int c = 0; c < senders.devices(); c++) {
      Set<Integer> acked = senders.acked(c);
      int last = acked.stream().mapToInt(Integer::intValue).max().orElse(0);
      Map<Long, Double> stored = new HashMap<>();
      for (long day = dayOf(base); day <= dayOf(base + last); day++) {
        for (Row r : session.execute(select.bind(tenant, deviceId.apply(c), LocalDate.ofEpochDay(day)))) {
          assertThat(stored.put(r.getInstant("ts").toEpochMilli(), r.getDouble("value_double")))
              .as("one row per message").isNull();
        }
      }
      storedTotal += stored.size();
      acknowledged += acked.size();
      for (int i : acked) {
        Double v = stored.get(base + i);
        if (v == null || v != i) {
          missing++;
          if (firstMissing == null) {
            firstMissing = deviceId.apply(c) + " message " + i + " acknowledged but stored as " + v;
          }
        }
      }
    }
    return new Check(acknowledged, storedTotal, missing, firstMissing);
  }

  /** The crash tests' assertion: every device finished, and every acknowledged message is stored once. */
  public static void assertEveryAcknowledgedMessageStoredOnce(CqlSession session, String keyspace, String tenant,
      IntFunction<String> deviceId, long base, AckedSenders senders, int perDevice) {
    Check check = read(session, keyspace, tenant, deviceId, base, senders);
    assertThat(check.missing()).as("acknowledged messages not stored; first: %s", check.firstMissing()).isZero();
    for (int c = 0; c < senders.devices(); c++) {
      assertThat(senders.acked(c)).as("%s finished", deviceId.apply(c)).hasSize(perDevice);
    }
    assertThat(check.acknowledged()).isEqualTo(senders.devices() * perDevice);
  }

  private static long dayOf(long millis) {
    return LocalDate.ofInstant(Instant.ofEpochMilli(millis), ZoneOffset.UTC).toEpochDay();
  }
}
