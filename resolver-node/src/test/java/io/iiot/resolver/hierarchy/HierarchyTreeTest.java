package io.iiot.resolver.hierarchy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import io.iiot.resolver.hierarchy.HierarchyStats.Decision;
import io.iiot.resolver.transport.handle.ServerKeys;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import io.iiot.resolver.v1.Handle;
import io.iiot.resolver.v1.HandleReferral;
import io.iiot.resolver.v1.ResolveHandleRequest;
import io.iiot.resolver.v1.ResolverServiceGrpc;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.AdminRecord;
import net.handle.hdllib.Configuration;
import net.handle.hdllib.CreateHandleRequest;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.ErrorResponse;
import net.handle.hdllib.GenericRequest;
import net.handle.hdllib.GetSiteInfoResponse;
import net.handle.hdllib.HandleException;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.SecretKeyAuthenticationInfo;
import net.handle.hdllib.SimpleConfiguration;
import net.handle.hdllib.SiteInfo;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A real three-level tree on loopback, three resolver-node modules in this JVM, each with its own keyspace on the
 * embedded Cassandra:
 *
 * <pre>
 * top-level node   (handle.prefix 88, node.role top-level)      holds 0.NA/88.101   → HS_SITE + HS_SITE.PREFIX of
 * secondary node   (88.101)                                     holds 0.NA/88.101.5 → HS_SITE of
 * enterprise node  (88.101.5, node.role enterprise, upstream = secondary)  holds 88.101.5/CNC-0001
 * </pre>
 *
 * CNRI's handle-client, unchanged, starts every resolution at the top-level node; what each node did is read back
 * from its {@link HierarchyStats} decisions.
 */
@Tag("large")
@ExtendWith(EmbeddedCassandraExtension.class)
class HierarchyTreeTest {
  static final String CNC = "88.101.5/CNC-0001";
  static final String URL = "https://factory.example/cnc/0001";
  static ResolverNodeHarness top;
  static ResolverNodeHarness secondary;
  static ResolverNodeHarness enterprise;
  static SiteInfo topSite;
  static SiteInfo secondarySite;
  static SiteInfo enterpriseSite;

  @BeforeAll
  static void start() throws Exception {
    // the server keys are generated while the three keyspaces are migrated (one after the other: concurrent schema
    // changes made a loaded Cassandra node time out)
    java.nio.file.Path keys = java.nio.file.Files.createTempDirectory(java.nio.file.Path.of("target")
        .toAbsolutePath(), "hierarchy-keys");
    List<java.util.concurrent.CompletableFuture<Void>> setup = new java.util.ArrayList<>();
    setup.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
      for (String n : List.of("top", "sec", "ent")) {
        EmbeddedCassandraExtension.session("iiot_resolver_h_" + n, "db/resolver").close();
      }
    }));
    for (String n : List.of("top", "sec", "ent")) {
      setup.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
        try {
          ServerKeys.loadOrCreate(keys.resolve(n + ".pk8"));
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }));
    }
    for (var f : setup) {
      f.get(5, java.util.concurrent.TimeUnit.MINUTES);
    }
    // top and secondary start side by side; the enterprise node needs the secondary's port for its upstream
    var topStart = java.util.concurrent.CompletableFuture.supplyAsync(() -> start("iiot_resolver_h_top",
        Map.of("HANDLE_PREFIX", "88", "NODE_ROLE", "top-level", "HANDLE_SERVER_KEY_FILE",
            keys.resolve("top.pk8").toString())));
    secondary = start("iiot_resolver_h_sec", Map.of("NODE_ROLE", "secondary",
        "HANDLE_SERVER_KEY_FILE", keys.resolve("sec.pk8").toString()));
    top = topStart.get(5, java.util.concurrent.TimeUnit.MINUTES);
    enterprise = ResolverNodeHarness.start("iiot_resolver_h_ent", Map.of("HANDLE_PREFIX", "88.101.5",
        "NODE_ROLE", "enterprise", "NODE_UPSTREAM_HANDLE_ADDRESS", "127.0.0.1:" + secondary.handlePort,
        "HANDLE_SERVER_KEY_FILE", keys.resolve("ent.pk8").toString()));
    topSite = siteOf(top);
    secondarySite = siteOf(secondary);
    enterpriseSite = siteOf(enterprise);
    // each delegation written by the delegating node's own admin, through CNRI's client
    create(topSite, "0.NA/88", "0.NA/88.101", new HandleValue(1, "HS_SITE", Encoder.encodeSiteInfoRecord(secondarySite)),
        new HandleValue(2, "HS_SITE.PREFIX", Encoder.encodeSiteInfoRecord(secondarySite)), admin("0.NA/88"));
    create(secondarySite, "0.NA/88.101", "0.NA/88.101.5",
        new HandleValue(1, "HS_SITE", Encoder.encodeSiteInfoRecord(enterpriseSite)), admin("0.NA/88.101"));
    create(enterpriseSite, "0.NA/88.101.5", CNC, new HandleValue(1, "URL", URL), admin("0.NA/88.101.5"));
  }

  @AfterAll
  static void stop() throws Exception {
    for (ResolverNodeHarness n : new ResolverNodeHarness[] {enterprise, secondary, top}) {
      if (n != null) {
        n.close();
      }
    }
  }

  @Test
  void rolesComeFromConfiguration() {
    assertThat(top.module.hierarchy().role()).isEqualTo(NodeRole.TOP_LEVEL);
    assertThat(secondary.module.hierarchy().role()).isEqualTo(NodeRole.SECONDARY);
    assertThat(enterprise.module.hierarchy().role()).isEqualTo(NodeRole.ENTERPRISE);
  }

  @Test
  void cnriClientFollowsServiceReferralsFromTheTopToTheEnterpriseNode() throws Exception {
    long[] marks = marks();
    ResolutionRequest req = request(CNC);
    req.recursive = false;
    AbstractResponse r = via(topSite).processRequest(req);

    assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(((ResolutionResponse) r).getHandleValues()[0].getDataAsString()).isEqualTo(URL);
    // the referral path: top → 302 to the secondary → 302 to the enterprise node → answered there
    assertThat(path(top, marks[0])).containsExactly(
        step(CNC, "REFER-302", secondary, 302));
    assertThat(path(secondary, marks[1])).containsExactly(
        step(CNC, "REFER-302", enterprise, 302));
    assertThat(path(enterprise, marks[2])).containsExactly(step(CNC, "LOCAL", null, 0));
    // and for operators, on the top's /metrics
    String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + top.httpPort + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    assertThat(metrics).containsPattern(
        "resolver_hierarchy_decisions_total\\{[^}]*action=\"service_referral\"[^}]*\\} [1-9]");
  }

  @Test
  void recursionRequestedFromTheTopIsResolvedByTheTopAndCached() throws Exception {
    long[] marks = marks();
    ResolutionRequest req = request(CNC);
    req.recursive = true;
    AbstractResponse r = via(topSite).processRequest(req);

    assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    ResolutionResponse rr = (ResolutionResponse) r;
    assertThat(Util.decodeString(rr.handle)).isEqualTo(CNC);
    assertThat(rr.getHandleValues()[0].getDataAsString()).isEqualTo(URL);
    // the top asked the secondary (which referred it on, REC being cleared), then the enterprise node
    assertThat(path(top, marks[0])).containsExactly(
        step(CNC, "RECURSE", secondary, 302),
        step(CNC, "RECURSE", enterprise, 1));
    assertThat(path(secondary, marks[1])).containsExactly(step(CNC, "REFER-302", enterprise, 302));
    assertThat(path(enterprise, marks[2])).containsExactly(step(CNC, "LOCAL", null, 0));

    // again: from the top's cache, within the values' TTL; nobody below is asked. The marks are taken once the tree
    // is quiet: a resend of the first request (CNRI's client to the top, the top's recursion to the nodes below)
    // sent before its answer came may be processed late on a loaded machine, and would count as a second request
    long[] again = quietMarks();
    ResolutionRequest second = request(CNC);
    AbstractResponse r2 = via(topSite).processRequest(second);
    assertThat(r2.responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(path(top, again[0])).containsExactly(step(CNC, "RECURSE-CACHED", null, 1));
    assertThat(path(secondary, again[1])).isEmpty();
    assertThat(path(enterprise, again[2])).isEmpty();
  }

  @Test
  void recursionReassemblesMultiDatagramAnswersAndKeepsThemNoLongerThanTheirTtl() throws Exception {
    // 3,000 bytes of data: the enterprise answers in numbered datagrams, the top's client reassembles them
    String big = "88.101.5/CNC-BIG";
    byte[] blob = new byte[3_000];
    java.util.Arrays.fill(blob, (byte) 'x');
    HandleValue shortLived = new HandleValue(2, "NOTE", "short-lived");
    shortLived.setTTL(2);
    create(enterpriseSite, "0.NA/88.101.5", big, new HandleValue(1, "DATA", blob), shortLived,
        admin("0.NA/88.101.5"));
    long[] marks = marks();
    AbstractResponse r = via(topSite).processRequest(request(big));
    assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(((ResolutionResponse) r).getHandleValues()[0].getData()).isEqualTo(blob);
    assertThat(path(top, marks[0])).containsExactly(step(big, "RECURSE", secondary, 302),
        step(big, "RECURSE", enterprise, 1));

    // cached for at most the smallest TTL (2 s): asked again after 3 s, the top resolves it again
    Thread.sleep(3_000);
    long[] again = marks();
    assertThat(via(topSite).processRequest(request(big)).responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(path(top, again[0])).containsExactly(step(big, "RECURSE", secondary, 302),
        step(big, "RECURSE", enterprise, 1));
  }

  @Test
  void cnriClientWithTheTopAsItsRootResolvesThroughPrefixHandles() throws Exception {
    // the client's own chain (reference §3.1): 0.NA/88.101.5 at its root, then the handle at that prefix's site
    long[] marks = marks();
    SimpleConfiguration c = new SimpleConfiguration();
    c.setGlobalSites(new SiteInfo[] {topSite});
    HandleResolver resolver = new HandleResolver();
    resolver.setConfiguration(c);
    resolver.setCache(null);
    resolver.setCertifiedCache(null);
    HandleValue[] values = resolver.resolveHandle(CNC, new String[] {"URL"}, null);
    assertThat(values).extracting(HandleValue::getDataAsString).containsExactly(URL);
    // the prefix handle request carries REC (CNRI always sets it there): the top resolved it at the secondary
    assertThat(path(top, marks[0])).containsExactly(step("0.NA/88.101.5", "RECURSE", secondary, 1));
    assertThat(path(secondary, marks[1])).containsExactly(step("0.NA/88.101.5", "LOCAL", null, 0));
    assertThat(path(enterprise, marks[2])).containsExactly(step(CNC, "LOCAL", null, 0));

    // without REC the top answers the derived prefix handle with a prefix referral (303), which CNRI follows
    long[] m2 = marks();
    ResolutionRequest prefix = request("0.NA/88.101.5");
    prefix.recursive = false;
    AbstractResponse r = via(topSite).processRequest(prefix);
    assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    HandleValue site = ((ResolutionResponse) r).getHandleValues()[0];
    assertThat(site.getTypeAsString()).isEqualTo("HS_SITE");
    assertThat(Encoder.decodeSiteInfoRecord(site.getData(), 0).servers[0].interfaces[0].port)
        .isEqualTo(enterprise.handlePort);
    assertThat(path(top, m2[0])).containsExactly(step("0.NA/88.101.5", "REFER-303", secondary, 303));
    assertThat(path(secondary, m2[1])).containsExactly(step("0.NA/88.101.5", "LOCAL", null, 0));
  }

  @Test
  void aForeignPrefixIsReferredUpstreamAndTheTopWithoutUpstreamAnswers301() throws Exception {
    long[] marks = marks();
    ResolutionRequest req = request("0.NA/88.101");
    req.recursive = false;
    AbstractResponse r = via(enterpriseSite).processRequest(req);
    assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(path(enterprise, marks[2])).containsExactly(
        step("0.NA/88.101", "REFER-UPSTREAM", secondary, 302));
    assertThat(path(secondary, marks[1])).containsExactly(step("0.NA/88.101", "LOCAL", null, 0));

    // the root of the tree has nowhere to send 99.1: 301, which CNRI's client does not follow but reports
    ResolutionRequest foreign = request("99.1/X");
    foreign.recursive = false;
    AbstractResponse notHere = via(topSite).processRequest(foreign);
    assertThat(notHere.responseCode).isEqualTo(AbstractMessage.RC_SERVER_NOT_RESP);
    assertThat(Util.decodeString(((ErrorResponse) notHere).message)).isEqualTo("That prefix doesn't live here");
    HandleResolver cached = via(topSite);
    assertThatThrownBy(() -> cached.resolveHandle("99.1/X")).isInstanceOf(HandleException.class)
        .hasMessageContaining("That prefix doesn't live here");
  }

  @Test
  void twoNodesReferringToEachOtherEndInABoundedError() throws Exception {
    // the secondary delegates 88.101.7 to the top; the top delegates all of 88.101 to the secondary
    create(secondarySite, "0.NA/88.101", "0.NA/88.101.7",
        new HandleValue(1, "HS_SITE", Encoder.encodeSiteInfoRecord(topSite)), admin("0.NA/88.101"));
    String looping = "88.101.7/LOOP";

    long[] marks = marks();
    ResolutionRequest referred = request(looping);
    referred.recursive = false;
    long t0 = System.nanoTime();
    // CNRI's client follows the 302s back and forth and gives up at its own limit of 40 hops. (It resends the
    // request it first encoded, so every node sees RecursionCount 0: the servers' depth limit cannot end this.)
    HandleResolver resolver = via(secondarySite);
    assertThatThrownBy(() -> resolver.processRequest(referred)).isInstanceOf(HandleException.class)
        .hasMessageContaining("Recursion limit exceeded on service referral");
    assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(30_000);
    // 40 hops: 20 referrals by each node (more if the client resent a datagram on a slow answer)
    assertThat(decisions(secondary, marks[1])).hasSizeGreaterThanOrEqualTo(20)
        .allMatch(d -> d.equals(step(looping, "REFER-302", top, 302)));
    assertThat(decisions(top, marks[0])).hasSizeGreaterThanOrEqualTo(20)
        .allMatch(d -> d.equals(step(looping, "REFER-302", secondary, 302)));

    // with recursion the secondary notices its own site coming back
    long[] m2 = marks();
    ResolutionRequest recursive = request(looping);
    recursive.recursive = true;
    AbstractResponse loop = via(secondarySite).processRequest(recursive);
    assertThat(loop.responseCode).isEqualTo(AbstractMessage.RC_RECURSION_COUNT_TOO_HIGH);
    assertThat(Util.decodeString(((ErrorResponse) loop).message)).contains("referral loop");
    assertThat(path(secondary, m2[1])).containsExactly(step(looping, "RECURSE", top, 302),
        step(looping, "LOOP", "this node", 6));
    assertThat(path(top, m2[0])).containsExactly(step(looping, "REFER-302", secondary, 302));
  }

  @Test
  void aDelegationWrittenOrDeletedThroughTheNodeIsFollowedAtOnce() throws Exception {
    // routing decisions are kept per prefix; writing or deleting the prefix handle must drop them at once
    String h = "88.101.9/NEW-0001";
    delete(secondarySite, "0.NA/88.101", "0.NA/88.101.9"); // left by an earlier run, or not there
    assertThat(direct(secondary, h).responseCode).isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
    assertThat(direct(secondary, h).responseCode).isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND); // kept decision

    create(secondarySite, "0.NA/88.101", "0.NA/88.101.9",
        new HandleValue(1, "HS_SITE", Encoder.encodeSiteInfoRecord(enterpriseSite)), admin("0.NA/88.101"));
    long[] marks = marks();
    assertThat(direct(secondary, h).responseCode).isEqualTo(AbstractMessage.RC_SERVICE_REFERRAL);
    assertThat(path(secondary, marks[1])).containsExactly(step(h, "REFER-302", enterprise, 302));

    delete(secondarySite, "0.NA/88.101", "0.NA/88.101.9");
    long[] m2 = marks();
    assertThat(direct(secondary, h).responseCode).isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
    assertThat(path(secondary, m2[1])).containsExactly(step(h, "LOCAL", null, 0));
  }

  /** One resolution sent to {@code node} itself over UDP, referrals not followed, recursion off. */
  static AbstractResponse direct(ResolverNodeHarness node, String handle) throws Exception {
    ResolutionRequest req = request(handle);
    req.recursive = false;
    return new HandleResolver().sendHdlUdpRequest(req, InetAddress.getLoopbackAddress(), node.handlePort);
  }

  static void delete(SiteInfo site, String adminHandle, String handle) throws Exception {
    SecretKeyAuthenticationInfo auth = new SecretKeyAuthenticationInfo(Util.encodeString(adminHandle), 300,
        ResolverNodeHarness.SECRET.getBytes(StandardCharsets.UTF_8));
    AbstractResponse r = new HandleResolver().sendRequestToSite(
        new net.handle.hdllib.DeleteHandleRequest(Util.encodeString(handle), auth), site);
    assertThat(r.responseCode).as(handle + ": " + r).isIn(AbstractMessage.RC_SUCCESS,
        AbstractMessage.RC_HANDLE_NOT_FOUND);
  }

  @Test
  void aRequestThatTookTooManyHopsIsRefused() throws Exception {
    ResolutionRequest req = request(CNC);
    req.recursionCount = 8;
    AbstractResponse r = new HandleResolver().sendHdlUdpRequest(req, InetAddress.getLoopbackAddress(),
        top.handlePort);
    assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_RECURSION_COUNT_TOO_HIGH);
    assertThat(Util.decodeString(((ErrorResponse) r).message)).contains("depth limit 8");
  }

  @Test
  void grpcResolveHandleAnswersWhatTheHandleProtocolAnswersAndReferralsNameWhereToGo() throws Exception {
    io.grpc.ManagedChannel topCh = channel(top);
    io.grpc.ManagedChannel entCh = channel(enterprise);
    try {
      var atTop = ResolverNodeHarness.as(ResolverServiceGrpc.newBlockingStub(topCh), top.operatorToken());
      var atEnterprise = ResolverNodeHarness.as(ResolverServiceGrpc.newBlockingStub(entCh),
          enterprise.serviceToken());

      // at the node holding it: the values CNRI's client gets over the Handle protocol, same filters
      HandleValue[] overHandle = ((ResolutionResponse) via(enterpriseSite).processRequest(new ResolutionRequest(
          Util.encodeString(CNC), new byte[][] {Util.encodeString("URL")}, null, null))).getHandleValues();
      Handle h = atEnterprise.resolveHandle(ResolveHandleRequest.newBuilder().setHandle(CNC).addTypes("url").build());
      assertThat(h.getHandle()).isEqualTo(CNC);
      assertThat(h.getValuesList()).extracting(v -> v.getIndex() + " " + v.getType() + " " + v.getData()
          .toStringUtf8() + " " + v.getTtlSeconds()).containsExactly(overHandle[0].getIndex() + " "
          + overHandle[0].getTypeAsString() + " " + overHandle[0].getDataAsString() + " " + overHandle[0].getTTL());
      // index filter, union with types as in the Handle protocol; HS_ADMIN is public, HS_SECKEY never shown
      Handle byIndex = atEnterprise.resolveHandle(ResolveHandleRequest.newBuilder().setHandle(CNC).addIndexes(100)
          .build());
      assertThat(byIndex.getValuesList()).extracting(v -> v.getType()).containsExactly("HS_ADMIN");
      assertThat(atEnterprise.resolveHandle(ResolveHandleRequest.newBuilder().setHandle(CNC).addTypes("NOPE")
          .build()).getValuesList()).isEmpty();
      assertThat(atEnterprise.resolveHandle(ResolveHandleRequest.newBuilder().setHandle("0.NA/88.101.5")
          .addTypes("HS_SECKEY").build()).getValuesList()).isEmpty();

      // not found, bad handle, bad index
      assertThat(grpcError(() -> atEnterprise.resolveHandle(ResolveHandleRequest.newBuilder()
          .setHandle("88.101.5/NOPE").build()))).isEqualTo("NOT_FOUND HANDLE_NOT_FOUND");
      io.grpc.StatusRuntimeException bad = org.junit.jupiter.api.Assertions.assertThrows(
          io.grpc.StatusRuntimeException.class, () -> atEnterprise.resolveHandle(ResolveHandleRequest.newBuilder()
              .setHandle("88.101.5/").build()));
      assertThat(bad.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
      assertThat(detail(bad, com.google.rpc.BadRequest.class).getFieldViolations(0).getField()).isEqualTo("handle");
      assertThat(grpcError(() -> atEnterprise.resolveHandle(ResolveHandleRequest.newBuilder().setHandle(CNC)
          .addIndexes(0).build()))).isEqualTo("INVALID_ARGUMENT INVALID_FIELDS");
      // authenticated like every call
      assertThat(grpcError(() -> ResolverServiceGrpc.newBlockingStub(entCh).resolveHandle(ResolveHandleRequest
          .newBuilder().setHandle(CNC).build()))).isEqualTo("UNAUTHENTICATED CREDENTIALS_MISSING");

      // at the top, not recursive: the referral the Handle protocol gives (302 with 0.NA/88.101's HS_SITE)
      long[] marks = marks();
      io.grpc.StatusRuntimeException referral = org.junit.jupiter.api.Assertions.assertThrows(
          io.grpc.StatusRuntimeException.class, () -> atTop.resolveHandle(ResolveHandleRequest.newBuilder()
              .setHandle(CNC).build()));
      assertThat(referral.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
      HandleReferral where = detail(referral, HandleReferral.class);
      assertThat(where.getResponseCode()).isEqualTo(302);
      assertThat(where.getServiceHandle()).isEqualTo("0.NA/88.101");
      assertThat(where.getValuesList()).extracting(v -> v.getType()).contains("HS_SITE");
      assertThat(where.getServersList()).contains("127.0.0.1:" + secondary.handlePort + "/udp",
          "127.0.0.1:" + secondary.handlePort + "/tcp");
      assertThat(detail(referral, com.google.rpc.ErrorInfo.class).getReason()).isEqualTo("HANDLE_REFERRAL");
      assertThat(referral.getStatus().getDescription()).contains("127.0.0.1:" + secondary.handlePort);
      assertThat(path(top, marks[0])).containsExactly(step(CNC, "REFER-302", secondary, 302));

      // recursive: resolved through the secondary and the enterprise node, as over the Handle protocol
      long[] m2 = marks();
      Handle recursed = atTop.resolveHandle(ResolveHandleRequest.newBuilder().setHandle("88.101.5/cnc-0001")
          .addTypes("URL").setRecursive(true).build());
      assertThat(recursed.getHandle()).isEqualTo("88.101.5/cnc-0001");
      assertThat(recursed.getValuesList()).extracting(v -> v.getData().toStringUtf8()).containsExactly(URL);
      assertThat(path(top, m2[0])).containsExactly(step("88.101.5/cnc-0001", "RECURSE", secondary, 302),
          step("88.101.5/cnc-0001", "RECURSE", enterprise, 1));
      assertThat(grpcError(() -> atTop.resolveHandle(ResolveHandleRequest.newBuilder().setHandle("88.101.5/NOPE")
          .setRecursive(true).build()))).isEqualTo("NOT_FOUND HANDLE_NOT_FOUND");
      // the root of the tree has nowhere to send 99.1
      assertThat(grpcError(() -> atTop.resolveHandle(ResolveHandleRequest.newBuilder().setHandle("99.1/X")
          .setRecursive(true).build()))).isEqualTo("FAILED_PRECONDITION NOT_RESPONSIBLE");
    } finally {
      topCh.shutdownNow();
      entCh.shutdownNow();
    }
  }

  @Test
  void recursionFollowsServiceHandlesAndFallsBackToTcpWhenUdpBringsNoAnswer() throws Exception {
    // 88.101.5.1 is delegated by the secondary through a service handle (HS_SERV) whose HS_SITE is the enterprise's
    String service = "88.101/SVC-ENT";
    create(secondarySite, "0.NA/88.101", service, new HandleValue(1, "HS_SITE",
        Encoder.encodeSiteInfoRecord(enterpriseSite)), admin("0.NA/88.101"));
    create(secondarySite, "0.NA/88.101", "0.NA/88.101.5.1", new HandleValue(1, "HS_SERV",
        Util.encodeString(service)), admin("0.NA/88.101"));
    String viaService = "88.101.5.1/SERV-1";
    enterpriseValue(viaService, "https://factory.example/serv/1");

    // from the top: the secondary refers with HS_SERV; the top resolves the service handle there, then goes on
    long[] marks = marks();
    AbstractResponse r = via(topSite).processRequest(request(viaService));
    assertThat(r.responseCode).as(r.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(((ResolutionResponse) r).getHandleValues()[0].getDataAsString())
        .isEqualTo("https://factory.example/serv/1");
    assertThat(path(top, marks[0])).containsExactly(step(viaService, "RECURSE", secondary, 302),
        step(service, "RECURSE", secondary, 1), step(viaService, "RECURSE", enterprise, 1));
    // at the secondary itself the service handle is in its own storage
    long[] m2 = marks();
    assertThat(via(secondarySite).processRequest(request(viaService)).responseCode)
        .isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(path(secondary, m2[1])).containsExactly(step(service, "SERVICE-LOCAL", null, 1),
        step(viaService, "RECURSE", enterprise, 1));
    // without recursion CNRI's client follows the same 302 (HS_SERV) itself
    ResolutionRequest referred = request(viaService);
    referred.recursive = false;
    assertThat(via(secondarySite).processRequest(referred).responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);

    // 88.101.5.2: a site record whose UDP port answers nothing; the enterprise's TCP interface does
    int deadUdp = EmbeddedCassandraExtension.freePort();
    SiteInfo udpDead = Encoder.decodeSiteInfoRecord(Encoder.encodeSiteInfoRecord(enterpriseSite), 0);
    for (net.handle.hdllib.ServerInfo server : udpDead.servers) {
      for (int i = 0; i < server.interfaces.length; i++) {
        if (server.interfaces[i].protocol == net.handle.hdllib.Interface.SP_HDL_UDP) {
          server.interfaces[i] = new net.handle.hdllib.Interface(server.interfaces[i].type,
              net.handle.hdllib.Interface.SP_HDL_UDP, deadUdp);
        }
      }
    }
    create(secondarySite, "0.NA/88.101", "0.NA/88.101.5.2", new HandleValue(1, "HS_SITE",
        Encoder.encodeSiteInfoRecord(udpDead)), admin("0.NA/88.101"));
    String viaTcp = "88.101.5.2/TCP-1";
    enterpriseValue(viaTcp, "https://factory.example/tcp/1");
    long[] m3 = marks();
    AbstractResponse overTcp = via(secondarySite).processRequest(request(viaTcp));
    assertThat(overTcp.responseCode).as(overTcp.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(((ResolutionResponse) overTcp).getHandleValues()[0].getDataAsString())
        .isEqualTo("https://factory.example/tcp/1");
    assertThat(path(secondary, m3[1])).containsExactly(step(viaTcp, "RECURSE", "127.0.0.1:" + deadUdp, 1));
    assertThat(path(enterprise, m3[2])).containsExactly(step(viaTcp, "LOCAL", null, 0));
  }

  @Test
  void adminAndHttpRequestsForADelegatedPrefixAreReferredWhereItLives() throws Exception {
    // Handle admin at the secondary for a handle of the enterprise node: the service referral (302) a resolution
    // gets, with 0.NA/88.101.5's HS_SITE, before any challenge
    String fresh = "88.101.5/ADMIN-" + System.nanoTime();
    SecretKeyAuthenticationInfo auth = new SecretKeyAuthenticationInfo(Util.encodeString("0.NA/88.101.5"), 300,
        ResolverNodeHarness.SECRET.getBytes(StandardCharsets.UTF_8));
    CreateHandleRequest create = new CreateHandleRequest(Util.encodeString(fresh), new HandleValue[] {
        new HandleValue(1, "URL", "https://factory.example/admin/1"), admin("0.NA/88.101.5")}, auth);
    AbstractResponse referral = new HandleResolver().sendHdlTcpRequest(create, InetAddress.getLoopbackAddress(),
        secondary.handlePort);
    assertThat(referral.responseCode).as(referral.toString()).isEqualTo(AbstractMessage.RC_SERVICE_REFERRAL);
    net.handle.hdllib.ServiceReferralResponse srr = (net.handle.hdllib.ServiceReferralResponse) referral;
    assertThat(Util.decodeString(srr.handle)).isEqualTo("0.NA/88.101.5");
    assertThat(Encoder.decodeSiteInfoRecord(srr.getHandleValues()[0].getData(), 0).servers[0].interfaces[0].port)
        .isEqualTo(enterprise.handlePort);

    // CNRI's client, told that 88.101.5 is administered at the secondary, follows the referral and creates it there
    SimpleConfiguration c = new SimpleConfiguration();
    c.setGlobalSites(new SiteInfo[] {secondarySite});
    c.setLocalSites("0.NA/88.101.5", new SiteInfo[] {secondarySite});
    HandleResolver admin = new HandleResolver();
    admin.setConfiguration(c);
    admin.setCache(null);
    admin.setCertifiedCache(null);
    CreateHandleRequest again = new CreateHandleRequest(Util.encodeString(fresh), new HandleValue[] {
        new HandleValue(1, "URL", "https://factory.example/admin/1"), admin("0.NA/88.101.5")}, auth);
    AbstractResponse created = admin.processRequest(again);
    assertThat(created.responseCode).as(created.toString()).isEqualTo(AbstractMessage.RC_SUCCESS);
    assertThat(enterprise.module.store().getFresh(fresh).toCompletionStage().toCompletableFuture()
        .get(10, java.util.concurrent.TimeUnit.SECONDS)).isPresent();
    assertThat(secondary.module.store().getFresh(fresh).toCompletionStage().toCompletableFuture()
        .get(10, java.util.concurrent.TimeUnit.SECONDS)).isEmpty();

    // HTTP JSON at the secondary: GET resolves through the hierarchy as a handle.net proxy would
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    String base = "http://127.0.0.1:" + secondary.httpPort + "/api/handles/";
    java.net.http.HttpResponse<String> got = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
        base + CNC + "?type=URL")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(got.statusCode()).as(got.body()).isEqualTo(200);
    io.vertx.core.json.JsonObject body = new io.vertx.core.json.JsonObject(got.body());
    assertThat(body.getInteger("responseCode")).isEqualTo(1);
    assertThat(body.getJsonArray("values").getJsonObject(0).getJsonObject("data").getString("value")).isEqualTo(URL);
    // ... or, asked not to recurse, says where to go
    java.net.http.HttpResponse<String> referred = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
        base + CNC + "?recursive=false")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(referred.statusCode()).isEqualTo(400);
    io.vertx.core.json.JsonObject where = new io.vertx.core.json.JsonObject(referred.body());
    assertThat(where.getInteger("responseCode")).isEqualTo(302);
    assertThat(where.getJsonObject("referral").getString("serviceHandle")).isEqualTo("0.NA/88.101.5");
    assertThat(where.getJsonObject("referral").getJsonArray("servers").getList())
        .contains("127.0.0.1:" + enterprise.handlePort + "/udp");
    assertThat(where.getJsonObject("referral").getJsonArray("values").getJsonObject(0).getString("type"))
        .isEqualTo("HS_SITE");
    // writes are referred before any authentication
    for (String method : List.of("PUT", "DELETE")) {
      java.net.http.HttpResponse<String> write = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
          base + fresh)).method(method, java.net.http.HttpRequest.BodyPublishers.ofString(
              "[{\"index\":1,\"type\":\"URL\",\"data\":\"https://x/\"}]")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(write.statusCode()).as(method + " " + write.body()).isEqualTo(400);
      assertThat(new io.vertx.core.json.JsonObject(write.body()).getInteger("responseCode")).isEqualTo(302);
    }
  }

  /** A handle written straight into the enterprise node's storage (its prefix handle is not the point here). */
  static void enterpriseValue(String handle, String url) throws Exception {
    enterprise.module.store().create(handle, List.of(io.iiot.resolver.domain.HandleValue.of(1, "URL", url)))
        .toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  static io.grpc.ManagedChannel channel(ResolverNodeHarness node) {
    return io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", node.grpcPort())
        .usePlaintext().build();
  }

  /** "CODE REASON" of a failed call (ErrorInfo reason). */
  static String grpcError(Runnable call) {
    io.grpc.StatusRuntimeException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.grpc.StatusRuntimeException.class, call::run);
    return e.getStatus().getCode() + " " + detail(e, com.google.rpc.ErrorInfo.class).getReason();
  }

  static <T extends com.google.protobuf.Message> T detail(io.grpc.StatusRuntimeException e, Class<T> type) {
    com.google.rpc.Status s = io.grpc.protobuf.StatusProto.fromThrowable(e);
    assertThat(s).as("status details of " + e).isNotNull();
    for (com.google.protobuf.Any d : s.getDetailsList()) {
      if (d.is(type)) {
        try {
          return d.unpack(type);
        } catch (com.google.protobuf.InvalidProtocolBufferException x) {
          throw new IllegalStateException(x);
        }
      }
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + s);
  }

  // ---------------------------------------------------------------- helpers

  static ResolverNodeHarness start(String keyspace, Map<String, String> env) {
    try {
      return ResolverNodeHarness.start(keyspace, env);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A resolver whose every resolution starts at {@code site} (CNRI's {@code resolver_site}), caches off. */
  static HandleResolver via(SiteInfo site) {
    SimpleConfiguration c = new SimpleConfiguration();
    c.setGlobalSites(new SiteInfo[] {site});
    c.setCacheSites(new SiteInfo[] {site});
    c.setResolutionMethod(Configuration.RM_WITH_CACHE);
    HandleResolver r = new HandleResolver();
    r.setConfiguration(c);
    r.setCache(null);
    r.setCertifiedCache(null);
    return r;
  }

  static ResolutionRequest request(String handle) {
    return new ResolutionRequest(Util.encodeString(handle), null, null, null);
  }

  static SiteInfo siteOf(ResolverNodeHarness node) throws Exception {
    AbstractResponse r = new HandleResolver().sendHdlUdpRequest(new GenericRequest(Util.encodeString("/"),
        AbstractMessage.OC_GET_SITE_INFO, null), InetAddress.getLoopbackAddress(), node.handlePort);
    return ((GetSiteInfoResponse) r).siteInfo;
  }

  static HandleValue admin(String prefixHandle) throws Exception {
    return new HandleValue(100, "HS_ADMIN", Encoder.encodeAdminRecord(new AdminRecord(Util.encodeString(prefixHandle),
        300, true, true, true, true, true, true, true, true, true, true, true, true)));
  }

  static void create(SiteInfo site, String adminHandle, String handle, HandleValue... values) throws Exception {
    SecretKeyAuthenticationInfo auth = new SecretKeyAuthenticationInfo(Util.encodeString(adminHandle), 300,
        ResolverNodeHarness.SECRET.getBytes(StandardCharsets.UTF_8));
    CreateHandleRequest req = new CreateHandleRequest(Util.encodeString(handle), values, auth);
    req.overwriteWhenExists = true; // a keyspace left by an earlier run holds other ports
    AbstractResponse r = new HandleResolver().sendRequestToSite(req, site);
    assertThat(r.responseCode).as(handle + ": " + r).isEqualTo(AbstractMessage.RC_SUCCESS);
  }

  static long[] marks() {
    return new long[] {top.module.hierarchy().stats().mark(), secondary.module.hierarchy().stats().mark(),
        enterprise.module.hierarchy().stats().mark()};
  }

  /** {@link #marks()} once no node has taken a decision for 1 s (at most 10 s). */
  static long[] quietMarks() throws InterruptedException {
    long[] last = marks();
    long quietSince = System.nanoTime();
    long deadline = quietSince + 10_000_000_000L;
    while (System.nanoTime() - quietSince < 1_000_000_000L && System.nanoTime() < deadline) {
      Thread.sleep(100);
      long[] now = marks();
      if (!java.util.Arrays.equals(now, last)) {
        last = now;
        quietSince = System.nanoTime();
      }
    }
    return last;
  }

  static List<Decision> decisions(ResolverNodeHarness node, long mark) {
    return node.module.hierarchy().stats().since(mark).stream()
        .filter(d -> !d.handle().equals("0.0/0.0")) // CNRI's client looks up its trust root (0.0/0.0) too
        .map(d -> new Decision(0, d.handle(), d.action(), d.target(), d.responseCode())).toList();
  }

  /**
   * The steps a node took, each once: on a slow machine CNRI's client resends a UDP request after 500 ms, and the
   * resend repeats a step (or finds the answer the first one cached).
   */
  static List<Decision> path(ResolverNodeHarness node, long mark) {
    List<Decision> out = new java.util.ArrayList<>();
    for (Decision d : decisions(node, mark)) {
      boolean retryServedFromCache = d.action().equals("RECURSE-CACHED")
          && out.stream().anyMatch(o -> o.handle().equals(d.handle()) && o.action().equals("RECURSE"));
      if (!out.contains(d) && !retryServedFromCache) {
        out.add(d);
      }
    }
    return out;
  }

  /** A decision as expected: handle, action, the node it went to (or a literal), response code. */
  static Decision step(String handle, String action, Object target, int rc) {
    String t = target == null ? "" : target instanceof ResolverNodeHarness n ? "127.0.0.1:" + n.handlePort
        : target.toString();
    return new Decision(0, handle, action, t, rc);
  }
}
