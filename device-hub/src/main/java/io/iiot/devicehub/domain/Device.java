package io.iiot.devicehub.domain;

import java.time.Instant;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A registered device.
 *
 * @param profileId the device profile naming its telemetry schema
 * @param via ids of the gateways allowed to publish for this device (Hono's {@code via})
 */
public record Device(String tenant, String deviceId, String profileId, boolean enabled, Set<String> via,
    Instant createdAt) {
  /** Ids of tenants, devices and profiles: safe in MQTT topics, CoAP paths and PSK identities. */
  public static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}");

  public Device {
    via = Set.copyOf(via);
  }

  public DeviceRef ref() {
    return new DeviceRef(tenant, deviceId);
  }

  /** Whether the gateway {@code gatewayId} (same tenant) may publish for this device. */
  public boolean acceptsGateway(String gatewayId) {
    return via.contains(gatewayId);
  }

  /** Throws if {@code id} is not a valid tenant, device or profile id. */
  public static String checkId(String what, String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException(what + " '" + id
          + "' must be 1-128 characters: letters, digits, '_', '.', ':', '-', starting with a letter or digit");
    }
    return id;
  }
}
