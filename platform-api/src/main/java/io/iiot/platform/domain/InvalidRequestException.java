package io.iiot.platform.domain;

import java.util.List;

/** A request that breaks the API's rules; the transport answers INVALID_ARGUMENT with every violation. */
public final class InvalidRequestException extends RuntimeException {
  private final transient List<FieldViolation> violations;

  public InvalidRequestException(List<FieldViolation> violations) {
    super(summary(violations));
    this.violations = List.copyOf(violations);
  }

  public InvalidRequestException(String field, String description) {
    this(List.of(new FieldViolation(field, description)));
  }

  public List<FieldViolation> violations() {
    return violations;
  }

  private static String summary(List<FieldViolation> v) {
    if (v.isEmpty()) {
      return "invalid request";
    }
    String first = v.get(0).field() + ": " + v.get(0).description();
    return v.size() == 1 ? first : first + " (and " + (v.size() - 1) + " more field violations)";
  }
}
