package io.iiot.resolver.transport.handle;

/**
 * A decoded request: envelope, header fields, and the raw bytes the digests and MACs are computed over.
 *
 * @param envelope as received (for UDP, of the first datagram)
 * @param bytes the whole message (header + body + credential section)
 * @param bodyLength length of the body, which starts at {@link Limits#HEADER_SIZE}
 * @param credential the credential section's content, empty when unsigned
 */
public record Message(Envelope envelope, int opCode, int responseCode, int opFlags, int siteSerial,
    int recursionCount, int expiration, byte[] bytes, int bodyLength, byte[] credential) {

  private static final byte[] NO_CREDENTIAL = new byte[0];

  /** Parses header and credential section of {@code msg} (exactly {@code envelope.messageLength()} bytes). */
  public static Message decode(Envelope envelope, byte[] msg) throws HandleCodecException {
    if (msg.length < Limits.HEADER_SIZE) {
      throw HandleCodecException.protocol("short header");
    }
    BufReader r = new BufReader(msg);
    int opCode = r.int4();
    int rc = r.int4();
    int flags = r.int4();
    int serial = r.u16();
    int recursion = r.u8();
    r.u8();
    int expiration = r.int4();
    int bodyLength = r.int4();
    if (bodyLength < 0 || bodyLength > r.remaining()) {
      throw HandleCodecException.protocol("bad body length " + bodyLength);
    }
    r.skip(bodyLength);
    byte[] credential = NO_CREDENTIAL;
    if (r.remaining() >= 4) {
      credential = r.bytes(r.remaining());
    }
    return new Message(envelope, opCode, rc, flags, serial, recursion, expiration, msg, bodyLength, credential);
  }

  public boolean flag(int mask) {
    return (opFlags & mask) != 0;
  }

  /** A reader over the body. */
  public BufReader body() {
    return new BufReader(bytes, Limits.HEADER_SIZE, bodyLength);
  }

  /** Header + body, the input of request digests, MACs and signatures. */
  public byte[] headerAndBody() {
    byte[] out = new byte[Limits.HEADER_SIZE + bodyLength];
    System.arraycopy(bytes, 0, out, 0, out.length);
    return out;
  }

  public boolean signed() {
    return credential.length > 0;
  }
}
