package io.iiot.resolver.transport.handle;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** A growable big-endian byte buffer for encoding Handle messages. Not thread-safe. */
public final class BufWriter {
  private byte[] buf;
  private int len;

  public BufWriter(int initial) {
    buf = new byte[Math.max(16, initial)];
  }

  public BufWriter() {
    this(256);
  }

  private void ensure(int n) {
    if (len + n > buf.length) {
      buf = Arrays.copyOf(buf, Math.max(buf.length * 2, len + n));
    }
  }

  public BufWriter u8(int v) {
    ensure(1);
    buf[len++] = (byte) v;
    return this;
  }

  public BufWriter u16(int v) {
    ensure(2);
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
    return this;
  }

  public BufWriter int4(int v) {
    ensure(4);
    buf[len++] = (byte) (v >>> 24);
    buf[len++] = (byte) (v >>> 16);
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
    return this;
  }

  public BufWriter raw(byte[] b) {
    return raw(b, 0, b.length);
  }

  public BufWriter raw(byte[] b, int off, int n) {
    ensure(n);
    System.arraycopy(b, off, buf, len, n);
    len += n;
    return this;
  }

  /** {@code int4} length, then the bytes ({@code null} is written as empty). */
  public BufWriter bytes(byte[] b) {
    if (b == null) {
      return int4(0);
    }
    int4(b.length);
    return raw(b);
  }

  /** {@code int4} length, then the UTF-8 bytes; ASCII (nearly every handle and type) is written without a copy. */
  public BufWriter utf8(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        return bytes(s.getBytes(StandardCharsets.UTF_8));
      }
    }
    ensure(4 + n);
    int4(n);
    for (int i = 0; i < n; i++) {
      buf[len++] = (byte) s.charAt(i);
    }
    return this;
  }

  /** The size {@link #utf8} writes for {@code s}: the {@code int4} length and the UTF-8 bytes. */
  public static int utf8Size(String s) {
    int n = s.length();
    for (int i = 0; i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        return 4 + s.getBytes(StandardCharsets.UTF_8).length;
      }
    }
    return 4 + n;
  }

  /** Overwrites an {@code int4} already written at {@code at}. */
  public void patchInt4(int at, int v) {
    buf[at] = (byte) (v >>> 24);
    buf[at + 1] = (byte) (v >>> 16);
    buf[at + 2] = (byte) (v >>> 8);
    buf[at + 3] = (byte) v;
  }

  public int length() {
    return len;
  }

  public byte[] toByteArray() {
    return Arrays.copyOf(buf, len);
  }

  /**
   * The bytes written, without a copy when the writer was sized exactly (the hot answer path sizes it so). The
   * writer must not be used afterwards.
   */
  public byte[] finish() {
    return len == buf.length ? buf : Arrays.copyOf(buf, len);
  }
}
