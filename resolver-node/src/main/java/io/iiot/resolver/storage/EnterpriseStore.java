package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Enterprises and the SHA-256 of their credential secrets ({@code enterprises}, listed in {@code ids_by_parent}). */
public final class EnterpriseStore {
  /** An enterprise as stored. */
  public record Stored(String id, String displayName, String creditCode, byte[] secretSha256, Instant createTime) {}

  private final CqlSession session;
  private final PreparedStatement insert;
  private final PreparedStatement insertId;
  private final PreparedStatement select;
  private final PreparedStatement listIds;

  public EnterpriseStore(CqlSession session, String keyspace) {
    this.session = session;
    String ks = Cql.ks(keyspace);
    insert = session.prepare("INSERT INTO " + ks + "enterprises (enterprise_id, display_name, credit_code, "
        + "secret_sha256, create_time) VALUES (?,?,?,?,?) IF NOT EXISTS");
    insertId = session.prepare("INSERT INTO " + ks + "ids_by_parent (parent, id) VALUES ('enterprises', ?)");
    select = session.prepare("SELECT enterprise_id, display_name, credit_code, secret_sha256, create_time FROM " + ks
        + "enterprises WHERE enterprise_id = ?");
    listIds = session.prepare("SELECT id FROM " + ks + "ids_by_parent WHERE parent = 'enterprises' AND id > ? "
        + "LIMIT ?");
  }

  /** Stores a new enterprise; false when the id exists (ids are random: practically never). */
  public Future<Boolean> create(Stored e) {
    return Cql.exec(session, insert.bind(e.id(), e.displayName(), e.creditCode(), ByteBuffer.wrap(e.secretSha256()),
        e.createTime())).compose(rs -> !rs.wasApplied() ? Future.succeededFuture(false)
            : Cql.exec(session, insertId.bind(e.id())).map(true));
  }

  public Future<Optional<Stored>> get(String id) {
    return Cql.exec(session, select.bind(id)).map(rs -> Optional.ofNullable(rs.one()).map(EnterpriseStore::row));
  }

  /** Ids after {@code after} ("" from the start), at most {@code limit}, in id order. */
  public Future<List<String>> ids(String after, int limit) {
    return Cql.all(session, listIds.bind(after, limit), r -> r.getString(0));
  }

  private static Stored row(Row r) {
    return new Stored(r.getString(0), Cql.text(r, "display_name"), Cql.text(r, "credit_code"),
        Cql.bytes(r.getByteBuffer("secret_sha256")), r.getInstant("create_time"));
  }
}
