package io.iiot.platform.api;

import com.datastax.oss.driver.api.core.CqlSession;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.platform.catalog.CatalogSeeder;
import io.iiot.platform.catalog.ShippedCatalog;
import io.iiot.platform.domain.ApiKeySecrets;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.RateLimiter;
import io.iiot.platform.storage.ApiKeyStore;
import io.iiot.platform.storage.TemplateStore;
import io.iiot.platform.storage.TenantStore;
import io.iiot.platform.v1.ApiKeyServiceGrpc;
import io.iiot.platform.v1.CreateApiKeyRequest;
import io.iiot.platform.v1.CreateTenantRequest;
import io.iiot.platform.v1.OnboardingTemplateServiceGrpc;
import io.iiot.platform.v1.Tenant;
import io.iiot.platform.v1.TenantServiceGrpc;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The platform services with their authenticator on an in-process gRPC server, storing in the real embedded Cassandra
 * (keyspace {@value #KEYSPACE}, shared by the API test classes; each test uses fresh tenant ids).
 */
final class ApiHarness implements AutoCloseable {
  static final String KEYSPACE = "iiot_platform_api_test";
  private static CqlSession session;

  final ApiKeyStore keys;
  final TenantStore tenantStore;
  final TemplateStore templateStore;
  final String operatorKey;
  private final Server server;
  private final ManagedChannel channel;

  ApiHarness(RateLimiter limiter) throws Exception {
    this(limiter, h -> List.of());
  }

  /** With {@code extra} services (built from this harness's stores) behind the same authenticator. */
  ApiHarness(RateLimiter limiter, java.util.function.Function<ApiHarness, List<io.grpc.BindableService>> extra)
      throws Exception {
    CqlSession s = session();
    keys = new ApiKeyStore(s, KEYSPACE);
    TenantStore tenants = new TenantStore(s, KEYSPACE);
    TemplateStore templates = new TemplateStore(s, KEYSPACE);
    tenantStore = tenants;
    templateStore = templates;
    CatalogSeeder.seed(templates, ShippedCatalog.load()).toCompletableFuture().get(60, TimeUnit.SECONDS);
    ApiKeySecrets.NewKey op = ApiKeySecrets.generate();
    keys.save(new Principal(op.keyId(), "_platform", Principal.Role.OPERATOR), op.secretHash(), "test operator")
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    operatorKey = op.fullKey();
    PageTokens tokens = new PageTokens(new byte[32], Duration.ofHours(1), Clock.systemUTC());
    ApiKeyAuthenticator auth = new ApiKeyAuthenticator(keys, limiter, System::nanoTime, 5000);
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder builder = InProcessServerBuilder.forName(name)
        .addService(ServerInterceptors.intercept(new TenantApi(tenants, tokens), auth))
        .addService(ServerInterceptors.intercept(new ApiKeyApi(keys, tenants, tokens, auth), auth))
        .addService(ServerInterceptors.intercept(new TemplateApi(templates, tokens), auth));
    for (io.grpc.BindableService service : extra.apply(this)) {
      builder.addService(ServerInterceptors.intercept(service, auth));
    }
    server = builder.build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  ApiHarness() throws Exception {
    this(new RateLimiter(10_000, 10_000, 1000, System::nanoTime));
  }

  static synchronized CqlSession session() {
    if (session == null) {
      // Like the runtime's: no current keyspace, so a statement that does not name it fails here too.
      session = io.iiot.platform.TestSessions.migrated(KEYSPACE);
    }
    return session;
  }

  static String uniqueTenantId() {
    return "t" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
  }

  <S extends AbstractStub<S>> S withKey(S stub, String key) {
    Metadata md = new Metadata();
    if (key != null) {
      md.put(ApiKeyAuthenticator.API_KEY, key);
    }
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(20, TimeUnit.SECONDS);
  }

  TenantServiceGrpc.TenantServiceBlockingStub tenants(String key) {
    return withKey(TenantServiceGrpc.newBlockingStub(channel), key);
  }

  OnboardingTemplateServiceGrpc.OnboardingTemplateServiceBlockingStub templates(String key) {
    return withKey(OnboardingTemplateServiceGrpc.newBlockingStub(channel), key);
  }

  io.iiot.platform.v1.OnboardingServiceGrpc.OnboardingServiceBlockingStub onboarding(String key) {
    return withKey(io.iiot.platform.v1.OnboardingServiceGrpc.newBlockingStub(channel), key);
  }

  ApiKeyServiceGrpc.ApiKeyServiceBlockingStub apiKeys(String key) {
    return withKey(ApiKeyServiceGrpc.newBlockingStub(channel), key);
  }

  /** Creates a tenant (as operator) and returns a fresh tenant key for it. */
  String newTenantWithKey(String tenantId) {
    tenants(operatorKey).createTenant(CreateTenantRequest.newBuilder().setTenantId(tenantId)
        .setTenant(Tenant.newBuilder().setDisplayName("Test " + tenantId).setHandlePrefix("88.101.5")).build());
    return apiKeys(operatorKey).createApiKey(CreateApiKeyRequest.newBuilder().setParent("tenants/" + tenantId).build())
        .getKey();
  }

  static ErrorInfo errorInfo(StatusRuntimeException e) {
    return detail(e, ErrorInfo.class);
  }

  static List<BadRequest.FieldViolation> violations(StatusRuntimeException e) {
    return detail(e, BadRequest.class).getFieldViolationsList();
  }

  static <T extends com.google.protobuf.Message> T detail(StatusRuntimeException e, Class<T> type) {
    com.google.rpc.Status st = StatusProto.fromThrowable(e);
    if (st == null) {
      throw new AssertionError("no google.rpc.Status in " + e);
    }
    for (Any any : st.getDetailsList()) {
      if (any.is(type)) {
        try {
          return any.unpack(type);
        } catch (InvalidProtocolBufferException ex) {
          throw new AssertionError(ex);
        }
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + st);
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
