package io.iiot.resolver.transport.handle;

import java.nio.charset.StandardCharsets;

/**
 * The credential section as CNRI writes it ({@code AbstractMessage.signMessage}): version, reserved, flags, signer
 * handle (empty), signer index (CNRI puts the session counter here), credential type ({@code HS_SIGNED},
 * {@code HS_MAC}), signed-info length, digest algorithm name, signature bytes.
 */
public record Credential(int sessionCounter, String type, String digestAlgorithm, byte[] signature) {
  public static final String SIGNED = "HS_SIGNED";
  public static final String MAC = "HS_MAC";

  public static Credential decode(byte[] section) throws HandleCodecException {
    BufReader r = new BufReader(section);
    r.u8();
    r.u8();
    r.u16();
    r.bytes(Limits.MAX_HANDLE_LENGTH);
    int counter = r.int4();
    String type = new String(r.bytes(64), StandardCharsets.US_ASCII);
    int signedInfoLength = r.int4();
    if (signedInfoLength < 0 || signedInfoLength > r.remaining()) {
      throw new HandleCodecException(ResponseCodes.RC_INVALID_CREDENTIAL, "bad signed-info length");
    }
    String alg = new String(r.bytes(64), StandardCharsets.US_ASCII);
    byte[] sig = r.bytes(8192);
    return new Credential(counter, type, alg, sig);
  }

  public byte[] encode() {
    byte[] alg = digestAlgorithm.getBytes(StandardCharsets.US_ASCII);
    return new BufWriter(64 + signature.length).u8(0).u8(0).u16(0).bytes(null).int4(sessionCounter)
        .utf8(type).int4(4 + alg.length + 4 + signature.length).bytes(alg).bytes(signature).toByteArray();
  }

  /**
   * What a signature or MAC covers (≥ 2.6): major, minor, [suggested major, minor at ≥ 2.8], then at ≥ 2.7 (and in
   * the same layout below) sessionId, requestId, session counter; followed by header + body.
   */
  public static byte[] signedData(Version v, int suggestMajor, int suggestMinor, int sessionId, int requestId,
      int sessionCounter, byte[] headerAndBody, int length) {
    BufWriter w = new BufWriter(16 + length);
    if (v.atLeast(2, 6)) {
      w.u8(v.major()).u8(v.minor());
      if (v.atLeast(2, 8)) {
        w.u8(suggestMajor).u8(suggestMinor);
      }
      w.int4(sessionId).int4(requestId).int4(sessionCounter);
    }
    w.raw(headerAndBody, 0, length);
    return w.toByteArray();
  }
}
