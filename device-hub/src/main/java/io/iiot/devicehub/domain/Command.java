package io.iiot.devicehub.domain;

import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * A command for one device.
 *
 * @param id device-hub's id of the command: 20 hex digits, time-ordered (creation millis, then random), unique per
 *     device; also the request id ({@code req-id}) the device sees in Hono's MQTT topics and CoAP location path
 * @param name the command name ({@code <command>} in Hono's topics), 1-64 of letters, digits, {@code _.:-}
 * @param payload opaque bytes for the device (may be empty)
 * @param contentType MIME type of the payload, empty if not given
 * @param correlationId the caller's correlation id (echoed back, never interpreted); empty if none
 * @param responseRequired request/response (true) or one-way (false)
 * @param expiresAt creation time plus the TTL: after this, an undelivered or unanswered command is timed out
 */
public record Command(String id, DeviceRef device, String name, byte[] payload, String contentType,
    String correlationId, boolean responseRequired, Instant createdAt, Instant expiresAt) {
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,64}");
  public static final Pattern ID = Pattern.compile("[0-9a-f]{20}");
  public static final Duration MAX_TTL = Duration.ofHours(24);
  public static final int MAX_PAYLOAD_BYTES = 64 * 1024;
  private static final SecureRandom RANDOM = new SecureRandom();

  public Command {
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException("command id '" + id + "' must be 20 lower-case hex digits");
    }
    checkName(name);
    if (payload.length > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException("payload must be at most " + MAX_PAYLOAD_BYTES + " bytes");
    }
    contentType = contentType == null ? "" : contentType;
    correlationId = correlationId == null ? "" : correlationId;
    if (!expiresAt.isAfter(createdAt)) {
      throw new IllegalArgumentException("a command must expire after it was created");
    }
  }

  /** A new command, created now, living for {@code ttl}. */
  public static Command create(DeviceRef device, String name, byte[] payload, String contentType,
      String correlationId, boolean responseRequired, Instant now, Duration ttl) {
    checkTtl(ttl);
    // Cassandra keeps milliseconds: what is returned at once must equal what is read back later.
    Instant created = now.truncatedTo(ChronoUnit.MILLIS);
    return new Command(newId(created), device, name, payload, contentType, correlationId, responseRequired, created,
        created.plus(ttl).truncatedTo(ChronoUnit.MILLIS));
  }

  public static void checkName(String name) {
    if (name == null || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("command name '" + name
          + "' must be 1-64 letters, digits, '_', '.', ':' or '-' (it is a topic segment)");
    }
  }

  public static void checkTtl(Duration ttl) {
    if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("ttl must be above 0 and at most 24 hours");
    }
  }

  /** Time-ordered: ids compare (as strings) like their creation times. */
  static String newId(Instant now) {
    byte[] r = new byte[4];
    RANDOM.nextBytes(r);
    return String.format("%012x", now.toEpochMilli()) + HexFormat.of().formatHex(r);
  }

  public Duration ttl() {
    return Duration.between(createdAt, expiresAt);
  }

  public boolean expired(Instant now) {
    return !now.isBefore(expiresAt);
  }
}
