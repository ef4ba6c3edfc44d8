package io.iiot.platform.storage;

import java.util.List;
import java.util.Optional;

/**
 * One page of a keyset-paginated listing.
 *
 * @param items at most the page size
 * @param nextCursor the sort key to continue after, empty at the end
 */
public record Page<T>(List<T> items, Optional<String> nextCursor) {}
