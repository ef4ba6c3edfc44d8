package io.iiot.resolver.domain;

import java.util.List;

/**
 * A stored handle: the spelling it was created with and its values in index order.
 *
 * @param handle the spelling given at creation
 * @param values sorted by index
 */
public record HandleRecord(String handle, List<HandleValue> values) {
  public HandleRecord {
    values = List.copyOf(values);
  }
}
