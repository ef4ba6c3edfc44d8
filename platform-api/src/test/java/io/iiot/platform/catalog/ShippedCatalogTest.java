package io.iiot.platform.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.platform.domain.TemplateRules;
import io.iiot.platform.v1.Metric;
import io.iiot.platform.v1.OnboardingTemplate;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ShippedCatalogTest {
  private final Map<String, OnboardingTemplate> byName = ShippedCatalog.load().stream()
      .collect(Collectors.toMap(OnboardingTemplate::getName, Function.identity()));

  @Test
  void shipsTheIssuesCatalogueWithIndustryCodes() {
    assertThat(byName).containsOnlyKeys(
        "templates/coal-shearer", "templates/coal-roadheader", "templates/mine-belt-conveyor",
        "templates/hydraulic-support", "templates/methane-sensor", "templates/co-sensor", "templates/dust-sensor",
        "templates/mine-ventilation-fan", "templates/cnc-machining-centre", "templates/industrial-robot-arm",
        "templates/injection-moulding-machine", "templates/plc-gateway", "templates/power-meter",
        "templates/air-compressor", "templates/boiler", "templates/generic-telemetry-device");
    assertThat(byName.get("templates/mine-belt-conveyor").getIndustryCode()).isEqualTo("B0610");
    assertThat(byName.get("templates/cnc-machining-centre").getIndustryCode()).isEqualTo("C3421");
    assertThat(byName.get("templates/industrial-robot-arm").getIndustryCode()).isEqualTo("C3491");
    assertThat(byName.get("templates/power-meter").getIndustryCode()).isEqualTo("D4420");
    assertThat(byName.values()).allSatisfy(t -> {
      assertThat(t.getCatalog()).isTrue();
      assertThat(t.getVersion()).isEqualTo("1.0.0");
      assertThat(TemplateRules.check(t, "t")).isEmpty();
    });
  }

  @Test
  void metricsCarryRealUnitsAndRanges() {
    List<Metric> belt = byName.get("templates/mine-belt-conveyor").getDeviceProfile().getMetricsList();
    Metric speed = belt.stream().filter(m -> m.getName().equals("belt_speed")).findFirst().orElseThrow();
    assertThat(speed.getUnit()).isEqualTo("m/s");
    assertThat(speed.getMin()).isEqualTo(0.0);
    assertThat(speed.getMax()).isEqualTo(6.0);
    Metric ch4 = byName.get("templates/methane-sensor").getDeviceProfile().getMetrics(0);
    assertThat(ch4.getName()).isEqualTo("ch4");
    assertThat(ch4.getUnit()).isEqualTo("%CH4");
    // Mine equipment needs the MA safety mark number on its identifier.
    assertThat(byName.get("templates/coal-shearer").getIdentifierTemplate().getItemsList())
        .anySatisfy(i -> assertThat(i.getType()).isEqualTo("MA_CERT_NO"));
  }
}
