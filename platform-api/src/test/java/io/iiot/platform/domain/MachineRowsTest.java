package io.iiot.platform.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.platform.catalog.ShippedCatalog;
import io.iiot.platform.v1.Machine;
import io.iiot.platform.v1.OnboardingTemplate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

public class MachineRowsTest {
  private final OnboardingTemplate belt = ShippedCatalog.load().stream()
      .filter(t -> t.getName().equals("templates/mine-belt-conveyor")).findFirst().orElseThrow();

  public static Machine good(String id) {
    return Machine.newBuilder().setMachineId(id)
        .putIdentifierValues("SERIAL_NO", "DTL-" + id)
        .putIdentifierValues("MODEL", "DTL120/150/3x400")
        .putIdentifierValues("MANUFACTURER", "山西煤矿机械制造")
        .putIdentifierValues("MA_CERT_NO", "MFA180123")
        .build();
  }

  @Test
  void validRowsPass() {
    assertThat(MachineRows.check(belt, List.of(good("belt-1"), good("belt-2")))).isEmpty();
  }

  @Test
  void everyBadRowIsReportedWithItsIndex() {
    List<Machine> rows = List.of(
        good("belt-1"),
        good("belt-2").toBuilder().removeIdentifierValues("SERIAL_NO").build(),
        good("BELT-1"),
        good("belt 4"),
        good("belt-5").toBuilder().putIdentifierValues("COLOUR", "red").putIdentifierValues("MODEL", "x".repeat(65))
            .build(),
        good("belt-6").toBuilder().setSuppliedSecret("short").build());
    assertThat(MachineRows.check(belt, rows)).extracting(FieldViolation::field).containsExactlyInAnyOrder(
        "machines[1].identifier_values[SERIAL_NO]",
        "machines[2].machine_id",
        "machines[3].machine_id",
        "machines[4].identifier_values[COLOUR]",
        "machines[4].identifier_values[MODEL]",
        "machines[5].supplied_secret");
  }

  @Test
  void batchSizeIsBounded() {
    assertThat(MachineRows.check(belt, List.of())).extracting(FieldViolation::field).containsExactly("machines");
    List<Machine> many = new ArrayList<>();
    for (int i = 0; i <= MachineRows.MAX_MACHINES; i++) {
      many.add(good("m" + i));
    }
    assertThat(MachineRows.check(belt, many)).singleElement()
        .satisfies(v -> assertThat(v.description()).contains("10000"));
    assertThat(MachineRows.check(belt, many.subList(0, MachineRows.MAX_MACHINES))).isEmpty();
  }
}
