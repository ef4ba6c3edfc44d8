package io.iiot.resolver.transport.handle;

import io.iiot.resolver.domain.HandleValue;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.security.Signature;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks a client's answer to a challenge (reference §4.2, §4.3) against the identity's stored key. Pure functions;
 * PBKDF2 and signature checks are CPU-heavy, call them off the event loop.
 */
public final class AuthVerifier {
  private AuthVerifier() {}

  private static final int MAX_PBKDF2_ITERATIONS = 100_000;

  /**
   * Whether {@code answer} (first byte the hash code, then the MAC) proves knowledge of {@code secret} for
   * {@code nonce} and {@code digest} (the request digest without its code byte).
   */
  public static boolean verifySecretKey(byte[] secret, byte[] nonce, byte[] digest, byte[] answer) {
    if (answer.length == 0) {
      return false;
    }
    byte[] data = concat(nonce, digest);
    try {
      int code = answer[0] & 0xFF;
      byte[] rest = java.util.Arrays.copyOfRange(answer, 1, answer.length);
      switch (code) {
        case 0x22 -> {
          BufReader r = new BufReader(rest);
          byte[] salt = r.bytes(1024);
          int iterations = r.int4();
          int keyBits = r.int4();
          byte[] mac = r.bytes(1024);
          if (iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS || keyBits < 8 || keyBits > 512) {
            return false;
          }
          char[] password = new char[secret.length];
          for (int i = 0; i < secret.length; i++) {
            password[i] = (char) (secret[i] & 0xFF);
          }
          byte[] key = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA1")
              .generateSecret(new PBEKeySpec(password, salt, iterations, keyBits)).getEncoded();
          return MessageDigest.isEqual(mac, hmac("HmacSHA1", key, data));
        }
        case 0x12 -> {
          return MessageDigest.isEqual(rest, hmac("HmacSHA1", secret, data));
        }
        case 0x13 -> {
          return MessageDigest.isEqual(rest, hmac("HmacSHA256", secret, data));
        }
        case 3 -> {
          return MessageDigest.isEqual(rest, sandwich("SHA-256", secret, data));
        }
        case 2 -> {
          return MessageDigest.isEqual(rest, sandwich("SHA-1", secret, data));
        }
        case 1 -> {
          return MessageDigest.isEqual(rest, sandwich("MD5", secret, data));
        }
        default -> {
          // pre-2.1 answers carry the bare MD5 sandwich without a code byte
          return answer.length == 16 && MessageDigest.isEqual(answer, sandwich("MD5", secret, data));
        }
      }
    } catch (GeneralSecurityException | HandleCodecException e) {
      return false;
    }
  }

  /** The secret of an {@code HS_SECKEY} value. */
  public static byte[] secretOf(HandleValue v) {
    return v.data();
  }

  /**
   * Whether {@code answer} ({@code utf8} hash name + {@code bytes} signature over nonce ‖ digest) verifies with
   * {@code key} (RSA PKCS#1 v1.5 or DSA).
   */
  public static boolean verifyPublicKey(PublicKey key, byte[] nonce, byte[] digest, byte[] answer) {
    try {
      BufReader r = new BufReader(answer);
      String hash = new String(r.bytes(64), StandardCharsets.US_ASCII).toUpperCase(java.util.Locale.ROOT);
      byte[] sig = r.bytes(8192);
      String h = switch (hash) {
        case "SHA-256", "SHA256" -> "SHA256";
        case "SHA1", "SHA-1" -> "SHA1";
        default -> null;
      };
      if (h == null) {
        return false;
      }
      String alg = key.getAlgorithm().equals("DSA") ? "DSA" : key.getAlgorithm().equals("RSA") ? "RSA" : null;
      if (alg == null) {
        return false;
      }
      Signature s = Signature.getInstance(h + "with" + alg);
      s.initVerify(key);
      s.update(nonce);
      s.update(digest);
      return s.verify(sig);
    } catch (GeneralSecurityException | HandleCodecException | RuntimeException e) {
      return false;
    }
  }

  static byte[] hmac(String alg, byte[] key, byte[] data) throws GeneralSecurityException {
    if (key.length == 0) {
      key = new byte[1];
    }
    Mac mac = Mac.getInstance(alg);
    mac.init(new SecretKeySpec(key, alg));
    return mac.doFinal(data);
  }

  private static byte[] sandwich(String alg, byte[] secret, byte[] data) throws GeneralSecurityException {
    MessageDigest md = MessageDigest.getInstance(alg);
    md.update(secret);
    md.update(data);
    md.update(secret);
    return md.digest();
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] out = new byte[a.length + b.length];
    System.arraycopy(a, 0, out, 0, a.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
