package io.iiot.base.runtime;

import io.iiot.base.async.Failures;
import io.iiot.base.cassandra.CassandraConnector;
import io.iiot.base.cassandra.CassandraSettings;
import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.launch.ParentWatchdog;
import io.iiot.base.ops.Metrics;
import io.iiot.base.ops.OpsHttpServer;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

/**
 * The start and stop sequence shared by the three services.
 *
 * <pre>
 * config (validated, exit 2 on error) → Vert.x + metrics → ops HTTP (/health, /metrics)
 *   → Cassandra session + migrations (retried; ready stays 503 meanwhile) → module.start() → ready 200
 * SIGTERM → readiness 503 → module.stop() (finish in-flight) → close ops HTTP → close driver → close Vert.x
 * </pre>
 */
public final class ServiceRuntime {
  /** Exit code for an invalid configuration. */
  public static final int EXIT_CONFIG = 2;
  /** Exit code when the service cannot start serving. */
  public static final int EXIT_START = 1;

  private final String service;
  private final String migrationsDir;
  private final Function<ServiceConfig, ServiceModule> factory;
  private final Duration shutdownGrace = Duration.ofSeconds(15);
  private Logger log;

  private ServiceRuntime(String service, String migrationsDir, Function<ServiceConfig, ServiceModule> factory) {
    this.service = service;
    this.migrationsDir = migrationsDir;
    this.factory = factory;
  }

  /**
   * Runs a service until SIGTERM. {@code factory} reads and validates the module's own keys; a
   * {@link ConfigException} from it (or from the shared keys) ends the process with {@link #EXIT_CONFIG} and the
   * message on stderr, never a stack trace.
   */
  public static void run(String service, String migrationsDir, Function<ServiceConfig, ServiceModule> factory) {
    System.setProperty("vertx.logger-delegate-factory-class-name", "io.vertx.core.logging.SLF4JLogDelegateFactory");
    new ServiceRuntime(service, migrationsDir, factory).run();
  }

  private void run() {
    // Read by logback.xml for the log pattern; must be set before the first logger is created.
    System.setProperty("IIOT_SERVICE", service);
    ServiceConfig config;
    CassandraSettings cassandra;
    String httpHost;
    int httpPort;
    ServiceModule module;
    try {
      config = ServiceConfig.load(service);
      cassandra = CassandraSettings.from(config);
      httpHost = config.string("http.host");
      httpPort = config.port("http.port");
      module = factory.apply(config);
    } catch (ConfigException e) {
      System.err.println(service + ": " + e.getMessage());
      System.exit(EXIT_CONFIG);
      return;
    }
    SLF4JBridgeHandler.removeHandlersForRootLogger();
    SLF4JBridgeHandler.install();
    log = LoggerFactory.getLogger(ServiceRuntime.class);
    ParentWatchdog.startIfRequested(service);

    PrometheusMeterRegistry registry = Metrics.newRegistry(service);
    Vertx vertx = Vertx.vertx(Metrics.vertxOptions(registry));
    OpsHttpServer ops = new OpsHttpServer(vertx, registry);
    CassandraConnector connector = new CassandraConnector(vertx, cassandra, migrationsDir);
    ops.addReadinessCheck("cassandra", 3000, connector::probe);
    // Ready only once the module's transports listen, not merely once Cassandra answers.
    Promise<Void> moduleStarted = Promise.promise();
    ops.addReadinessCheck("transports", 1000, moduleStarted::future);

    Runtime.getRuntime().addShutdownHook(
        new Thread(() -> stop(vertx, ops, module, connector), service + "-shutdown"));

    ops.listen(httpHost, httpPort)
        .onFailure(err -> fatal("HTTP port " + httpHost + ":" + httpPort + " unavailable: " + err.getMessage()))
        .compose(s -> {
          log.info("{} HTTP on {}:{} (/health/live, /health/ready, /metrics)", service, httpHost, s.actualPort());
          return connector.start();
        })
        .compose(session -> vertx.executeBlocking(() -> module.start(
            new ServiceContext(vertx, config, session, registry, ops)), false).compose(f -> f))
        .onSuccess(v -> {
          moduleStarted.tryComplete();
          log.info("{} started", service);
        })
        .onFailure(err -> fatal("cannot start: " + err.getMessage()));
  }

  private void fatal(String message) {
    log.error("{} {}", service, message);
    System.err.println(service + ": " + message);
    // Exit from another thread: System.exit runs the shutdown hook, which waits for event-loop work.
    new Thread(() -> System.exit(EXIT_START), service + "-exit").start();
  }

  private void stop(Vertx vertx, OpsHttpServer ops, ServiceModule module, CassandraConnector connector) {
    log.info("{} stopping: readiness now 503, finishing in-flight work", service);
    ops.drain();
    try {
      module.stop()
          .recover(err -> {
            log.warn("{} module stop: {}", service, err.getMessage());
            return Future.succeededFuture();
          })
          .compose(v -> ops.close())
          .compose(v -> connector.close())
          .toCompletionStage().toCompletableFuture()
          .get(shutdownGrace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      log.warn("{} did not finish in-flight work within {}; closing anyway", service, shutdownGrace);
    } catch (ExecutionException e) {
      log.warn("{} stop: {}", service, Failures.cause(e).getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // Closed last and waited on from this (non-Vert.x) thread: listeners of futures bound to an event loop would
    // otherwise be dispatched to loops that are already shut down.
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      log.warn("{} Vert.x close: {}", service, e.getMessage());
    }
    log.info("{} stopped", service);
  }
}
