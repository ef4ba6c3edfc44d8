package io.iiot.platform;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.CqlSession;
import com.google.protobuf.FieldMask;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
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
import io.iiot.platform.v1.GetOnboardingTemplateRequest;
import io.iiot.platform.v1.ListOnboardingTemplatesRequest;
import io.iiot.platform.v1.OnboardingTemplate;
import io.iiot.platform.v1.OnboardingTemplateServiceGrpc;
import io.iiot.platform.v1.UpdateOnboardingTemplateRequest;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The module as the runtime starts it: real Netty gRPC, health, the bootstrap operator key, the seeded catalogue. */
@ExtendWith(EmbeddedCassandraExtension.class)
class PlatformApiModuleTest {
  private static final String KEYSPACE = "iiot_platform_module_test";
  private final String operatorKey = ApiKeySecrets.generate().fullKey();

  private Map<String, String> env(int grpcPort) {
    return Map.of("PLATFORM_API_GRPC_HOST", "127.0.0.1", "PLATFORM_API_GRPC_PORT", Integer.toString(grpcPort),
        "PLATFORM_API_AUTH_OPERATOR_KEY", operatorKey, "PLATFORM_API_CASSANDRA_KEYSPACE", KEYSPACE);
  }

  @Test
  void servesTheCatalogueAndKeepsOperatorEditsAcrossRestarts() throws Exception {
    int port = EmbeddedCassandraExtension.freePort();
    Vertx vertx = Vertx.vertx();
    // As the runtime hands it over: migrated, but without a current keyspace.
    try (CqlSession session = TestSessions.migrated(KEYSPACE)) {
      PrometheusMeterRegistry registry = Metrics.newRegistry("platform-api");
      ServiceContext ctx = new ServiceContext(vertx, ServiceConfig.load("platform-api", env(port)), session, registry,
          new OpsHttpServer(vertx, registry));
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
      try {
        PlatformApiModule first = new PlatformApiModule(ctx.config());
        startOn(vertx, first, ctx);
        assertThat(HealthGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
            .check(HealthCheckRequest.newBuilder().setService("iiot.platform.v1.OnboardingTemplateService").build())
            .getStatus()).isEqualTo(HealthCheckResponse.ServingStatus.SERVING);
        var templates = stub(channel);
        assertThat(templates.listOnboardingTemplates(ListOnboardingTemplatesRequest.newBuilder().setPageSize(100)
            .build()).getOnboardingTemplatesCount()).isEqualTo(16);
        OnboardingTemplate boiler = templates.getOnboardingTemplate(GetOnboardingTemplateRequest.newBuilder()
            .setName("templates/boiler").build());
        templates.updateOnboardingTemplate(UpdateOnboardingTemplateRequest.newBuilder()
            .setOnboardingTemplate(boiler.toBuilder().setDisplayName("锅炉 Boiler (site edition)"))
            .setUpdateMask(FieldMask.newBuilder().addPaths("display_name")).build());
        first.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);

        PlatformApiModule second = new PlatformApiModule(ctx.config());
        startOn(vertx, second, ctx);
        templates = stub(channel);
        assertThat(templates.listOnboardingTemplates(ListOnboardingTemplatesRequest.newBuilder().setPageSize(100)
            .build()).getOnboardingTemplatesCount()).as("seeding twice adds nothing").isEqualTo(16);
        assertThat(templates.getOnboardingTemplate(GetOnboardingTemplateRequest.newBuilder()
            .setName("templates/boiler").build()).getDisplayName()).isEqualTo("锅炉 Boiler (site edition)");
        second.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void aMalformedOperatorKeyOrPageTokenKeyStopsTheStart() {
    assertThatThrownBy(() -> new PlatformApiModule(ServiceConfig.load("platform-api",
        Map.of("PLATFORM_API_AUTH_OPERATOR_KEY", "letmein"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("auth.operator-key");
    assertThatThrownBy(() -> new PlatformApiModule(ServiceConfig.load("platform-api",
        Map.of("PLATFORM_API_API_PAGE_TOKEN_KEY", "short"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("api.page-token-key");
  }

  private OnboardingTemplateServiceGrpc.OnboardingTemplateServiceBlockingStub stub(ManagedChannel channel) {
    Metadata md = new Metadata();
    md.put(ApiKeyAuthenticator.API_KEY, operatorKey);
    return OnboardingTemplateServiceGrpc.newBlockingStub(channel)
        .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  /** As the runtime does: start on a worker thread. */
  private static void startOn(Vertx vertx, PlatformApiModule module, ServiceContext ctx) throws Exception {
    vertx.executeBlocking(() -> module.start(ctx), false).compose(f -> f)
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
