package io.iiot.base.launch;

import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import java.io.IOException;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The run command: starts embedded Cassandra (unless {@code cassandra.contact-points} names a cluster), then the
 * three services as child JVMs, waits until every {@code /health/ready} answers 200 and prints every endpoint.
 * SIGTERM or Ctrl-C stops the services, then Cassandra, and leaves no process; if this process is killed outright,
 * each child notices within a second and stops itself.
 */
public final class PlatformLauncher {
  private static final Logger LOG = LoggerFactory.getLogger(PlatformLauncher.class);

  /** Main classes of the services, by module name. */
  public static final Map<String, String> MAINS = Map.of(
      "resolver-node", "io.iiot.resolver.ResolverNodeMain",
      "device-hub", "io.iiot.devicehub.DeviceHubMain",
      "platform-api", "io.iiot.platform.PlatformApiMain");

  /** Config keys that name a listening port, with what to print for them. */
  private static final Map<String, String> ENDPOINTS = linked(
      "handle.port", "Handle protocol (TCP+UDP)",
      "http.port", "HTTP (/health/live, /health/ready, /metrics)",
      "grpc.port", "gRPC",
      "mqtt.port", "MQTT",
      "mqtt.tls-port", "MQTT over TLS",
      "coap.port", "CoAP (UDP)",
      "coap.dtls-port", "CoAP over DTLS (UDP)");

  private final List<ChildJvm> services = new ArrayList<>();
  private volatile boolean stopping;
  private EmbeddedCassandra cassandra;

  public static void main(String[] args) {
    try {
      new PlatformLauncher().run();
    } catch (ConfigException e) {
      System.err.println("platform: " + e.getMessage());
      System.exit(2);
    } catch (Exception e) {
      LOG.error("platform: {}", e.getMessage());
      System.exit(1);
    }
  }

  private void run() throws Exception {
    ServiceConfig config = ServiceConfig.load("platform");
    Path home = config.optional("platform.home").map(Path::of).orElseGet(PlatformLauncher::findHome)
        .toAbsolutePath().normalize();
    List<String> names = config.list("platform.services");
    for (String n : names) {
      if (!MAINS.containsKey(n)) {
        throw new ConfigException("Invalid configuration: platform.services item '" + n + "': expected one of "
            + MAINS.keySet());
      }
    }
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopAll, "platform-shutdown"));

    long t0 = System.nanoTime();
    Map<String, String> env = new HashMap<>();
    Optional<String> external = config.optional("cassandra.contact-points");
    String contactPoints;
    if (external.isPresent()) {
      contactPoints = external.get();
      LOG.info("Using the external Cassandra cluster at {}; nothing is launched", contactPoints);
    } else {
      Path dataDir = home.resolve(config.string("cassandra.embedded.data-dir")).normalize();
      int nativePort = config.port("cassandra.embedded.native-port");
      EmbeddedCassandra.Settings defaults = EmbeddedCassandra.Settings.of(dataDir, nativePort,
          config.port("cassandra.embedded.storage-port"));
      String heap = config.string("cassandra.embedded.heap");
      if (!heap.matches("\\d+[MG]")) {
        throw new ConfigException("Invalid configuration: cassandra.embedded.heap = '" + heap
            + "': expected a size such as 512M or 1G");
      }
      cassandra = new EmbeddedCassandra(new EmbeddedCassandra.Settings(defaults.dataDir(), defaults.nativePort(),
          defaults.storagePort(), heap, home.resolve("cassandra-server"), defaults.javaHome(),
          defaults.startTimeout()));
      cassandra.start();
      contactPoints = "127.0.0.1:" + nativePort;
      env.put("CASSANDRA_CONTACT_POINTS", contactPoints);
    }

    Map<String, ServiceConfig> configs = new LinkedHashMap<>();
    for (String name : names) {
      Path module = home.resolve(name);
      List<Path> classpath = List.of(module.resolve("target/" + name + ".jar"), module.resolve("target/lib/*"));
      if (!Files.isRegularFile(classpath.get(0))) {
        throw new IllegalStateException(classpath.get(0) + " is missing; build first (mvn -DskipTests package)");
      }
      Map<String, String> childEnv = new HashMap<>(System.getenv());
      childEnv.putAll(env);
      configs.put(name, readConfig(name, classpath.get(0), childEnv));
      ChildJvm jvm = ChildJvm.start(name, List.of(), Path.of(System.getProperty("java.home")),
          List.of("-Xms64M", "-Xmx512M", "-XX:+ExitOnOutOfMemoryError"), classpath, MAINS.get(name), List.of(),
          env, null);
      services.add(jvm);
      LOG.info("Started {} (pid {})", name, jvm.pid());
    }

    awaitReady(configs, config.duration("platform.ready-timeout"));
    System.out.println(banner(contactPoints, configs, (System.nanoTime() - t0) / 1_000_000));
    watchChildren();
  }

  /** A service's configuration as it will see it with {@code env}, read from the defaults bundled in its jar. */
  public static ServiceConfig readConfig(String name, Path jar, Map<String, String> env) throws IOException {
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      return ServiceConfig.load(name, env, loader);
    }
  }

  private void awaitReady(Map<String, ServiceConfig> configs, Duration timeout) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Map.Entry<String, ServiceConfig> e : configs.entrySet()) {
      URI ready = URI.create("http://127.0.0.1:" + e.getValue().port("http.port") + "/health/ready");
      while (true) {
        for (ChildJvm s : services) {
          if (!s.isAlive()) {
            throw new IllegalStateException(s.name() + " exited with code " + s.process().exitValue());
          }
        }
        try {
          HttpResponse<Void> r = http.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(3)).build(),
              HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() == 200) {
            break;
          }
        } catch (IOException ignored) {
          // not listening yet
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(e.getKey() + " not ready after " + timeout.toSeconds() + " s (" + ready + ")");
        }
        Thread.sleep(250);
      }
    }
  }

  private static String banner(String contactPoints, Map<String, ServiceConfig> configs, long millis) {
    StringBuilder b = new StringBuilder("\n=== IIoT platform ready in ").append(millis).append(" ms ===\n");
    b.append(String.format("  %-14s %-44s %s%n", "cassandra", "CQL", contactPoints));
    configs.forEach((name, cfg) -> ENDPOINTS.forEach((key, what) -> {
      if (cfg.has(key)) {
        b.append(String.format("  %-14s %-44s 127.0.0.1:%d%n", name, what, cfg.port(key)));
      }
    }));
    return b.append("Stop with Ctrl-C (SIGTERM).\n").toString();
  }

  /** Stays in the foreground; if a service dies, stops the whole platform. */
  private void watchChildren() throws InterruptedException {
    List<CompletableFuture<Process>> exits = new ArrayList<>();
    for (ChildJvm s : services) {
      exits.add(s.process().onExit());
    }
    if (cassandra != null) {
      exits.add(ProcessHandle.of(cassandra.pid()).map(h -> h.onExit().thenApply(x -> (Process) null))
          .orElse(CompletableFuture.completedFuture(null)));
    }
    CompletableFuture.anyOf(exits.toArray(CompletableFuture[]::new)).join();
    // A SIGTERM to the whole process group reaches the children too; give our own hook the chance to say so.
    Thread.sleep(500);
    if (stopping) {
      return;
    }
    LOG.error("A platform process exited unexpectedly; stopping the platform");
    System.exit(1);
  }

  private synchronized void stopAll() {
    stopping = true;
    List<Thread> stoppers = new ArrayList<>();
    for (ChildJvm s : services) {
      Thread t = new Thread(() -> {
        try {
          int code = s.stop(Duration.ofSeconds(15));
          LOG.info("{} stopped (exit {})", s.name(), code);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      t.start();
      stoppers.add(t);
    }
    try {
      for (Thread t : stoppers) {
        t.join();
      }
      if (cassandra != null) {
        cassandra.stop();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static Path findHome() {
    for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
      if (Files.isRegularFile(p.resolve("pom.xml")) && Files.isDirectory(p.resolve("cassandra-server"))) {
        return p;
      }
    }
    throw new ConfigException("Invalid configuration: platform.home is empty and no parent of "
        + Path.of("").toAbsolutePath() + " holds the project; set PLATFORM_HOME");
  }

  private static Map<String, String> linked(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }
}
