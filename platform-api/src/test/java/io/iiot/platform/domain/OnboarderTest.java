package io.iiot.platform.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.Code;
import io.iiot.platform.catalog.ShippedCatalog;
import io.iiot.platform.v1.DeviceProfile;
import io.iiot.platform.v1.IdentifierTemplate;
import io.iiot.platform.v1.Machine;
import io.iiot.platform.v1.MachineResult;
import io.iiot.platform.v1.OnboardDevicesResponse;
import io.iiot.platform.v1.OnboardingTemplate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The onboarding saga against recording stand-ins for resolver-node and device-hub (remote services, reached over
 * gRPC in production; their adapters are not written yet). Checks the compensate-on-failure contract per machine.
 */
public class OnboarderTest {
  private static final List<OnboardingTemplate> CATALOG = ShippedCatalog.load();
  private final OnboardingTemplate belt = template("templates/mine-belt-conveyor");
  private final Registry registry = new Registry();
  private final Directory directory = new Directory();
  private final Onboarder onboarder = new Onboarder(registry, directory, "mqtt://hub.example:1883",
      "coaps://hub.example:5684");

  static OnboardingTemplate template(String name) {
    return CATALOG.stream().filter(t -> t.getName().equals(name)).findFirst().orElseThrow();
  }

  static List<Machine> machines(int n) {
    List<Machine> out = new ArrayList<>();
    for (int i = 1; i <= n; i++) {
      out.add(MachineRowsTest.good(String.format("belt-%03d", i)));
    }
    return out;
  }

  OnboardDevicesResponse onboard(List<Machine> machines) throws Exception {
    return onboarder.onboard("acme", "88.101.5", belt, machines).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void onboardsAHundredBeltConveyorsWithCredentialsAndConnectionStrings() throws Exception {
    OnboardDevicesResponse r = onboard(machines(100));
    assertThat(r.getOnboardedCount()).isEqualTo(100);
    assertThat(directory.generatedSecrets).as("secrets generated here are marked so").hasSize(100);
    assertThat(r.getFailedCount()).isZero();
    MachineResult first = r.getResults(0);
    assertThat(first.getStatus().getCode()).isEqualTo(Code.OK_VALUE);
    assertThat(first.getIdentifier()).isEqualTo("88.101.5/belt-001");
    assertThat(first.getDevice()).isEqualTo("tenants/acme/devices/belt-001");
    assertThat(first.getCredentials().getType()).isEqualTo("password");
    assertThat(first.getCredentials().getAuthId()).isEqualTo("belt-001@acme");
    assertThat(first.getCredentials().getSecret()).hasSize(32); // 24 random bytes, base64url
    assertThat(first.getMqttUri()).isEqualTo("mqtt://hub.example:1883");
    assertThat(r.getResultsList().stream().map(m -> m.getCredentials().getSecret()).distinct()).hasSize(100);
    assertThat(registry.registered).hasSize(100);
    assertThat(directory.devices).hasSize(100);
    assertThat(directory.profiles).containsExactly("mine-belt-conveyor-v1");
  }

  @Test
  void aDeviceThatCannotBeCreatedHasItsIdentifierRemoved() throws Exception {
    directory.reject.add("belt-003");
    OnboardDevicesResponse r = onboard(machines(5));
    assertThat(r.getOnboardedCount()).isEqualTo(4);
    MachineResult third = r.getResults(2);
    assertThat(third.getStatus().getCode()).isEqualTo(Code.ABORTED_VALUE);
    assertThat(third.getStatus().getMessage()).contains("device not created").contains("identifier was removed");
    assertThat(third.getCredentials().getSecret()).as("no credentials for a machine not onboarded").isEmpty();
    assertThat(registry.registered).doesNotContain("88.101.5/belt-003").hasSize(4);
  }

  @Test
  void aRejectedIdentifierMeansNoDevice() throws Exception {
    registry.reject.add("88.101.5/belt-002");
    OnboardDevicesResponse r = onboard(machines(3));
    assertThat(r.getResults(1).getStatus().getMessage()).contains("identifier not registered");
    assertThat(directory.devices).containsExactlyInAnyOrder("belt-001", "belt-003");
  }

  @Test
  void whenDeviceHubFailsNothingIsLeftBehind() throws Exception {
    directory.failWholeCall = true;
    OnboardDevicesResponse r = onboard(machines(4));
    assertThat(r.getFailedCount()).isEqualTo(4);
    assertThat(r.getResultsList()).allSatisfy(m -> assertThat(m.getStatus().getCode())
        .isEqualTo(Code.UNAVAILABLE_VALUE));
    assertThat(registry.registered).isEmpty();
    assertThat(directory.devices).isEmpty();
  }

  @Test
  void whenDeviceHubFailsAndItsDevicesCannotBeRemovedTheRowsSaySo() throws Exception {
    directory.failWholeCall = true;
    directory.failDelete = true;
    OnboardDevicesResponse r = onboard(machines(2));
    assertThat(r.getResultsList()).allSatisfy(m -> {
      assertThat(m.getStatus().getCode()).isEqualTo(Code.INTERNAL_VALUE);
      assertThat(m.getStatus().getMessage()).contains("outcome unknown").contains("kept");
    });
    assertThat(registry.registered).as("identifiers kept while devices may exist").hasSize(2);
  }

  @Test
  void largeCallsGoInChunksAndAFailedChunkIsCompensatedAlone() throws Exception {
    directory.failCallWith = "belt-1500";
    List<Machine> rows = machines(Onboarder.CHUNK * 2 + 500);
    OnboardDevicesResponse r = onboard(rows);

    assertThat(registry.batchSizes).containsExactlyInAnyOrder(Onboarder.CHUNK, Onboarder.CHUNK, 500);
    assertThat(r.getFailedCount()).isEqualTo(Onboarder.CHUNK);
    for (int i = 0; i < rows.size(); i++) {
      boolean secondChunk = i >= Onboarder.CHUNK && i < 2 * Onboarder.CHUNK;
      assertThat(r.getResults(i).getMachineId()).isEqualTo(rows.get(i).getMachineId());
      assertThat(r.getResults(i).getStatus().getCode()).isEqualTo(secondChunk ? Code.UNAVAILABLE_VALUE : Code.OK_VALUE);
    }
    assertThat(r.getResults(Onboarder.CHUNK).getStatus().getMessage()).contains("identifier was removed");
    assertThat(registry.registered).hasSize(Onboarder.CHUNK + 500).doesNotContain("88.101.5/belt-1500");
    assertThat(directory.devices).hasSize(Onboarder.CHUNK + 500).doesNotContain("belt-1500");
  }

  @Test
  void invalidRowsRejectTheWholeCallBeforeAnythingIsWritten() {
    List<Machine> rows = new ArrayList<>(machines(3));
    rows.set(1, rows.get(1).toBuilder().removeIdentifierValues("MA_CERT_NO").build());
    assertThatThrownBy(() -> onboard(rows)).isInstanceOf(ExecutionException.class)
        .cause().isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.violations())
            .extracting(FieldViolation::field).containsExactly("machines[1].identifier_values[MA_CERT_NO]"));
    assertThat(registry.registered).isEmpty();
  }

  @Test
  void certificateTemplatesAreRefusedRatherThanGivenPasswords() {
    OnboardingTemplate plc = template("templates/plc-gateway");
    Machine m = Machine.newBuilder().setMachineId("gw-1").putIdentifierValues("SERIAL_NO", "1")
        .putIdentifierValues("MODEL", "m").putIdentifierValues("MANUFACTURER", "x").build();
    assertThatThrownBy(() -> onboarder.onboard("acme", "88.101.5", plc, List.of(m)).toCompletableFuture().get())
        .cause().isInstanceOfSatisfying(InvalidRequestException.class,
            e -> assertThat(e.violations().get(0).field()).isEqualTo("template"));
  }

  /** resolver-node stand-in: remembers registered handles, rejects the listed ones. */
  public static final class Registry implements IdentifierRegistry {
    public final Set<String> registered = new HashSet<>();
    final Set<String> reject = new HashSet<>();
    final List<Integer> batchSizes = new ArrayList<>();

    @Override
    public synchronized CompletionStage<List<RowOutcome>> register(OnboardingTemplate t, List<NewIdentifier> ids) {
      batchSizes.add(ids.size());
      List<RowOutcome> out = new ArrayList<>();
      for (NewIdentifier id : ids) {
        if (reject.contains(id.handle())) {
          out.add(RowOutcome.failed("value rejected by the metadata template"));
        } else {
          registered.add(id.handle());
          out.add(RowOutcome.OK);
        }
      }
      return CompletableFuture.completedFuture(out);
    }

    @Override
    public synchronized CompletionStage<Void> delete(List<String> handles) {
      handles.forEach(registered::remove);
      return CompletableFuture.completedFuture(null);
    }
  }

  /** device-hub stand-in. With {@code failWholeCall} it creates the devices and then fails, like a lost response. */
  public static final class Directory implements DeviceDirectory {
    public final Set<String> devices = new HashSet<>();
    /** Devices whose secret was marked as generated (device-hub then skips the human-password work factor). */
    final Set<String> generatedSecrets = new HashSet<>();
    final Set<String> profiles = new HashSet<>();
    final Set<String> reject = new HashSet<>();
    boolean failWholeCall;
    /** Fails (after creating) only the call that contains this device id. */
    String failCallWith;
    boolean failDelete;

    @Override
    public synchronized CompletionStage<List<RowOutcome>> createDevices(String tenant, DeviceProfile profile,
        List<NewDevice> list) {
      profiles.add(profile.getProfile());
      List<RowOutcome> out = new ArrayList<>();
      for (NewDevice d : list) {
        if (reject.contains(d.deviceId())) {
          out.add(RowOutcome.failed("device id taken"));
        } else {
          devices.add(d.deviceId());
          if (d.generatedSecret()) {
            generatedSecrets.add(d.deviceId());
          }
          out.add(RowOutcome.OK);
        }
      }
      boolean fail = failWholeCall || list.stream().anyMatch(d -> d.deviceId().equals(failCallWith));
      return fail ? CompletableFuture.failedFuture(new IllegalStateException("deadline exceeded"))
          : CompletableFuture.completedFuture(out);
    }

    @Override
    public synchronized CompletionStage<Void> deleteDevices(String tenant, List<String> ids) {
      if (failDelete) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("no delete RPC"));
      }
      ids.forEach(devices::remove);
      return CompletableFuture.completedFuture(null);
    }
  }
}
