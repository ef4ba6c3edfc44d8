package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Top-level mode: filings received from secondary nodes, each report id stored once (IF NOT EXISTS). */
public final class ReceivedFilings {
  public record Received(String reportId, String prefix, byte[] report, String reporter, Instant receiveTime) {}

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement insertId;
  private final PreparedStatement select;
  private final PreparedStatement listIds;

  public ReceivedFilings(CqlSession session, String keyspace) {
    this.session = session;
    String ks = Cql.ks(keyspace);
    insert = session.prepare("INSERT INTO " + ks + "received_filings (report_id, prefix, report, reporter, "
        + "receive_time) VALUES (?,?,?,?,?) IF NOT EXISTS");
    insertId = session.prepare("INSERT INTO " + ks + "ids_by_parent (parent, id) VALUES ('received_filings', ?)");
    select = session.prepare("SELECT report_id, prefix, report, reporter, receive_time FROM " + ks
        + "received_filings WHERE report_id = ?");
    listIds = session.prepare("SELECT id FROM " + ks + "ids_by_parent WHERE parent = 'received_filings' AND "
        + "id > ? LIMIT ?");
  }

  /** Stores the report; the result is empty when it is new, else the one stored first (a resend). */
  public Future<Optional<Received>> storeOnce(Received r) {
    return Cql.exec(session, insert.bind(r.reportId(), r.prefix(), ByteBuffer.wrap(r.report()), r.reporter(),
        r.receiveTime())).compose(rs -> {
          if (!rs.wasApplied()) {
            return get(r.reportId());
          }
          return Cql.exec(session, insertId.bind(r.reportId())).map(x -> Optional.<Received>empty());
        });
  }

  public Future<Optional<Received>> get(String reportId) {
    return Cql.exec(session, select.bind(reportId)).map(rs -> Optional.ofNullable(rs.one()).map(r -> new Received(
        r.getString(0), r.getString(1), Cql.bytes(r.getByteBuffer(2)), r.getString(3), r.getInstant(4))));
  }

  public Future<List<String>> ids(String after, int limit) {
    return Cql.all(session, listIds.bind(after, limit), r -> r.getString(0));
  }
}
