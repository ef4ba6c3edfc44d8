package io.iiot.resolver.domain.registration;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.template.TemplateValidatorTest;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IdentifierValuesTest {
  @Test
  void fieldsGoToTheirIndexAndTypeWithTheTemplateVersionAt1001AndThePrefixAdminAt100() throws Exception {
    List<HandleValue> values = IdentifierValues.toHandleValues("88.101.5/CNC-1", TemplateValidatorTest.CNC_TEMPLATE,
        Map.of("serial_no", "CNC-0001", "manual", "https://example.com/m"), 1_700_000_000);
    assertThat(values).extracting(v -> v.index() + ":" + v.type() + "=" + (v.index() == 100 ? "" : v.dataAsString()))
        .containsExactly("2:SERIAL_NO=CNC-0001", "1:URL=https://example.com/m", "100:HS_ADMIN=",
            "1001:TEMPLATE=cnc-machining-centre@1");
    AdminRecord admin = AdminRecord.decode(values.get(2).data());
    assertThat(admin.adminHandle()).isEqualTo("0.NA/88.101.5");
    assertThat(admin.adminIndex()).isEqualTo(300);

    HandleRecord rec = new HandleRecord("88.101.5/CNC-1", values);
    assertThat(IdentifierValues.templateOf(rec)).hasValue(new TemplateRef("cnc-machining-centre", 1));
    assertThat(IdentifierValues.fieldValues(TemplateValidatorTest.CNC_TEMPLATE, rec))
        .containsExactly(Map.entry("serial_no", "CNC-0001"), Map.entry("manual", "https://example.com/m"));
  }

  @Test
  void enterprisePrefixesAreDigitLabelsUnderTheNodePrefix() {
    assertThat(EnterprisePrefix.problem("88.101.5", "88.101")).isEmpty();
    assertThat(EnterprisePrefix.problem("88.101", "88.101")).isPresent();
    assertThat(EnterprisePrefix.problem("88.1015", "88.101")).isPresent();
    assertThat(EnterprisePrefix.problem("88.101.x", "88.101")).isPresent();
    assertThat(EnterprisePrefix.problem("88.102.5", "88.101")).isPresent();
    assertThat(EnterprisePrefix.handleProblem("88.101.5/CNC-1", "88.101.5")).isEmpty();
    assertThat(EnterprisePrefix.handleProblem("88.101.6/CNC-1", "88.101.5")).hasValue("must be under prefix 88.101.5");
    assertThat(EnterprisePrefix.handleProblem("88.101.5/", "88.101.5")).isPresent();
    assertThat(TemplateRef.parse("x@0")).isEmpty();
    assertThat(TemplateRef.parse("cnc@12")).hasValue(new TemplateRef("cnc", 12));
  }
}
