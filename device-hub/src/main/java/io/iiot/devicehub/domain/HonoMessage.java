package io.iiot.devicehub.domain;

import java.time.Instant;
import java.util.Map;
import java.util.Set;

/**
 * One telemetry or event record of Hono's northbound Kafka API, as far as device-hub needs it:
 *
 * <pre>
 * topic   hono.telemetry.&lt;tenant&gt; | hono.event.&lt;tenant&gt;
 * headers device_id (mandatory), content-type, creation-time (ms since epoch), qos (0 | 1)
 * value   the device's payload, unchanged
 * </pre>
 *
 * @param contentType null when Hono carried none or only its "unknown" default ({@code application/octet-stream}):
 *     Hono's adapters put that default on every message whose device declared nothing, so it says nothing about the
 *     payload and the mapper then recognises the form itself
 * @param creationTime when the adapter received the message; the sample time of payloads without their own
 *     {@code ts}. It comes from the record, never from our clock, so a redelivered record maps to the same rows.
 */
public record HonoMessage(Endpoint endpoint, String tenant, String deviceId, String contentType, Instant creationTime,
    int qos) {
  public static final String TELEMETRY_PREFIX = "hono.telemetry.";
  public static final String EVENT_PREFIX = "hono.event.";
  private static final String UNKNOWN_TYPE = "application/octet-stream";
  /** The headers {@link #from} reads. */
  public static final Set<String> HEADERS = Set.of("device_id", "content-type", "creation-time", "qos");

  /** Why a record cannot be read as a Hono message; the reason goes to the dead-letter table. */
  public static final class InvalidException extends Exception {
    public InvalidException(String message) {
      super(message, null, false, false);
    }
  }

  /** The Kafka topic carrying {@code endpoint} messages of {@code tenant}. */
  public static String topic(Endpoint endpoint, String tenant) {
    return (endpoint == Endpoint.EVENT ? EVENT_PREFIX : TELEMETRY_PREFIX) + tenant;
  }

  /**
   * @param headers the record's headers, values decoded as UTF-8 (the last one wins when a key repeats)
   * @param recordTimestamp the Kafka record timestamp in ms, used only when {@code creation-time} is absent
   */
  public static HonoMessage from(String topic, Map<String, String> headers, long recordTimestamp)
      throws InvalidException {
    Endpoint endpoint;
    String tenant;
    if (topic.startsWith(TELEMETRY_PREFIX)) {
      endpoint = Endpoint.TELEMETRY;
      tenant = topic.substring(TELEMETRY_PREFIX.length());
    } else if (topic.startsWith(EVENT_PREFIX)) {
      endpoint = Endpoint.EVENT;
      tenant = topic.substring(EVENT_PREFIX.length());
    } else {
      throw new InvalidException("topic '" + topic + "' is not a Hono telemetry or event topic");
    }
    String deviceId = headers.get("device_id");
    if (deviceId == null || deviceId.isBlank()) {
      throw new InvalidException("record has no device_id header");
    }
    if (!Device.ID.matcher(deviceId).matches()) {
      throw new InvalidException("device_id '" + deviceId + "' is not a valid device id");
    }
    String type = headers.get("content-type");
    if (type != null && (type.isBlank() || type.trim().equalsIgnoreCase(UNKNOWN_TYPE))) {
      type = null;
    }
    Instant created;
    String ct = headers.get("creation-time");
    if (ct == null) {
      created = Instant.ofEpochMilli(recordTimestamp);
    } else {
      try {
        created = Instant.ofEpochMilli(Long.parseLong(ct.trim()));
      } catch (NumberFormatException e) {
        throw new InvalidException("creation-time '" + ct + "' is not a number of milliseconds");
      }
    }
    int qos = endpoint == Endpoint.EVENT ? 1 : 0;
    String q = headers.get("qos");
    if (q != null) {
      switch (q.trim()) {
        case "0" -> qos = 0;
        case "1" -> qos = 1;
        default -> throw new InvalidException("qos '" + q + "' is neither 0 nor 1");
      }
    }
    return new HonoMessage(endpoint, tenant, deviceId, type, created, qos);
  }
}
