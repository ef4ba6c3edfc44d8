package io.iiot.platform;

import io.iiot.base.runtime.ServiceRuntime;
import io.iiot.platform.domain.ApiKeySecrets;

/** Entry point of platform-api: wiring only. */
public final class PlatformApiMain {
  private PlatformApiMain() {}

  /**
   * Runs the service. With {@code --new-api-key} it only prints a fresh random key for {@code auth.operator-key}
   * (store it in a secret; the service keeps only its hash) and exits.
   */
  public static void main(String[] args) {
    if (args.length == 1 && args[0].equals("--new-api-key")) {
      System.out.println(ApiKeySecrets.generate().fullKey());
      return;
    }
    ServiceRuntime.run("platform-api", "db/platform", PlatformApiModule::new);
  }
}
