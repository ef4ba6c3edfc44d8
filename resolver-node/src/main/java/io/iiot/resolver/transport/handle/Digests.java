package io.iiot.resolver.transport.handle;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/** Request digests (RD flag, challenges): hash code byte + digest, SHA-256 from 2.7, SHA-1 from 2.1, MD5 before. */
public final class Digests {
  private Digests() {}

  public static final int MD5 = 1;
  public static final int SHA1 = 2;
  public static final int SHA256 = 3;

  public static int codeFor(Version v) {
    return v.atLeast(2, 7) ? SHA256 : v.atLeast(2, 1) ? SHA1 : MD5;
  }

  public static byte[] digest(int code, byte[] data, int off, int len) {
    String alg = switch (code) {
      case SHA256 -> "SHA-256";
      case SHA1 -> "SHA-1";
      default -> "MD5";
    };
    try {
      MessageDigest md = MessageDigest.getInstance(alg);
      md.update(data, off, len);
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Digest of a request's header + body at the hash code negotiated for version {@code v}. */
  public static byte[] ofRequest(Message request, int code) {
    return digest(code, request.bytes(), 0, Limits.HEADER_SIZE + request.bodyLength());
  }
}
