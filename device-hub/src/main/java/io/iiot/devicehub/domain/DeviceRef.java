package io.iiot.devicehub.domain;

/** A device by its ids. */
public record DeviceRef(String tenant, String deviceId) {
  // equals and hashCode written out: compared on every message, and a record's generated ones run through
  // method-handle chains that showed up on the message path's profile.
  @Override
  public boolean equals(Object o) {
    return o instanceof DeviceRef d && tenant.equals(d.tenant) && deviceId.equals(d.deviceId);
  }

  @Override
  public int hashCode() {
    return 31 * tenant.hashCode() + deviceId.hashCode();
  }

  @Override
  public String toString() {
    return deviceId + "@" + tenant;
  }
}
