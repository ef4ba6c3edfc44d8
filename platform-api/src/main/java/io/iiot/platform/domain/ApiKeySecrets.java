package io.iiot.platform.domain;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The API key format {@code iiotk_<key id>_<secret>} and how its secret is stored.
 *
 * <p>The secret is 32 random bytes, so a plain SHA-256 is enough to store it: there is no low-entropy password to
 * brute-force, and a fast hash keeps per-call verification cheap (unlike PBKDF2/bcrypt, which exist for passwords).
 * Only the hash is stored; comparison is constant-time.
 */
public final class ApiKeySecrets {
  public static final String PREFIX = "iiotk_";
  private static final String ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
  private static final int ID_LENGTH = 16;
  private static final int SECRET_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private ApiKeySecrets() {}

  /** A parsed key as sent by a client. */
  public record PresentedKey(String keyId, String secret) {
    @Override
    public String toString() {
      return "PresentedKey[" + keyId + "]"; // never log the secret
    }
  }

  /** A newly generated key: the full key for the client (shown once) and the hash to store. */
  public record NewKey(String keyId, String fullKey, String secretHash) {
    @Override
    public String toString() {
      return "NewKey[" + keyId + "]";
    }
  }

  public static NewKey generate() {
    StringBuilder id = new StringBuilder(ID_LENGTH);
    for (int i = 0; i < ID_LENGTH; i++) {
      id.append(ID_ALPHABET.charAt(RANDOM.nextInt(ID_ALPHABET.length())));
    }
    byte[] secret = new byte[SECRET_BYTES];
    RANDOM.nextBytes(secret);
    String s = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    return new NewKey(id.toString(), PREFIX + id + "_" + s, hash(s));
  }

  /** Parses {@code iiotk_<16 id chars>_<secret>}; empty for anything else. */
  public static Optional<PresentedKey> parse(String key) {
    if (key == null || key.length() < PREFIX.length() + ID_LENGTH + 2 || !key.startsWith(PREFIX)) {
      return Optional.empty();
    }
    String id = key.substring(PREFIX.length(), PREFIX.length() + ID_LENGTH);
    if (!ResourceNames.KEY_ID.matcher(id).matches() || key.charAt(PREFIX.length() + ID_LENGTH) != '_') {
      return Optional.empty();
    }
    String secret = key.substring(PREFIX.length() + ID_LENGTH + 1);
    if (secret.length() > 200) {
      return Optional.empty();
    }
    return Optional.of(new PresentedKey(id, secret));
  }

  public static String hash(String secret) {
    try {
      return HexFormat.of().formatHex(
          MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }

  /** Whether {@code secret} hashes to {@code storedHash}, in time independent of where they differ. */
  public static boolean matches(String secret, String storedHash) {
    return MessageDigest.isEqual(hash(secret).getBytes(StandardCharsets.US_ASCII),
        storedHash.getBytes(StandardCharsets.US_ASCII));
  }
}
