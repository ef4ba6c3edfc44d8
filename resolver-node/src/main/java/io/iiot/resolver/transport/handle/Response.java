package io.iiot.resolver.transport.handle;

/**
 * An answer ready to encode: header fields, the optional request digest, the body, and whether to sign it.
 *
 * <p>The header's RD bit is set exactly when a digest is present, because that is what CNRI's decoder keys on.
 */
public record Response(Version version, int sessionId, int requestId, int opCode, int responseCode, int opFlags,
    int siteSerial, byte[] digest, byte[] body, boolean sign, BodyWriter writer) {

  /**
   * A body written straight into the answer's wire array instead of into an array of its own that is then copied
   * there (resolution answers: one array per answer instead of two).
   */
  public interface BodyWriter {
    /** The bytes {@link #writeTo} writes. */
    int length();

    void writeTo(BufWriter w);
  }

  public Response(Version version, int sessionId, int requestId, int opCode, int responseCode, int opFlags,
      int siteSerial, byte[] digest, byte[] body, boolean sign) {
    this(version, sessionId, requestId, opCode, responseCode, opFlags, siteSerial, digest, body, sign, null);
  }

  /** The body; one given as a {@link BodyWriter} is written into an array of its own here. */
  @Override
  public byte[] body() {
    if (body != null || writer == null) {
      return body;
    }
    BufWriter w = new BufWriter(writer.length());
    writer.writeTo(w);
    return w.finish();
  }

  /** Seconds an answer stays valid for the client (CNRI uses 12 hours). */
  public static final int VALIDITY_SECONDS = 12 * 3600;

  /** Flags carried over from the request into the answer. */
  private static final int ECHOED = ResponseCodes.FLAG_AT | ResponseCodes.FLAG_CT | ResponseCodes.FLAG_REC
      | ResponseCodes.FLAG_CA | ResponseCodes.FLAG_PO | ResponseCodes.FLAG_OVRW | ResponseCodes.FLAG_MINT
      | ResponseCodes.FLAG_DNRF | ResponseCodes.FLAG_KA;

  /** Signs the data a credential covers. Implementations are thread-safe. */
  public interface Signer {
    /** @return the credential section for {@code data} (see {@link Credential#signedData}) */
    Credential sign(Version version, byte[] data);
  }

  public static int echoFlags(int requestFlags) {
    return requestFlags & ECHOED;
  }

  public Response withContinuous(boolean cn) {
    int f = cn ? opFlags | ResponseCodes.FLAG_CN : opFlags & ~ResponseCodes.FLAG_CN;
    return new Response(version, sessionId, requestId, opCode, responseCode, f, siteSerial, digest, body, sign,
        writer);
  }

  /** Header + body + credential section. {@code signer} is used when {@link #sign()} is set. */
  public byte[] encode(Signer signer) {
    byte[] wire = encodeWire(signer);
    return java.util.Arrays.copyOfRange(wire, Envelope.SIZE, wire.length);
  }

  /**
   * {@link Envelope#SIZE} bytes left for the envelope (the caller writes it, once the length is known), then header +
   * body + credential section: what goes on the wire, in one array sized exactly when unsigned.
   */
  public byte[] encodeWire(Signer signer) {
    int flags = opFlags & ~ResponseCodes.FLAG_RD;
    if (digest != null) {
      flags |= ResponseCodes.FLAG_RD;
    }
    int bodyLength = (digest == null ? 0 : digest.length) + (body != null ? body.length : writer.length());
    BufWriter w = new BufWriter(Envelope.SIZE + Limits.HEADER_SIZE + bodyLength + (sign ? 400 : 4));
    w.raw(NO_ENVELOPE);
    w.int4(opCode).int4(responseCode).int4(flags).u16(siteSerial).u8(0).u8(0)
        .int4((int) (System.currentTimeMillis() / 1000) + VALIDITY_SECONDS).int4(bodyLength);
    if (digest != null) {
      w.raw(digest);
    }
    if (body != null) {
      w.raw(body);
    } else {
      writer.writeTo(w);
    }
    if (sign && signer != null) {
      byte[] hb = w.toByteArray();
      byte[] data = Credential.signedData(version, Version.HIGHEST.major(), Version.HIGHEST.minor(), sessionId,
          requestId, 0, java.util.Arrays.copyOfRange(hb, Envelope.SIZE, hb.length), hb.length - Envelope.SIZE);
      w.bytes(signer.sign(version, data).encode());
    } else {
      w.int4(0);
    }
    return w.finish();
  }

  private static final byte[] NO_ENVELOPE = new byte[Envelope.SIZE];

  /** The envelope for a message of {@code length} bytes of this answer. */
  public Envelope envelope(int messageId, int length, int envFlags) {
    return new Envelope(version.major(), version.minor(), envFlags, Version.HIGHEST.major(), Version.HIGHEST.minor(),
        sessionId, requestId, messageId, length);
  }

  /** An error answer: [digest] + one {@code utf8} message. */
  public static byte[] errorBody(String message) {
    return new BufWriter(8 + message.length() * 3).utf8(message).toByteArray();
  }
}
