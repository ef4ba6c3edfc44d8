package io.iiot.it.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.support.Http;
import io.iiot.it.support.ServiceProcess;
import io.iiot.platform.api.ApiKeyAuthenticator;
import io.iiot.platform.domain.ApiKeySecrets;
import io.iiot.platform.v1.ApiKeyServiceGrpc;
import io.iiot.platform.v1.CreateApiKeyRequest;
import io.iiot.platform.v1.CreateTenantRequest;
import io.iiot.platform.v1.Tenant;
import io.iiot.platform.v1.TenantServiceGrpc;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A second-language integrator: the Node.js client in {@code it-tests/node} ({@code @grpc/grpc-js} +
 * {@code @grpc/proto-loader}, installed by {@code scripts/install-test-deps.sh}) loads the project's .proto files and
 * calls platform-api running as its real deployable, with a tenant API key created over the API.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class PlatformNodeClientIT {

  @Test
  void nodeClientListsTheCatalogueAndDecodesRichErrors() throws Exception {
    Path nodeDir = ServiceProcess.home().resolve("it-tests/node");
    assertThat(nodeDir.resolve("node_modules/@grpc/grpc-js")).as("npm packages installed by"
        + " scripts/install-test-deps.sh").exists();
    PlatformStack stack = PlatformStack.shared();
    int grpcPort = stack.platform.port("platform-api", "grpc.port");
    String tenantKey = tenantKey(stack.platformChannel, stack.operatorKey);

    Path protos = commonProtos();
    ProcessBuilder pb = new ProcessBuilder("node", "list-templates.js").directory(nodeDir.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("PLATFORM_ADDRESS", "127.0.0.1:" + grpcPort);
    pb.environment().put("PLATFORM_API_KEY", tenantKey);
    pb.environment().put("PROTO_INCLUDE_DIRS",
        ServiceProcess.home().resolve("proto/src/main/protobuf") + java.io.File.pathSeparator + protos);
    Process node = pb.start();
    String stdout = new String(node.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(node.waitFor(60, TimeUnit.SECONDS)).as("node finished").isTrue();
    assertThat(node.exitValue()).as("node exit code; stdout: " + stdout).isZero();
    JsonObject out = new JsonObject(stdout.trim());

    JsonArray templates = out.getJsonArray("templates");
    assertThat(templates.size()).isEqualTo(16);
    assertThat(out.getInteger("pages")).isEqualTo(4);
    assertThat(templates.stream().map(o -> ((JsonObject) o).getString("name")))
        .contains("templates/mine-belt-conveyor", "templates/methane-sensor", "templates/cnc-machining-centre");

    JsonObject belt = out.getJsonObject("belt");
    assertThat(belt.getString("credentialType")).isEqualTo("PASSWORD");
    JsonObject speed = belt.getJsonArray("metrics").stream().map(o -> (JsonObject) o)
        .filter(m -> m.getString("name").equals("belt_speed")).findFirst().orElseThrow();
    assertThat(speed.getString("unit")).isEqualTo("m/s");
    assertThat(speed.getDouble("max")).isEqualTo(6.0);

    JsonObject badFilter = out.getJsonObject("badFilter");
    assertThat(badFilter.getInteger("grpcCode")).isEqualTo(3); // INVALID_ARGUMENT
    List<JsonObject> details = details(badFilter);
    assertThat(details).anySatisfy(d -> {
      assertThat(d.getString("type")).isEqualTo("google.rpc.ErrorInfo");
      assertThat(d.getString("reason")).isEqualTo("INVALID_FIELD");
      assertThat(d.getString("domain")).isEqualTo("platform.iiot.io");
    });
    assertThat(details).anySatisfy(d -> {
      assertThat(d.getString("type")).isEqualTo("google.rpc.BadRequest");
      assertThat(d.getJsonArray("fieldViolations").getJsonObject(0).getString("field")).isEqualTo("filter");
    });

    JsonObject noKey = out.getJsonObject("noKey");
    assertThat(noKey.getInteger("grpcCode")).isEqualTo(16); // UNAUTHENTICATED
    assertThat(details(noKey)).anySatisfy(d -> assertThat(d.getString("reason")).isEqualTo("API_KEY_MISSING"));
  }

  @Test
  void nodeClientOnboardsABatchFollowsTheLiveStreamAndReadsHistory() throws Exception {
    PlatformStack stack = PlatformStack.shared();
    String tenant = "node-" + Long.toString(System.nanoTime(), 36);
    String key = stack.tenantKey(tenant, stack.approvedPrefix());
    ProcessBuilder pb = new ProcessBuilder("node", "onboard-and-stream.js")
        .directory(ServiceProcess.home().resolve("it-tests/node").toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().put("PLATFORM_ADDRESS", "127.0.0.1:" + stack.platform.port("platform-api", "grpc.port"));
    pb.environment().put("PLATFORM_API_KEY", key);
    pb.environment().put("TENANT", tenant);
    pb.environment().put("PROTO_INCLUDE_DIRS",
        ServiceProcess.home().resolve("proto/src/main/protobuf") + java.io.File.pathSeparator + commonProtos());
    double subscribers = stack.hubStreamSubscribers();
    Process node = pb.start();
    try (java.io.BufferedReader lines = new java.io.BufferedReader(new java.io.InputStreamReader(
        node.getInputStream(), StandardCharsets.UTF_8))) {
      JsonObject onboarded = new JsonObject(lines.readLine());
      assertThat(onboarded.getInteger("onboardedCount")).as(onboarded.encode()).isEqualTo(5);
      JsonObject belt = onboarded.getJsonArray("results").getJsonObject(0);
      assertThat(belt.getString("authId")).isEqualTo("node-belt-1@" + tenant);
      assertThat(belt.getString("identifier")).endsWith("/node-belt-1");

      assertThat(new JsonObject(lines.readLine()).getString("event")).isEqualTo("streaming");
      stack.awaitHubSubscribers((int) subscribers + 1);
      long ts = System.currentTimeMillis() - 2000;
      org.eclipse.paho.client.mqttv3.MqttClient mqtt = new org.eclipse.paho.client.mqttv3.MqttClient(
          "tcp://127.0.0.1:" + stack.hubMqttPort, "node-belt-1",
          new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
      org.eclipse.paho.client.mqttv3.MqttConnectOptions o = new org.eclipse.paho.client.mqttv3.MqttConnectOptions();
      o.setUserName(belt.getString("authId"));
      o.setPassword(belt.getString("secret").toCharArray());
      mqtt.connect(o);
      mqtt.publish("telemetry", ("{\"ts\": " + ts + ", \"belt_speed\": 4.2}").getBytes(StandardCharsets.UTF_8), 1,
          false);
      mqtt.disconnect();
      mqtt.close();

      JsonObject done = new JsonObject(lines.readLine());
      assertThat(done.getJsonObject("point").getString("device")).isEqualTo("tenants/" + tenant
          + "/devices/node-belt-1");
      assertThat(done.getJsonObject("point").getDouble("number")).isEqualTo(4.2);
      assertThat(done.getJsonArray("history").size()).isEqualTo(1);
      assertThat(done.getJsonArray("history").getJsonObject(0).getString("metric")).isEqualTo("belt_speed");
    } finally {
      assertThat(node.waitFor(60, TimeUnit.SECONDS)).as("node finished").isTrue();
      node.destroyForcibly();
    }
    assertThat(node.exitValue()).isZero();
  }

  private static List<JsonObject> details(JsonObject failure) {
    return failure.getJsonObject("status").getJsonArray("details").stream().map(o -> (JsonObject) o).toList();
  }

  /** The module start follows readiness; wait until gRPC health says SERVING. */
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

  private static String tenantKey(ManagedChannel channel, String operatorKey) {
    Metadata md = new Metadata();
    md.put(ApiKeyAuthenticator.API_KEY, operatorKey);
    var auth = MetadataUtils.newAttachHeadersInterceptor(md);
    String tenant = "node-it-" + Long.toString(System.nanoTime(), 36);
    TenantServiceGrpc.newBlockingStub(channel).withInterceptors(auth).withDeadlineAfter(20, TimeUnit.SECONDS)
        .createTenant(CreateTenantRequest.newBuilder().setTenantId(tenant)
            .setTenant(Tenant.newBuilder().setDisplayName("Node client IT").setHandlePrefix("88.101.9")).build());
    return ApiKeyServiceGrpc.newBlockingStub(channel).withInterceptors(auth).withDeadlineAfter(20, TimeUnit.SECONDS)
        .createApiKey(CreateApiKeyRequest.newBuilder().setParent("tenants/" + tenant).build()).getKey();
  }

  /** google/api and google/rpc .proto files, unpacked from the common-protos jar the Java build uses. */
  private static Path commonProtos() throws IOException {
    Path dir = Path.of("target", "node-protos").toAbsolutePath();
    Path jar = Path.of(java.net.URI.create(com.google.rpc.Status.class.getProtectionDomain().getCodeSource()
        .getLocation().toString()));
    try (InputStream in = Files.newInputStream(jar); ZipInputStream zip = new ZipInputStream(in)) {
      for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
        if (e.getName().startsWith("google/") && e.getName().endsWith(".proto")
            && !e.getName().startsWith("google/protobuf/")) {
          Path target = dir.resolve(e.getName());
          Files.createDirectories(target.getParent());
          Files.write(target, zip.readAllBytes());
        }
      }
    }
    return dir;
  }
}
