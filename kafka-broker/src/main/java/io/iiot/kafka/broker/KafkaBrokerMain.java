package io.iiot.kafka.broker;

import java.util.Optional;

/**
 * Runs the Kafka broker ({@code kafka.Kafka}, KRaft, one node) and ends it when the launching process is gone, even
 * after {@code kill -9} of it, so a crashed test run leaves no broker behind. Java cannot ask for a parent-death
 * signal, so this polls.
 *
 * <p>The launcher's pid comes in {@code -Diiot.parent.pid}. This class runs on the broker's classpath only.
 */
public final class KafkaBrokerMain {
  private KafkaBrokerMain() {}

  public static void main(String[] args) throws Exception {
    String pid = System.getProperty("iiot.parent.pid");
    if (pid != null && !pid.isBlank()) {
      long parent = Long.parseLong(pid.trim());
      Thread watchdog = new Thread(() -> {
        while (true) {
          Optional<ProcessHandle> p = ProcessHandle.of(parent);
          if (p.isEmpty() || !p.get().isAlive()) {
            System.err.println("embedded Kafka: launcher (pid " + parent + ") is gone; shutting down");
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
    kafka.Kafka.main(args);
  }
}
