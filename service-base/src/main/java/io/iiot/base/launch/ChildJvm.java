package io.iiot.base.launch;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A JVM started as a child of this one: its command line, and a stop that tries SIGTERM before SIGKILL.
 *
 * <p>The child learns our pid through {@link ParentWatchdog#ENV} (or {@code -Diiot.parent.pid} for Cassandra, whose
 * wrapper has no access to this class) and ends itself if we die without stopping it.
 */
public final class ChildJvm {
  private final String name;
  private final Process process;

  private ChildJvm(String name, Process process) {
    this.name = name;
    this.process = process;
  }

  /**
   * Starts {@code java <jvmArgs> -cp <classpath> <mainClass>} with {@code env} added to ours. Output goes to
   * {@code log} if given, else to our own stdout/stderr.
   *
   * @param prefix commands to run the JVM under, e.g. {@code setpriv ...}; may be empty
   */
  public static ChildJvm start(String name, List<String> prefix, Path javaHome, List<String> jvmArgs,
      List<Path> classpath, String mainClass, List<String> args, Map<String, String> env, Path log) throws IOException {
    List<String> cmd = new ArrayList<>(prefix);
    cmd.add(javaHome.resolve("bin").resolve("java").toString());
    cmd.addAll(jvmArgs);
    cmd.add("-cp");
    cmd.add(String.join(File.pathSeparator, classpath.stream().map(Path::toString).toList()));
    cmd.add(mainClass);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.environment().put(ParentWatchdog.ENV, Long.toString(ProcessHandle.current().pid()));
    if (log != null) {
      Files.createDirectories(log.getParent());
      pb.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    } else {
      pb.inheritIO();
    }
    pb.redirectInput(ProcessBuilder.Redirect.PIPE);
    return new ChildJvm(name, pb.start());
  }

  public String name() {
    return name;
  }

  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public Process process() {
    return process;
  }

  /** SIGTERM, wait up to {@code grace}, then SIGKILL. Returns the exit code. Blocking. */
  public int stop(Duration grace) throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
      }
    }
    return process.waitFor();
  }

  /** SIGKILL, as a crash would. Blocking until the process is gone. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor();
  }
}
