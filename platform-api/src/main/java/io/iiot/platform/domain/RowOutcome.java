package io.iiot.platform.domain;

import java.util.Optional;

/** What a back end did with one row of a batch: done, or why not (in English, for the caller). */
public record RowOutcome(Optional<String> failure) {
  public static final RowOutcome OK = new RowOutcome(Optional.empty());

  public static RowOutcome failed(String why) {
    return new RowOutcome(Optional.of(why));
  }

  public boolean ok() {
    return failure.isEmpty();
  }
}
