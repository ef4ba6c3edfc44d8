package io.iiot.resolver.transport.handle;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Encryption of whole messages (header + body + credential) with a session key, as CNRI's {@code SessionInfo}
 * does it for the AES sessions this node sets up (session cipher code 3, {@code HdlSecurityProvider.ENCRYPT_ALG_AES}):
 * AES-128 with the first 16 bytes of the session key; from protocol 2.4 on CBC with PKCS#5 padding and a fresh random
 * 16-byte IV written in front of the ciphertext, before 2.4 ECB without IV ({@code GenericProvider.getCipher}).
 *
 * <p>The envelope stays in clear text and carries EC ({@link Envelope#EC}); its MessageLength is the encrypted length.
 */
public final class SessionCipher {
  private static final int IV_SIZE = 16;
  private static final SecureRandom RANDOM = new SecureRandom();

  private SessionCipher() {}

  private static boolean legacy(Version v) {
    return !v.atLeast(2, 4);
  }

  private static SecretKeySpec key(byte[] sessionKey) {
    return new SecretKeySpec(Arrays.copyOf(sessionKey, Math.min(16, sessionKey.length)), "AES");
  }

  /** Encrypts {@code message} for a peer at version {@code v}. */
  public static byte[] encrypt(byte[] sessionKey, Version v, byte[] message) throws GeneralSecurityException {
    if (legacy(v)) {
      Cipher c = Cipher.getInstance("AES/ECB/PKCS5Padding");
      c.init(Cipher.ENCRYPT_MODE, key(sessionKey));
      return c.doFinal(message);
    }
    byte[] iv = new byte[IV_SIZE];
    RANDOM.nextBytes(iv);
    Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding");
    c.init(Cipher.ENCRYPT_MODE, key(sessionKey), new IvParameterSpec(iv));
    byte[] out = new byte[IV_SIZE + c.getOutputSize(message.length)];
    System.arraycopy(iv, 0, out, 0, IV_SIZE);
    int n = c.doFinal(message, 0, message.length, out, IV_SIZE);
    return n + IV_SIZE == out.length ? out : Arrays.copyOf(out, IV_SIZE + n);
  }

  /**
   * Decrypts a message a peer at version {@code v} encrypted; fails with {@code RC_INVALID_SESSION_KEY} when the
   * bytes do not decrypt (wrong key, tampered, bad length).
   */
  public static byte[] decrypt(byte[] sessionKey, Version v, byte[] message) throws HandleCodecException {
    try {
      if (legacy(v)) {
        if (message.length == 0 || message.length % 16 != 0) {
          throw new HandleCodecException(ResponseCodes.RC_INVALID_SESSION_KEY, "cannot decrypt");
        }
        Cipher c = Cipher.getInstance("AES/ECB/PKCS5Padding");
        c.init(Cipher.DECRYPT_MODE, key(sessionKey));
        return c.doFinal(message);
      }
      if (message.length < 2 * IV_SIZE || message.length % 16 != 0) {
        throw new HandleCodecException(ResponseCodes.RC_INVALID_SESSION_KEY, "cannot decrypt");
      }
      Cipher c = Cipher.getInstance("AES/CBC/PKCS5Padding");
      c.init(Cipher.DECRYPT_MODE, key(sessionKey), new IvParameterSpec(message, 0, IV_SIZE));
      return c.doFinal(message, IV_SIZE, message.length - IV_SIZE);
    } catch (GeneralSecurityException e) {
      throw new HandleCodecException(ResponseCodes.RC_INVALID_SESSION_KEY, "cannot decrypt");
    }
  }
}
