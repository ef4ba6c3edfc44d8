package io.iiot.resolver;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.ops.Metrics;
import io.iiot.base.ops.OpsHttpServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * resolver-node started in-process on free loopback ports against the shared embedded Cassandra: the real module,
 * the real ops HTTP server, a keyspace of its own. Close it.
 */
public final class ResolverNodeHarness implements AutoCloseable {
  public static final String SECRET = "node-admin-secret";

  static {
    // CNRI's client reads its configuration directory on first use and would otherwise fetch root info from the
    // public Handle System in the background: point it at an empty local directory with auto-update off.
    try {
      Path dir = Path.of("target", "handle-client-config").toAbsolutePath();
      Files.createDirectories(dir);
      Files.writeString(dir.resolve("config.dct"), "{\n\"auto_update_root_info\" = \"no\"\n}\n");
      System.setProperty("net.handle.configDir", dir.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    net.handle.hdllib.Configuration.defaultConfiguration().setAutoUpdateRootInfo(false);
    // No global (public) root at all: until a node makes itself the private root, global resolution has no site.
    net.handle.hdllib.Configuration.defaultConfiguration().setGlobalSites(new net.handle.hdllib.SiteInfo[0]);
  }

  /**
   * Makes this node the private root of every default {@code HandleResolver} in the JVM (reference §6.3), so that
   * prefix handles {@code 0.NA/...} are resolved here and nowhere else.
   */
  public net.handle.hdllib.SiteInfo useAsPrivateRoot() throws Exception {
    net.handle.hdllib.AbstractResponse r = new net.handle.hdllib.HandleResolver().sendHdlUdpRequest(
        new net.handle.hdllib.GenericRequest(net.handle.hdllib.Util.encodeString("/"),
            net.handle.hdllib.AbstractMessage.OC_GET_SITE_INFO, null),
        java.net.InetAddress.getLoopbackAddress(), handlePort);
    net.handle.hdllib.SiteInfo site = ((net.handle.hdllib.GetSiteInfoResponse) r).siteInfo;
    net.handle.hdllib.Configuration.defaultConfiguration().setGlobalSites(new net.handle.hdllib.SiteInfo[] {site});
    return site;
  }

  public final Vertx vertx;
  public final CqlSession session;
  public final ResolverNodeModule module;
  public final OpsHttpServer ops;
  public final int handlePort;
  public final int httpPort;
  public final Path dataDir;

  private ResolverNodeHarness(Vertx vertx, CqlSession session, ResolverNodeModule module, OpsHttpServer ops,
      int handlePort, int httpPort, Path dataDir) {
    this.vertx = vertx;
    this.session = session;
    this.module = module;
    this.ops = ops;
    this.handlePort = handlePort;
    this.httpPort = httpPort;
    this.dataDir = dataDir;
  }

  /** Starts a node; {@code extraEnv} overrides configuration keys (environment-variable names). */
  public static ResolverNodeHarness start(String keyspace, Map<String, String> extraEnv) throws Exception {
    int handlePort = EmbeddedCassandraExtension.freePort();
    int httpPort = EmbeddedCassandraExtension.freePort();
    Path dataDir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "resolver-data");
    Map<String, String> env = new HashMap<>();
    env.put("HANDLE_HOST", "127.0.0.1");
    env.put("HANDLE_PORT", String.valueOf(handlePort));
    env.put("HTTP_PORT", String.valueOf(httpPort));
    env.put("GRPC_HOST", "127.0.0.1");
    env.put("GRPC_PORT", String.valueOf(EmbeddedCassandraExtension.freePort()));
    env.put("HANDLE_DATA_DIR", dataDir.toString());
    env.put("HANDLE_ADMIN_SECRET", SECRET);
    env.put("AUTH_OPERATOR_TOKEN_FILE", dataDir.resolve("secrets/resolver-operator.token").toString());
    env.put("AUTH_SERVICE_TOKEN_FILE", dataDir.resolve("secrets/resolver-service.token").toString());
    env.put("CASSANDRA_KEYSPACE", keyspace);
    // every start makes a new server key in a new data directory, while keyspaces outlive a test (restarts, shared
    // keyspaces): tests re-key unless they check the refusal (NodeBootstrapTest)
    env.put("HANDLE_ALLOW_REKEY", "true");
    env.putAll(extraEnv);
    ServiceConfig config = ServiceConfig.load("resolver-node", env);
    Vertx vertx = Vertx.vertx();
    EmbeddedCassandraExtension.session(keyspace, "db/resolver").close();
    // like the runtime's: no current keyspace
    CqlSession session = EmbeddedCassandraExtension.session();
    PrometheusMeterRegistry registry = Metrics.newRegistry("resolver-node");
    OpsHttpServer ops = new OpsHttpServer(vertx, registry);
    ops.listen("127.0.0.1", httpPort).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    ResolverNodeModule module = new ResolverNodeModule(config);
    vertx.executeBlocking(() -> module.start(new ServiceContext(vertx, config, session, registry, ops)), false)
        .compose(f -> f).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    return new ResolverNodeHarness(vertx, session, module, ops, handlePort, httpPort, dataDir);
  }

  /** The gRPC port the node listens on. */
  public int grpcPort() {
    return module.api().port();
  }

  /** The operator's bearer token (generated into the node's data directory at first start). */
  public String operatorToken() throws IOException {
    return Files.readString(dataDir.resolve("secrets/resolver-operator.token")).trim();
  }

  /** The platform service's bearer token. */
  public String serviceToken() throws IOException {
    return Files.readString(dataDir.resolve("secrets/resolver-service.token")).trim();
  }

  /** {@code stub} sending {@code authorization: Bearer <token>} on every call. */
  public static <S extends io.grpc.stub.AbstractStub<S>> S as(S stub, String token) {
    io.grpc.Metadata md = new io.grpc.Metadata();
    md.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
    return stub.withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(md));
  }

  public static ResolverNodeHarness start(String keyspace) throws Exception {
    return start(keyspace, Map.of());
  }

  @Override
  public void close() throws Exception {
    module.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    ops.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
    session.close();
  }
}
