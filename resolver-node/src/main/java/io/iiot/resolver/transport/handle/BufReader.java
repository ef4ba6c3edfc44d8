package io.iiot.resolver.transport.handle;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Big-endian reads over a slice of a byte array. Every length and count is checked against what is left and against
 * a caller-given maximum before anything is allocated; violations throw {@link HandleCodecException}. Not thread-safe.
 */
public final class BufReader {
  private final byte[] buf;
  private int pos;
  private final int end;

  public BufReader(byte[] buf, int offset, int length) {
    if (offset < 0 || length < 0 || offset + length > buf.length) {
      throw new IllegalArgumentException("slice outside buffer");
    }
    this.buf = buf;
    this.pos = offset;
    this.end = offset + length;
  }

  public BufReader(byte[] buf) {
    this(buf, 0, buf.length);
  }

  public int position() {
    return pos;
  }

  public int remaining() {
    return end - pos;
  }

  private void need(int n) throws HandleCodecException {
    if (n < 0 || n > end - pos) {
      throw HandleCodecException.protocol("message truncated");
    }
  }

  public int u8() throws HandleCodecException {
    need(1);
    return buf[pos++] & 0xFF;
  }

  public int u16() throws HandleCodecException {
    need(2);
    int v = ((buf[pos] & 0xFF) << 8) | (buf[pos + 1] & 0xFF);
    pos += 2;
    return v;
  }

  public int int4() throws HandleCodecException {
    need(4);
    int v = ((buf[pos] & 0xFF) << 24) | ((buf[pos + 1] & 0xFF) << 16) | ((buf[pos + 2] & 0xFF) << 8)
        | (buf[pos + 3] & 0xFF);
    pos += 4;
    return v;
  }

  /** A count field: {@code 0..max}, and at least {@code minElementSize} bytes left per element. */
  public int count(int max, int minElementSize) throws HandleCodecException {
    int n = int4();
    if (n < 0 || n > max || (long) n * minElementSize > remaining()) {
      throw HandleCodecException.protocol("bad count " + n);
    }
    return n;
  }

  /** An {@code int4}-length-prefixed byte string of at most {@code max} bytes. */
  public byte[] bytes(int max) throws HandleCodecException {
    int n = int4();
    if (n < 0 || n > max || n > remaining()) {
      throw HandleCodecException.protocol("bad length " + n);
    }
    byte[] out = new byte[n];
    System.arraycopy(buf, pos, out, 0, n);
    pos += n;
    return out;
  }

  /** Fixed-size raw bytes. */
  public byte[] raw(int n) throws HandleCodecException {
    need(n);
    byte[] out = new byte[n];
    System.arraycopy(buf, pos, out, 0, n);
    pos += n;
    return out;
  }

  public void skip(int n) throws HandleCodecException {
    need(n);
    pos += n;
  }

  /** A length-prefixed string that must be well-formed UTF-8; {@code rc} is the code to fail with otherwise. */
  public String utf8(int max, int rc) throws HandleCodecException {
    int n = int4();
    if (n < 0 || n > max || n > remaining()) {
      throw HandleCodecException.protocol("bad length " + n);
    }
    int from = pos;
    pos += n;
    // Handles are nearly always ASCII: decoded straight from the message, without a strict decoder per string
    for (int i = from; i < from + n; i++) {
      if (buf[i] < 0) {
        return decodeUtf8(java.util.Arrays.copyOfRange(buf, from, from + n), rc);
      }
    }
    return new String(buf, from, n, StandardCharsets.ISO_8859_1);
  }

  public static String decodeUtf8(byte[] b, int rc) throws HandleCodecException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(b))
          .toString();
    } catch (CharacterCodingException e) {
      throw new HandleCodecException(rc, "not UTF-8");
    }
  }

  private static final int[] NO_INTS = new int[0];

  /** {@code int4} count, then the values; the empty list is one shared (zero-length, so immutable) array. */
  public int[] intList(int max) throws HandleCodecException {
    int n = count(max, 4);
    if (n == 0) {
      return NO_INTS; // the common case (a resolution without an index filter): nothing to allocate
    }
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = int4();
    }
    return out;
  }
}
