package io.iiot.platform.domain;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.platform.catalog.ShippedCatalog;
import io.iiot.platform.v1.CredentialPolicy;
import io.iiot.platform.v1.Metric;
import io.iiot.platform.v1.OnboardingTemplate;
import org.junit.jupiter.api.Test;

class TemplateRulesTest {
  private final OnboardingTemplate cnc = ShippedCatalog.load().stream()
      .filter(t -> t.getName().equals("templates/cnc-machining-centre")).findFirst().orElseThrow();

  @Test
  void reportsEachBrokenPart() {
    OnboardingTemplate bad = cnc.toBuilder()
        .setIndustryCode("3421")
        .setCredentialPolicy(CredentialPolicy.newBuilder().setSecretBytes(8))
        .setDeviceProfile(cnc.getDeviceProfile().toBuilder()
            .addMetrics(Metric.newBuilder().setId(0).setName("ts").setType(Metric.Type.NUMBER).setMin(5).setMax(1)))
        .build();
    assertThat(TemplateRules.check(bad, "onboarding_template")).extracting(FieldViolation::field)
        .containsExactlyInAnyOrder(
            "onboarding_template.industry_code",
            "onboarding_template.device_profile.metrics[10].id",
            "onboarding_template.device_profile.metrics[10].name",
            "onboarding_template.device_profile.metrics[10].max",
            "onboarding_template.credential_policy.type",
            "onboarding_template.credential_policy.secret_bytes");
  }

  @Test
  void filterSubset() {
    assertThat(TemplateFilter.parse("industry_code = \"C3421\"").test(cnc)).isTrue();
    assertThat(TemplateFilter.parse("industry_code = \"C*\"").test(cnc)).isTrue();
    assertThat(TemplateFilter.parse("industry_code = \"B*\"").test(cnc)).isFalse();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> TemplateFilter.parse("display_name = \"x\""))
        .isInstanceOfSatisfying(InvalidRequestException.class,
            e -> assertThat(e.violations().get(0).field()).isEqualTo("filter"));
  }
}
