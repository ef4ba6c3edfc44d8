package io.iiot.resolver.domain.template;

import java.math.BigDecimal;
import java.util.List;

/**
 * One field of a metadata template and where its value is stored in the identifier's Handle record.
 *
 * @param name field name, unique in the template (e.g. {@code serial_no})
 * @param type value kind
 * @param required whether every identifier must carry it
 * @param valueType the Handle value type the value is stored under (e.g. {@code SERIAL_NO}); unique in the template
 * @param index the Handle value index it is stored at; unique, 1..999999, never {@link MetadataTemplate#TEMPLATE_INDEX}
 * @param minLength shortest text in characters, or null
 * @param maxLength longest text in characters, or null
 * @param min smallest number (INTEGER, DECIMAL), or null
 * @param max largest number (INTEGER, DECIMAL), or null
 * @param pattern a Java regular expression the whole value must match (STRING), or null
 * @param unit the unit of a DECIMAL (e.g. {@code kW}); required for DECIMAL
 * @param allowed the values of an ENUM
 */
public record TemplateField(String name, FieldType type, boolean required, String valueType, int index,
    Integer minLength, Integer maxLength, BigDecimal min, BigDecimal max, String pattern, String unit,
    List<String> allowed) {
  public TemplateField {
    allowed = allowed == null ? List.of() : List.copyOf(allowed);
  }

  /** A field with no limits; add them with the {@code with*} methods. */
  public static TemplateField of(String name, FieldType type, boolean required, String valueType, int index) {
    return new TemplateField(name, type, required, valueType, index, null, null, null, null, null, null, List.of());
  }

  public TemplateField withLength(Integer minLen, Integer maxLen) {
    return new TemplateField(name, type, required, valueType, index, minLen, maxLen, min, max, pattern, unit, allowed);
  }

  public TemplateField withRange(BigDecimal lo, BigDecimal hi) {
    return new TemplateField(name, type, required, valueType, index, minLength, maxLength, lo, hi, pattern, unit,
        allowed);
  }

  public TemplateField withPattern(String regex) {
    return new TemplateField(name, type, required, valueType, index, minLength, maxLength, min, max, regex, unit,
        allowed);
  }

  public TemplateField withUnit(String u) {
    return new TemplateField(name, type, required, valueType, index, minLength, maxLength, min, max, pattern, u,
        allowed);
  }

  public TemplateField withAllowed(List<String> values) {
    return new TemplateField(name, type, required, valueType, index, minLength, maxLength, min, max, pattern, unit,
        values);
  }
}
