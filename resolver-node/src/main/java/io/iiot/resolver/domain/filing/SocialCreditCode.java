package io.iiot.resolver.domain.filing;

import java.util.Optional;

/**
 * The unified social credit code (统一社会信用代码) of GB 32100—2015: 18 characters from a 31-character alphabet
 * (digits and upper-case letters without I, O, Z, S, V); the 18th is a check character over the first 17 with
 * weights 3^i mod 31.
 */
public final class SocialCreditCode {
  static final String ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  private static final int[] WEIGHTS = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

  private SocialCreditCode() {}

  /** Why {@code code} is not a valid code, or empty when it is (naming the rule: length, alphabet, check char). */
  public static Optional<String> problem(String code) {
    if (code == null || code.length() != 18) {
      return Optional.of("LENGTH: a unified social credit code has 18 characters");
    }
    int sum = 0;
    for (int i = 0; i < 18; i++) {
      int v = ALPHABET.indexOf(code.charAt(i));
      if (v < 0) {
        return Optional.of("ALPHABET: character " + (i + 1) + " '" + code.charAt(i) + "' is not one of " + ALPHABET);
      }
      if (i < 17) {
        sum += v * WEIGHTS[i];
      }
    }
    char expected = checkCharacter(code.substring(0, 17));
    if (code.charAt(17) != expected) {
      return Optional.of("CHECK_CHARACTER: the GB 32100 check character is '" + expected + "', got '"
          + code.charAt(17) + "'");
    }
    return Optional.empty();
  }

  /** The check character of the first 17 characters (all from the alphabet). */
  static char checkCharacter(String first17) {
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += ALPHABET.indexOf(first17.charAt(i)) * WEIGHTS[i];
    }
    int c = 31 - sum % 31;
    return ALPHABET.charAt(c == 31 ? 0 : c);
  }
}
