package io.iiot.resolver.domain.registration;

import io.iiot.resolver.domain.template.FieldViolation;
import java.util.List;

/**
 * What became of one identifier write.
 *
 * @param handle the identifier as asked
 * @param kind the result class (the gRPC layer maps it to a status code)
 * @param violations for {@link Kind#INVALID}: every broken rule, field paths relative to the identifier
 * @param message English detail for people
 */
public record Outcome(String handle, Kind kind, List<FieldViolation> violations, String message) {
  public enum Kind { OK, INVALID, ALREADY_EXISTS, NOT_FOUND, TEMPLATE_NOT_FOUND, ABORTED, FAILED }

  public Outcome {
    violations = List.copyOf(violations);
  }

  public static Outcome ok(String handle) {
    return new Outcome(handle, Kind.OK, List.of(), "");
  }

  public static Outcome of(String handle, Kind kind, String message) {
    return new Outcome(handle, kind, List.of(), message);
  }

  public static Outcome invalid(String handle, List<FieldViolation> v) {
    return new Outcome(handle, Kind.INVALID, v, v.size() + " field violation(s)");
  }

  public boolean ok() {
    return kind == Kind.OK;
  }
}
