package io.iiot.devicehub.domain;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where a device publishes, in Hono's MQTT topic and CoAP path convention:
 *
 * <pre>
 * telemetry | t                       the authenticated device itself
 * telemetry/&lt;tenant&gt;/&lt;device&gt;       explicit; must match the credentials, or be a device the gateway acts for
 * telemetry//&lt;device&gt;                a gateway publishing for one of its devices (tenant from the credentials)
 * event | e ...                       the same forms for events
 * .../?content-type=application%2Fjson  optional property bag as the last segment (MQTT only)
 * </pre>
 *
 * @param tenant the tenant named in the address, or empty when left to the credentials
 * @param deviceId the device named in the address, or empty when left to the credentials
 * @param properties the decoded property bag, empty if none
 */
public record PublishAddress(Endpoint endpoint, String tenant, String deviceId, Map<String, String> properties) {

  /** Parses an MQTT topic name (or a CoAP path joined with '/'). */
  public static PublishAddress parse(String topic) throws AddressException {
    if (topic == null || topic.isEmpty()) {
      throw invalid("empty topic");
    }
    Map<String, String> props = Map.of();
    String path = topic;
    int bag = topic.indexOf("/?");
    if (bag >= 0) {
      props = properties(topic.substring(bag + 2));
      path = topic.substring(0, bag);
    }
    String[] seg = path.split("/", -1);
    Endpoint endpoint = switch (seg[0]) {
      case "t", "telemetry" -> Endpoint.TELEMETRY;
      case "e", "event" -> Endpoint.EVENT;
      default -> throw invalid("topic '" + topic + "' must start with telemetry, t, event or e");
    };
    if (seg.length == 1) {
      return new PublishAddress(endpoint, "", "", props);
    }
    if (seg.length == 3 && !seg[2].isEmpty()) {
      return new PublishAddress(endpoint, seg[1], seg[2], props);
    }
    throw invalid("topic '" + topic + "' must be " + seg[0] + ", " + seg[0] + "/<tenant>/<device> or " + seg[0]
        + "//<device>");
  }

  /**
   * The device this message is for, given who is authenticated. A different tenant is refused; a different device is
   * allowed here and must then be checked with {@link Device#acceptsGateway(String)} once that device is looked up.
   */
  public DeviceRef target(DeviceRef authenticated) throws AddressException {
    String t = tenant.isEmpty() ? authenticated.tenant() : tenant;
    if (!t.equals(authenticated.tenant())) {
      throw new AddressException(AddressException.Kind.FORBIDDEN,
          "tenant '" + t + "' is not the tenant of the authenticated device");
    }
    return new DeviceRef(t, deviceId.isEmpty() ? authenticated.deviceId() : deviceId);
  }

  /** The {@code content-type} property, or null. */
  public String contentType() {
    return properties.get("content-type");
  }

  private static Map<String, String> properties(String query) throws AddressException {
    Map<String, String> out = new LinkedHashMap<>();
    if (query.isEmpty()) {
      return out;
    }
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      try {
        String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
        String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
        out.put(k, v);
      } catch (IllegalArgumentException e) {
        throw invalid("property bag '" + query + "' is not URL-encoded");
      }
    }
    return Map.copyOf(out);
  }

  private static AddressException invalid(String message) {
    return new AddressException(AddressException.Kind.INVALID, message);
  }
}
