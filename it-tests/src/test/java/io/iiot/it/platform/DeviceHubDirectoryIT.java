package io.iiot.it.platform;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.support.ServiceProcess;
import io.iiot.platform.backend.DeviceHubDirectory;
import io.iiot.platform.catalog.ShippedCatalog;
import io.iiot.platform.domain.DeviceDirectory.NewDevice;
import io.iiot.platform.domain.RowOutcome;
import io.iiot.platform.v1.CredentialPolicy;
import io.iiot.platform.v1.DeviceProfile;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * platform-api's device-hub adapter against device-hub running as its real deployable: per-row outcomes out of
 * device-hub's all-or-nothing batch, and credentials that then work over MQTT with Debian's mosquitto_pub.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class DeviceHubDirectoryIT {

  @Test
  void createsDevicesRowByRowAndTheirPasswordsWorkOverMqtt() throws Exception {
    Map<String, String> env = new HashMap<>(ServiceProcess.freePorts("device-hub"));
    env.put("CASSANDRA_CONTACT_POINTS", EmbeddedCassandraExtension.contactPoint());
    ExecutorService executor = Executors.newFixedThreadPool(2);
    try (ServiceProcess hub = ServiceProcess.start("device-hub", env)) {
      hub.awaitReady(Duration.ofSeconds(120));
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", hub.port("device-hub", "grpc.port"))
          .usePlaintext().build();
      try {
        awaitServing(channel);
        DeviceProfile belt = ShippedCatalog.load().stream()
            .filter(t -> t.getName().equals("templates/mine-belt-conveyor")).findFirst().orElseThrow()
            .getDeviceProfile();
        DeviceHubDirectory directory = new DeviceHubDirectory(channel, executor, 20_000);
        String tenant = "dh-" + Long.toString(System.nanoTime(), 36);

        List<RowOutcome> first = directory.createDevices(tenant, belt, List.of(
            device(tenant, "belt-1", "pw-belt-1-0123456789"), device(tenant, "belt-2", "pw-belt-2-0123456789")))
            .toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertThat(first).containsExactly(RowOutcome.OK, RowOutcome.OK);

        List<RowOutcome> second = directory.createDevices(tenant, belt, List.of(
            device(tenant, "belt-3", "pw-belt-3-0123456789"),
            device(tenant, "belt-2", "pw-another-0123456789"),
            device(tenant, "belt-4", "short")))
            .toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertThat(second.get(0).ok()).as("belt-3 created although its batch-mates were rejected").isTrue();
        assertThat(second.get(1).failure()).hasValueSatisfying(f -> assertThat(f).startsWith("ALREADY_EXISTS"));
        assertThat(second.get(2).failure()).hasValueSatisfying(f -> assertThat(f).contains("password"));

        int mqtt = hub.port("device-hub", "mqtt.port");
        assertThat(publish(mqtt, "belt-3@" + tenant, "pw-belt-3-0123456789")).as("valid credentials").isZero();
        assertThat(publish(mqtt, "belt-2@" + tenant, "pw-another-0123456789")).as("rejected row's secret")
            .isNotZero();

        // Compensation: deleting removes the devices with their credentials (a missing one is skipped), so the same
        // ids and auth ids can be onboarded again.
        directory.deleteDevices(tenant, List.of("belt-1", "belt-3", "never-created")).toCompletableFuture()
            .get(60, TimeUnit.SECONDS);
        var devices = io.iiot.device.v1.DeviceServiceGrpc.newBlockingStub(channel);
        for (String gone : List.of("belt-1", "belt-3")) {
          StatusRuntimeException e = org.assertj.core.api.Assertions.catchThrowableOfType(() -> devices
              .withDeadlineAfter(20, TimeUnit.SECONDS).getDevice(io.iiot.device.v1.GetDeviceRequest.newBuilder()
                  .setName("tenants/" + tenant + "/devices/" + gone).build()), StatusRuntimeException.class);
          assertThat(e.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.NOT_FOUND);
        }
        assertThat(directory.createDevices(tenant, belt, List.of(device(tenant, "belt-1", "pw-belt-1-again-0123456"),
            device(tenant, "belt-2", "pw-belt-2-again-0123456"))).toCompletableFuture().get(60, TimeUnit.SECONDS))
            .as("belt-1 created again; belt-2 was not deleted").extracting(RowOutcome::ok).containsExactly(true, false);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } finally {
      executor.shutdownNow();
    }
  }

  private static NewDevice device(String tenant, String id, String secret) {
    return new NewDevice(id, id, Map.of(), CredentialPolicy.Type.PASSWORD, id + "@" + tenant, secret);
  }

  private static int publish(int port, String user, String password) throws Exception {
    Process p = new ProcessBuilder("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(port), "-q", "1",
        "-u", user, "-P", password, "-t", "telemetry", "-m", "{\"belt_speed\": 2.5, \"running\": true}")
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("mosquitto_pub finished: " + out).isTrue();
    return p.exitValue();
  }

  private static void awaitServing(ManagedChannel channel) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        if (HealthGrpc.newBlockingStub(channel).withDeadlineAfter(2, TimeUnit.SECONDS)
            .check(HealthCheckRequest.getDefaultInstance()).getStatus() == ServingStatus.SERVING) {
          return;
        }
      } catch (StatusRuntimeException e) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("device-hub gRPC not serving", e);
        }
      }
      Thread.sleep(200);
    }
  }
}
