package io.iiot.resolver.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.List;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.AddValueRequest;
import net.handle.hdllib.AdminRecord;
import net.handle.hdllib.AuthenticationInfo;
import net.handle.hdllib.CreateHandleRequest;
import net.handle.hdllib.DeleteHandleRequest;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.ErrorResponse;
import net.handle.hdllib.GenericRequest;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.ModifyValueRequest;
import net.handle.hdllib.PublicKeyAuthenticationInfo;
import net.handle.hdllib.RemoveValueRequest;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.SecretKeyAuthenticationInfo;
import net.handle.hdllib.SiteInfo;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * CNRI's handle-client 9.3.1, used unchanged with a default {@link HandleResolver} (session tracker on), against a
 * resolver-node started in-process on the real embedded Cassandra. The site record is the one the node returns to
 * GET_SITEINFO.
 */
@Tag("large")
@ExtendWith(EmbeddedCassandraExtension.class)
class CnriClientInteropTest {
  static ResolverNodeHarness node;
  static InetAddress loopback;
  static SiteInfo site;
  static final byte[] ADMIN = Util.encodeString("0.NA/88.101");

  @BeforeAll
  static void start() throws Exception {
    node = ResolverNodeHarness.start("iiot_resolver_interop");
    loopback = InetAddress.getByName("127.0.0.1");
    site = node.useAsPrivateRoot();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static AuthenticationInfo nodeAdmin() {
    return new SecretKeyAuthenticationInfo(ADMIN, 300, ResolverNodeHarness.SECRET.getBytes(StandardCharsets.UTF_8));
  }

  static HandleValue[] deviceValues() throws Exception {
    AdminRecord admin = new AdminRecord(ADMIN, 300, true, true, true, true, true, true, true, true, true, true, true,
        true);
    return new HandleValue[] {
        new HandleValue(1, "URL", "https://factory.example/cnc/0001"),
        new HandleValue(2, "EMAIL", "ops@factory.example"),
        new HandleValue(3, "SERIAL", "CNC-0001-2026"),
        new HandleValue(100, "HS_ADMIN", Encoder.encodeAdminRecord(admin))};
  }

  static AbstractResponse admin(HandleResolver resolver, net.handle.hdllib.AbstractRequest req) throws Exception {
    return resolver.sendRequestToSite(req, site);
  }

  static HandleValue[] resolveUdp(String handle, String[] types, int[] indexes) throws Exception {
    ResolutionRequest req = new ResolutionRequest(Util.encodeString(handle),
        types == null ? null : encode(types), indexes, null);
    AbstractResponse r = new HandleResolver().sendHdlUdpRequest(req, loopback, node.handlePort);
    assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    return ((ResolutionResponse) r).getHandleValues();
  }

  static AbstractResponse resolveTcp(String handle, String[] types, int[] indexes) throws Exception {
    ResolutionRequest req = new ResolutionRequest(Util.encodeString(handle),
        types == null ? null : encode(types), indexes, null);
    return new HandleResolver().sendHdlTcpRequest(req, loopback, node.handlePort);
  }

  @Test
  void siteInfoCarriesTheServerKeyAndInterfaces() throws Exception {
    assertThat(site.servers).hasSize(1);
    assertThat(site.servers[0].getInetAddress().getHostAddress()).isEqualTo("127.0.0.1");
    assertThat(Util.getPublicKeyFromBytes(site.servers[0].publicKey, 0).getAlgorithm()).isEqualTo("RSA");
    assertThat(site.servers[0].interfaces).hasSize(2);
    // the prefix handle created at first start holds the same site record
    HandleValue[] vals = resolveUdp("0.NA/88.101", new String[] {"HS_SITE"}, null);
    assertThat(Encoder.decodeSiteInfoRecord(vals[0].getData(), 0).servers[0].publicKey)
        .isEqualTo(site.servers[0].publicKey);
  }

  @Test
  void createWithSecretKeyInASessionThenResolveOverUdpAndTcpWithFilters() throws Exception {
    HandleResolver resolver = new HandleResolver();
    AbstractResponse created = admin(resolver,
        new CreateHandleRequest(Util.encodeString("88.101.5/CNC-0001"), deviceValues(), nodeAdmin()));
    assertThat(created.responseCode).as(created.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);

    HandleValue[] all = resolveUdp("88.101.5/cnc-0001", null, null);
    assertThat(all).extracting(HandleValue::getIndex).containsExactly(1, 2, 3, 100);
    assertThat(all[0].getDataAsString()).isEqualTo("https://factory.example/cnc/0001");
    assertThat(all[0].getTimestamp()).isPositive();

    assertThat(resolveUdp("88.101.5/CNC-0001", new String[] {"URL"}, null))
        .extracting(HandleValue::getIndex).containsExactly(1);
    assertThat(resolveUdp("88.101.5/CNC-0001", new String[] {"EMAIL"}, new int[] {3}))
        .extracting(HandleValue::getIndex).containsExactly(2, 3);
    AbstractResponse tcp = resolveTcp("88.101.5/CNC-0001", null, new int[] {100});
    assertThat(tcp.responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    ResolutionResponse rr = (ResolutionResponse) tcp;
    assertThat(Util.decodeString(rr.handle)).isEqualTo("88.101.5/CNC-0001");
    assertThat(rr.getHandleValues()).extracting(HandleValue::getTypeAsString).containsExactly("HS_ADMIN");
    assertThat(tcp.majorProtocolVersion).isEqualTo((byte) 2);
    assertThat(tcp.minorProtocolVersion).isEqualTo((byte) 11);

    // the client's full path: prefix handle 0.NA/88.101.5 at the (private) root, its HS_SITE, then the handle
    assertThat(admin(resolver, new CreateHandleRequest(Util.encodeString("0.NA/88.101.5"),
        new HandleValue[] {new HandleValue(1, "HS_SITE", Encoder.encodeSiteInfoRecord(site))}, nodeAdmin()))
        .responseCode).isIn(AbstractMessage.RC_SUCCESS, AbstractMessage.RC_HANDLE_ALREADY_EXISTS);
    HandleValue[] viaSite = resolver.resolveHandle("88.101.5/CNC-0001", new String[] {"URL"}, null);
    assertThat(viaSite).hasSize(1);

    // create again → already exists
    AbstractResponse again = admin(resolver,
        new CreateHandleRequest(Util.encodeString("88.101.5/CNC-0001"), deviceValues(), nodeAdmin()));
    assertThat(again.responseCode).isEqualTo(AbstractMessage.RC_HANDLE_ALREADY_EXISTS);
  }

  @Test
  void notFoundCodes() throws Exception {
    assertThat(resolveTcp("88.101.5/NOPE", null, null).responseCode).isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
    assertThat(resolveTcp("0.NA/88.101", new String[] {"NO_SUCH_TYPE"}, null).responseCode)
        .isEqualTo(AbstractMessage.RC_VALUES_NOT_FOUND);
    AbstractResponse foreign = resolveTcp("88.999/X", null, null);
    assertThat(foreign.responseCode).isEqualTo(AbstractMessage.RC_SERVER_NOT_RESP);
    assertThat(Util.decodeString(((ErrorResponse) foreign).message)).isEqualTo("That prefix doesn't live here");
    ResolutionRequest udp = new ResolutionRequest(Util.encodeString("88.101.5/NOPE"), null, null, null);
    assertThat(new HandleResolver().sendHdlUdpRequest(udp, loopback, node.handlePort).responseCode)
        .isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
  }

  @Test
  void wrongSecretIsRefusedAndChangesNothing() throws Exception {
    HandleResolver resolver = new HandleResolver();
    AuthenticationInfo wrong = new SecretKeyAuthenticationInfo(ADMIN, 300, "not-the-secret".getBytes());
    AbstractResponse r = admin(resolver,
        new CreateHandleRequest(Util.encodeString("88.101.5/WRONG-1"), deviceValues(), wrong));
    assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_AUTHENTICATION_FAILED);
    assertThat(resolveTcp("88.101.5/WRONG-1", null, null).responseCode)
        .isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);

    // session-less challenge-response too
    HandleResolver plain = new HandleResolver();
    plain.setSessionTracker(null);
    r = admin(plain, new CreateHandleRequest(Util.encodeString("88.101.5/WRONG-1"), deviceValues(), wrong));
    assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_AUTHENTICATION_FAILED);
    assertThat(resolveTcp("88.101.5/WRONG-1", null, null).responseCode)
        .isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);

    // an identity that is no admin at all
    AuthenticationInfo stranger = new SecretKeyAuthenticationInfo(Util.encodeString("88.101.5/NOBODY"), 300,
        "x".getBytes());
    r = admin(resolver, new CreateHandleRequest(Util.encodeString("88.101.5/WRONG-2"), deviceValues(), stranger));
    assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_INVALID_ADMIN);
  }

  @Test
  void modifyAddRemoveListDeleteWithoutSession() throws Exception {
    HandleResolver resolver = new HandleResolver();
    resolver.setSessionTracker(null);
    String h = "88.101.5/CNC-0002";
    assertThat(admin(resolver, new CreateHandleRequest(Util.encodeString(h), deviceValues(), nodeAdmin()))
        .responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(admin(resolver, new ModifyValueRequest(Util.encodeString(h),
        new HandleValue(1, "URL", "https://factory.example/cnc/0002-v2"), nodeAdmin())).responseCode)
        .isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(admin(resolver, new RemoveValueRequest(Util.encodeString(h), 2, nodeAdmin())).responseCode)
        .isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(admin(resolver, new AddValueRequest(Util.encodeString(h),
        new HandleValue(4, "LOCATION", "Line 3"), nodeAdmin())).responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(admin(resolver, new AddValueRequest(Util.encodeString(h),
        new HandleValue(4, "LOCATION", "Line 4"), nodeAdmin())).responseCode)
        .isEqualTo(AbstractMessage.RC_VALUE_ALREADY_EXISTS);
    assertThat(admin(resolver, new ModifyValueRequest(Util.encodeString(h),
        new HandleValue(9, "URL", "x"), nodeAdmin())).responseCode).isEqualTo(AbstractMessage.RC_VALUES_NOT_FOUND);
    HandleValue[] vals = resolveUdp(h, null, null);
    assertThat(vals).extracting(HandleValue::getIndex).containsExactly(1, 3, 4, 100);
    assertThat(vals[0].getDataAsString()).isEqualTo("https://factory.example/cnc/0002-v2");

    List<String> listed = new ArrayList<>();
    new HandleResolver().listHandlesUnderPrefixAtSite("0.NA/88.101.5", site, nodeAdmin(),
        handle -> listed.add(Util.decodeString(handle)));
    assertThat(listed).contains(h);

    assertThat(admin(resolver, new DeleteHandleRequest(Util.encodeString(h), nodeAdmin())).responseCode)
        .isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(resolveTcp(h, null, null).responseCode).isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
    assertThat(admin(resolver, new DeleteHandleRequest(Util.encodeString(h), nodeAdmin())).responseCode)
        .isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
  }

  @Test
  void listHandlesStreamsManyMessages() throws Exception {
    HandleResolver resolver = new HandleResolver();
    for (int i = 0; i < 120; i++) {
      AbstractResponse r = admin(resolver, new CreateHandleRequest(Util.encodeString("88.101.77/L-" + i),
          new HandleValue[] {new HandleValue(1, "URL", "u" + i)}, nodeAdmin()));
      assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    }
    List<String> listed = new ArrayList<>();
    new HandleResolver().listHandlesUnderPrefixAtSite("0.NA/88.101.77", site, nodeAdmin(),
        handle -> listed.add(Util.decodeString(handle)));
    assertThat(listed).hasSize(120);
  }

  @Test
  void publicKeyAdministrationRsaAndDsa() throws Exception {
    for (String alg : List.of("RSA", "DSA")) {
      KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
      g.initialize(alg.equals("RSA") ? 2048 : 1024);
      KeyPair kp = g.generateKeyPair();
      String keys = "88.101.6/KEYS-" + alg;
      HandleResolver resolver = new HandleResolver();
      // the node admin registers the key holder and gives it ADD_HANDLE on 0.NA/88.101.6.x
      assertThat(admin(resolver, new CreateHandleRequest(Util.encodeString(keys), new HandleValue[] {
          new HandleValue(300, "HS_PUBKEY", Util.getBytesFromPublicKey(kp.getPublic()))}, nodeAdmin()))
          .responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
      String prefix = "88.101.6." + alg;
      AdminRecord grant = new AdminRecord(Util.encodeString(keys), 300, true, true, true, true, true, true, true,
          true, true, true, true, true);
      assertThat(admin(resolver, new CreateHandleRequest(Util.encodeString("0.NA/" + prefix), new HandleValue[] {
          new HandleValue(100, "HS_ADMIN", Encoder.encodeAdminRecord(grant))}, nodeAdmin())).responseCode)
          .isEqualTo(AbstractMessage.RC_SUCCESS);

      AuthenticationInfo pub = new PublicKeyAuthenticationInfo(Util.encodeString(keys), 300, kp.getPrivate());
      HandleValue[] vals = {new HandleValue(1, "URL", "https://factory.example/" + alg),
          new HandleValue(100, "HS_ADMIN", Encoder.encodeAdminRecord(grant))};
      for (boolean session : new boolean[] {true, false}) {
        HandleResolver r = new HandleResolver();
        if (!session) {
          r.setSessionTracker(null);
        }
        String h = prefix + "/DEV-" + session;
        assertThat(admin(r, new CreateHandleRequest(Util.encodeString(h), vals, pub)).responseCode)
            .as(alg + " session=" + session).isEqualTo(AbstractMessage.RC_SUCCESS);
        assertThat(admin(r, new ModifyValueRequest(Util.encodeString(h),
            new HandleValue(1, "URL", "https://factory.example/v2"), pub)).responseCode)
            .isEqualTo(AbstractMessage.RC_SUCCESS);
        assertThat(resolveUdp(h, new String[] {"URL"}, null)[0].getDataAsString())
            .isEqualTo("https://factory.example/v2");
      }
      // a different key for the same identity fails authentication
      KeyPair other = g.generateKeyPair();
      AuthenticationInfo impostor = new PublicKeyAuthenticationInfo(Util.encodeString(keys), 300,
          other.getPrivate());
      AbstractResponse r = admin(new HandleResolver(),
          new CreateHandleRequest(Util.encodeString(prefix + "/EVIL"), vals, impostor));
      assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_AUTHENTICATION_FAILED);
      assertThat(resolveTcp(prefix + "/EVIL", null, null).responseCode)
          .isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
    }
  }

  @Test
  void largeAnswersAreSplitIntoDatagramsAndReassembledByTheClient() throws Exception {
    HandleValue[] many = new HandleValue[40];
    for (int i = 0; i < many.length; i++) {
      many[i] = new HandleValue(i + 1, "URL", "https://factory.example/a/rather/long/path/to/device/" + i);
    }
    HandleResolver resolver = new HandleResolver();
    // the request itself is larger than one datagram when sent over UDP by a site allowing UDP admin; here TCP
    assertThat(admin(resolver, new CreateHandleRequest(Util.encodeString("88.101.5/BIG"), many, nodeAdmin()))
        .responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    HandleValue[] back = resolveUdp("88.101.5/BIG", null, null);
    assertThat(back).hasSize(40);
    assertThat(back[39].getDataAsString()).endsWith("/39");
  }

  @Test
  void unknownOpcodeIsNotSupported() throws Exception {
    AbstractResponse r = new HandleResolver().sendHdlTcpRequest(
        new GenericRequest(Util.encodeString("88.101.5/X"), AbstractMessage.OC_BACKUP_SERVER, null), loopback,
        node.handlePort);
    assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_OPERATION_NOT_SUPPORTED);
  }

  static byte[][] encode(String[] types) {
    byte[][] out = new byte[types.length][];
    for (int i = 0; i < types.length; i++) {
      out[i] = Util.encodeString(types[i]);
    }
    return out;
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

}
