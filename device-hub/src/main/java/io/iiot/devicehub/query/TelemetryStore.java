package io.iiot.devicehub.query;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import io.iiot.devicehub.domain.TelemetryRow;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.function.Predicate;

/**
 * Reads of the {@code telemetry} table (partition = tenant, device, UTC day; clustered by ts DESC, metric), oldest
 * first. A time range is read day partition by day partition, each with one prepared range query the driver pages
 * through ({@code fetchSize} rows per round trip), so memory stays bounded however long the range is.
 */
final class TelemetryStore {
  private final CqlSession session;
  private final PreparedStatement range;
  private final int fetchSize;

  TelemetryStore(CqlSession session, String keyspace, int fetchSize) {
    this.session = session;
    this.fetchSize = fetchSize;
    // Reversing ts reverses the whole clustering order, so rows of one ts come in descending metric order.
    this.range = session.prepare("SELECT ts, metric, value_double, value_text FROM " + keyspace + ".telemetry"
        + " WHERE tenant = ? AND device_id = ? AND day = ? AND ts >= ? AND ts < ? ORDER BY ts ASC");
  }

  /** What a scan does with each row; returns false to stop. */
  interface RowSink {
    boolean accept(TelemetryRow row);
  }

  /**
   * Feeds rows of {@code [from, to)} in time order to {@code sink} until it says stop or the range ends. Blocking:
   * call from a worker thread (gRPC executor), never an event loop.
   *
   * @return rows read from Cassandra (including ones {@code keep} skipped)
   */
  long scan(String tenant, String deviceId, Instant from, Instant to, Predicate<String> keep, RowSink sink) {
    long read = 0;
    LocalDate last = LocalDate.ofInstant(to.minusMillis(1), ZoneOffset.UTC);
    for (LocalDate day = LocalDate.ofInstant(from, ZoneOffset.UTC); !day.isAfter(last); day = day.plusDays(1)) {
      ResultSet rs = session.execute(range.bind(tenant, deviceId, day, from, to).setPageSize(fetchSize));
      for (Row r : rs) {
        read++;
        String metric = r.getString(1);
        if (!keep.test(metric)) {
          continue;
        }
        Double number = r.isNull(2) ? null : r.getDouble(2);
        TelemetryRow row = new TelemetryRow(tenant, deviceId, r.getInstant(0), metric, number,
            number == null ? r.getString(3) : null);
        if (!sink.accept(row)) {
          return read;
        }
      }
    }
    return read;
  }
}
