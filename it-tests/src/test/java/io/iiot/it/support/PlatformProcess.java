package io.iiot.it.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** The README's run command ({@code scripts/run-platform.sh}, without its build step) as a child process. */
public final class PlatformProcess {
  public static final int[] READY_PORTS = {8000, 8081, 8082};

  private final Process process;
  private final Path log;

  private PlatformProcess(Process process, Path log) {
    this.process = process;
    this.log = log;
  }

  public static PlatformProcess start(Map<String, String> env) throws IOException {
    Path log = Path.of("target", "logs", "platform-" + System.nanoTime() + ".log").toAbsolutePath();
    Files.createDirectories(log.getParent());
    ProcessBuilder pb = new ProcessBuilder(ServiceProcess.home().resolve("scripts/run-platform.sh").toString(),
        "--no-build")
        .directory(ServiceProcess.home().toFile())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    pb.environment().putAll(env);
    return new PlatformProcess(pb.start(), log);
  }

  /** Waits until every service's /health/ready answers 200; returns how long that took. */
  public Duration awaitReady(Duration timeout) throws InterruptedException, IOException {
    long t0 = System.nanoTime();
    for (int port : READY_PORTS) {
      Duration left = timeout.minusNanos(System.nanoTime() - t0);
      if (!process.isAlive()) {
        throw new AssertionError("run command exited with " + process.exitValue() + ":\n" + output());
      }
      try {
        Http.await("http://127.0.0.1:" + port + "/health/ready", s -> s == 200, left.isNegative() ? Duration.ZERO : left);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "\nrun command output:\n" + output(), e);
      }
    }
    return Duration.ofNanos(System.nanoTime() - t0);
  }

  /** This process and all its descendants, now. */
  public List<ProcessHandle> tree() {
    List<ProcessHandle> all = new ArrayList<>();
    all.add(process.toHandle());
    process.toHandle().descendants().forEach(all::add);
    return all;
  }

  public Process process() {
    return process;
  }

  public String output() throws IOException {
    return Files.readString(log);
  }

  /** Waits until none of {@code handles} is alive; returns the ones still alive after {@code timeout}. */
  public static List<ProcessHandle> awaitGone(List<ProcessHandle> handles, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    List<ProcessHandle> alive = handles;
    while (System.nanoTime() < deadline) {
      alive = handles.stream().filter(ProcessHandle::isAlive).toList();
      if (alive.isEmpty()) {
        return alive;
      }
      Thread.sleep(100);
    }
    return alive;
  }

  /** Last resort so a failed test leaves nothing running. */
  public void killAll() {
    tree().forEach(ProcessHandle::destroyForcibly);
  }
}
