package io.iiot.resolver.domain.template;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One version of an identifier metadata template. Versions are immutable once stored: an identifier records the
 * {@code id} and {@code version} it was registered with (value {@link #TEMPLATE_TYPE} at {@link #TEMPLATE_INDEX}), so
 * a later version never changes what an earlier identifier was checked against.
 *
 * @param id template id, lower-case letters, digits and '-' (1..63), e.g. {@code cnc-machining-centre}
 * @param version 1, 2, ... in creation order
 * @param name display name (any language)
 * @param industry GB/T 4754 category letter
 * @param industryCode GB/T 4754 2/3/4-digit code, or ""
 * @param fields in display order
 */
public record MetadataTemplate(String id, int version, String name, String industry, String industryCode,
    List<TemplateField> fields) {
  /** Handle value index holding {@code <id>@<version>} (the index IDIS secondary nodes reserve for it). */
  public static final int TEMPLATE_INDEX = 1001;
  public static final String TEMPLATE_TYPE = "TEMPLATE";
  private static final Pattern ID = Pattern.compile("[a-z][a-z0-9-]{0,62}");
  private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_]{0,62}");
  private static final Pattern VALUE_TYPE = Pattern.compile("[A-Za-z0-9_.\\-]{1,64}");
  private static final Set<String> RESERVED_TYPES = Set.of("HS_ADMIN", "HS_SECKEY", "HS_PUBKEY", "HS_VLIST",
      "HS_SITE", "HS_SITE.6", "HS_SITE.PREFIX", "HS_SERV", "HS_SERV.PREFIX", "HS_ALIAS", "HS_NAMESPACE",
      TEMPLATE_TYPE);

  public MetadataTemplate {
    fields = List.copyOf(fields);
  }

  public static boolean isValidId(String id) {
    return id != null && ID.matcher(id).matches();
  }

  /** The value stored at {@link #TEMPLATE_INDEX}. */
  public String reference() {
    return id + "@" + version;
  }

  /** Everything wrong with this definition (paths like {@code fields[1].max}); empty when it can be stored. */
  public List<FieldViolation> definitionProblems() {
    List<FieldViolation> out = new ArrayList<>();
    if (!isValidId(id)) {
      out.add(new FieldViolation("template_id", "INVALID_ID",
          "must be 1-63 characters: a lower-case letter, then lower-case letters, digits or '-'"));
    }
    if (name == null || name.isBlank() || name.length() > 200) {
      out.add(new FieldViolation("display_name", "REQUIRED", "must be 1-200 characters"));
    }
    IndustryCode.problem(industry, industryCode)
        .ifPresent(p -> out.add(new FieldViolation("industry", "INVALID_INDUSTRY_CODE", p)));
    if (fields.isEmpty()) {
      out.add(new FieldViolation("fields", "REQUIRED", "a template has at least one field"));
    }
    Set<String> names = new HashSet<>();
    Set<String> types = new HashSet<>();
    Set<Integer> indexes = new HashSet<>();
    for (int i = 0; i < fields.size(); i++) {
      TemplateField f = fields.get(i);
      String p = "fields[" + i + "]";
      if (f.name() == null || !NAME.matcher(f.name()).matches()) {
        out.add(new FieldViolation(p + ".name", "INVALID_NAME",
            "must be 1-63 characters: a lower-case letter, then lower-case letters, digits or '_'"));
      } else if (!names.add(f.name())) {
        out.add(new FieldViolation(p + ".name", "DUPLICATE", "field name '" + f.name() + "' is used twice"));
      }
      if (f.type() == null) {
        out.add(new FieldViolation(p + ".type", "REQUIRED", "a field needs a type"));
        continue;
      }
      if (f.valueType() == null || !VALUE_TYPE.matcher(f.valueType()).matches()) {
        out.add(new FieldViolation(p + ".value_type", "INVALID_VALUE_TYPE",
            "must be 1-64 characters of letters, digits, '_', '.', '-'"));
      } else if (RESERVED_TYPES.contains(f.valueType().toUpperCase(Locale.ROOT))) {
        out.add(new FieldViolation(p + ".value_type", "RESERVED_VALUE_TYPE",
            f.valueType() + " is reserved by the Handle System or for the template reference"));
      } else if (!types.add(f.valueType().toUpperCase(Locale.ROOT))) {
        out.add(new FieldViolation(p + ".value_type", "DUPLICATE", "value type " + f.valueType() + " is used twice"));
      }
      if (f.index() < 1 || f.index() > 999_999 || f.index() == TEMPLATE_INDEX || f.index() == 100
          || f.index() == 300) {
        out.add(new FieldViolation(p + ".index", "INVALID_INDEX",
            "must be 1-999999 and not 100 (HS_ADMIN), 300 (keys) or 1001 (template reference)"));
      } else if (!indexes.add(f.index())) {
        out.add(new FieldViolation(p + ".index", "DUPLICATE", "index " + f.index() + " is used twice"));
      }
      limitProblems(f, p, out);
    }
    return out;
  }

  private static void limitProblems(TemplateField f, String p, List<FieldViolation> out) {
    boolean text = f.type() == FieldType.STRING;
    boolean number = f.type() == FieldType.INTEGER || f.type() == FieldType.DECIMAL;
    if ((f.minLength() != null || f.maxLength() != null) && !text && f.type() != FieldType.URL
        && f.type() != FieldType.REFERENCE) {
      out.add(new FieldViolation(p + ".max_length", "LIMIT_NOT_APPLICABLE", "length limits apply to text fields"));
    }
    if (f.minLength() != null && f.minLength() < 0 || f.maxLength() != null && f.maxLength() < 1
        || f.minLength() != null && f.maxLength() != null && f.minLength() > f.maxLength()) {
      out.add(new FieldViolation(p + ".max_length", "INVALID_LIMIT", "need 0 <= min_length <= max_length, max >= 1"));
    }
    if ((f.min() != null || f.max() != null) && !number) {
      out.add(new FieldViolation(p + ".max", "LIMIT_NOT_APPLICABLE", "a range applies to INTEGER and DECIMAL"));
    }
    if (f.min() != null && f.max() != null && f.min().compareTo(f.max()) > 0) {
      out.add(new FieldViolation(p + ".max", "INVALID_LIMIT", "min is greater than max"));
    }
    if (f.type() == FieldType.INTEGER && (f.min() != null && f.min().stripTrailingZeros().scale() > 0
        || f.max() != null && f.max().stripTrailingZeros().scale() > 0)) {
      out.add(new FieldViolation(p + ".max", "INVALID_LIMIT", "an INTEGER range has whole-number limits"));
    }
    if (f.pattern() != null) {
      if (!text) {
        out.add(new FieldViolation(p + ".pattern", "LIMIT_NOT_APPLICABLE", "a pattern applies to STRING fields"));
      }
      try {
        Pattern.compile(f.pattern());
      } catch (PatternSyntaxException e) {
        out.add(new FieldViolation(p + ".pattern", "INVALID_PATTERN", "not a regular expression: "
            + e.getDescription()));
      }
    }
    if (f.type() == FieldType.DECIMAL && (f.unit() == null || f.unit().isBlank())) {
      out.add(new FieldViolation(p + ".unit", "REQUIRED", "a DECIMAL field names its unit"));
    }
    if (f.type() != FieldType.DECIMAL && f.unit() != null && !f.unit().isEmpty()) {
      out.add(new FieldViolation(p + ".unit", "LIMIT_NOT_APPLICABLE", "only DECIMAL fields have a unit"));
    }
    if (f.type() == FieldType.ENUM && f.allowed().isEmpty()) {
      out.add(new FieldViolation(p + ".allowed_values", "REQUIRED", "an ENUM field lists its values"));
    }
    if (f.type() != FieldType.ENUM && !f.allowed().isEmpty()) {
      out.add(new FieldViolation(p + ".allowed_values", "LIMIT_NOT_APPLICABLE", "only ENUM fields list values"));
    }
  }
}
