package io.iiot.resolver.domain.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Bearer tokens {@code <principal-id>.<secret>}: the principal id ({@code operator}, {@code service} or an enterprise
 * id {@code ent-<20 hex>}) never contains a dot, the secret is 32 random bytes in base64url without padding. The node
 * keeps only the SHA-256 of an enterprise's secret: the secret has 256 bits of entropy, so a plain digest cannot be
 * brute-forced and a slow password hash would only cost time on every call.
 */
public final class Tokens {
  private static final Pattern ID = Pattern.compile("operator|service|ent-[0-9a-f]{20}");
  private static final Pattern SECRET = Pattern.compile("[A-Za-z0-9_-]{16,128}");
  private static final SecureRandom RANDOM = new SecureRandom();

  private Tokens() {}

  /** A parsed token. */
  public record Token(String principalId, String secret) {
    public String value() {
      return principalId + "." + secret;
    }
  }

  /** Parses {@code <principal-id>.<secret>}; empty when it is not of that form. */
  public static Optional<Token> parse(String token) {
    if (token == null) {
      return Optional.empty();
    }
    String t = token.trim();
    int dot = t.indexOf('.');
    if (dot <= 0 || !ID.matcher(t.substring(0, dot)).matches() || !SECRET.matcher(t.substring(dot + 1)).matches()) {
      return Optional.empty();
    }
    return Optional.of(new Token(t.substring(0, dot), t.substring(dot + 1)));
  }

  /** A new token for {@code principalId} with a fresh random secret. */
  public static Token issue(String principalId) {
    byte[] raw = new byte[32];
    RANDOM.nextBytes(raw);
    return new Token(principalId, Base64.getUrlEncoder().withoutPadding().encodeToString(raw));
  }

  /** A new enterprise id, {@code ent-} + 20 hex digits (time-ordered in its first 11, random in the rest). */
  public static String newEnterpriseId() {
    return "ent-" + timeOrderedHex();
  }

  /** 20 hex digits: milliseconds (11 digits) then 36 random bits, so ids sort by creation. */
  public static String timeOrderedHex() {
    String time = String.format("%011x", System.currentTimeMillis());
    byte[] r = new byte[5];
    RANDOM.nextBytes(r);
    return time + HexFormat.of().formatHex(r).substring(0, 9);
  }

  public static byte[] sha256(String secret) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(secret.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Constant-time comparison of a presented secret with a stored digest. */
  public static boolean matches(String secret, byte[] storedSha256) {
    return storedSha256 != null && MessageDigest.isEqual(sha256(secret), storedSha256);
  }
}
