package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.uuid.Uuids;
import io.iiot.resolver.domain.filing.PrefixApplication;
import io.iiot.resolver.domain.filing.PrefixApplication.AuditEntry;
import io.iiot.resolver.domain.filing.PrefixApplication.EnterpriseRecords;
import io.iiot.resolver.domain.filing.PrefixApplication.State;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Prefix applications, the append-only audit log, and allocated prefixes.
 *
 * <p>Every application transition is a lightweight transaction on the application's row {@code IF version = v}: two
 * reviewers (or replicas) deciding one application at once cannot both succeed. A prefix is claimed with
 * {@code INSERT ... IF NOT EXISTS} on its own row, so two replicas never allocate the same prefix.
 */
public final class FilingStore {
  /** An application as stored: the domain value (without its audit trail) and what storage adds. */
  public record Stored(PrefixApplication application, String enterpriseId, byte[] adminPublicKey,
      String rejectionReason, int version, Instant createTime, Instant updateTime) {}

  /** Who holds a prefix. */
  public record Owner(String prefix, String applicationId, String enterpriseId, boolean approved) {}

  /** One audit entry with its position (a timeuuid, for paging). */
  public record Audited(UUID at, AuditEntry entry) {}

  private final CqlSession session;
  private final PreparedStatement insertApp;
  private final PreparedStatement insertAppByEnterprise;
  private final PreparedStatement insertAppId;
  private final PreparedStatement selectApp;
  private final PreparedStatement transition;
  private final PreparedStatement listByEnterprise;
  private final PreparedStatement listAll;
  private final PreparedStatement insertAudit;
  private final PreparedStatement listAudit;
  private final PreparedStatement claim;
  private final PreparedStatement release;
  private final PreparedStatement markApproved;
  private final PreparedStatement insertPrefixByEnterprise;
  private final PreparedStatement selectOwner;
  private final PreparedStatement prefixesOf;
  private final PreparedStatement selectHint;
  private final PreparedStatement writeHint;

  public FilingStore(CqlSession session, String keyspace) {
    this.session = session;
    String ks = Cql.ks(keyspace);
    String cols = "application_id, enterprise_id, name, credit_code, address, contact, industry_category, "
        + "industry_code, admin_public_key, state, prefix, rejection_reason, version, create_time, update_time";
    insertApp = session.prepare("INSERT INTO " + ks + "prefix_applications (" + cols
        + ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) IF NOT EXISTS");
    insertAppByEnterprise = session.prepare("INSERT INTO " + ks + "ids_by_parent (parent, id) VALUES (?,?)");
    insertAppId = session.prepare("INSERT INTO " + ks + "ids_by_parent (parent, id) VALUES ('applications', ?)");
    selectApp = session.prepare("SELECT " + cols + " FROM " + ks + "prefix_applications WHERE application_id = ?");
    transition = session.prepare("UPDATE " + ks + "prefix_applications SET state = ?, prefix = ?, "
        + "rejection_reason = ?, name = ?, credit_code = ?, address = ?, contact = ?, industry_category = ?, "
        + "industry_code = ?, version = ?, update_time = ? WHERE application_id = ? IF version = ?");
    listByEnterprise = session.prepare("SELECT id FROM " + ks + "ids_by_parent WHERE parent = ? AND id > ? "
        + "LIMIT ?");
    listAll = session.prepare("SELECT id FROM " + ks + "ids_by_parent WHERE parent = 'applications' AND "
        + "id > ? LIMIT ?");
    insertAudit = session.prepare("INSERT INTO " + ks + "audit_log (subject, at, actor, action, from_state, "
        + "to_state, reason) VALUES (?,?,?,?,?,?,?)");
    listAudit = session.prepare("SELECT at, actor, action, from_state, to_state, reason FROM " + ks + "audit_log "
        + "WHERE subject = ? AND at > ? LIMIT ?");
    claim = session.prepare("INSERT INTO " + ks + "prefix_owners (prefix, application_id, enterprise_id, approved) "
        + "VALUES (?,?,?,false) IF NOT EXISTS");
    release = session.prepare("DELETE FROM " + ks + "prefix_owners WHERE prefix = ? IF application_id = ?");
    markApproved = session.prepare("UPDATE " + ks + "prefix_owners SET approved = true, approve_time = ? "
        + "WHERE prefix = ?");
    insertPrefixByEnterprise = session.prepare("INSERT INTO " + ks + "ids_by_parent (parent, id) VALUES (?,?)");
    selectOwner = session.prepare("SELECT prefix, application_id, enterprise_id, approved FROM " + ks
        + "prefix_owners WHERE prefix = ?");
    prefixesOf = session.prepare("SELECT id FROM " + ks + "ids_by_parent WHERE parent = ?");
    selectHint = session.prepare("SELECT next_number FROM " + ks + "prefix_sequence WHERE node_prefix = ?");
    writeHint = session.prepare("UPDATE " + ks + "prefix_sequence SET next_number = ? WHERE node_prefix = ?");
  }

  // ------------------------------------------------------------------ applications

  /** Stores a new application (version 1) and its first audit entry. */
  public Future<Void> insert(String enterpriseId, PrefixApplication a, byte[] adminKey, Instant now) {
    EnterpriseRecords r = a.records();
    return Cql.exec(session, insertApp.bind(a.id(), enterpriseId, r.name(), r.creditCode(), r.address(), r.contact(),
        r.industryCategory(), r.industryCode(), ByteBuffer.wrap(adminKey), a.state().name(), a.prefix(), "", 1, now,
        now)).compose(rs -> Cql.exec(session, insertAppByEnterprise.bind("applications_of/" + enterpriseId, a.id())))
        .compose(rs -> Cql.exec(session, insertAppId.bind(a.id())))
        .compose(rs -> audit("applications/" + a.id(), a.audit().get(a.audit().size() - 1)));
  }

  public Future<Optional<Stored>> get(String applicationId) {
    return Cql.exec(session, selectApp.bind(applicationId)).map(rs -> Optional.ofNullable(rs.one())
        .map(FilingStore::row));
  }

  /**
   * Writes {@code next} over the stored application if it is still at {@code version}, then appends its last audit
   * entry; false (nothing written) when someone else changed it first.
   */
  public Future<Boolean> transition(Stored current, PrefixApplication next, String rejectionReason, Instant now) {
    EnterpriseRecords r = next.records();
    return Cql.exec(session, transition.bind(next.state().name(), next.prefix(), rejectionReason, r.name(),
        r.creditCode(), r.address(), r.contact(), r.industryCategory(), r.industryCode(), current.version() + 1, now,
        next.id(), current.version())).compose(rs -> !rs.wasApplied() ? Future.succeededFuture(false)
            : audit("applications/" + next.id(), next.audit().get(next.audit().size() - 1)).map(true));
  }

  /** Application ids of one enterprise ({@code null}: of all) after {@code after}, in id order. */
  public Future<List<String>> ids(String enterpriseId, String after, int limit) {
    return Cql.all(session, enterpriseId == null ? listAll.bind(after, limit)
        : listByEnterprise.bind("applications_of/" + enterpriseId, after, limit), r -> r.getString(0));
  }

  private static Stored row(Row r) {
    EnterpriseRecords rec = new EnterpriseRecords(Cql.text(r, "name"), Cql.text(r, "credit_code"),
        Cql.text(r, "address"), Cql.text(r, "contact"), Cql.text(r, "industry_category"),
        Cql.text(r, "industry_code"));
    PrefixApplication a = new PrefixApplication(r.getString("application_id"), rec, State.valueOf(r.getString("state")),
        Cql.text(r, "prefix"), List.of());
    return new Stored(a, r.getString("enterprise_id"), Cql.bytes(r.getByteBuffer("admin_public_key")),
        Cql.text(r, "rejection_reason"), r.getInt("version"), r.getInstant("create_time"),
        r.getInstant("update_time"));
  }

  // ------------------------------------------------------------------ audit log

  /** Appends one entry (insert only; entries are never updated or deleted). */
  public Future<Void> audit(String subject, AuditEntry e) {
    return Cql.exec(session, insertAudit.bind(subject, timeuuid(e.at()), e.actor(), e.action(), e.from() == null ? "" : e.from().name(),
        e.to() == null ? "" : e.to().name(), e.reason())).mapEmpty();
  }

  /** A timeuuid at the entry's time, unique (random clock-seq/node bits), so entries of one instant never collide. */
  private static UUID timeuuid(Instant at) {
    UUID start = Uuids.startOf(at.toEpochMilli());
    UUID random = Uuids.random();
    return new UUID(start.getMostSignificantBits(), random.getLeastSignificantBits() & 0x3FFFFFFFFFFFFFFFL
        | 0x8000000000000000L);
  }

  /** Entries of {@code subject} after position {@code after} (null from the start), oldest first. */
  public Future<List<Audited>> auditEntries(String subject, UUID after, int limit) {
    return Cql.all(session, listAudit.bind(subject, after == null ? Uuids.startOf(0) : after, limit), r -> new Audited(r.getUuid("at"), new AuditEntry(
            Instant.ofEpochMilli(Uuids.unixTimestamp(r.getUuid("at"))), r.getString("actor"), r.getString("action"),
            state(r.getString("from_state")), state(r.getString("to_state")), Cql.text(r, "reason"))));
  }

  private static State state(String s) {
    return s == null || s.isEmpty() ? null : State.valueOf(s);
  }

  // ------------------------------------------------------------------ prefixes

  /** Claims {@code prefix} for an application; false when it is taken. */
  public Future<Boolean> claim(String prefix, String applicationId, String enterpriseId) {
    return Cql.exec(session, claim.bind(prefix, applicationId, enterpriseId)).map(rs -> rs.wasApplied());
  }

  /** Gives a claimed prefix back (only if this application holds it). */
  public Future<Void> release(String prefix, String applicationId) {
    return Cql.exec(session, release.bind(prefix, applicationId)).mapEmpty();
  }

  /** Marks a claimed prefix approved and lists it under its enterprise. Idempotent. */
  public Future<Void> approved(String prefix, String enterpriseId, Instant at) {
    return Cql.exec(session, markApproved.bind(at, prefix))
        .compose(x -> Cql.exec(session, insertPrefixByEnterprise.bind("prefixes_of/" + enterpriseId, prefix))).mapEmpty();
  }

  public Future<Optional<Owner>> owner(String prefix) {
    return Cql.exec(session, selectOwner.bind(prefix)).map(rs -> Optional.ofNullable(rs.one()).map(r -> new Owner(
        r.getString(0), r.getString(1), r.getString(2), r.getBoolean(3))));
  }

  /** Approved prefixes of an enterprise. */
  public Future<List<String>> prefixes(String enterpriseId) {
    return Cql.all(session, prefixesOf.bind("prefixes_of/" + enterpriseId), r -> r.getString(0));
  }

  /** Where to start looking for a free number (1 when nothing was allocated yet). */
  public Future<Long> nextNumberHint(String nodePrefix) {
    return Cql.exec(session, selectHint.bind(nodePrefix)).map(rs -> {
      Row r = rs.one();
      return r == null || r.isNull(0) ? 1L : r.getLong(0);
    });
  }

  public Future<Void> advanceHint(String nodePrefix, long next) {
    return Cql.exec(session, writeHint.bind(next, nodePrefix)).mapEmpty();
  }
}
