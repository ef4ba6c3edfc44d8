package io.iiot.devicehub.api;

import io.iiot.devicehub.domain.Device;

/** Resource names of iiot.device.v1: {@code tenants/{t}}, {@code tenants/{t}/devices/{d}}, {@code …/profiles/{p}}. */
final class Names {
  private Names() {}

  static String tenant(String field, String name) {
    String[] s = name.split("/", -1);
    if (s.length != 2 || !s[0].equals("tenants") || !Device.ID.matcher(s[1]).matches()) {
      throw ApiErrors.invalid(field, "expected tenants/{tenant}, got '" + name + "'");
    }
    return s[1];
  }

  /** {tenant, device}. */
  static String[] device(String field, String name) {
    return child(field, name, "devices");
  }

  /** {tenant, profile}. */
  static String[] profile(String field, String name) {
    return child(field, name, "profiles");
  }

  static String deviceName(String tenant, String deviceId) {
    return "tenants/" + tenant + "/devices/" + deviceId;
  }

  private static String[] child(String field, String name, String collection) {
    String[] s = name.split("/", -1);
    if (s.length != 4 || !s[0].equals("tenants") || !s[2].equals(collection) || !Device.ID.matcher(s[1]).matches()
        || !Device.ID.matcher(s[3]).matches()) {
      throw ApiErrors.invalid(field, "expected tenants/{tenant}/" + collection + "/{id}, got '" + name + "'");
    }
    return new String[] {s[1], s[3]};
  }
}
