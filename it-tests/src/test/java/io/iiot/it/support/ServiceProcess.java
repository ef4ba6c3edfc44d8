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
    return PlatformLauncher.readConfig(service, home().resolve(service).resolve("target/" + service + ".jar"), env);
  }

  public static ServiceProcess start(String service, Map<String, String> env) throws IOException {
    Path module = home().resolve(service);
    Path log = Path.of("target", "logs", service + "-" + System.nanoTime() + ".log").toAbsolutePath();
    ChildJvm jvm = ChildJvm.start(service, List.of(), Path.of(System.getProperty("java.home")),
        List.of("-Xmx256M"), List.of(module.resolve("target/" + service + ".jar"), module.resolve("target/lib/*")),
        PlatformLauncher.MAINS.get(service), List.of(), env, log);
    return new ServiceProcess(jvm, log, Map.copyOf(env));
  }

  public int port(String service, String key) throws IOException {
    return config(service, env).port(key);
  }

  public ChildJvm jvm() {
    return jvm;
  }

  public String output() throws IOException {
    return Files.exists(log) ? Files.readString(log) : "";
  }

  @Override
  public void close() throws InterruptedException {
    jvm.stop(Duration.ofSeconds(20));
  }
}
