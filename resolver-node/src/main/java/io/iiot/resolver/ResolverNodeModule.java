package io.iiot.resolver;

import io.iiot.base.config.ServiceConfig;
import io.iiot.base.grpc.GrpcServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.runtime.ServiceModule;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.List;

/** The transports of resolver-node. */
final class ResolverNodeModule implements ServiceModule {
  private Vertx vertx;
  private GrpcServer grpc;

  ResolverNodeModule(ServiceConfig config) {
    // Validate this module's keys now, so a bad value stops the start before anything listens.
    config.string("grpc.host");
    config.port("grpc.port");
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    vertx = context.vertx();
    grpc = GrpcServer.startFrom(context, List.of());
    return Future.succeededFuture();
  }

  @Override
  public Future<Void> stop() {
    return grpc == null ? Future.succeededFuture() : grpc.shutdownAsync(vertx, 10_000);
  }
}
