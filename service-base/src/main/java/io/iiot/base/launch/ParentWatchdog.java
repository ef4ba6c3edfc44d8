package io.iiot.base.launch;

import java.util.Optional;

/**
 * Ends this JVM (through its shutdown hooks, so gracefully) when the process that launched it is gone, including
 * after {@code kill -9} of that process. Java cannot set {@code PR_SET_PDEATHSIG}, so the child polls instead.
 *
 * <p>Active only when the launcher passes its pid in {@value #ENV}; a service run by Kubernetes has no such parent.
 */
public final class ParentWatchdog {
  /** Environment variable holding the launcher's pid. */
  public static final String ENV = "IIOT_PARENT_PID";

  private ParentWatchdog() {}

  public static void startIfRequested(String name) {
    String pid = System.getenv(ENV);
    if (pid == null || pid.isBlank()) {
      return;
    }
    long parent = Long.parseLong(pid.trim());
    Thread t = new Thread(() -> {
      while (true) {
        Optional<ProcessHandle> p = ProcessHandle.of(parent);
        if (p.isEmpty() || !p.get().isAlive()) {
          System.err.println(name + ": launcher (pid " + parent + ") is gone; shutting down");
          System.exit(0);
        }
        try {
          Thread.sleep(500);
        } catch (InterruptedException e) {
          return;
        }
      }
    }, name + "-parent-watchdog");
    t.setDaemon(true);
    t.start();
  }
}
