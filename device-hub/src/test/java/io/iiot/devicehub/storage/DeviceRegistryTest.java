package io.iiot.devicehub.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.PasswordHasher;
import io.iiot.devicehub.domain.Schemas;
import io.iiot.devicehub.domain.TelemetrySchema;
import io.iiot.devicehub.domain.Tenant;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedCassandraExtension.class)
class DeviceRegistryTest {
  private final DeviceRegistry registry = new DeviceRegistry(TestKeyspace.session(), TestKeyspace.NAME);
  private final String tenant = "t" + UUID.randomUUID().toString().substring(0, 8);

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void storesTenantsProfilesAndDevicesAndReadsThemBack() throws Exception {
    await(registry.putTenant(new Tenant(tenant, true, Duration.ofDays(90))));
    TelemetrySchema schema = Schemas.pump();
    await(registry.putProfile(tenant, "pump", schema));
    Instant created = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    Device device = new Device(tenant, "sensor2", "pump", true, Set.of("gw1"), created);
    await(registry.putDevice(device));

    assertThat(await(registry.tenant(tenant))).contains(new Tenant(tenant, true, Duration.ofDays(90)));
    assertThat(await(registry.profile(tenant, "pump")).orElseThrow().metrics())
        .containsExactlyInAnyOrderElementsOf(schema.metrics());
    assertThat(await(registry.device(tenant, "sensor2"))).contains(device);
    assertThat(await(registry.device(tenant, "nobody"))).isEmpty();
    assertThat(await(registry.tenant("nobody-" + tenant))).isEmpty();
    assertThat(await(registry.profile(tenant, "none"))).isEmpty();
  }

  @Test
  void storesOnlyTheHashOfAPasswordAndThePskKey() throws Exception {
    String hash = new PasswordHasher(1000).hash("pw-123");
    await(registry.putPassword(tenant, "sensor1", "sensor1", hash));
    await(registry.putPsk(tenant, "sensor1", "sensor1", new byte[] {1, 2, 3}));

    DeviceRegistry.Credential password = await(registry.credential(tenant, "sensor1", DeviceRegistry.PASSWORD))
        .orElseThrow();
    assertThat(password.deviceId()).isEqualTo("sensor1");
    assertThat(password.secret()).doesNotContain("pw-123");
    assertThat(PasswordHasher.verify("pw-123", password.secret())).isTrue();
    assertThat(await(registry.credential(tenant, "sensor1", DeviceRegistry.PSK)).orElseThrow().key())
        .containsExactly(1, 2, 3);
    assertThat(await(registry.credential(tenant, "other", DeviceRegistry.PASSWORD))).isEqualTo(Optional.empty());
  }

  @Test
  void conditionalBatchesOfTheLongestIdsStayUnderCassandrasBatchLimitAndCreateEveryDevice() throws Exception {
    await(registry.putTenant(new Tenant(tenant, true, Duration.ofDays(90))));
    Instant created = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    String pad = "x".repeat(120);
    java.util.List<Device> longest = new java.util.ArrayList<>();
    for (int i = 0; i < 150; i++) {
      longest.add(new Device(tenant, String.format("%s%08d", pad, i), "p" + pad + "1234567", true,
          Set.of("a" + pad + "1234567", "b" + pad + "1234567", "c" + pad + "1234567"), created));
    }
    java.util.List<java.util.List<Device>> groups = DeviceRegistry.conditionalBatches(longest);
    assertThat(groups.size()).isGreaterThan(1);
    for (java.util.List<Device> group : groups) {
      // Cassandra refuses a batch over batch_size_fail_threshold (50 KiB): this would fail, not just warn.
      assertThat(await(registry.createDevices(group))).isEmpty();
    }
    assertThat(await(registry.existingDevices(tenant, longest.stream().map(Device::deviceId).toList())))
        .hasSize(longest.size());

    java.util.List<Device> typical = new java.util.ArrayList<>();
    for (int i = 0; i < 600; i++) {
      typical.add(new Device(tenant, "belt-" + i, "belt", true, Set.of(), created));
    }
    assertThat(DeviceRegistry.conditionalBatches(typical)).extracting(java.util.List::size)
        .containsExactly(DeviceRegistry.DEVICES_PER_CONDITIONAL_BATCH, DeviceRegistry.DEVICES_PER_CONDITIONAL_BATCH,
            600 - 2 * DeviceRegistry.DEVICES_PER_CONDITIONAL_BATCH);
  }
}
