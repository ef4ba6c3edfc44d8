package io.iiot.base.runtime;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.ops.OpsHttpServer;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;

/** What a {@link ServiceModule} gets to work with. */
public record ServiceContext(
    Vertx vertx, ServiceConfig config, CqlSession session, PrometheusMeterRegistry registry, OpsHttpServer ops) {}
