package io.iiot.resolver.transport.handle;

import io.iiot.resolver.domain.HandleValue;
import java.util.ArrayList;
import java.util.List;

/**
 * Request bodies by opcode (CNRI's {@code Encoder.decode*Request}). Each decoder reads from a {@link BufReader} limited
 * to the body and tolerates trailing bytes, as CNRI's own decoders do (its session-setup encoder pads 2 bytes).
 */
public final class Bodies {
  private Bodies() {}

  /** Opcode 1: handle, index list, type list. */
  public record Resolution(String handle, int[] indexes, List<String> types) {}

  /** Opcodes 2, 101, 105, 401: a handle only. */
  public record HandleOnly(String handle) {}

  /** Opcodes 100, 102, 104: handle and values. */
  public record Values(String handle, List<HandleValue> values) {}

  /** Opcode 103: handle and index list. */
  public record Remove(String handle, int[] indexes) {}

  /** Opcode 200: the client's answer to a challenge. */
  public record ChallengeAnswer(String authType, String identityHandle, int identityIndex, byte[] answer) {}

  /**
   * Opcode 201, a server asking "is this secret-key answer right?" (reference §4.2): the identity, the nonce and
   * request digest of the challenge the other server sent, and the client's answer to it.
   */
  public record VerifyAuth(String handle, int index, byte[] nonce, byte[] digest, byte[] answer) {}

  /** Opcode 400: session setup. {@code exchangeKey} holds the client's public key for modes 1 and 4. */
  public record SessionSetup(int mode, int timeout, String identityHandle, int identityIndex, byte[] exchangeKey,
      String exchangeKeyHandle, int exchangeKeyIndex) {}

  public static String handle(BufReader r) throws HandleCodecException {
    return r.utf8(Limits.MAX_HANDLE_LENGTH, ResponseCodes.RC_INVALID_HANDLE);
  }

  public static Resolution resolution(BufReader r) throws HandleCodecException {
    String handle = handle(r);
    int[] indexes = r.intList(Limits.MAX_LIST);
    int n = r.count(Limits.MAX_LIST, 4);
    List<String> types = n == 0 ? List.of() : new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      types.add(r.utf8(Limits.MAX_TYPE_LENGTH, ResponseCodes.RC_PROTOCOL_ERROR));
    }
    return new Resolution(handle, indexes, types);
  }

  public static HandleOnly handleOnly(BufReader r) throws HandleCodecException {
    return new HandleOnly(handle(r));
  }

  public static Values values(BufReader r) throws HandleCodecException {
    String handle = handle(r);
    return new Values(handle, ValueCodec.decodeList(r));
  }

  public static Remove remove(BufReader r) throws HandleCodecException {
    String handle = handle(r);
    return new Remove(handle, r.intList(Limits.MAX_VALUES));
  }

  public static ChallengeAnswer challengeAnswer(BufReader r) throws HandleCodecException {
    String type = r.utf8(64, ResponseCodes.RC_PROTOCOL_ERROR);
    String id = handle(r);
    int index = r.int4();
    byte[] answer = r.bytes(16_384);
    return new ChallengeAnswer(type, id, index, answer);
  }

  /**
   * Opcode 201. CNRI writes the digest as {@code bytes} (so its first byte, part of the length, is 0); the other form
   * is one hash-code byte (1 MD5, 2 SHA-1, 3 SHA-256) followed by a digest of that fixed size. Both are accepted.
   */
  public static VerifyAuth verifyAuth(BufReader r) throws HandleCodecException {
    String handle = handle(r);
    int index = r.int4();
    byte[] nonce = r.bytes(1024);
    int code = r.u8();
    byte[] digest = switch (code) {
      case 0 -> {
        byte[] rest = r.raw(3);
        int len = ((rest[0] & 0xFF) << 16) | ((rest[1] & 0xFF) << 8) | (rest[2] & 0xFF);
        if (len > 64) {
          throw HandleCodecException.protocol("request digest too long");
        }
        yield r.raw(len);
      }
      case Digests.MD5 -> r.raw(16);
      case Digests.SHA1 -> r.raw(20);
      case Digests.SHA256 -> r.raw(32);
      default -> throw HandleCodecException.protocol("bad digest code " + code);
    };
    byte[] answer = r.bytes(16_384);
    return new VerifyAuth(handle, index, nonce, digest, answer);
  }

  public static SessionSetup sessionSetup(BufReader r) throws HandleCodecException {
    int mode = r.u16();
    int timeout = r.int4();
    String id = r.utf8(Limits.MAX_HANDLE_LENGTH, ResponseCodes.RC_INVALID_HANDLE);
    int index = r.int4();
    byte[] key = null;
    String keyHandle = null;
    int keyIndex = 0;
    if (mode == 1 || mode == 4) {
      key = r.bytes(8_192);
    } else if (mode == 3) {
      keyHandle = handle(r);
      keyIndex = r.int4();
    }
    return new SessionSetup(mode, timeout, id, index, key, keyHandle, keyIndex);
  }

  /** {@link #resolutionAnswer}, written where the answer is encoded. */
  public static Response.BodyWriter resolutionAnswerWriter(String handle, List<HandleValue> values) {
    return new ResolutionAnswerWriter(handle, values, null, ValueCodec.listSize(values));
  }

  /** {@link #resolutionAnswerWriter(String, List)} with the values already encoded ({@link ValueCodec#encodeList}). */
  public static Response.BodyWriter resolutionAnswerWriter(String handle, byte[] encodedValues) {
    return new ResolutionAnswerWriter(handle, null, encodedValues, encodedValues.length);
  }

  /** A resolution answer body: the handle, then its values, either to encode or already encoded. */
  private static final class ResolutionAnswerWriter implements Response.BodyWriter {
    private final String handle;
    private final List<HandleValue> values;
    private final byte[] encodedValues;
    private final int length;

    ResolutionAnswerWriter(String handle, List<HandleValue> values, byte[] encodedValues, int valuesLength) {
      this.handle = handle;
      this.values = values;
      this.encodedValues = encodedValues;
      this.length = BufWriter.utf8Size(handle) + valuesLength;
    }

    @Override
    public int length() {
      return length;
    }

    @Override
    public void writeTo(BufWriter w) {
      w.utf8(handle);
      if (encodedValues != null) {
        w.raw(encodedValues);
      } else {
        ValueCodec.encodeList(w, values);
      }
    }
  }

  /** Encodes a resolution answer body: handle, then the values. */
  public static byte[] resolutionAnswer(String handle, List<HandleValue> values) {
    // sized exactly: one array, no growth, no trimming copy
    BufWriter w = new BufWriter(BufWriter.utf8Size(handle) + ValueCodec.listSize(values));
    w.utf8(handle);
    ValueCodec.encodeList(w, values);
    return w.finish();
  }
}
