package io.iiot.resolver.transport.handle;

/**
 * The 20-byte message envelope (RFC 3652 §2.2.1, with CNRI's suggested-version extension in the flag bytes).
 *
 * @param major protocol major version of this message
 * @param minor protocol minor version
 * @param flags envelope byte 2 without the suggested major: {@link #CP}, {@link #EC}, {@link #TC}
 * @param suggestMajor suggested major version (low 2 bits of byte 2); 0 on the wire means "same as actual"
 * @param suggestMinor suggested minor version (byte 3)
 * @param sessionId 0 outside a session
 * @param requestId echoed in the answer
 * @param messageId index of this datagram in a multi-datagram UDP message; 0 on TCP
 * @param messageLength length of the whole message (header + body + credential)
 */
public record Envelope(int major, int minor, int flags, int suggestMajor, int suggestMinor, int sessionId,
    int requestId, int messageId, int messageLength) {
  public static final int CP = 0x80;
  public static final int EC = 0x40;
  public static final int TC = 0x20;
  public static final int SIZE = Limits.ENVELOPE_SIZE;

  public boolean truncated() {
    return (flags & TC) != 0;
  }

  public boolean encrypted() {
    return (flags & EC) != 0;
  }

  public boolean compressed() {
    return (flags & CP) != 0;
  }

  /** Decodes the envelope at {@code offset}; fails on a message length outside {@code 0..262,144}. */
  public static Envelope decode(byte[] b, int offset) throws HandleCodecException {
    if (b.length - offset < SIZE) {
      throw HandleCodecException.protocol("short envelope");
    }
    BufReader r = new BufReader(b, offset, SIZE);
    int major = r.u8();
    int minor = r.u8();
    int f = r.u8();
    int sMinor = r.u8();
    int sMajor = f & 0x03;
    if (sMajor == 0) {
      sMajor = major;
      sMinor = minor;
    }
    int sessionId = r.int4();
    int requestId = r.int4();
    int messageId = r.int4();
    int length = r.int4();
    if (length < 0 || length > Limits.MAX_MESSAGE_LENGTH) {
      throw HandleCodecException.protocol("bad message length " + length);
    }
    return new Envelope(major, minor, f & 0xE0, sMajor, sMinor, sessionId, requestId, messageId, length);
  }

  public void encode(byte[] b, int offset) {
    b[offset] = (byte) major;
    b[offset + 1] = (byte) minor;
    b[offset + 2] = (byte) ((flags & 0xE0) | (suggestMajor & 0x03));
    b[offset + 3] = (byte) suggestMinor;
    putInt(b, offset + 4, sessionId);
    putInt(b, offset + 8, requestId);
    putInt(b, offset + 12, messageId);
    putInt(b, offset + 16, messageLength);
  }

  public byte[] encode() {
    byte[] b = new byte[SIZE];
    encode(b, 0);
    return b;
  }

  public Envelope withMessage(int messageId, int messageLength, int flags) {
    return new Envelope(major, minor, flags, suggestMajor, suggestMinor, sessionId, requestId, messageId,
        messageLength);
  }

  static void putInt(byte[] b, int at, int v) {
    b[at] = (byte) (v >>> 24);
    b[at + 1] = (byte) (v >>> 16);
    b[at + 2] = (byte) (v >>> 8);
    b[at + 3] = (byte) v;
  }
}
