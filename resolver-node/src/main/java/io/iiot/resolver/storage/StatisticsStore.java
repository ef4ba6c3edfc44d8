package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.vertx.core.Future;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;

/**
 * Registrations and resolutions per prefix per UTC day as Cassandra counters ({@code prefix_daily_stats}): written as
 * increments, read per prefix partition over a day range, never recomputed by scans.
 */
public final class StatisticsStore {
  public record Day(LocalDate day, long registrations, long resolutions) {}

  /** One increment to apply. */
  public record Increment(String prefix, LocalDate day, long registrations, long resolutions) {}

  private final CqlSession session;
  private final PreparedStatement add;
  private final PreparedStatement range;

  public StatisticsStore(CqlSession session, String keyspace) {
    this.session = session;
    String ks = Cql.ks(keyspace);
    add = session.prepare("UPDATE " + ks + "prefix_daily_stats SET registrations = registrations + ?, "
        + "resolutions = resolutions + ? WHERE prefix = ? AND day = ?");
    range = session.prepare("SELECT day, registrations, resolutions FROM " + ks + "prefix_daily_stats WHERE "
        + "prefix = ? AND day >= ? AND day <= ?");
  }

  /**
   * Applies increments, one statement each (counter writes to different partitions gain nothing from a batch).
   * Counter increments are not idempotent: a failed write is reported, not retried, so a count may be short after a
   * storage failure but never double.
   */
  public Future<Void> add(List<Increment> increments) {
    List<Future<?>> all = new ArrayList<>();
    for (Increment i : increments) {
      all.add(Cql.exec(session, add.bind(i.registrations(), i.resolutions(), i.prefix(), i.day())
          .setIdempotent(false)));
    }
    return Future.all(all).mapEmpty();
  }

  /** Days of {@code prefix} from {@code from} to {@code to} (inclusive) that have any count, oldest first. */
  public Future<List<Day>> days(String prefix, LocalDate from, LocalDate to) {
    return Cql.all(session, range.bind(prefix, from, to), r -> new Day(r.getLocalDate(0), r.getLong(1),
        r.getLong(2)));
  }

}
