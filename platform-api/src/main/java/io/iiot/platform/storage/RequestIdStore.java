package io.iiot.platform.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.concurrent.CompletionStage;

/**
 * AIP-155 request ids in {@code request_ids} (kept 24 h by the table's TTL). The first call with an id claims it
 * (LWT), does the work and stores its response; repeats get that response back.
 */
public final class RequestIdStore {
  /** What a claim found. */
  public sealed interface Claim {
    /** The id was free: this call does the work, then calls {@link #complete} (or {@link #release}). */
    record Claimed() implements Claim {}

    /** The work is done: here is its stored response. */
    record Done(byte[] response) implements Claim {}

    /** Another call with the same id and payload is still working. */
    record InProgress() implements Claim {}

    /** The id was used with another payload. */
    record Reused() implements Claim {}
  }

  private final CqlSession session;
  private final PreparedStatement claim;
  private final PreparedStatement complete;
  private final PreparedStatement release;

  public RequestIdStore(CqlSession session, String keyspace) {
    this.session = session;
    claim = session.prepare("INSERT INTO " + keyspace + ".request_ids (tenant, request_id, payload_sha256, created_at)"
        + " VALUES (?, ?, ?, ?) IF NOT EXISTS");
    complete = session.prepare("UPDATE " + keyspace + ".request_ids SET response = ?"
        + " WHERE tenant = ? AND request_id = ?");
    release = session.prepare("DELETE FROM " + keyspace + ".request_ids WHERE tenant = ? AND request_id = ?");
  }

  public CompletionStage<Claim> claim(String tenant, String requestId, String payloadSha256) {
    return session.executeAsync(claim.bind(tenant, requestId, payloadSha256, Instant.now())).thenApply(rs -> {
      if (rs.wasApplied()) {
        return new Claim.Claimed();
      }
      Row existing = rs.one();
      if (existing == null || !payloadSha256.equals(existing.getString("payload_sha256"))) {
        return new Claim.Reused();
      }
      ByteBuffer response = existing.getByteBuffer("response");
      if (response == null) {
        return new Claim.InProgress();
      }
      byte[] bytes = new byte[response.remaining()];
      response.duplicate().get(bytes);
      return new Claim.Done(bytes);
    });
  }

  public CompletionStage<Void> complete(String tenant, String requestId, byte[] response) {
    return session.executeAsync(complete.bind(ByteBuffer.wrap(response), tenant, requestId)).thenAccept(rs -> { });
  }

  /** Frees the id after a failure that changed nothing, so the caller may retry with it. */
  public CompletionStage<Void> release(String tenant, String requestId) {
    return session.executeAsync(release.bind(tenant, requestId)).thenAccept(rs -> { });
  }
}
