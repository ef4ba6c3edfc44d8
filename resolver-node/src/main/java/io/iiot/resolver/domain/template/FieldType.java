package io.iiot.resolver.domain.template;

/** The kinds of value a template field holds; every value is stored as UTF-8 text in its Handle value. */
public enum FieldType {
  /** Free text, limited by length and pattern. */
  STRING,
  /** A whole number (arbitrary size), limited by range. */
  INTEGER,
  /** A decimal number in the field's unit, limited by range. */
  DECIMAL,
  /** An ISO-8601 date-time with offset, e.g. {@code 2026-11-25T17:00:00+08:00}. */
  DATE_TIME,
  /** One of the field's listed values, compared exactly. */
  ENUM,
  /** An absolute http or https URL. */
  URL,
  /** Another identifier ({@code prefix/suffix}). */
  REFERENCE
}
