package io.iiot.platform.api;

import static io.iiot.platform.api.ApiHarness.errorInfo;
import static io.iiot.platform.api.ApiHarness.violations;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.platform.domain.MachineRowsTest;
import io.iiot.platform.domain.Onboarder;
import io.iiot.platform.domain.OnboarderTest;
import io.iiot.platform.domain.RateLimiter;
import io.iiot.platform.storage.RequestIdStore;
import io.iiot.platform.v1.Machine;
import io.iiot.platform.v1.MachineResult;
import io.iiot.platform.v1.OnboardDevicesRequest;
import io.iiot.platform.v1.OnboardDevicesResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * OnboardDevices over gRPC with real auth, tenants, templates and request ids in Cassandra; resolver-node and
 * device-hub are the recording stand-ins of {@link OnboarderTest} (their gRPC adapters do not exist yet).
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class OnboardingApiTest {
  static final OnboarderTest.Registry REGISTRY = new OnboarderTest.Registry();
  static final OnboarderTest.Directory DIRECTORY = new OnboarderTest.Directory();
  static ApiHarness api;
  static String tenant;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    api = new ApiHarness(new RateLimiter(10_000, 10_000, 1000, System::nanoTime), h -> List.of(new OnboardingApi(
        h.tenantStore, h.templateStore, new RequestIdStore(ApiHarness.session(), ApiHarness.KEYSPACE),
        new Onboarder(REGISTRY, DIRECTORY, "mqtt://hub.example:1883", "coaps://hub.example:5684"))));
    tenant = ApiHarness.uniqueTenantId();
    key = api.newTenantWithKey(tenant);
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
  }

  static StatusRuntimeException failure(Supplier<?> call) {
    return catchThrowableOfType(StatusRuntimeException.class, call::get);
  }

  static List<Machine> machines(String prefix, int n) {
    List<Machine> out = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      out.add(MachineRowsTest.good(prefix + "-" + i));
    }
    return out;
  }

  @Test
  void aRepeatedRequestIdReturnsTheSameResultAndOnboardsNothingTwice() {
    OnboardDevicesRequest req = OnboardDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .setTemplate("templates/mine-belt-conveyor").addAllMachines(machines("conv", 100))
        .setRequestId(UUID.randomUUID().toString()).build();
    OnboardDevicesResponse first = api.onboarding(key).onboardDevices(req);
    assertThat(first.getOnboardedCount()).isEqualTo(100);
    assertThat(first.getResults(0).getIdentifier()).isEqualTo("88.101.5/conv-1");
    assertThat(first.getResults(0).getCredentials().getSecret()).isNotEmpty();
    int devicesAfterFirst = DIRECTORY.devices.size();

    OnboardDevicesResponse again = api.onboarding(key).onboardDevices(req);
    assertThat(DIRECTORY.devices).hasSize(devicesAfterFirst);
    assertThat(again.getOnboardedCount()).isEqualTo(100);
    assertThat(again.getResultsList()).extracting(MachineResult::getIdentifier)
        .isEqualTo(first.getResultsList().stream().map(MachineResult::getIdentifier).toList());
    assertThat(again.getResultsList()).as("secrets are shown once, never stored")
        .allSatisfy(m -> assertThat(m.getCredentials().getSecret()).isEmpty());

    StatusRuntimeException reused = failure(() -> api.onboarding(key).onboardDevices(req.toBuilder()
        .removeMachines(0).build()));
    assertThat(reused.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(errorInfo(reused).getReason()).isEqualTo("REQUEST_ID_REUSED");
  }

  @Test
  void invalidRowsAreReportedPerRowAndTheRequestIdStaysUsable() {
    List<Machine> rows = new ArrayList<>(machines("bad", 4));
    rows.set(1, rows.get(1).toBuilder().clearIdentifierValues().build());
    rows.set(3, rows.get(3).toBuilder().setMachineId("has space").build());
    OnboardDevicesRequest req = OnboardDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .setTemplate("templates/mine-belt-conveyor").addAllMachines(rows)
        .setRequestId(UUID.randomUUID().toString()).build();
    StatusRuntimeException e = failure(() -> api.onboarding(key).onboardDevices(req));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(violations(e)).extracting(BadRequest.FieldViolation::getField).contains(
        "machines[1].identifier_values[SERIAL_NO]", "machines[1].identifier_values[MA_CERT_NO]",
        "machines[3].machine_id");
    assertThat(REGISTRY.registered).noneMatch(h -> h.contains("/bad-"));

    // Nothing was done, so the same request id may carry the corrected batch.
    OnboardDevicesResponse fixed = api.onboarding(key).onboardDevices(req.toBuilder().clearMachines()
        .addAllMachines(machines("bad", 4)).build());
    assertThat(fixed.getOnboardedCount()).isEqualTo(4);
  }

  @Test
  void anotherTenantsKeyCannotOnboardIntoThisTenant() throws Exception {
    String otherKey = api.newTenantWithKey(ApiHarness.uniqueTenantId());
    StatusRuntimeException e = failure(() -> api.onboarding(otherKey).onboardDevices(OnboardDevicesRequest
        .newBuilder().setParent("tenants/" + tenant).setTemplate("templates/mine-belt-conveyor")
        .addAllMachines(machines("x", 1)).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
  }
}
