package io.iiot.resolver.domain.template;

/**
 * One broken rule: which field, which rule (a stable UPPER_SNAKE_CASE name clients may switch on), and an English
 * description for people.
 *
 * @param field the template field name (or a path such as {@code fields[2].pattern} for template definitions)
 * @param rule stable rule name, e.g. {@code MAX_LENGTH}
 * @param description what was wrong, naming the limit
 */
public record FieldViolation(String field, String rule, String description) {}
