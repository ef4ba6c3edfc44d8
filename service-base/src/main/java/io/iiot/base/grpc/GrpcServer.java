package io.iiot.base.grpc;

import io.grpc.BindableService;
import io.grpc.ForwardingServerCall;
import io.grpc.InsecureServerCredentials;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerCredentials;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A gRPC server with the standard health ({@code grpc.health.v1}) and reflection services and a Micrometer timer per
 * method and status ({@code grpc_server_calls}). The services' own RPC implementations are added by the caller.
 */
public final class GrpcServer {
  /** Calls one client connection may have running at once. */
  public static final int MAX_CALLS_PER_CONNECTION = 256;

  private final Server server;
  private final HealthStatusManager health = new HealthStatusManager();

  public GrpcServer(String host, int port, MeterRegistry registry, List<BindableService> services) {
    this(host, port, InsecureServerCredentials.create(), registry, services);
  }

  /** As above, with transport credentials, e.g. {@code TlsServerCredentials} for TLS or mutual TLS. */
  public GrpcServer(String host, int port, ServerCredentials credentials, MeterRegistry registry,
      List<BindableService> services) {
    NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port), credentials)
        // HTTP/2 flow control is the backpressure: a client gets at most this many calls running per connection,
        // so the (thread-pool) executor's queue stays bounded by connections x streams.
        .maxConcurrentCallsPerConnection(MAX_CALLS_PER_CONNECTION)
        .addService(health.getHealthService())
        .addService(ProtoReflectionServiceV1.newInstance());
    ServerInterceptor metrics = new MetricsInterceptor(registry);
    for (BindableService s : services) {
      builder.addService(ServerInterceptors.intercept(s, metrics));
      health.setStatus(s.bindService().getServiceDescriptor().getName(), ServingStatus.SERVING);
    }
    this.server = builder.build();
  }

  /**
   * Starts a server on {@code grpc.host}:{@code grpc.port} of the service's config. Blocking (binds the port); call
   * from a worker thread, as {@code ServiceModule.start} is.
   */
  public static GrpcServer startFrom(io.iiot.base.runtime.ServiceContext ctx, List<BindableService> services) {
    return new GrpcServer(ctx.config().string("grpc.host"), ctx.config().port("grpc.port"), ctx.registry(), services)
        .start();
  }

  /** Graceful stop on a worker thread: see {@link #shutdown(long)}. */
  public io.vertx.core.Future<Void> shutdownAsync(io.vertx.core.Vertx vertx, long graceMs) {
    return vertx.executeBlocking(() -> {
      shutdown(graceMs);
      return null;
    }, false);
  }

  public GrpcServer start() {
    try {
      server.start();
    } catch (IOException e) {
      throw new UncheckedIOException("gRPC server cannot listen: " + e.getMessage(), e);
    }
    health.setStatus("", ServingStatus.SERVING);
    return this;
  }

  public int port() {
    return server.getPort();
  }

  /** Stops taking new calls, lets running calls finish for up to {@code graceMs}, then cancels the rest. Blocking. */
  public void shutdown(long graceMs) throws InterruptedException {
    health.enterTerminalState();
    server.shutdown();
    if (!server.awaitTermination(graceMs, TimeUnit.MILLISECONDS)) {
      server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
  }

  private static final class MetricsInterceptor implements ServerInterceptor {
    private final MeterRegistry registry;

    MetricsInterceptor(MeterRegistry registry) {
      this.registry = registry;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      Timer.Sample sample = Timer.start(registry);
      String method = call.getMethodDescriptor().getFullMethodName();
      return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
        @Override
        public void close(Status status, Metadata trailers) {
          sample.stop(Timer.builder("grpc.server.calls")
              .tag("method", method)
              .tag("status", status.getCode().name())
              .register(registry));
          super.close(status, trailers);
        }
      }, headers);
    }
  }
}
