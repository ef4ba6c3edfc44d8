package io.iiot.cassandra.server;

import java.util.Optional;
import org.apache.cassandra.service.CassandraDaemon;

/**
 * Runs {@link CassandraDaemon} and ends it (through Cassandra's own shutdown hook, which drains) when the launching
 * process is gone, even after {@code kill -9} of it. Java cannot ask for a parent-death signal, so this polls.
 *
 * <p>The launcher's pid comes in {@code -Diiot.parent.pid}. This class runs on the server's classpath only.
 */
public final class EmbeddedCassandraMain {
  private EmbeddedCassandraMain() {}

  public static void main(String[] args) {
    String pid = System.getProperty("iiot.parent.pid");
    if (pid != null && !pid.isBlank()) {
      long parent = Long.parseLong(pid.trim());
      Thread watchdog = new Thread(() -> {
        while (true) {
          Optional<ProcessHandle> p = ProcessHandle.of(parent);
          if (p.isEmpty() || !p.get().isAlive()) {
            System.err.println("embedded Cassandra: launcher (pid " + parent + ") is gone; shutting down");
            System.exit(0);
          }
          try {
            Thread.sleep(500);
          } catch (InterruptedException e) {
            return;
          }
        }
      }, "iiot-parent-watchdog");
      watchdog.setDaemon(true);
      watchdog.start();
    }
    CassandraDaemon.main(args);
  }
}
