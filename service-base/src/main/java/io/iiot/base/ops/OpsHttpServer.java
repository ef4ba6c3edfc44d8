package io.iiot.base.ops;

import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthCheckHandler;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.function.Supplier;

/**
 * The HTTP server every service runs for Kubernetes and Prometheus: {@code /health/live}, {@code /health/ready} and
 * {@code /metrics}. Services may mount their own routes on {@link #router()} (resolver-node serves its JSON API here).
 *
 * <p>Readiness is DOWN (503) while any registered check fails, and from the moment {@link #drain()} is called, so that
 * a load balancer stops sending work before the service stops accepting it.
 */
public final class OpsHttpServer {
  private final Vertx vertx;
  private final Router router;
  private final HealthChecks readiness;
  private volatile boolean draining;
  private HttpServer server;

  public OpsHttpServer(Vertx vertx, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.router = Router.router(vertx);
    this.readiness = HealthChecks.create(vertx);
    readiness.register("draining", promise ->
        promise.complete(draining ? Status.KO(new JsonObject().put("reason", "shutting down")) : Status.OK()));
    HealthChecks liveness = HealthChecks.create(vertx);
    liveness.register("event-loop", promise -> promise.complete(Status.OK()));
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(liveness));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness));
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
  }

  /**
   * Adds a readiness check. {@code check} is called on the event loop for each probe and must not block; its future
   * failing (or not completing within {@code timeoutMs}) makes the service not ready.
   */
  public void addReadinessCheck(String name, long timeoutMs, Supplier<Future<?>> check) {
    readiness.register(name, timeoutMs, promise -> check.get()
        .onSuccess(v -> promise.tryComplete(Status.OK()))
        .onFailure(err -> promise.tryComplete(Status.KO(new JsonObject().put("reason", String.valueOf(err.getMessage()))))));
  }

  public Router router() {
    return router;
  }

  public Future<HttpServer> listen(String host, int port) {
    return vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
        .requestHandler(router)
        .listen()
        .onSuccess(s -> server = s);
  }

  /** From now on readiness answers 503. */
  public void drain() {
    draining = true;
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
