package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.CommandResponse;
import io.iiot.devicehub.domain.CommandState;
import io.iiot.devicehub.domain.CommandStatus;
import io.iiot.devicehub.domain.DeviceRef;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Commands and their status in Cassandra ({@code commands}, V004). Status changes are lightweight transactions
 * conditioned on the statuses they may leave ({@link CommandStatus#canMoveTo}), so concurrent answer / timeout /
 * delivery updates from different replicas settle on one outcome.
 */
public final class CommandStore {
  private static final String COLUMNS = "command_id, name, payload, content_type, correlation_id, response_required,"
      + " created_at, expires_at, status, updated_at, failure, response_status, response_payload,"
      + " response_content_type, responded_at";

  /** A page of commands, newest first, and the id to continue after (null on the last page). */
  public record Page(List<CommandState> commands, String nextAfter) {}

  private final CqlSession session;
  private final int retentionSeconds;
  private final PreparedStatement insert;
  private final PreparedStatement select;
  private final PreparedStatement selectPage;
  private final PreparedStatement selectPageAfter;
  private final PreparedStatement delivered;
  private final PreparedStatement answered;
  private final PreparedStatement ended;

  public CommandStore(CqlSession session, String keyspace, Duration retention) {
    this.session = session;
    this.retentionSeconds = (int) retention.toSeconds();
    String t = keyspace + ".commands";
    insert = session.prepare("INSERT INTO " + t + " (tenant, device_id, command_id, name, payload, content_type,"
        + " correlation_id, response_required, created_at, expires_at, status, updated_at)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'SENT', ?) USING TTL ?");
    select = session.prepare("SELECT " + COLUMNS + " FROM " + t + " WHERE tenant = ? AND device_id = ?"
        + " AND command_id = ?");
    selectPage = session.prepare("SELECT " + COLUMNS + " FROM " + t + " WHERE tenant = ? AND device_id = ? LIMIT ?");
    selectPageAfter = session.prepare("SELECT " + COLUMNS + " FROM " + t + " WHERE tenant = ? AND device_id = ?"
        + " AND command_id < ? LIMIT ?");
    delivered = session.prepare("UPDATE " + t + " USING TTL ? SET status = 'DELIVERED', updated_at = ?"
        + " WHERE tenant = ? AND device_id = ? AND command_id = ? IF status = 'SENT'");
    answered = session.prepare("UPDATE " + t + " USING TTL ? SET status = 'ANSWERED', updated_at = ?,"
        + " response_status = ?, response_payload = ?, response_content_type = ?, responded_at = ?"
        + " WHERE tenant = ? AND device_id = ? AND command_id = ? IF status IN ('SENT', 'DELIVERED')");
    ended = session.prepare("UPDATE " + t + " USING TTL ? SET status = ?, updated_at = ?, failure = ?"
        + " WHERE tenant = ? AND device_id = ? AND command_id = ? IF status IN ?");
  }

  public CompletionStage<Void> insert(Command c) {
    return session.executeAsync(insert.bind(c.device().tenant(), c.device().deviceId(), c.id(), c.name(),
        ByteBuffer.wrap(c.payload()), c.contentType(), c.correlationId(), c.responseRequired(), c.createdAt(),
        c.expiresAt(), c.createdAt(), retentionSeconds)).thenApply(rs -> null);
  }

  public CompletionStage<Optional<CommandState>> get(DeviceRef device, String commandId) {
    return session.executeAsync(select.bind(device.tenant(), device.deviceId(), commandId))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(r -> state(device, r)));
  }

  /** Up to {@code limit} commands, newest first, older than {@code after} when it is not null. */
  public CompletionStage<Page> list(DeviceRef device, String after, int limit) {
    var stmt = after == null ? selectPage.bind(device.tenant(), device.deviceId(), limit + 1)
        : selectPageAfter.bind(device.tenant(), device.deviceId(), after, limit + 1);
    return session.executeAsync(stmt).thenApply(rs -> {
      List<CommandState> out = new ArrayList<>();
      for (Row r : rs.currentPage()) {
        out.add(state(device, r));
      }
      if (out.size() > limit) {
        out = out.subList(0, limit);
        return new Page(List.copyOf(out), out.get(limit - 1).command().id());
      }
      return new Page(List.copyOf(out), null);
    });
  }

  /** SENT → DELIVERED. Completes with whether it applied. */
  public CompletionStage<Boolean> markDelivered(DeviceRef device, String commandId, Instant now) {
    return session.executeAsync(delivered.bind(retentionSeconds, now, device.tenant(), device.deviceId(), commandId))
        .thenApply(AsyncResultSet::wasApplied);
  }

  /** SENT/DELIVERED → ANSWERED with the response. Completes with whether it applied. */
  public CompletionStage<Boolean> markAnswered(DeviceRef device, String commandId, CommandResponse r) {
    return session.executeAsync(answered.bind(retentionSeconds, r.receivedAt(), r.status(),
            ByteBuffer.wrap(r.payload()), r.contentType(), r.receivedAt(), device.tenant(), device.deviceId(),
            commandId))
        .thenApply(AsyncResultSet::wasApplied);
  }

  /**
   * → TIMED_OUT or FAILED from any status that may move there (a one-way command that was DELIVERED is done and
   * cannot time out). Completes with whether it applied.
   */
  public CompletionStage<Boolean> markEnded(DeviceRef device, String commandId, CommandStatus status, String failure,
      boolean responseRequired, Instant now) {
    List<String> from = responseRequired ? List.of("SENT", "DELIVERED") : List.of("SENT");
    return session.executeAsync(ended.bind(retentionSeconds, status.name(), now, failure, device.tenant(),
        device.deviceId(), commandId, from)).thenApply(AsyncResultSet::wasApplied);
  }

  private static CommandState state(DeviceRef device, Row r) {
    Command c = new Command(r.getString("command_id"), device, r.getString("name"), bytes(r, "payload"),
        r.getString("content_type"), r.getString("correlation_id"), r.getBoolean("response_required"),
        r.getInstant("created_at"), r.getInstant("expires_at"));
    CommandResponse response = r.isNull("response_status") ? null : new CommandResponse(r.getInt("response_status"),
        bytes(r, "response_payload"), r.getString("response_content_type"), r.getInstant("responded_at"));
    return new CommandState(c, CommandStatus.valueOf(r.getString("status")), response, r.getString("failure"),
        r.getInstant("updated_at"));
  }

  private static byte[] bytes(Row r, String column) {
    ByteBuffer b = r.getByteBuffer(column);
    if (b == null) {
      return new byte[0];
    }
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }
}
