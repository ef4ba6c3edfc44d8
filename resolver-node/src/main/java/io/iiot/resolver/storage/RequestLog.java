package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * Responses of mutating calls by request id (AIP-155), kept 24 h by the table's TTL. {@code fingerprint} is a digest
 * of the request, so the same id with a different request can be told apart from a retry.
 *
 * <p>Two concurrent calls with the same new id both run; the writes they make are themselves guarded (identifier
 * creation is a lightweight transaction), so the loser sees ALREADY_EXISTS rather than a double write.
 */
public final class RequestLog {
  private final CqlSession session;
  private final PreparedStatement select;
  private final PreparedStatement insert;

  public record Entry(byte[] fingerprint, byte[] response) {}

  public RequestLog(CqlSession session, String keyspace) {
    this.session = session;
    String ks = CqlIdentifier.fromInternal(keyspace).asCql(true) + ".";
    select = session.prepare("SELECT fingerprint, response FROM " + ks + "request_ids WHERE scope = ? AND "
        + "request_id = ?");
    insert = session.prepare("INSERT INTO " + ks + "request_ids (scope, request_id, fingerprint, response) "
        + "VALUES (?,?,?,?)");
  }

  public Future<Optional<Entry>> find(String scope, String requestId) {
    return Future.fromCompletionStage(session.executeAsync(select.bind(scope, requestId)))
        .map(rs -> Optional.ofNullable(rs.one()).map(RequestLog::entry));
  }

  public Future<Void> record(String scope, String requestId, byte[] fingerprint, byte[] response) {
    return Future.fromCompletionStage(session.executeAsync(insert.bind(scope, requestId, ByteBuffer.wrap(fingerprint),
        ByteBuffer.wrap(response)))).mapEmpty();
  }

  private static Entry entry(Row r) {
    return new Entry(bytes(r.getByteBuffer(0)), bytes(r.getByteBuffer(1)));
  }

  private static byte[] bytes(ByteBuffer b) {
    byte[] out = new byte[b == null ? 0 : b.remaining()];
    if (b != null) {
      b.duplicate().get(out);
    }
    return out;
  }
}
