package io.iiot.resolver.domain.template;

import io.iiot.resolver.domain.Handles;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks an identifier's values (field name → text) against one template version. Built once per template version
 * (patterns compiled once), then safe to share between threads.
 */
public final class TemplateValidator {
  private final MetadataTemplate template;
  private final Map<String, TemplateField> byName = new HashMap<>();
  private final Map<String, Pattern> patterns = new HashMap<>();

  /** @throws IllegalArgumentException when the template itself is not valid */
  public TemplateValidator(MetadataTemplate template) {
    List<FieldViolation> problems = template.definitionProblems();
    if (!problems.isEmpty()) {
      throw new IllegalArgumentException("invalid template: " + problems);
    }
    this.template = template;
    for (TemplateField f : template.fields()) {
      byName.put(f.name(), f);
      if (f.pattern() != null) {
        patterns.put(f.name(), Pattern.compile(f.pattern()));
      }
    }
  }

  public MetadataTemplate template() {
    return template;
  }

  public TemplateField field(String name) {
    return byName.get(name);
  }

  /** Every violation, in template field order, then unknown fields; empty when the values may be stored. */
  public List<FieldViolation> validate(Map<String, String> values) {
    List<FieldViolation> out = new ArrayList<>();
    for (TemplateField f : template.fields()) {
      String v = values.get(f.name());
      if (v == null || v.isEmpty()) {
        if (f.required()) {
          out.add(new FieldViolation(f.name(), "REQUIRED", "required by template " + template.reference()));
        }
        continue;
      }
      check(f, v, out);
    }
    for (String name : values.keySet()) {
      if (!byName.containsKey(name)) {
        out.add(new FieldViolation(name, "UNKNOWN_FIELD", "template " + template.reference() + " has no such field"));
      }
    }
    return out;
  }

  private void check(TemplateField f, String v, List<FieldViolation> out) {
    int len = v.codePointCount(0, v.length());
    if (f.minLength() != null && len < f.minLength()) {
      out.add(new FieldViolation(f.name(), "MIN_LENGTH", "at least " + f.minLength() + " characters, got " + len));
    }
    if (f.maxLength() != null && len > f.maxLength()) {
      out.add(new FieldViolation(f.name(), "MAX_LENGTH", "at most " + f.maxLength() + " characters, got " + len));
    }
    switch (f.type()) {
      case STRING -> {
        Pattern p = patterns.get(f.name());
        if (p != null && !p.matcher(v).matches()) {
          out.add(new FieldViolation(f.name(), "PATTERN", "must match " + f.pattern()));
        }
      }
      case INTEGER -> {
        if (!v.matches("[+-]?[0-9]{1,40}")) {
          out.add(new FieldViolation(f.name(), "NOT_AN_INTEGER", "must be a whole number, got '" + v + "'"));
        } else {
          range(f, new BigDecimal(v), out);
        }
      }
      case DECIMAL -> decimal(f, v, out);
      case DATE_TIME -> {
        try {
          OffsetDateTime.parse(v);
        } catch (DateTimeParseException e) {
          out.add(new FieldViolation(f.name(), "NOT_A_DATE_TIME",
              "must be an ISO-8601 date-time with offset, e.g. 2026-11-25T17:00:00+08:00"));
        }
      }
      case ENUM -> {
        if (!f.allowed().contains(v)) {
          out.add(new FieldViolation(f.name(), "NOT_IN_ENUM", "must be one of " + f.allowed()));
        }
      }
      case URL -> {
        if (!isHttpUrl(v)) {
          out.add(new FieldViolation(f.name(), "NOT_A_URL", "must be an absolute http or https URL"));
        }
      }
      case REFERENCE -> {
        if (!Handles.isValid(v) || Handles.isPrefixHandle(v)) {
          out.add(new FieldViolation(f.name(), "NOT_AN_IDENTIFIER", "must be an identifier prefix/suffix"));
        }
      }
      default -> throw new IllegalStateException(f.type().name());
    }
  }

  /** A plain decimal, optionally followed by a space and the field's own unit (which must then match). */
  private static void decimal(TemplateField f, String v, List<FieldViolation> out) {
    String number = v;
    int space = v.indexOf(' ');
    if (space > 0) {
      number = v.substring(0, space);
      String unit = v.substring(space + 1);
      if (!unit.equals(f.unit())) {
        out.add(new FieldViolation(f.name(), "UNIT_MISMATCH", "unit is " + f.unit() + ", got '" + unit + "'"));
        return;
      }
    }
    if (!number.matches("[+-]?([0-9]{1,40}(\\.[0-9]{1,20})?|\\.[0-9]{1,20})")) {
      out.add(new FieldViolation(f.name(), "NOT_A_DECIMAL", "must be a decimal number in " + f.unit()
          + ", got '" + v + "'"));
      return;
    }
    range(f, new BigDecimal(number), out);
  }

  private static void range(TemplateField f, BigDecimal n, List<FieldViolation> out) {
    if (f.min() != null && n.compareTo(f.min()) < 0) {
      out.add(new FieldViolation(f.name(), "BELOW_MINIMUM", "at least " + f.min().toPlainString()));
    }
    if (f.max() != null && n.compareTo(f.max()) > 0) {
      out.add(new FieldViolation(f.name(), "ABOVE_MAXIMUM", "at most " + f.max().toPlainString()));
    }
  }

  private static boolean isHttpUrl(String v) {
    try {
      URI u = new URI(v);
      return u.isAbsolute() && ("http".equalsIgnoreCase(u.getScheme()) || "https".equalsIgnoreCase(u.getScheme()))
          && u.getHost() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }
}
