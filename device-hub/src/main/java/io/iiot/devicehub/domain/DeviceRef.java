package io.iiot.devicehub.domain;

/** A device by its ids. */
public record DeviceRef(String tenant, String deviceId) {
  @Override
  public String toString() {
    return deviceId + "@" + tenant;
  }
}
