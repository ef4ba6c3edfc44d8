package io.iiot.resolver.domain.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

public class TemplateValidatorTest {
  public static final MetadataTemplate CNC_TEMPLATE = new MetadataTemplate("cnc-machining-centre", 1, "CNC machining centre", "C",
      "3421", List.of(
          TemplateField.of("serial_no", FieldType.STRING, true, "SERIAL_NO", 2).withLength(4, 12)
              .withPattern("[A-Z0-9-]+"),
          TemplateField.of("spindles", FieldType.INTEGER, false, "SPINDLES", 3)
              .withRange(BigDecimal.ONE, BigDecimal.valueOf(8)),
          TemplateField.of("power", FieldType.DECIMAL, false, "RATED_POWER", 4).withUnit("kW")
              .withRange(new BigDecimal("0.5"), new BigDecimal("500")),
          TemplateField.of("made_at", FieldType.DATE_TIME, false, "MADE_AT", 5),
          TemplateField.of("state", FieldType.ENUM, false, "STATE", 6).withAllowed(List.of("active", "retired")),
          TemplateField.of("manual", FieldType.URL, false, "URL", 1),
          TemplateField.of("controller", FieldType.REFERENCE, false, "CONTROLLER", 7)));
  final TemplateValidator validator = new TemplateValidator(CNC_TEMPLATE);

  private static Map<String, String> good() {
    Map<String, String> m = new HashMap<>();
    m.put("serial_no", "CNC-0001");
    m.put("spindles", "2");
    m.put("power", "22.5");
    m.put("made_at", "2026-11-25T17:00:00+08:00");
    m.put("state", "active");
    m.put("manual", "https://example.com/cnc/manual.pdf");
    m.put("controller", "88.101.5/PLC-7");
    return m;
  }

  private List<FieldViolation> with(String field, String value) {
    Map<String, String> m = good();
    if (value == null) {
      m.remove(field);
    } else {
      m.put(field, value);
    }
    return validator.validate(m);
  }

  private static FieldViolation only(List<FieldViolation> v) {
    assertThat(v).hasSize(1);
    return v.get(0);
  }

  @Test
  void aCompleteGoodIdentifierHasNoViolationsAndOptionalFieldsMayBeLeftOut() {
    assertThat(validator.validate(good())).isEmpty();
    assertThat(validator.validate(Map.of("serial_no", "AB12"))).isEmpty();
    assertThat(with("power", "22.5 kW")).isEmpty();
  }

  @Test
  void eachRuleNamesItsFieldAndRule() {
    assertThat(only(with("serial_no", null))).extracting(FieldViolation::field, FieldViolation::rule)
        .containsExactly("serial_no", "REQUIRED");
    assertThat(only(with("serial_no", "AB1")).rule()).isEqualTo("MIN_LENGTH");
    assertThat(only(with("serial_no", "ABCDEFGHIJKLM")).description()).isEqualTo("at most 12 characters, got 13");
    assertThat(only(with("serial_no", "cnc-0001"))).isEqualTo(
        new FieldViolation("serial_no", "PATTERN", "must match [A-Z0-9-]+"));
    assertThat(only(with("spindles", "2.5")).rule()).isEqualTo("NOT_AN_INTEGER");
    assertThat(only(with("spindles", "0"))).isEqualTo(new FieldViolation("spindles", "BELOW_MINIMUM", "at least 1"));
    assertThat(only(with("spindles", "9"))).isEqualTo(new FieldViolation("spindles", "ABOVE_MAXIMUM", "at most 8"));
    assertThat(only(with("power", "fast")).rule()).isEqualTo("NOT_A_DECIMAL");
    assertThat(only(with("power", "22.5 W")).rule()).isEqualTo("UNIT_MISMATCH");
    assertThat(only(with("power", "0.4")).rule()).isEqualTo("BELOW_MINIMUM");
    assertThat(only(with("power", "500.01")).rule()).isEqualTo("ABOVE_MAXIMUM");
    assertThat(only(with("made_at", "2026-11-25 17:00")).rule()).isEqualTo("NOT_A_DATE_TIME");
    assertThat(only(with("made_at", "2026-11-25T17:00:00")).rule()).isEqualTo("NOT_A_DATE_TIME");
    assertThat(only(with("state", "Active")).rule()).isEqualTo("NOT_IN_ENUM");
    assertThat(only(with("manual", "ftp://example.com/x")).rule()).isEqualTo("NOT_A_URL");
    assertThat(only(with("manual", "/relative")).rule()).isEqualTo("NOT_A_URL");
    assertThat(only(with("controller", "no-slash")).rule()).isEqualTo("NOT_AN_IDENTIFIER");
    assertThat(only(with("controller", "0.NA/88.101")).rule()).isEqualTo("NOT_AN_IDENTIFIER");
    assertThat(only(with("colour", "red"))).extracting(FieldViolation::field, FieldViolation::rule)
        .containsExactly("colour", "UNKNOWN_FIELD");
  }

  @Test
  void lengthCountsCharactersNotBytes() {
    MetadataTemplate t = new MetadataTemplate("named", 1, "名称", "C", "", List.of(
        TemplateField.of("name", FieldType.STRING, true, "NAME", 2).withLength(1, 3)));
    assertThat(new TemplateValidator(t).validate(Map.of("name", "数控机"))).isEmpty();
    assertThat(new TemplateValidator(t).validate(Map.of("name", "数控机床")).get(0).rule()).isEqualTo("MAX_LENGTH");
  }

  @Test
  void industryCodesFollowGbt4754() {
    assertThat(IndustryCode.problem("C", "3421")).isEmpty();
    assertThat(IndustryCode.problem("B", "06")).isEmpty();
    assertThat(IndustryCode.problem("T", "")).isEmpty();
    assertThat(IndustryCode.problem("U", "")).hasValueSatisfying(p -> assertThat(p).contains("A-T"));
    assertThat(IndustryCode.problem("C", "0611")).hasValue("industry code 0611 is not in category C (divisions 13-43)");
    assertThat(IndustryCode.problem("C", "34211")).isPresent();
    assertThat(IndustryCode.problem("C", "3")).isPresent();
  }

  @Test
  void badDefinitionsAreRefusedWithPaths() {
    MetadataTemplate bad = new MetadataTemplate("Bad_Id", 1, "", "C", "99", List.of(
        TemplateField.of("a", FieldType.DECIMAL, true, "HS_ADMIN", 1001),
        TemplateField.of("a", FieldType.STRING, true, "X", 2).withPattern("(").withRange(BigDecimal.ONE, null),
        TemplateField.of("e", FieldType.ENUM, true, "x", 3)));
    assertThat(bad.definitionProblems()).extracting(p -> p.field() + " " + p.rule()).containsExactly(
        "template_id INVALID_ID", "display_name REQUIRED", "industry INVALID_INDUSTRY_CODE",
        "fields[0].value_type RESERVED_VALUE_TYPE", "fields[0].index INVALID_INDEX", "fields[0].unit REQUIRED",
        "fields[1].name DUPLICATE", "fields[1].max LIMIT_NOT_APPLICABLE", "fields[1].pattern INVALID_PATTERN",
        "fields[2].value_type DUPLICATE", "fields[2].allowed_values REQUIRED");
    assertThatThrownBy(() -> new TemplateValidator(bad)).isInstanceOf(IllegalArgumentException.class);
    assertThat(CNC_TEMPLATE.definitionProblems()).isEmpty();
    assertThat(CNC_TEMPLATE.reference()).isEqualTo("cnc-machining-centre@1");
  }
}
