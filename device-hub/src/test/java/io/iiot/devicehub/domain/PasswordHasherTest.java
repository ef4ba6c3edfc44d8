package io.iiot.devicehub.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordHasherTest {
  private final PasswordHasher hasher = new PasswordHasher(1000);

  @Test
  void verifiesTheRightPasswordOnlyAndNeverStoresItPlain() {
    String stored = hasher.hash("s3cret!");
    assertThat(stored).startsWith("pbkdf2-sha256$1000$").doesNotContain("s3cret");
    assertThat(PasswordHasher.verify("s3cret!", stored)).isTrue();
    assertThat(PasswordHasher.verify("s3cret", stored)).isFalse();
    assertThat(PasswordHasher.verify("", stored)).isFalse();
  }

  @Test
  void saltsEachHashSoEqualPasswordsLookDifferent() {
    assertThat(hasher.hash("same")).isNotEqualTo(hasher.hash("same"));
  }

  @Test
  void treatsMalformedStoredValuesAsAMismatch() {
    assertThat(PasswordHasher.verify("x", "plain")).isFalse();
    assertThat(PasswordHasher.verify("x", "pbkdf2-sha256$abc$!!$!!")).isFalse();
    assertThat(PasswordHasher.verify("x", null)).isFalse();
  }
}
