package io.iiot.resolver.transport.handle;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.interfaces.DSAPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.DSAPublicKeySpec;
import java.security.spec.RSAPublicKeySpec;
import javax.crypto.interfaces.DHPublicKey;
import javax.crypto.spec.DHPublicKeySpec;

/**
 * CNRI's public-key encoding ({@code Util.getBytesFromPublicKey}): {@code utf8} tag, {@code int2} flags, then the
 * numbers as length-prefixed two's-complement big integers. Used in HS_PUBKEY values, site records and session setup.
 * Trailing bytes are ignored (CNRI's RSA encoder leaves 4 zero bytes after the modulus).
 */
public final class KeyCodec {
  private KeyCodec() {}

  public static final String RSA = "RSA_PUB_KEY";
  public static final String DSA = "DSA_PUB_KEY";
  public static final String DH = "DH_PUB_KEY";
  private static final int MAX_NUMBER = 2_048;

  public static byte[] encode(PublicKey key) {
    BufWriter w = new BufWriter(512);
    if (key instanceof RSAPublicKey rsa) {
      w.utf8(RSA).u16(0).bytes(rsa.getPublicExponent().toByteArray()).bytes(rsa.getModulus().toByteArray())
          .int4(0); // CNRI's encoder leaves these 4 zero bytes; kept so that the record is byte-identical
    } else if (key instanceof DSAPublicKey dsa) {
      w.utf8(DSA).u16(0).bytes(dsa.getParams().getQ().toByteArray()).bytes(dsa.getParams().getP().toByteArray())
          .bytes(dsa.getParams().getG().toByteArray()).bytes(dsa.getY().toByteArray());
    } else if (key instanceof DHPublicKey dh) {
      w.utf8(DH).u16(0).bytes(dh.getY().toByteArray()).bytes(dh.getParams().getP().toByteArray())
          .bytes(dh.getParams().getG().toByteArray());
    } else {
      throw new IllegalArgumentException("unsupported key " + key.getAlgorithm());
    }
    return w.toByteArray();
  }

  /** Decodes an RSA, DSA or DH public key; fails with {@link ResponseCodes#RC_INVALID_VALUE} on anything else. */
  public static PublicKey decode(byte[] b) throws HandleCodecException {
    BufReader r = new BufReader(b);
    String tag = new String(r.bytes(64), StandardCharsets.US_ASCII);
    r.u16();
    try {
      switch (tag) {
        case RSA -> {
          BigInteger e = number(r);
          BigInteger m = number(r);
          return KeyFactory.getInstance("RSA").generatePublic(new RSAPublicKeySpec(m, e));
        }
        case DSA -> {
          BigInteger q = number(r);
          BigInteger p = number(r);
          BigInteger g = number(r);
          BigInteger y = number(r);
          return KeyFactory.getInstance("DSA").generatePublic(new DSAPublicKeySpec(y, p, q, g));
        }
        case DH -> {
          BigInteger y = number(r);
          BigInteger p = number(r);
          BigInteger g = number(r);
          return KeyFactory.getInstance("DH").generatePublic(new DHPublicKeySpec(y, p, g));
        }
        default -> throw new HandleCodecException(ResponseCodes.RC_INVALID_VALUE, "unknown key type");
      }
    } catch (GeneralSecurityException e) {
      throw new HandleCodecException(ResponseCodes.RC_INVALID_VALUE, "bad key: " + e.getMessage());
    }
  }

  private static BigInteger number(BufReader r) throws HandleCodecException {
    byte[] b = r.bytes(MAX_NUMBER);
    if (b.length == 0) {
      throw new HandleCodecException(ResponseCodes.RC_INVALID_VALUE, "empty key number");
    }
    return new BigInteger(1, b);
  }
}
