package io.iiot.resolver.domain.registration;

import io.iiot.resolver.domain.Handles;
import java.util.Optional;

/**
 * Which handles an enterprise may register on this node: {@code <node prefix>.<enterprise code>/<suffix>}, the
 * enterprise code being digits (as IDIS allocates them, e.g. {@code 88.101.5}).
 */
public final class EnterprisePrefix {
  private EnterprisePrefix() {}

  /** Why {@code prefix} is not an enterprise prefix of the node with {@code nodePrefix}, or empty when it is. */
  public static Optional<String> problem(String prefix, String nodePrefix) {
    String base = nodePrefix + ".";
    if (prefix == null || !Handles.fold(prefix).startsWith(Handles.fold(base)) || prefix.length() == base.length()
        || prefix.length() > base.length() + 12
        || !prefix.substring(base.length()).chars().allMatch(c -> c >= '0' && c <= '9')) {
      return Optional.of("must be an enterprise prefix of this node: " + nodePrefix + ".<1-12 digits>");
    }
    return Optional.empty();
  }

  /** Why {@code handle} cannot be registered under {@code prefix}, or empty when it can. */
  public static Optional<String> handleProblem(String handle, String prefix) {
    if (handle == null || !Handles.isValid(handle)) {
      return Optional.of("must be <prefix>/<suffix> without control characters");
    }
    if (!Handles.prefix(handle).equals(prefix)) {
      return Optional.of("must be under prefix " + prefix);
    }
    if (handle.length() > 255) {
      return Optional.of("at most 255 characters");
    }
    return Optional.empty();
  }
}
