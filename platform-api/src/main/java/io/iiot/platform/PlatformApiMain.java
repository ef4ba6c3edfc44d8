package io.iiot.platform;

import io.iiot.base.runtime.ServiceRuntime;

/** Entry point of platform-api: wiring only. */
public final class PlatformApiMain {
  private PlatformApiMain() {}

  public static void main(String[] args) {
    ServiceRuntime.run("platform-api", "db/platform", PlatformApiModule::new);
  }
}
