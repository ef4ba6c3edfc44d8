package io.iiot.devicehub;

import io.iiot.base.runtime.ServiceRuntime;

/** Entry point of device-hub: wiring only. */
public final class DeviceHubMain {
  private DeviceHubMain() {}

  public static void main(String[] args) {
    ServiceRuntime.run("device-hub", "db/devicehub", DeviceHubModule::new);
  }
}
