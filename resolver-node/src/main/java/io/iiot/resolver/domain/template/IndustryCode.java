package io.iiot.resolver.domain.template;

import java.util.Optional;

/**
 * A GB/T 4754—2017 industry classification: a category letter (门类, A–T) and optionally a division (大类, 2 digits),
 * group (中类, 3 digits) or class (小类, 4 digits) code. The code must belong to the category: its first two digits
 * fall in the category's division range (e.g. C, manufacturing, is 13–43).
 *
 * @param category the letter
 * @param code "", or 2, 3 or 4 digits
 */
public record IndustryCode(String category, String code) {
  // Division ranges of the 20 categories A..T (GB/T 4754—2017).
  private static final int[][] DIVISIONS = {
      {1, 5}, {6, 12}, {13, 43}, {44, 46}, {47, 50}, {51, 52}, {53, 60}, {61, 62}, {63, 65}, {66, 69},
      {70, 70}, {71, 72}, {73, 75}, {76, 79}, {80, 82}, {83, 83}, {84, 85}, {86, 90}, {91, 97}, {98, 98}};

  /** Why this pair is not a GB/T 4754 code, or empty when it is. */
  public static Optional<String> problem(String category, String code) {
    if (category == null || category.length() != 1 || category.charAt(0) < 'A' || category.charAt(0) > 'T') {
      return Optional.of("industry category must be one GB/T 4754 letter A-T, got '" + category + "'");
    }
    if (code == null || code.isEmpty()) {
      return Optional.empty();
    }
    if (code.length() < 2 || code.length() > 4 || !code.chars().allMatch(c -> c >= '0' && c <= '9')) {
      return Optional.of("industry code must be 2, 3 or 4 digits, got '" + code + "'");
    }
    int division = Integer.parseInt(code.substring(0, 2));
    int[] range = DIVISIONS[category.charAt(0) - 'A'];
    if (division < range[0] || division > range[1]) {
      return Optional.of(String.format("industry code %s is not in category %s (divisions %02d-%02d)", code, category,
          range[0], range[1]));
    }
    return Optional.empty();
  }
}
