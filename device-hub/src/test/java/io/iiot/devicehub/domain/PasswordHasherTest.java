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

  @Test
  void derivesWhatTheJdksPbkdf2WithHmacSha256Derives() throws Exception {
    byte[] salt = new byte[16];
    new java.security.SecureRandom().nextBytes(salt);
    // empty, short, non-ASCII (UTF-8 bytes), exactly one SHA-256 block, and longer than a block (key hashed first)
    for (String password : new String[] {"", "s3cret!", "密码-пароль", "x".repeat(64), "y".repeat(256)}) {
      for (int iterations : new int[] {1, 2, 1000}) {
        javax.crypto.spec.PBEKeySpec spec = new javax.crypto.spec.PBEKeySpec(password.toCharArray(), salt, iterations,
            256);
        byte[] jdk = javax.crypto.SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec)
            .getEncoded();
        assertThat(PasswordHasher.derive(password, salt, iterations)).as("%s, %d", password, iterations)
            .isEqualTo(jdk);
      }
    }
  }
}
