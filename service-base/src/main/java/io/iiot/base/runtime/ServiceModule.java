package io.iiot.base.runtime;

import io.vertx.core.Future;

/**
 * What a deployable plugs into {@link ServiceRuntime}: its transports and services.
 *
 * <p>The runtime reads and validates configuration, connects Cassandra and applies the schema before it calls
 * {@link #start}; it calls {@link #stop} once on SIGTERM, after readiness already answers 503.
 */
public interface ServiceModule {

  /**
   * Starts listening. Called once, on a non-event-loop thread, with a ready Cassandra session. The future fails if the
   * service cannot serve (for example a port already in use); the process then exits.
   */
  Future<Void> start(ServiceContext context);

  /**
   * Stops accepting new work and completes when in-flight work is finished or abandoned after a grace period. The
   * Cassandra session stays open until this future completes.
   */
  Future<Void> stop();
}
