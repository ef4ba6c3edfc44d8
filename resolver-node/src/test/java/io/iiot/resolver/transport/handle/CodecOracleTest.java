package io.iiot.resolver.transport.handle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.ValueReference;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.util.List;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.CreateHandleRequest;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.ErrorResponse;
import net.handle.hdllib.MessageEnvelope;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.ServerInfo;
import net.handle.hdllib.SiteInfo;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The codec against CNRI's own client library (handle-client 9.3.1) as the oracle, in both directions. */
@Tag("small")
class CodecOracleTest {

  private static Message decodeCnriRequest(AbstractMessage req) throws Exception {
    req.requestId = 42;
    byte[] msg = req.getEncodedMessage();
    MessageEnvelope env = new MessageEnvelope();
    env.protocolMajorVersion = req.majorProtocolVersion;
    env.protocolMinorVersion = req.minorProtocolVersion;
    env.suggestMajorProtocolVersion = req.suggestMajorProtocolVersion;
    env.suggestMinorProtocolVersion = req.suggestMinorProtocolVersion;
    env.requestId = 42;
    env.messageLength = msg.length;
    byte[] envBytes = new byte[20];
    Encoder.encodeEnvelope(env, envBytes);
    Envelope ours = Envelope.decode(envBytes, 0);
    assertThat(ours.major()).isEqualTo(2);
    assertThat(ours.minor()).isEqualTo(3);
    assertThat(ours.suggestMajor()).isEqualTo(2);
    assertThat(ours.suggestMinor()).isEqualTo(11);
    assertThat(ours.requestId()).isEqualTo(42);
    assertThat(ours.messageLength()).isEqualTo(msg.length);
    return Message.decode(ours, msg);
  }

  @Test
  void decodesCnriResolutionRequestWithFilters() throws Exception {
    ResolutionRequest req = new ResolutionRequest(Util.encodeString("88.101.5/CNC-0001"),
        new byte[][] {Util.encodeString("URL"), Util.encodeString("HS_SITE.")}, new int[] {1, 100}, null);
    Message m = decodeCnriRequest(req);
    assertThat(m.opCode()).isEqualTo(ResponseCodes.OC_RESOLUTION);
    assertThat(m.opFlags()).isEqualTo(0x19000000);
    assertThat(m.siteSerial()).isEqualTo(0xFFFF);
    assertThat(m.signed()).isFalse();
    Bodies.Resolution body = Bodies.resolution(m.body());
    assertThat(body.handle()).isEqualTo("88.101.5/CNC-0001");
    assertThat(body.indexes()).containsExactly(1, 100);
    assertThat(body.types()).containsExactly("URL", "HS_SITE.");
  }

  @Test
  void decodesCnriCreateRequestWithAllValueFields() throws Exception {
    net.handle.hdllib.HandleValue url = new net.handle.hdllib.HandleValue(1, "URL", "http://x/");
    url.setTTLType((byte) 1);
    url.setTTL(1_900_000_000);
    url.setTimestamp(12345);
    url.setAdminCanWrite(false);
    url.setReferences(new net.handle.hdllib.ValueReference[] {
        new net.handle.hdllib.ValueReference(Util.encodeString("88.101/REF"), 7)});
    net.handle.hdllib.AdminRecord admin = new net.handle.hdllib.AdminRecord(Util.encodeString("0.NA/88.101"), 300,
        true, true, true, true, true, true, true, true, true, true, true, true);
    net.handle.hdllib.HandleValue adm = new net.handle.hdllib.HandleValue(100, "HS_ADMIN",
        Encoder.encodeAdminRecord(admin));
    CreateHandleRequest req = new CreateHandleRequest(Util.encodeString("88.101.5/DEV-1"),
        new net.handle.hdllib.HandleValue[] {url, adm}, null);
    Message m = decodeCnriRequest(req);
    assertThat(m.opCode()).isEqualTo(ResponseCodes.OC_CREATE_HANDLE);
    Bodies.Values body = Bodies.values(m.body());
    assertThat(body.handle()).isEqualTo("88.101.5/DEV-1");
    HandleValue v = body.values().get(0);
    assertThat(v.index()).isEqualTo(1);
    assertThat(v.type()).isEqualTo("URL");
    assertThat(v.dataAsString()).isEqualTo("http://x/");
    assertThat(v.ttlType()).isEqualTo(1);
    assertThat(v.ttl()).isEqualTo(1_900_000_000);
    assertThat(v.timestamp()).isEqualTo(12345);
    assertThat(v.permissions()).isEqualTo(0x0A);
    assertThat(v.references()).containsExactly(new ValueReference("88.101/REF", 7));
    AdminRecord a = AdminRecord.decode(body.values().get(1).data());
    assertThat(a.adminHandle()).isEqualTo("0.NA/88.101");
    assertThat(a.adminIndex()).isEqualTo(300);
    assertThat(a.permissions()).isEqualTo(AdminRecord.ALL);
    assertThat(a.bitString()).isEqualTo("111111111111");
  }

  @Test
  void cnriDecodesOurResolutionAnswer() throws Exception {
    HandleValue v = new HandleValue(1, "URL", "http://x/".getBytes(StandardCharsets.UTF_8), 0, 86400, 1_700_000_000,
        List.of(new ValueReference("88.101/R", 2)), 0x0E);
    byte[] adminData = new AdminRecord(AdminRecord.ALL & ~AdminRecord.READ_VALUE, "0.NA/88.101", 300).encode();
    HandleValue a = HandleValue.of(100, "HS_ADMIN", adminData);
    Response r = new Response(new Version(2, 11), 0, 77, ResponseCodes.OC_RESOLUTION, ResponseCodes.RC_SUCCESS,
        0x99000000, 1, null, Bodies.resolutionAnswer("88.101.5/dev-1", List.of(v, a)), false);
    AbstractResponse resp = decodeWithCnri(r, null);
    assertThat(resp).isInstanceOf(ResolutionResponse.class);
    assertThat(resp.authoritative).isTrue();
    assertThat(resp.requestId).isEqualTo(77);
    assertThat(resp.majorProtocolVersion).isEqualTo((byte) 2);
    assertThat(resp.minorProtocolVersion).isEqualTo((byte) 11);
    ResolutionResponse rr = (ResolutionResponse) resp;
    assertThat(Util.decodeString(rr.handle)).isEqualTo("88.101.5/dev-1");
    net.handle.hdllib.HandleValue[] values = rr.getHandleValues();
    assertThat(values).hasSize(2);
    assertThat(values[0].getDataAsString()).isEqualTo("http://x/");
    assertThat(values[0].getTimestamp()).isEqualTo(1_700_000_000);
    assertThat(values[0].getReferences()[0].getHandleAsString()).isEqualTo("88.101/R");
    net.handle.hdllib.AdminRecord ar = Encoder.decodeAdminRecord(values[1].getData(), 0);
    assertThat(ar.perms[net.handle.hdllib.AdminRecord.READ_VALUE]).isFalse();
    assertThat(ar.perms[net.handle.hdllib.AdminRecord.ADD_HANDLE]).isTrue();
    assertThat(ar.adminIdIndex).isEqualTo(300);
  }

  @Test
  void cnriDecodesOurErrorAnswerWithDigestAndVerifiesOurSignature() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    byte[] digest = new byte[33];
    digest[0] = Digests.SHA256;
    Response r = new Response(new Version(2, 11), 0, 5, ResponseCodes.OC_RESOLUTION,
        ResponseCodes.RC_HANDLE_NOT_FOUND, ResponseCodes.FLAG_CT, 1, digest, Response.errorBody("no such handle"),
        true);
    Response.Signer signer = (version, data) -> {
      try {
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(kp.getPrivate());
        s.update(data);
        return new Credential(0, Credential.SIGNED, "SHA-256", s.sign());
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    };
    AbstractResponse resp = decodeWithCnri(r, signer);
    assertThat(resp).isInstanceOf(ErrorResponse.class);
    assertThat(resp.responseCode).isEqualTo(100);
    assertThat(Util.decodeString(((ErrorResponse) resp).message)).isEqualTo("no such handle");
    assertThat(resp.rdHashType).isEqualTo((byte) 3);
    assertThat(resp.verifyMessage(Util.getPublicKeyFromBytes(KeyCodec.encode(kp.getPublic())))).isTrue();
    // our key encoding is byte-identical to CNRI's
    assertThat(KeyCodec.encode(kp.getPublic())).isEqualTo(Util.getBytesFromPublicKey(kp.getPublic()));
    assertThat(KeyCodec.decode(Util.getBytesFromPublicKey(kp.getPublic()))).isEqualTo(kp.getPublic());
  }

  @Test
  void siteRecordRoundTripsThroughCnri() throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("DSA");
    g.initialize(1024);
    KeyPair kp = g.generateKeyPair();
    SiteRecord site = new SiteRecord(1, 2, 10, 1, true, false, 2, new byte[0],
        List.of(new SiteRecord.Attribute("desc".getBytes(StandardCharsets.UTF_8), "node".getBytes(StandardCharsets.UTF_8))),
        List.of(new SiteRecord.Server(1, new byte[] {127, 0, 0, 1}, KeyCodec.encode(kp.getPublic()),
            List.of(new SiteRecord.Interface(SiteRecord.ADMIN_AND_QUERY, SiteRecord.TCP, 2641),
                new SiteRecord.Interface(SiteRecord.QUERY, SiteRecord.UDP, 2641)))));
    byte[] ours = site.encode();
    SiteInfo cnri = Encoder.decodeSiteInfoRecord(ours, 0);
    assertThat(cnri.isPrimary).isTrue();
    assertThat(cnri.minorProtocolVersion).isEqualTo((byte) 10);
    ServerInfo server = cnri.servers[0];
    assertThat(server.getInetAddress().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(Util.getPublicKeyFromBytes(server.publicKey, 0)).isEqualTo(kp.getPublic());
    assertThat(server.interfaces).hasSize(2);
    assertThat(Encoder.encodeSiteInfoRecord(cnri)).isEqualTo(ours);
    SiteRecord back = SiteRecord.decode(Encoder.encodeSiteInfoRecord(cnri));
    assertThat(back.servers().get(0).interfaces()).isEqualTo(site.servers().get(0).interfaces());
    byte[] trailing = java.util.Arrays.copyOf(ours, ours.length + 1);
    assertThatThrownBy(() -> SiteRecord.decode(trailing)).isInstanceOf(HandleCodecException.class);
  }

  @Test
  void rejectsLyingLengthsBeforeAllocating() {
    byte[] env = new Envelope(2, 11, 0, 2, 11, 0, 1, 0, 262_145).encode();
    assertThatThrownBy(() -> Envelope.decode(env, 0)).isInstanceOf(HandleCodecException.class);
    byte[] body = new BufWriter().int4(Integer.MAX_VALUE).toByteArray();
    assertThatThrownBy(() -> Bodies.resolution(new BufReader(body))).isInstanceOf(HandleCodecException.class);
    byte[] counts = new BufWriter().utf8("a/b").int4(1_000_000).toByteArray();
    assertThatThrownBy(() -> Bodies.values(new BufReader(counts))).isInstanceOf(HandleCodecException.class);
    byte[] badUtf8 = new BufWriter().bytes(new byte[] {(byte) 0xC3, 0x28}).int4(0).int4(0).toByteArray();
    assertThatThrownBy(() -> Bodies.resolution(new BufReader(badUtf8)))
        .isInstanceOfSatisfying(HandleCodecException.class,
            e -> assertThat(e.responseCode()).isEqualTo(ResponseCodes.RC_INVALID_HANDLE));
  }

  private static AbstractResponse decodeWithCnri(Response r, Response.Signer signer) throws Exception {
    byte[] msg = r.encode(signer);
    byte[] env = r.envelope(0, msg.length, 0).encode();
    MessageEnvelope e = new MessageEnvelope();
    Encoder.decodeEnvelope(env, e);
    return (AbstractResponse) Encoder.decodeMessage(msg, 0, e);
  }
}
