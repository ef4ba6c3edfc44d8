package io.iiot.platform.domain;

/** AIP-158 page size rules of this API: 0 means the default, negatives are invalid, large values are coerced. */
public final class PageSize {
  public static final int DEFAULT = 50;
  public static final int MAX = 1000;

  private PageSize() {}

  public static int of(int requested) {
    if (requested < 0) {
      throw new InvalidRequestException("page_size", "page_size must not be negative, was " + requested);
    }
    return requested == 0 ? DEFAULT : Math.min(requested, MAX);
  }
}
