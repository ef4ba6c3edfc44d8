package io.iiot.platform.domain;

import java.util.List;
import java.util.Set;

/** AIP-134 update masks: empty or "*" means every updatable field; any other path must be updatable. */
public final class UpdateMasks {
  private UpdateMasks() {}

  /** The paths to apply, or INVALID_ARGUMENT on {@code update_mask} naming the first path that may not change. */
  public static List<String> resolve(List<String> requested, Set<String> updatable) {
    if (requested.isEmpty() || requested.equals(List.of("*"))) {
      return List.copyOf(updatable);
    }
    for (String p : requested) {
      if (!updatable.contains(p)) {
        throw new InvalidRequestException("update_mask", "path '" + p + "' cannot be updated; updatable: "
            + new java.util.TreeSet<>(updatable));
      }
    }
    return List.copyOf(requested);
  }
}
