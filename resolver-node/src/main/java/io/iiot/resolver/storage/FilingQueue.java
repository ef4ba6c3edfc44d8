package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The durable queue of filing reports to the upstream top-level node ({@code filing_reports}; pending ids in {@code ids_by_parent} 'filing_queue').
 *
 * <p>A sender first leases a report with a lightweight transaction ({@code IF lease_until < now AND state !=
 * ACKNOWLEDGED}); only the holder sends it, so two replicas never send one report at the same time. A lease that is
 * not released (the sender died) expires, and the report is sent again: the receiver stores a report id once, which
 * makes the delivery exactly-once as the receiver sees it.
 */
public final class FilingQueue {
  public enum State { QUEUED, SENT, ACKNOWLEDGED }

  /** A report and its delivery state. */
  public record Report(String reportId, String applicationId, byte[] report, State state, int attempts,
      String lastError, Instant nextAttempt, Instant leaseUntil, String leaseOwner, Instant acknowledgeTime) {}

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement enqueue;
  private final PreparedStatement insertId;
  private final PreparedStatement select;
  private final PreparedStatement pending;
  private final PreparedStatement listIds;
  private final PreparedStatement lease;
  private final PreparedStatement acknowledged;
  private final PreparedStatement dequeue;
  private final PreparedStatement failed;

  public FilingQueue(CqlSession session, String keyspace) {
    this.session = session;
    String ks = Cql.ks(keyspace);
    insert = session.prepare("INSERT INTO " + ks + "filing_reports (report_id, application_id, report, state, "
        + "attempts, last_error, next_attempt, lease_owner, lease_until, create_time) "
        + "VALUES (?,?,?,'QUEUED',0,'',?,'',?,?) IF NOT EXISTS");
    enqueue = session.prepare("INSERT INTO " + ks + "ids_by_parent (parent, id) VALUES ('filing_queue', ?)");
    insertId = session.prepare("INSERT INTO " + ks + "ids_by_parent (parent, id) VALUES ('filing_reports', ?)");
    select = session.prepare("SELECT report_id, application_id, report, state, attempts, last_error, next_attempt, "
        + "lease_until, lease_owner, acknowledge_time FROM " + ks + "filing_reports WHERE report_id = ?");
    pending = session.prepare("SELECT id FROM " + ks + "ids_by_parent WHERE parent = 'filing_queue' LIMIT ?");
    listIds = session.prepare("SELECT id FROM " + ks + "ids_by_parent WHERE parent = 'filing_reports' AND id > ? "
        + "LIMIT ?");
    lease = session.prepare("UPDATE " + ks + "filing_reports SET lease_owner = ?, lease_until = ?, state = 'SENT', "
        + "attempts = ? WHERE report_id = ? IF lease_until < ? AND state != 'ACKNOWLEDGED' AND attempts = ?");
    acknowledged = session.prepare("UPDATE " + ks + "filing_reports SET state = 'ACKNOWLEDGED', acknowledge_time = ?, "
        + "last_error = '', lease_until = ? WHERE report_id = ?");
    dequeue = session.prepare("DELETE FROM " + ks + "ids_by_parent WHERE parent = 'filing_queue' AND id = ?");
    failed = session.prepare("UPDATE " + ks + "filing_reports SET state = 'QUEUED', last_error = ?, next_attempt = ?, "
        + "lease_until = ? WHERE report_id = ? IF lease_owner = ?");
  }

  /** Queues a report; a report id already queued is left as it is (approval completed twice). */
  public Future<Void> enqueue(String reportId, String applicationId, byte[] report, Instant now) {
    return Cql.exec(session, insert.bind(reportId, applicationId, ByteBuffer.wrap(report), now, Instant.EPOCH, now))
        .compose(rs -> !rs.wasApplied() ? Future.<Void>succeededFuture()
            : Cql.exec(session, enqueue.bind(reportId)).compose(x -> Cql.exec(session, insertId.bind(reportId)))
                .mapEmpty());
  }

  public Future<Optional<Report>> get(String reportId) {
    return Cql.exec(session, select.bind(reportId)).map(rs -> Optional.ofNullable(rs.one()).map(FilingQueue::row));
  }

  /** Ids of reports not yet acknowledged, oldest first, at most {@code limit}. */
  public Future<List<String>> pending(int limit) {
    return Cql.all(session, pending.bind(limit), r -> r.getString(0));
  }

  /** Every report id after {@code after}, in id order. */
  public Future<List<String>> ids(String after, int limit) {
    return Cql.all(session, listIds.bind(after, limit), r -> r.getString(0));
  }

  /**
   * Takes the lease of {@code r} until {@code until} for {@code owner} and counts the attempt; false when another
   * sender holds it, it was acknowledged, or another attempt started since {@code r} was read.
   */
  public Future<Boolean> lease(Report r, String owner, Instant now, Instant until) {
    return Cql.exec(session, lease.bind(owner, until, r.attempts() + 1, r.reportId(), now, r.attempts()))
        .map(rs -> rs.wasApplied());
  }

  /** The upstream stored it: done, out of the queue. */
  public Future<Void> acknowledged(String reportId, Instant at) {
    return Cql.exec(session, acknowledged.bind(at, Instant.EPOCH, reportId))
        .compose(x -> Cql.exec(session, dequeue.bind(reportId))).mapEmpty();
  }

  /** The attempt failed: back to QUEUED until {@code nextAttempt}, lease released (if still ours). */
  public Future<Void> failed(String reportId, String owner, String error, Instant nextAttempt) {
    return Cql.exec(session, failed.bind(error, nextAttempt, Instant.EPOCH, reportId, owner)).mapEmpty();
  }

  private static Report row(Row r) {
    return new Report(r.getString("report_id"), Cql.text(r, "application_id"), Cql.bytes(r.getByteBuffer("report")),
        State.valueOf(r.getString("state")), r.getInt("attempts"), Cql.text(r, "last_error"),
        r.getInstant("next_attempt"), r.getInstant("lease_until"), Cql.text(r, "lease_owner"),
        r.getInstant("acknowledge_time"));
  }
}
