package io.iiot.it.platform;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.support.ServiceProcess;
import io.iiot.platform.api.ApiKeyAuthenticator;
import io.iiot.platform.backend.BearerToken;
import io.iiot.platform.domain.ApiKeySecrets;
import io.iiot.platform.v1.ApiKeyServiceGrpc;
import io.iiot.platform.v1.CreateApiKeyRequest;
import io.iiot.platform.v1.CreateTenantRequest;
import io.iiot.platform.v1.Tenant;
import io.iiot.platform.v1.TenantServiceGrpc;
import io.iiot.resolver.v1.ApprovePrefixApplicationRequest;
import io.iiot.resolver.v1.CreateEnterpriseRequest;
import io.iiot.resolver.v1.CreatePrefixApplicationRequest;
import io.iiot.resolver.v1.Enterprise;
import io.iiot.resolver.v1.EnterpriseRecords;
import io.iiot.resolver.v1.EnterpriseServiceGrpc;
import io.iiot.resolver.v1.PrefixApplication;
import io.iiot.resolver.v1.PrefixApplicationServiceGrpc;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * resolver-node, device-hub and platform-api as their real deployables (child JVMs on their built jars, free ports,
 * the shared embedded Cassandra node), wired as the run command wires them: platform-api reaches resolver-node with
 * its service token file and device-hub by gRPC. Started once per test JVM and shared by the platform ITs (it costs
 * ~30 s); stopped when the JVM exits.
 */
final class PlatformStack {
  private static PlatformStack shared;

  final ServiceProcess resolver;
  final ServiceProcess hub;
  final ServiceProcess platform;
  final String operatorKey = ApiKeySecrets.generate().fullKey();
  final ManagedChannel platformChannel;
  final ManagedChannel resolverChannel;
  final int hubMqttPort;
  final int hubCoapDtlsPort;
  final int hubHttpPort;
  final int resolverHandlePort;
  final Path serviceToken;
  final Path operatorToken;
  private final String hubTarget;

  static synchronized PlatformStack shared() throws Exception {
    if (shared == null) {
      shared = new PlatformStack();
      PlatformStack s = shared;
      Runtime.getRuntime().addShutdownHook(new Thread(s::close));
    }
    return shared;
  }

  private PlatformStack() throws Exception {
    Path secrets = Path.of("target", "platform-it", Long.toString(System.nanoTime(), 36)).toAbsolutePath();
    Files.createDirectories(secrets);
    serviceToken = secrets.resolve("resolver-service.token");
    operatorToken = secrets.resolve("resolver-operator.token");
    String cassandra = EmbeddedCassandraExtension.contactPoint();

    Map<String, String> renv = new HashMap<>(ServiceProcess.freePorts("resolver-node"));
    renv.put("CASSANDRA_CONTACT_POINTS", cassandra);
    renv.put("RESOLVER_NODE_HANDLE_DATA_DIR", secrets.resolve("resolver-data").toString());
    renv.put("RESOLVER_NODE_AUTH_SERVICE_TOKEN_FILE", serviceToken.toString());
    renv.put("RESOLVER_NODE_AUTH_OPERATOR_TOKEN_FILE", operatorToken.toString());
    Map<String, String> henv = new HashMap<>(ServiceProcess.freePorts("device-hub"));
    henv.put("CASSANDRA_CONTACT_POINTS", cassandra);
    henv.put("DEVICE_HUB_MQTT_HOST", "127.0.0.1");
    henv.put("DEVICE_HUB_COAP_HOST", "127.0.0.1");
    henv.put("DEVICE_HUB_GRPC_HOST", "127.0.0.1");
    resolver = ServiceProcess.start("resolver-node", renv);
    hub = ServiceProcess.start("device-hub", henv);
    int resolverGrpc = resolver.port("resolver-node", "grpc.port");
    resolverHandlePort = resolver.port("resolver-node", "handle.port");
    hubMqttPort = hub.port("device-hub", "mqtt.port");
    hubCoapDtlsPort = hub.port("device-hub", "coap.dtls-port");
    hubHttpPort = hub.port("device-hub", "http.port");

    Map<String, String> penv = new HashMap<>(ServiceProcess.freePorts("platform-api"));
    penv.put("CASSANDRA_CONTACT_POINTS", cassandra);
    penv.put("PLATFORM_API_AUTH_OPERATOR_KEY", operatorKey);
    penv.put("PLATFORM_API_GRPC_HOST", "127.0.0.1");
    penv.put("PLATFORM_API_RESOLVER_TARGET", "127.0.0.1:" + resolverGrpc);
    penv.put("PLATFORM_API_RESOLVER_SERVICE_TOKEN_FILE", serviceToken.toString());
    hubTarget = "127.0.0.1:" + hub.port("device-hub", "grpc.port");
    penv.put("PLATFORM_API_DEVICE_HUB_TARGET", hubTarget);
    // device-hub hashes each password with 100,000 PBKDF2 iterations; on the shared, loaded test machines a batch
    // can take minutes, more than the 60 s default deadline.
    penv.put("PLATFORM_API_DEVICE_HUB_DEADLINE", "600s");
    penv.put("PLATFORM_API_ONBOARDING_MQTT_URI", "mqtt://127.0.0.1:" + hubMqttPort);
    penv.put("PLATFORM_API_ONBOARDING_COAP_URI", "coaps://127.0.0.1:" + hubCoapDtlsPort);
    platform = ServiceProcess.start("platform-api", penv);

    resolver.awaitReady(Duration.ofSeconds(300));
    hub.awaitReady(Duration.ofSeconds(300));
    platform.awaitReady(Duration.ofSeconds(300));
    platformChannel = NettyChannelBuilder.forAddress("127.0.0.1", platform.port("platform-api", "grpc.port"))
        .usePlaintext().build();
    resolverChannel = NettyChannelBuilder.forAddress("127.0.0.1", resolverGrpc).usePlaintext().build();
    awaitServing(platformChannel, platform);
  }

  /** device-hub's internal gRPC address. */
  String platformHubTarget() {
    return hubTarget;
  }

  /** An API key's metadata on a stub. */
  static <S extends AbstractStub<S>> S withKey(S stub, String key) {
    Metadata md = new Metadata();
    md.put(ApiKeyAuthenticator.API_KEY, key);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(120,
        TimeUnit.SECONDS);
  }

  /**
   * A prefix filed and approved on resolver-node the way an enterprise gets one: the service principal creates the
   * enterprise and its application, the operator approves (registration needs an approved prefix).
   */
  String approvedPrefix() {
    BearerToken service = new BearerToken(serviceToken);
    String code = creditCode();
    Enterprise ent = EnterpriseServiceGrpc.newBlockingStub(resolverChannel).withCallCredentials(service)
        .withDeadlineAfter(30, TimeUnit.SECONDS).createEnterprise(CreateEnterpriseRequest.newBuilder()
            .setEnterprise(Enterprise.newBuilder().setDisplayName("山西某煤矿有限公司 IT").setCreditCode(code)).build())
        .getEnterprise();
    PrefixApplication app = PrefixApplicationServiceGrpc.newBlockingStub(resolverChannel)
        .withCallCredentials(service).withDeadlineAfter(30, TimeUnit.SECONDS)
        .createPrefixApplication(CreatePrefixApplicationRequest.newBuilder().setParent(ent.getName())
            .setApplication(PrefixApplication.newBuilder().setRecords(EnterpriseRecords.newBuilder()
                .setName("山西某煤矿有限公司 IT").setCreditCode(code).setAddress("山西省大同市")
                .setContact("张工 0352-0000000").setIndustryCategory("B").setIndustryCode("0610"))).build());
    return PrefixApplicationServiceGrpc.newBlockingStub(resolverChannel)
        .withCallCredentials(new BearerToken(operatorToken)).withDeadlineAfter(30, TimeUnit.SECONDS)
        .approvePrefixApplication(ApprovePrefixApplicationRequest.newBuilder().setName(app.getName()).build())
        .getPrefix();
  }

  /** A GB 32100 unified social credit code with a valid check character. */
  static String creditCode() {
    String alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY";
    int[] weights = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
    SecureRandom r = new SecureRandom();
    StringBuilder s = new StringBuilder("91140200");
    while (s.length() < 17) {
      s.append(alphabet.charAt(r.nextInt(10)));
    }
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += alphabet.indexOf(s.charAt(i)) * weights[i];
    }
    return s.append(alphabet.charAt((31 - sum % 31) % 31)).toString();
  }

  /** Creates tenant {@code id} with {@code prefix} (operator key) and returns a new API key of it. */
  String tenantKey(String id, String prefix) {
    withKey(TenantServiceGrpc.newBlockingStub(platformChannel), operatorKey).createTenant(CreateTenantRequest
        .newBuilder().setTenantId(id).setTenant(Tenant.newBuilder().setDisplayName("IT " + id)
            .setHandlePrefix(prefix)).build());
    return withKey(ApiKeyServiceGrpc.newBlockingStub(platformChannel), operatorKey)
        .createApiKey(CreateApiKeyRequest.newBuilder().setParent("tenants/" + id).build()).getKey();
  }

  /** device-hub's live stream subscriber count, from its /metrics. */
  double hubStreamSubscribers() throws IOException, InterruptedException {
    String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + hubHttpPort
        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
    Matcher m = Pattern.compile("(?m)^devicehub_telemetry_stream_subscribers(?:\\{[^}]*})? ([0-9.eE+-]+)$")
        .matcher(body);
    return m.find() ? Double.parseDouble(m.group(1)) : 0;
  }

  /** Waits until device-hub serves at least {@code n} live streams. */
  void awaitHubSubscribers(int n) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (hubStreamSubscribers() < n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("device-hub never had " + n + " live stream(s)");
      }
      Thread.sleep(50);
    }
  }

  private static void awaitServing(ManagedChannel channel, ServiceProcess service) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        if (HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING) {
          return;
        }
      } catch (StatusRuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("platform-api gRPC not serving: " + e + "\n" + service.output(), e);
        }
      }
      Thread.sleep(200);
    }
  }

  String logs() throws IOException {
    return "--- platform-api\n" + tail(platform.output()) + "\n--- device-hub\n" + tail(hub.output())
        + "\n--- resolver-node\n" + tail(resolver.output());
  }

  private static String tail(String s) {
    return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
  }

  void close() {
    platformChannel.shutdownNow();
    resolverChannel.shutdownNow();
    for (ServiceProcess p : new ServiceProcess[] {platform, hub, resolver}) {
      try {
        p.close();
      } catch (Exception ignored) {
        // best effort at JVM exit
      }
    }
  }
}
