package io.iiot.resolver;

import io.iiot.base.runtime.ServiceRuntime;

/** Entry point of resolver-node: wiring only. */
public final class ResolverNodeMain {
  private ResolverNodeMain() {}

  public static void main(String[] args) {
    ServiceRuntime.run("resolver-node", "db/resolver", ResolverNodeModule::new);
  }
}
