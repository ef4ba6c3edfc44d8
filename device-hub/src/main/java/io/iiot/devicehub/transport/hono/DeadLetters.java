package io.iiot.devicehub.transport.hono;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The {@code hono_dead_letter} table: records that cannot become telemetry, with the reason. Inserts are idempotent
 * (keyed by topic, partition and offset), so a redelivered poison record does not add a second entry.
 */
final class DeadLetters {
  private final CqlSession session;
  private final PreparedStatement insert;

  DeadLetters(CqlSession session, String keyspace) {
    this.session = session;
    this.insert = session.prepare("INSERT INTO " + keyspace + ".hono_dead_letter (tenant, day, topic, kafka_partition,"
        + " kafka_offset, device_id, reason, content_type, headers, payload, received_at)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  }

  /** Completes after Cassandra acknowledged the entry. */
  CompletionStage<Void> add(String tenant, String topic, int partition, long offset, String deviceId, String reason,
      Map<String, String> headers, byte[] payload, Instant receivedAt) {
    return session.executeAsync(insert.boundStatementBuilder()
            .setString(0, tenant)
            .setLocalDate(1, LocalDate.ofInstant(receivedAt, ZoneOffset.UTC))
            .setString(2, topic)
            .setInt(3, partition)
            .setLong(4, offset)
            .setString(5, deviceId)
            .setString(6, reason)
            .setString(7, headers.get("content-type"))
            .setMap(8, headers, String.class, String.class)
            .setByteBuffer(9, ByteBuffer.wrap(payload))
            .setInstant(10, receivedAt)
            .setIdempotence(true)
            .build())
        .thenApply(rs -> null);
  }
}
