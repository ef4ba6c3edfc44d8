package io.iiot.resolver.transport.handle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.AdminRecord;
import net.handle.hdllib.AuthenticationInfo;
import net.handle.hdllib.ChallengeResponse;
import net.handle.hdllib.ClientSessionTracker;
import net.handle.hdllib.CreateHandleRequest;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.HandleException;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.Interface;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.SecretKeyAuthenticationInfo;
import net.handle.hdllib.SessionSetupInfo;
import net.handle.hdllib.SiteInfo;
import net.handle.hdllib.Util;
import net.handle.hdllib.VerifyAuthRequest;
import net.handle.hdllib.VerifyAuthResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Certified and encrypted answers, and verify-challenge, with CNRI's handle-client 9.3.1 unchanged against a node
 * in-process on the embedded Cassandra: the client checks every CT answer with the key of the site record the node
 * returned, and decrypts EC answers with its session key. A UDP relay between them shows what travels on the wire
 * and tampers with it.
 */
@Tag("large")
@ExtendWith(EmbeddedCassandraExtension.class)
class CertifiedAndEncryptedInteropTest {
  static ResolverNodeHarness node;
  static SiteInfo site;
  static final byte[] ADMIN = Util.encodeString("0.NA/88.101");

  @BeforeAll
  static void start() throws Exception {
    node = ResolverNodeHarness.start("iiot_resolver_secure");
    site = node.useAsPrivateRoot();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static AuthenticationInfo nodeAdmin(String secret) {
    return new SecretKeyAuthenticationInfo(ADMIN, 300, secret.getBytes(StandardCharsets.UTF_8));
  }

  /** The node's site record with its UDP query interface moved to {@code udpPort} (a relay); TCP stays direct. */
  static SiteInfo siteWithUdpAt(int udpPort) throws Exception {
    SiteInfo s = Encoder.decodeSiteInfoRecord(Encoder.encodeSiteInfoRecord(site), 0);
    s.servers[0].interfaces = new Interface[] {
        new Interface(Interface.ST_QUERY, Interface.SP_HDL_UDP, udpPort),
        new Interface(Interface.ST_ADMIN_AND_QUERY, Interface.SP_HDL_TCP, node.handlePort)};
    return s;
  }

  static ResolutionRequest certified(String handle) {
    ResolutionRequest req = new ResolutionRequest(Util.encodeString(handle), null, null, null);
    req.certify = true;
    return req;
  }

  @Test
  void certifiedResolutionIsSignedWithTheSiteKeyOverUdpAndTcp() throws Exception {
    PublicKey siteKey = Util.getPublicKeyFromBytes(site.servers[0].publicKey, 0);
    for (int protocol : new int[] {Interface.SP_HDL_UDP, Interface.SP_HDL_TCP}) {
      // sendRequestToSite attaches the server key of the site record; the client throws unless the answer verifies
      AbstractResponse r = new HandleResolver().sendRequestToSite(certified("0.NA/88.101"), site, protocol);
      assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
      assertThat(r.signature).as("protocol %d", protocol).isNotEmpty();
      assertThat(r.verifyMessage(siteKey)).isTrue();
      assertThat(((ResolutionResponse) r).getHandleValues()).isNotEmpty();
    }
    // error answers to a certified request are signed too
    AbstractResponse missing = new HandleResolver().sendRequestToSite(certified("88.101.5/NO-SUCH"), site,
        Interface.SP_HDL_UDP);
    assertThat(missing.responseCode).isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
    assertThat(missing.verifyMessage(siteKey)).isTrue();
  }

  @Test
  void aTamperedSignatureIsRejectedByTheClient() throws Exception {
    try (UdpRelay honest = new UdpRelay(node.handlePort, a -> a)) {
      AbstractResponse r = new HandleResolver().sendRequestToSite(certified("0.NA/88.101"),
          siteWithUdpAt(honest.port()), Interface.SP_HDL_UDP);
      assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    }
    // the last byte of the last datagram of a certified answer is the last byte of its signature
    try (UdpRelay tamper = new UdpRelay(node.handlePort, a -> {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(a);
      if (b.getInt(12) * 492 + a.length - Envelope.SIZE == b.getInt(16)) {
        a[a.length - 1] ^= 0x01;
      }
      return a;
    })) {
      HandleResolver resolver = new HandleResolver();
      resolver.setUdpRetryScheme(new int[] {2000});
      assertThatThrownBy(() -> resolver.sendRequestToSite(certified("0.NA/88.101"), siteWithUdpAt(tamper.port()),
          Interface.SP_HDL_UDP))
          .isInstanceOfSatisfying(HandleException.class,
              e -> assertThat(e.getCode()).as(e.toString()).isEqualTo(HandleException.MISSING_OR_INVALID_SIGNATURE));
      assertThat(tamper.answers).isNotEmpty();
    }
  }

  @Test
  void verifyChallengeTellsAnotherServerWhetherASecretKeyAnswerIsRight() throws Exception {
    // what another server does when a client authenticates there as 300:0.NA/88.101 (reference §4.2): it challenged
    // the client, got its answer, and asks the service holding the secret (this node) with opcode 201, CT set
    CreateHandleRequest theirRequest = new CreateHandleRequest(Util.encodeString("88.999/ELSEWHERE"),
        new HandleValue[] {new HandleValue(1, "URL", "https://elsewhere.example/")}, null);
    ChallengeResponse theirChallenge = new ChallengeResponse(theirRequest);
    for (String secret : new String[] {ResolverNodeHarness.SECRET, "not-the-secret"}) {
      byte[] answer = nodeAdmin(secret).authenticate(theirChallenge, theirRequest);
      assertThat(answer[0]).as("a PBKDF2 answer, as 9.3.1 makes them").isEqualTo((byte) 0x22);
      VerifyAuthRequest ask = new VerifyAuthRequest(ADMIN, theirChallenge.nonce, theirChallenge.requestDigest,
          theirChallenge.rdHashType, answer, 300, null);
      for (int protocol : new int[] {Interface.SP_HDL_UDP, Interface.SP_HDL_TCP}) {
        AbstractResponse r = new HandleResolver().sendRequestToSite(ask, site, protocol);
        assertThat(r).as(r.toString()).isInstanceOf(VerifyAuthResponse.class);
        assertThat(((VerifyAuthResponse) r).isValid).as("secret %s over %d", secret, protocol)
            .isEqualTo(secret.equals(ResolverNodeHarness.SECRET));
      }
    }
    // an identity this node does not have
    VerifyAuthRequest unknown = new VerifyAuthRequest(Util.encodeString("88.101.5/NOBODY"), theirChallenge.nonce,
        theirChallenge.requestDigest, theirChallenge.rdHashType, new byte[] {0x22}, 300, null);
    AbstractResponse r = new HandleResolver().sendRequestToSite(unknown, site, Interface.SP_HDL_TCP);
    assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
  }

  @Test
  void aSessionWithEncryptionGetsEncryptedAnswers() throws Exception {
    byte[] secret = "device-secret-0001".getBytes(StandardCharsets.UTF_8);
    String handle = "88.101.7/ENC-0001";
    try (UdpRelay relay = new UdpRelay(node.handlePort, a -> a)) {
      SiteInfo viaRelay = siteWithUdpAt(relay.port());
      HandleResolver resolver = new HandleResolver();
      SessionSetupInfo encrypted = new SessionSetupInfo();
      encrypted.encrypted = true;
      resolver.setSessionTracker(new ClientSessionTracker(encrypted));

      AdminRecord admin = new AdminRecord(ADMIN, 300, true, true, true, true, true, true, true, true, true, true,
          true, true);
      HandleValue key = new HandleValue(300, "HS_SECKEY", secret);
      key.setAnyoneCanRead(false);
      HandleValue[] values = {new HandleValue(1, "URL", "https://factory.example/enc/0001"),
          new HandleValue(100, "HS_ADMIN", Encoder.encodeAdminRecord(admin)), key};
      // session setup over UDP (through the relay), then the create over TCP, encrypted both ways
      AbstractResponse created = resolver.sendRequestToSite(
          new CreateHandleRequest(Util.encodeString(handle), values, nodeAdmin(ResolverNodeHarness.SECRET)), viaRelay);
      assertThat(created.responseCode).as(created.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);

      // in the same session, read the non-public secret back over UDP, certified
      ResolutionRequest read = new ResolutionRequest(Util.encodeString(handle), null, null,
          nodeAdmin(ResolverNodeHarness.SECRET));
      read.ignoreRestrictedValues = false;
      read.certify = true;
      int before = relay.answers.size();
      AbstractResponse r = resolver.sendRequestToSite(read, viaRelay, Interface.SP_HDL_UDP);
      assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
      HandleValue[] got = ((ResolutionResponse) r).getHandleValues();
      assertThat(got).anySatisfy(v -> {
        assertThat(v.getTypeAsString()).isEqualTo("HS_SECKEY");
        assertThat(v.getData()).isEqualTo(secret);
      });
      assertThat(r.sessionId).isNotZero();

      // on the wire: EC set, and neither the handle nor the secret in clear
      java.util.List<byte[]> answers = relay.answers.subList(before, relay.answers.size());
      assertThat(answers).isNotEmpty().allSatisfy(a -> {
        assertThat(a[2] & Envelope.EC).as("EC flag").isEqualTo(Envelope.EC);
        String wire = new String(a, StandardCharsets.ISO_8859_1);
        assertThat(wire).doesNotContain("device-secret-0001").doesNotContain("ENC-0001");
      });
    }
  }
}
