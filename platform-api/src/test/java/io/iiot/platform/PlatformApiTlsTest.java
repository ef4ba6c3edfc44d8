package io.iiot.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.CqlSession;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.ops.Metrics;
import io.iiot.base.ops.OpsHttpServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.platform.api.ApiKeyAuthenticator;
import io.iiot.platform.domain.ApiKeySecrets;
import io.iiot.platform.v1.ListOnboardingTemplatesRequest;
import io.iiot.platform.v1.OnboardingTemplateServiceGrpc;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** grpc.tls.*: with a client CA configured, only clients with a certificate from that CA get through. */
@ExtendWith(EmbeddedCassandraExtension.class)
class PlatformApiTlsTest {
  private static final String KEYSPACE = "iiot_platform_tls_test";

  @Test
  void mutualTlsAcceptsCertifiedClientsOnly() throws Exception {
    Path dir = Files.createDirectories(Path.of("target", "tls-test").toAbsolutePath());
    issue(dir);
    String operatorKey = ApiKeySecrets.generate().fullKey();
    int port = EmbeddedCassandraExtension.freePort();
    Map<String, String> env = Map.of("PLATFORM_API_GRPC_HOST", "127.0.0.1",
        "PLATFORM_API_GRPC_PORT", Integer.toString(port),
        "PLATFORM_API_GRPC_TLS_CERT_CHAIN", dir.resolve("server.crt").toString(),
        "PLATFORM_API_GRPC_TLS_PRIVATE_KEY", dir.resolve("server.key").toString(),
        "PLATFORM_API_GRPC_TLS_CLIENT_CA", dir.resolve("ca.crt").toString(),
        "PLATFORM_API_AUTH_OPERATOR_KEY", operatorKey,
        "PLATFORM_API_CASSANDRA_KEYSPACE", KEYSPACE);
    Vertx vertx = Vertx.vertx();
    // As the runtime hands it over: migrated, but without a current keyspace.
    try (CqlSession session = TestSessions.migrated(KEYSPACE)) {
      PrometheusMeterRegistry registry = Metrics.newRegistry("platform-api");
      ServiceConfig config = ServiceConfig.load("platform-api", env);
      ServiceContext ctx = new ServiceContext(vertx, config, session, registry, new OpsHttpServer(vertx, registry));
      PlatformApiModule module = new PlatformApiModule(config);
      vertx.executeBlocking(() -> module.start(ctx), false).compose(f -> f)
          .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      try {
        ChannelCredentials withCert = TlsChannelCredentials.newBuilder()
            .trustManager(dir.resolve("ca.crt").toFile())
            .keyManager(dir.resolve("client.crt").toFile(), dir.resolve("client.key").toFile()).build();
        assertThat(list(port, withCert, operatorKey)).isEqualTo(16);

        ChannelCredentials noCert = TlsChannelCredentials.newBuilder().trustManager(dir.resolve("ca.crt").toFile())
            .build();
        assertThatThrownBy(() -> list(port, noCert, operatorKey)).isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
        assertThatThrownBy(() -> list(port, io.grpc.InsecureChannelCredentials.create(), operatorKey))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE));
      } finally {
        module.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void halfATlsConfigurationStopsTheStart() {
    assertThatThrownBy(() -> new PlatformApiModule(ServiceConfig.load("platform-api",
        Map.of("PLATFORM_API_GRPC_TLS_CERT_CHAIN", "/etc/ssl/server.crt"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("must be set together");
    assertThatThrownBy(() -> new PlatformApiModule(ServiceConfig.load("platform-api",
        Map.of("PLATFORM_API_GRPC_TLS_CLIENT_CA", "/etc/ssl/ca.crt"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("client-ca");
  }

  private static int list(int port, ChannelCredentials creds, String key) throws InterruptedException {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port, creds).overrideAuthority("localhost")
        .build();
    try {
      Metadata md = new Metadata();
      md.put(ApiKeyAuthenticator.API_KEY, key);
      return OnboardingTemplateServiceGrpc.newBlockingStub(channel)
          .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(20, TimeUnit.SECONDS)
          .listOnboardingTemplates(ListOnboardingTemplatesRequest.newBuilder().setPageSize(100).build())
          .getOnboardingTemplatesCount();
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  /** A throw-away CA with a server certificate for localhost/127.0.0.1 and a client certificate, via openssl. */
  private static void issue(Path dir) throws IOException, InterruptedException {
    Files.writeString(dir.resolve("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
    String ec = "ec_paramgen_curve:P-256";
    run(dir, "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", "ca.key",
        "-out", "ca.crt", "-days", "1", "-subj", "/CN=iiot test CA");
    for (String who : List.of("server", "client")) {
      run(dir, "openssl", "req", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout", who + ".key",
          "-out", who + ".csr", "-subj", "/CN=" + (who.equals("server") ? "localhost" : "integrator"));
      run(dir, "openssl", "x509", "-req", "-in", who + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key",
          "-CAcreateserial", "-out", who + ".crt", "-days", "1", "-extfile", who + ".ext");
    }
  }

  private static void run(Path dir, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
    }
  }
}
