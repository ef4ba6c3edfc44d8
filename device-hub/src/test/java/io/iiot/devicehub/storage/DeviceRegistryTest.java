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
  void aTenantCreatedNowIsMarkedClaimedFromStartAndAnOlderOneStaysUnmarked() throws Exception {
    await(registry.putTenant(new Tenant(tenant, true, Duration.ofDays(90))));
    assertThat(await(registry.claimedFromStart(tenant))).isTrue();
    await(registry.putTenant(new Tenant(tenant, false, Duration.ofDays(30))));
    assertThat(await(registry.claimedFromStart(tenant))).isTrue();
    assertThat(await(registry.tenant(tenant))).contains(new Tenant(tenant, false, Duration.ofDays(30)));

    // A tenant from before the mark (a row without it) keeps lacking it when put again.
    String older = "o" + tenant;
    TestKeyspace.session().execute("INSERT INTO " + TestKeyspace.NAME + ".tenants (tenant, enabled,"
        + " telemetry_ttl_seconds, created_at) VALUES (?, true, 0, toTimestamp(now()))", older);
    assertThat(await(registry.claimedFromStart(older))).isFalse();
    await(registry.putTenant(new Tenant(older, true, Duration.ofDays(1))));
    assertThat(await(registry.claimedFromStart(older))).isFalse();
    assertThat(await(registry.tenant(older))).contains(new Tenant(older, true, Duration.ofDays(1)));
    assertThat(await(registry.claimedFromStart("nobody-" + tenant))).isFalse();
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
  void claimBatchesOfTheLongestIdsStayUnderCassandrasBatchLimitAndClaimEveryId() throws Exception {
    String pad = "x".repeat(120);
    String longTenant = (tenant + pad).substring(0, 128);
    java.util.List<DeviceRegistry.Claim> longest = new java.util.ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      String id = String.format("%s%08d", pad, i);
      longest.add(DeviceRegistry.Claim.device(id));
      longest.add(DeviceRegistry.Claim.auth(id, id));
    }
    java.util.List<java.util.List<DeviceRegistry.Claim>> batches = DeviceRegistry.claimBatches(longTenant, longest);
    assertThat(batches.size()).isGreaterThan(DeviceRegistry.CLAIM_BUCKETS);
    UUID call = UUID.randomUUID();
    for (java.util.List<DeviceRegistry.Claim> batch : batches) {
      assertThat(batch).extracting(DeviceRegistry.Claim::bucket).containsOnly(batch.get(0).bucket());
      // Cassandra refuses a batch over batch_size_fail_threshold (50 KiB): this would fail, not just warn.
      assertThat(await(registry.claim(longTenant, batch, call))).isEmpty();
    }
    assertThat(batches.stream().mapToInt(java.util.List::size).sum()).isEqualTo(longest.size());
    // The same call again (a Paxos round whose answer was lost) finds its own claims; another call finds them taken.
    assertThat(await(registry.claim(longTenant, batches.get(0), call))).isEmpty();
    assertThat(await(registry.claim(longTenant, batches.get(0), UUID.randomUUID()))).isPresent();
    await(registry.release(longTenant, batches.get(0)));
    UUID next = UUID.randomUUID();
    assertThat(await(registry.claim(longTenant, batches.get(0), next))).isEmpty();
    // After an unknown outcome a call gives back only what it holds: the first call's id releases none of next's.
    await(registry.releaseIfHeld(longTenant, batches.get(0), call));
    assertThat(await(registry.claim(longTenant, batches.get(0), UUID.randomUUID()))).isPresent();
    await(registry.releaseIfHeld(longTenant, batches.get(0), next));
    assertThat(await(registry.claim(longTenant, batches.get(0), UUID.randomUUID()))).isEmpty();
    // Claims held by another call stay, however many are given back at once (a thousand conditional deletes, four
    // partitions' worth, contended and timed out, which under protocol v5 also closed the driver's connection).
    java.util.List<java.util.List<DeviceRegistry.Claim>> held = batches.subList(1, 5);
    await(registry.releaseIfHeld(longTenant, held.stream().flatMap(java.util.List::stream).toList(),
        UUID.randomUUID()));
    for (java.util.List<DeviceRegistry.Claim> batch : held) {
      assertThat(await(registry.claim(longTenant, batch, UUID.randomUUID()))).isPresent();
    }

    // One claim is a single conditional insert, not a batch: the same answers.
    java.util.List<DeviceRegistry.Claim> solo = java.util.List.of(DeviceRegistry.Claim.device("solo"));
    assertThat(await(registry.claim(tenant, solo, call))).isEmpty();
    assertThat(await(registry.claim(tenant, solo, call))).isEmpty();
    assertThat(await(registry.claim(tenant, solo, next))).contains(DeviceRegistry.Claim.device("solo"));

    java.util.List<DeviceRegistry.Claim> typical = new java.util.ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      typical.add(DeviceRegistry.Claim.device("belt-" + i));
      typical.add(DeviceRegistry.Claim.auth("belt-" + i, "belt-" + i));
    }
    // A device id and an equal auth id share a claim partition, so one conditional batch per partition here.
    assertThat(DeviceRegistry.claimBatches(tenant, typical)).hasSize(DeviceRegistry.CLAIM_BUCKETS);
  }

  @Test
  void aDeviceCreatedOnItsFirstMessageIsCreatedOnce() throws Exception {
    await(registry.putTenant(new Tenant(tenant, true, Duration.ofDays(90))));
    Device d = new Device(tenant, "hono-1", "belt", true, Set.of(), Instant.now().truncatedTo(ChronoUnit.MILLIS));
    assertThat(await(registry.createDevice(d))).isTrue();
    assertThat(await(registry.createDevice(new Device(tenant, "hono-1", "other", true, Set.of(), Instant.now()))))
        .isFalse();
    assertThat(await(registry.device(tenant, "hono-1"))).contains(d);
    assertThat(await(registry.deleteDevice(tenant, "hono-1"))).isTrue();
    assertThat(await(registry.createDevice(d))).isTrue();
  }
}
