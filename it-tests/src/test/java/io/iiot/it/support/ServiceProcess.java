package io.iiot.it.support;

import io.iiot.base.config.ServiceConfig;
import io.iiot.base.launch.ChildJvm;
import io.iiot.base.launch.PlatformLauncher;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** One of the services run as the real deployable: a child JVM on its built jar, output in a log file. */
public final class ServiceProcess implements AutoCloseable {
  private final ChildJvm jvm;
  private final Path log;
  private final Map<String, String> env;

  private ServiceProcess(ChildJvm jvm, Path log, Map<String, String> env) {
    this.jvm = jvm;
    this.log = log;
    this.env = env;
  }

  /** The repository root (set by failsafe as {@code iiot.home}). */
  public static Path home() {
    return Path.of(System.getProperty("iiot.home", "..")).toAbsolutePath().normalize();
  }

  /**
   * Where the services' built layouts ({@code <module>/target/<module>.jar + lib}) are taken from: {@code
   * -Diiot.services-home}, else the repository root. A separate checkout (git worktree) keeps a long run independent
   * of rebuilds in the working tree.
   */
  public static Path servicesHome() {
    String dir = System.getProperty("iiot.services-home", "");
    return dir.isBlank() ? home() : Path.of(dir).toAbsolutePath().normalize();
  }

  /** Every {@code *port} key of the service's YAML mapped to a free loopback port, as environment variables. */
  public static Map<String, String> freePorts(String service) throws IOException {
    Map<String, String> env = new HashMap<>();
    for (String key : config(service, Map.of()).keys()) {
      if (key.endsWith("port")) {
        env.put(ServiceConfig.envName(service, key), Integer.toString(EmbeddedCassandraExtension.freePort()));
      }
    }
    return env;
  }

  /** The service's configuration as it would see it with {@code env}. */
  public static ServiceConfig config(String service, Map<String, String> env) throws IOException {
    return PlatformLauncher.readConfig(service, servicesHome().resolve(service).resolve("target/" + service + ".jar"),
        env);
  }

  public static ServiceProcess start(String service, Map<String, String> env) throws IOException {
    return start(service, env, List.of("-Xmx256M"));
  }

  /** Starts the service with these JVM options (heap size and the like). */
  public static ServiceProcess start(String service, Map<String, String> env, List<String> jvmArgs)
      throws IOException {
    Path module = servicesHome().resolve(service);
    Path log = Path.of("target", "logs", service + "-" + System.nanoTime() + ".log").toAbsolutePath();
    ChildJvm jvm = ChildJvm.start(service, List.of(), Path.of(System.getProperty("java.home")),
        jvmArgs, List.of(module.resolve("target/" + service + ".jar"), module.resolve("target/lib/*")),
        PlatformLauncher.MAINS.get(service), List.of(), env, log);
    return new ServiceProcess(jvm, log, Map.copyOf(env));
  }

  public int port(String service, String key) throws IOException {
    return config(service, env).port(key);
  }

  public ChildJvm jvm() {
    return jvm;
  }

  /**
   * Waits until {@code /health/ready} answers 200. Fails at once when the process has exited, and in every failure
   * shows the end of the service's log: a CI report then says why the service did not come up.
   */
  public Duration awaitReady(Duration within) throws IOException, InterruptedException {
    String service = jvm.name();
    String url = "http://127.0.0.1:" + port(service, "http.port") + "/health/ready";
    long t0 = System.nanoTime();
    while (true) {
      if (Http.status(url) == 200) {
        return Duration.ofNanos(System.nanoTime() - t0);
      }
      if (!jvm.isAlive()) {
        throw new AssertionError(service + " exited with " + jvm.process().exitValue() + " before it was ready;"
            + " its log ends:\n" + logTail());
      }
      if (System.nanoTime() - t0 > within.toNanos()) {
        throw new AssertionError(url + " not 200 within " + within + " (last " + Http.status(url) + "); " + service
            + " log ends:\n" + logTail());
      }
      Thread.sleep(200);
    }
  }

  /** The last 40 lines of the service's log. */
  public String logTail() throws IOException {
    List<String> lines = output().lines().toList();
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
  }

  public String output() throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }

  @Override
  public void close() throws InterruptedException {
    jvm.stop(Duration.ofSeconds(20));
  }
}
