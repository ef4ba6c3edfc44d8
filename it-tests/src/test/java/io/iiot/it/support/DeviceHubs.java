package io.iiot.it.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.device.v1.BatchCreateDevicesRequest;
import io.iiot.device.v1.CreateDeviceRequest;
import io.iiot.device.v1.Credential;
import io.iiot.device.v1.Device;
import io.iiot.device.v1.DeviceProfile;
import io.iiot.device.v1.DeviceServiceGrpc;
import io.iiot.device.v1.Metric;
import io.iiot.device.v1.PutDeviceProfileRequest;
import io.iiot.device.v1.PutTenantRequest;
import io.iiot.device.v1.Tenant;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/** Starting device-hub processes and provisioning the devices of the crash tests through its gRPC API. */
public final class DeviceHubs {
  private DeviceHubs() {}

  /** Starts device-hub and waits until it is ready and its gRPC and MQTT listeners are bound. */
  public static ServiceProcess start(Map<String, String> env) throws Exception {
    return start(env, List.of("-Xmx256M"));
  }

  /** The same with these JVM options. */
  public static ServiceProcess start(Map<String, String> env, List<String> jvmArgs) throws Exception {
    return start(env, jvmArgs, Duration.ofSeconds(120));
  }

  /** The same, waiting at most {@code readyWithin} for readiness (schema migrations on a cluster take longer). */
  public static ServiceProcess start(Map<String, String> env, List<String> jvmArgs, Duration readyWithin)
      throws Exception {
    ServiceProcess p = ServiceProcess.start("device-hub", env, jvmArgs);
    try {
      p.awaitReady(readyWithin);
      // Readiness turns 200 once Cassandra answers, which can be before the module's listeners are bound (CoAP binds
      // before MQTT).
      for (String key : List.of("grpc.port", "mqtt.port")) {
        int port = p.port("device-hub", key);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!EmbeddedCassandra.portOpen(port)) {
          assertThat(System.nanoTime()).as("device-hub %s %d listening", key, port).isLessThan(end);
          Thread.sleep(100);
        }
      }
      return p;
    } catch (Exception | AssertionError e) {
      p.close();
      throw e;
    }
  }

  /**
   * Creates {@code tenant}, a profile "counter" with one metric {@code seq} (0..10^9) and {@code devices} devices named
   * by {@code deviceId}, each with {@code password}.
   */
  public static void provisionCounterDevices(int grpcPort, String tenant, int devices, IntFunction<String> deviceId,
      String password) {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    try {
      var api = DeviceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
      api.putTenant(PutTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setName("tenants/" + tenant)
          .setEnabled(true)).build());
      api.putDeviceProfile(PutDeviceProfileRequest.newBuilder().setProfile(DeviceProfile.newBuilder()
          .setName("tenants/" + tenant + "/profiles/counter").addMetrics(Metric.newBuilder().setName("seq").setId(1)
              .setType(Metric.Type.NUMBER).setMin(0).setMax(1_000_000_000))).build());
      BatchCreateDevicesRequest.Builder batch = BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant);
      for (int c = 0; c < devices; c++) {
        batch.addRequests(CreateDeviceRequest.newBuilder().setDeviceId(deviceId.apply(c))
            .setDevice(Device.newBuilder().setProfile("counter").setEnabled(true))
            .addCredentials(Credential.newBuilder().setPassword(password)));
      }
      api.batchCreateDevices(batch.build());
    } finally {
      channel.shutdownNow();
    }
  }

  /** The JSON telemetry payload of message {@code seq}: metric seq = seq at {@code base + seq} ms. */
  public static String counterPayload(long base, int seq) {
    return "{\"ts\": " + (base + seq) + ", \"seq\": " + seq + "}";
  }
}
