package io.iiot.devicehub.domain;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/** SHA-256 fingerprints of client certificates, as stored: 64 lower-case hex digits. */
public final class CertificateFingerprint {
  private static final Pattern HEX = Pattern.compile("[0-9a-f]{64}");

  private CertificateFingerprint() {}

  /** Accepts {@code AB:CD:...} (openssl's form) or plain hex, any case; throws if it is not 32 bytes of hex. */
  public static String normalize(String text) {
    String hex = text == null ? "" : text.replace(":", "").trim().toLowerCase(java.util.Locale.ROOT);
    if (!HEX.matcher(hex).matches()) {
      throw new IllegalArgumentException("a SHA-256 fingerprint is 64 hex digits (colons allowed)");
    }
    return hex;
  }

  /** The fingerprint of a certificate's DER encoding. */
  public static String of(byte[] der) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK always has SHA-256", e);
    }
  }

  /** The CN of an RFC 2253 subject name ({@code CN=pump1,O=acme}), or null. */
  public static String commonName(String rfc2253) {
    for (String part : rfc2253.split("(?<!\\\\),")) {
      String p = part.trim();
      if (p.regionMatches(true, 0, "CN=", 0, 3)) {
        return p.substring(3).replace("\\", "");
      }
    }
    return null;
  }
}
