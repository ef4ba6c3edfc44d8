package io.iiot.resolver.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.FieldMask;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.v1.ApprovePrefixApplicationRequest;
import io.iiot.resolver.v1.AuditEntry;
import io.iiot.resolver.v1.BatchRegisterIdentifiersRequest;
import io.iiot.resolver.v1.CreatePrefixApplicationRequest;
import io.iiot.resolver.v1.CreateTemplateRequest;
import io.iiot.resolver.v1.DeleteIdentifierRequest;
import io.iiot.resolver.v1.Filing;
import io.iiot.resolver.v1.FilingReceiverGrpc;
import io.iiot.resolver.v1.FieldType;
import io.iiot.resolver.v1.GetFilingRequest;
import io.iiot.resolver.v1.GetIdentifierRequest;
import io.iiot.resolver.v1.GetPrefixApplicationRequest;
import io.iiot.resolver.v1.Identifier;
import io.iiot.resolver.v1.IdentifierServiceGrpc;
import io.iiot.resolver.v1.ListAuditEntriesRequest;
import io.iiot.resolver.v1.ListDailyStatisticsRequest;
import io.iiot.resolver.v1.ListDailyStatisticsResponse;
import io.iiot.resolver.v1.ListIdentifiersRequest;
import io.iiot.resolver.v1.ListPrefixApplicationsRequest;
import io.iiot.resolver.v1.ListReceivedFilingsRequest;
import io.iiot.resolver.v1.MetadataTemplate;
import io.iiot.resolver.v1.PrefixApplication;
import io.iiot.resolver.v1.PrefixApplicationServiceGrpc;
import io.iiot.resolver.v1.RegisterIdentifierRequest;
import io.iiot.resolver.v1.RejectPrefixApplicationRequest;
import io.iiot.resolver.v1.ReportFilingRequest;
import io.iiot.resolver.v1.ResubmitPrefixApplicationRequest;
import io.iiot.resolver.v1.StatisticsServiceGrpc;
import io.iiot.resolver.v1.TemplateField;
import io.iiot.resolver.v1.TemplateServiceGrpc;
import io.iiot.resolver.v1.UpdateIdentifierRequest;
import io.iiot.resolver.domain.auth.Tokens;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The whole filing round on two real nodes in one JVM (a secondary node and a top-level node, each with its own
 * keyspace on the embedded Cassandra, real gRPC ports, CNRI's client for the Handle protocol): apply → reject (reason
 * stored) → re-apply → approve → filed upstream while the top-level node is down, then started → it arrives exactly
 * once → identifiers registered under the new prefix resolve over Handle, HTTP JSON and gRPC; statistics count them;
 * and enterprise A's credentials can neither create, change nor list under enterprise B's prefix.
 */
@Tag("medium")
@ExtendWith(EmbeddedCassandraExtension.class)
class FilingRoundTest {
  static final MetadataTemplate PUMP = MetadataTemplate.newBuilder().setDisplayName("矿用排水泵")
      .setIndustryCategory("B").setIndustryCode("0610")
      .addFields(TemplateField.newBuilder().setName("serial_no").setType(FieldType.STRING).setRequired(true)
          .setValueType("SERIAL_NO").setIndex(2).setMaxLength(20))
      .build();

  static Identifier pump(String handle) {
    return Identifier.newBuilder().setHandle(handle).setTemplate("templates/pump")
        .putValues("serial_no", handle.substring(handle.indexOf('/') + 1)).build();
  }

  static com.google.rpc.Status status(Throwable e) {
    return StatusProto.fromThrowable(e);
  }

  static String reason(Throwable e) throws Exception {
    for (var d : status(e).getDetailsList()) {
      if (d.is(ErrorInfo.class)) {
        return Code.forNumber(status(e).getCode()) + " " + d.unpack(ErrorInfo.class).getReason();
      }
    }
    return Code.forNumber(status(e).getCode()) + "";
  }

  static <T> T eventually(Supplier<T> read, java.util.function.Predicate<T> done, long timeoutMs) throws Exception {
    long end = System.currentTimeMillis() + timeoutMs;
    T v = read.get();
    while (!done.test(v) && System.currentTimeMillis() < end) {
      Thread.sleep(100);
      v = read.get();
    }
    return v;
  }

  @Test
  void applyRejectReapplyApproveFileUpstreamExactlyOnceThenRegisterAndResolve() throws Exception {
    int topGrpc = EmbeddedCassandraExtension.freePort();
    // The credential the top-level node gives the secondary node: the top's service token, known before it starts.
    Path secrets = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "top-secrets");
    Path topService = secrets.resolve("top-service.token");
    Files.writeString(topService, Tokens.issue("service").value() + "\n");
    ResolverNodeHarness top = null;
    // RegistrationGrpcTest's keyspace (one schema migration less in the suite): it approves only named prefixes
    // (88.101.5, 8, 9, 10), so the first allocated one is still 88.101.1
    try (ResolverNodeHarness node = ResolverNodeHarness.start("iiot_resolver_grpc", Map.of(
        "FILING_UPSTREAM_GRPC_TARGET", "127.0.0.1:" + topGrpc, "FILING_UPSTREAM_TOKEN_FILE", topService.toString(),
        "FILING_UPSTREAM_POLL_INTERVAL", "200ms", "FILING_UPSTREAM_RETRY_INITIAL", "200ms",
        "FILING_UPSTREAM_RETRY_MAX", "1s", "FILING_UPSTREAM_CALL_TIMEOUT", "2s",
        "STATISTICS_FLUSH_INTERVAL", "200ms"))) {
      ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", node.grpcPort()).usePlaintext().build();
      try {
        String operator = node.operatorToken();
        var opApps = ResolverNodeHarness.as(PrefixApplicationServiceGrpc.newBlockingStub(ch), operator)
            .withDeadlineAfter(600, TimeUnit.SECONDS);
        ResolverNodeHarness.as(TemplateServiceGrpc.newBlockingStub(ch), operator).withDeadlineAfter(30,
            TimeUnit.SECONDS).createTemplate(CreateTemplateRequest.newBuilder().setTemplateId("pump")
                .setTemplate(PUMP).build());

        // enterprise A applies; the operator rejects with a reason; A re-applies with corrected records
        var a = FilingSteps.enterprise(ch, operator, "山西示范煤业有限公司", "MA0000001");
        String aToken = a.getCredentialToken();
        assertThat(aToken).startsWith(a.getEnterprise().getName().substring("enterprises/".length()) + ".");
        var aApps = ResolverNodeHarness.as(PrefixApplicationServiceGrpc.newBlockingStub(ch), aToken)
            .withDeadlineAfter(600, TimeUnit.SECONDS);
        var aIds = ResolverNodeHarness.as(IdentifierServiceGrpc.newBlockingStub(ch), aToken)
            .withDeadlineAfter(600, TimeUnit.SECONDS);
        // A's Handle administrator key: on approval it becomes HS_PUBKEY at 300 of A's prefix handle
        java.security.KeyPairGenerator gen = java.security.KeyPairGenerator.getInstance("RSA");
        gen.initialize(2048);
        java.security.KeyPair aKey = gen.generateKeyPair();
        PrefixApplication applied = aApps.createPrefixApplication(CreatePrefixApplicationRequest.newBuilder()
            .setParent(a.getEnterprise().getName()).setApplication(PrefixApplication.newBuilder()
                .setRecords(FilingSteps.records("山西示范煤业有限公司", "MA0000001").toBuilder().setAddress("待补充"))
                .setAdminPublicKey(com.google.protobuf.ByteString.copyFrom(aKey.getPublic().getEncoded())))
            .build());
        assertThat(applied.getState()).isEqualTo(PrefixApplication.State.SUBMITTED);
        StatusRuntimeException selfApprove = catchThrowableOfType(StatusRuntimeException.class, () -> aApps
            .approvePrefixApplication(ApprovePrefixApplicationRequest.newBuilder().setName(applied.getName())
                .build()));
        assertThat(reason(selfApprove)).isEqualTo("PERMISSION_DENIED OPERATOR_ONLY");
        String why = "营业执照地址与申请地址不符 (address does not match the business licence)";
        PrefixApplication rejected = opApps.rejectPrefixApplication(RejectPrefixApplicationRequest.newBuilder()
            .setName(applied.getName()).setReason(why).build());
        assertThat(rejected.getState()).isEqualTo(PrefixApplication.State.REJECTED);
        assertThat(aApps.getPrefixApplication(GetPrefixApplicationRequest.newBuilder().setName(applied.getName())
            .build()).getRejectionReason()).isEqualTo(why);
        PrefixApplication resubmitted = aApps.resubmitPrefixApplication(ResubmitPrefixApplicationRequest.newBuilder()
            .setName(applied.getName()).setRecords(FilingSteps.records("山西示范煤业有限公司", "MA0000001")).build());
        assertThat(resubmitted.getState()).isEqualTo(PrefixApplication.State.SUBMITTED);

        // before approval nothing can be registered under any prefix of A
        StatusRuntimeException early = catchThrowableOfType(StatusRuntimeException.class, () -> aIds
            .registerIdentifier(RegisterIdentifierRequest.newBuilder().setParent("prefixes/88.101.1")
                .setIdentifier(pump("88.101.1/P-1")).build()));
        assertThat(reason(early)).isEqualTo("FAILED_PRECONDITION PREFIX_NOT_APPROVED");

        // approved while the top-level node is down: the next free prefix, its prefix handle, a queued report
        PrefixApplication approved = opApps.approvePrefixApplication(ApprovePrefixApplicationRequest.newBuilder()
            .setName(applied.getName()).build());
        assertThat(approved.getState()).isEqualTo(PrefixApplication.State.APPROVED);
        String prefix = approved.getPrefix();
        assertThat(prefix).isEqualTo("88.101.1");
        List<HandleValue> prefixHandle = node.module.store().getFresh(Handles.prefixHandleOf(prefix))
            .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow().values();
        assertThat(prefixHandle).extracting(v -> v.index() + ":" + v.type()).contains("1:HS_SITE", "100:HS_ADMIN",
            "300:HS_PUBKEY", "101:HS_ADMIN");

        GetFilingRequest filingName = GetFilingRequest.newBuilder().setName(applied.getName() + "/filing").build();
        Filing failing = eventually(() -> aApps.getFiling(filingName), f -> f.getAttempts() >= 2, 20_000);
        assertThat(failing.getState()).isIn(Filing.State.QUEUED, Filing.State.SENT);
        assertThat(failing.getLastError()).startsWith("UNAVAILABLE");
        assertThat(failing.getReport().getPrefix()).isEqualTo(prefix);

        // the top-level node starts: the queued report arrives, once
        // IdentifierRegistryTest's keyspace (one schema migration less in the suite): nothing of 0.NA/88... there
        top = ResolverNodeHarness.start("iiot_resolver_reg", Map.of("NODE_ROLE", "top-level", "HANDLE_PREFIX", "88",
            "GRPC_PORT", String.valueOf(topGrpc), "AUTH_SERVICE_TOKEN_FILE", topService.toString()));
        Filing done = eventually(() -> aApps.getFiling(filingName), f -> f.getState() == Filing.State.ACKNOWLEDGED,
            30_000);
        assertThat(done.getState()).isEqualTo(Filing.State.ACKNOWLEDGED);
        assertThat(done.getLastError()).isEmpty();
        ManagedChannel topCh = NettyChannelBuilder.forAddress("127.0.0.1", topGrpc).usePlaintext().build();
        try {
          var receiver = ResolverNodeHarness.as(FilingReceiverGrpc.newBlockingStub(topCh), top.operatorToken())
              .withDeadlineAfter(30, TimeUnit.SECONDS);
          // a resend (e.g. the acknowledgement was lost) is recognised by its report id and changes nothing
          assertThat(ResolverNodeHarness.as(FilingReceiverGrpc.newBlockingStub(topCh), Files.readString(topService)
              .trim()).reportFiling(ReportFilingRequest.newBuilder().setReport(done.getReport()).build())
              .getDuplicate()).isTrue();
          var received = receiver.listReceivedFilings(ListReceivedFilingsRequest.getDefaultInstance());
          assertThat(received.getFilingsList()).hasSize(1);
          assertThat(received.getFilings(0).getReport().getReportId()).isEqualTo(done.getReport().getReportId());
          assertThat(received.getFilings(0).getReport().getRecords().getCreditCode())
              .isEqualTo(FilingSteps.creditCode("MA0000001"));
          // the top-level node now holds 0.NA/88.101.1 pointing to the secondary node's site
          var atTop = top.module.store().getFresh(Handles.prefixHandleOf(prefix)).toCompletionStage()
              .toCompletableFuture().get(10, TimeUnit.SECONDS).orElseThrow();
          assertThat(atTop.values().stream().filter(v -> v.index() == 1).findFirst().orElseThrow().data())
              .isEqualTo(node.module.processor().site().encode());
          StatusRuntimeException enterpriseReport = catchThrowableOfType(StatusRuntimeException.class, () ->
              ResolverNodeHarness.as(FilingReceiverGrpc.newBlockingStub(topCh), aToken).reportFiling(
                  ReportFilingRequest.newBuilder().setReport(done.getReport()).build()));
          assertThat(status(enterpriseReport).getCode()).isEqualTo(Code.UNAUTHENTICATED_VALUE);
        } finally {
          topCh.shutdownNow();
        }
        List<String> audit = aApps.listAuditEntries(ListAuditEntriesRequest.newBuilder().setParent(applied.getName())
            .build()).getEntriesList().stream().map(e -> e.getAction() + " " + e.getActor() + " "
                + e.getToState() + (e.getAction().equals("REJECT") ? " " + e.getReason() : "")).toList();
        assertThat(audit).containsExactly("SUBMIT " + a.getEnterprise().getName() + " SUBMITTED",
            "REJECT operator REJECTED " + why, "RESUBMIT " + a.getEnterprise().getName() + " SUBMITTED",
            "APPROVE operator APPROVED", "FILING_ACKNOWLEDGED node STATE_UNSPECIFIED");

        // identifiers under the new prefix, registered with A's own credential, resolve over Handle, HTTP, gRPC
        var batch = aIds.batchRegisterIdentifiers(BatchRegisterIdentifiersRequest.newBuilder()
            .setParent("prefixes/" + prefix).addRequests(RegisterIdentifierRequest.newBuilder()
                .setIdentifier(pump(prefix + "/P-1"))).addRequests(RegisterIdentifierRequest.newBuilder()
                .setIdentifier(pump(prefix + "/P-2"))).build());
        assertThat(batch.getRegisteredCount()).isEqualTo(2);
        net.handle.hdllib.ResolutionResponse rr = (net.handle.hdllib.ResolutionResponse) new net.handle.hdllib
            .HandleResolver().sendHdlUdpRequest(new net.handle.hdllib.ResolutionRequest(
                net.handle.hdllib.Util.encodeString(prefix + "/P-1"), null, null, null),
            java.net.InetAddress.getLoopbackAddress(), node.handlePort);
        assertThat(Arrays.stream(rr.getHandleValues()).map(v -> v.getTypeAsString() + "=" + (v.getIndex() == 100
            ? "" : v.getDataAsString()))).contains("SERIAL_NO=P-1", "TEMPLATE=pump@1");
        HttpResponse<String> http = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + node.httpPort + "/api/handles/" + prefix + "/P-2")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(http.statusCode()).isEqualTo(200);
        assertThat(http.body()).contains("\"SERIAL_NO\"", "P-2");
        Identifier viaGrpc = aIds.getIdentifier(GetIdentifierRequest.newBuilder().setName("prefixes/" + prefix
            + "/identifiers/P-1").build());
        assertThat(viaGrpc.getValuesMap()).containsEntry("serial_no", "P-1");

        // statistics: 2 registrations, 3 resolutions (Handle, HTTP, gRPC), in Cassandra and on /metrics
        var stats = ResolverNodeHarness.as(StatisticsServiceGrpc.newBlockingStub(ch), aToken);
        ListDailyStatisticsResponse s = eventually(() -> stats.listDailyStatistics(ListDailyStatisticsRequest
            .newBuilder().setParent("prefixes/" + prefix).build()), r -> r.getTotalResolutions() >= 3, 10_000);
        assertThat(s.getTotalRegistrations()).isEqualTo(2);
        assertThat(s.getTotalResolutions()).isEqualTo(3);
        assertThat(s.getDaysList()).hasSize(1);
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + node.httpPort + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("resolver_resolutions_total{prefix=\"" + prefix + "\",service=\"resolver-node\",} 3.0",
            "resolver_registrations_total{prefix=\"" + prefix + "\",service=\"resolver-node\",} 2.0");

        // tenant isolation: B's prefix (approved by the operator) is out of A's reach; B's own credential works
        PrefixApplication bApp = FilingSteps.approvedPrefix(ch, operator, "河北示范机械有限公司", "MA0000002",
            "88.101.77");
        var b = ResolverNodeHarness.as(io.iiot.resolver.v1.EnterpriseServiceGrpc.newBlockingStub(ch), operator)
            .getEnterprise(io.iiot.resolver.v1.GetEnterpriseRequest.newBuilder().setName(bApp.getEnterprise())
                .build());
        assertThat(b.getPrefixesList()).containsExactly("88.101.77");
        var service = ResolverNodeHarness.as(IdentifierServiceGrpc.newBlockingStub(ch), node.serviceToken());
        service.registerIdentifier(RegisterIdentifierRequest.newBuilder().setParent("prefixes/88.101.77")
            .setIdentifier(pump("88.101.77/B-1")).build());
        String bName = "prefixes/88.101.77/identifiers/B-1";
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> aIds.registerIdentifier(
            RegisterIdentifierRequest.newBuilder().setParent("prefixes/88.101.77").setIdentifier(pump("88.101.77/A-1"))
                .build())))).isEqualTo("PERMISSION_DENIED NOT_YOUR_PREFIX");
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> aIds.batchRegisterIdentifiers(
            BatchRegisterIdentifiersRequest.newBuilder().setParent("prefixes/88.101.77").addRequests(
                RegisterIdentifierRequest.newBuilder().setIdentifier(pump("88.101.77/A-2"))).build()))))
            .isEqualTo("PERMISSION_DENIED NOT_YOUR_PREFIX");
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> aIds.updateIdentifier(
            UpdateIdentifierRequest.newBuilder().setIdentifier(Identifier.newBuilder().setName(bName)
                .putValues("serial_no", "STOLEN")).setUpdateMask(FieldMask.newBuilder().addPaths("values"))
                .build())))).isEqualTo("PERMISSION_DENIED NOT_YOUR_PREFIX");
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> aIds.deleteIdentifier(
            DeleteIdentifierRequest.newBuilder().setName(bName).build())))).isEqualTo("PERMISSION_DENIED NOT_YOUR_PREFIX");
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> aIds.listIdentifiers(
            ListIdentifiersRequest.newBuilder().setParent("prefixes/88.101.77").build()))))
            .isEqualTo("PERMISSION_DENIED NOT_YOUR_PREFIX");
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> aIds.getIdentifier(
            GetIdentifierRequest.newBuilder().setName(bName).build())))).isEqualTo("PERMISSION_DENIED NOT_YOUR_PREFIX");
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> aApps.getPrefixApplication(
            GetPrefixApplicationRequest.newBuilder().setName(bApp.getName()).build()))))
            .isEqualTo("PERMISSION_DENIED NOT_YOUR_APPLICATION");
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> aApps.listPrefixApplications(
            ListPrefixApplicationsRequest.newBuilder().setParent(bApp.getEnterprise()).build()))))
            .isEqualTo("PERMISSION_DENIED NOT_YOUR_ENTERPRISE");
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> stats.listDailyStatistics(
            ListDailyStatisticsRequest.newBuilder().setParent("prefixes/88.101.77").build()))))
            .isEqualTo("PERMISSION_DENIED NOT_YOUR_PREFIX");
        assertThat(service.getIdentifier(GetIdentifierRequest.newBuilder().setName(bName).build())
            .getValuesMap()).containsEntry("serial_no", "B-1");
        // and over the Handle protocol (CNRI's client, A's key from its application): A administers its own prefix
        // only; HS_ADMIN of B's prefix handle and identifiers does not name A
        net.handle.hdllib.SiteInfo site = ((net.handle.hdllib.GetSiteInfoResponse) new net.handle.hdllib
            .HandleResolver().sendHdlUdpRequest(new net.handle.hdllib.GenericRequest(net.handle.hdllib.Util
                .encodeString("/"), net.handle.hdllib.AbstractMessage.OC_GET_SITE_INFO, null),
            java.net.InetAddress.getLoopbackAddress(), node.handlePort)).siteInfo;
        net.handle.hdllib.AuthenticationInfo aAdmin = new net.handle.hdllib.PublicKeyAuthenticationInfo(
            net.handle.hdllib.Util.encodeString("0.NA/" + prefix), 300, aKey.getPrivate());
        net.handle.hdllib.HandleValue[] url = {new net.handle.hdllib.HandleValue(1, "URL", "https://a.example/h")};
        net.handle.hdllib.HandleResolver cnri = new net.handle.hdllib.HandleResolver();
        assertThat(cnri.sendRequestToSite(new net.handle.hdllib.CreateHandleRequest(net.handle.hdllib.Util
            .encodeString(prefix + "/H-1"), url, aAdmin), site).responseCode)
            .isEqualTo(net.handle.hdllib.AbstractMessage.RC_SUCCESS);
        assertThat(cnri.sendRequestToSite(new net.handle.hdllib.CreateHandleRequest(net.handle.hdllib.Util
            .encodeString("88.101.77/H-1"), url, aAdmin), site).responseCode)
            .isNotEqualTo(net.handle.hdllib.AbstractMessage.RC_SUCCESS);
        assertThat(cnri.sendRequestToSite(new net.handle.hdllib.ModifyValueRequest(net.handle.hdllib.Util
            .encodeString("88.101.77/B-1"), new net.handle.hdllib.HandleValue(2, "SERIAL_NO", "STOLEN"), aAdmin), site)
            .responseCode).isNotEqualTo(net.handle.hdllib.AbstractMessage.RC_SUCCESS);
        assertThat(service.getIdentifier(GetIdentifierRequest.newBuilder().setName(bName).build())
            .getValuesMap()).containsEntry("serial_no", "B-1");
        // A lists only its own applications; the operator all of them
        assertThat(aApps.listPrefixApplications(ListPrefixApplicationsRequest.newBuilder()
            .setParent(a.getEnterprise().getName()).build()).getApplicationsList()).extracting(
                PrefixApplication::getName).containsExactly(applied.getName());
        assertThat(opApps.listPrefixApplications(ListPrefixApplicationsRequest.newBuilder()
            .setParent("enterprises/-").setPageSize(1000).build()).getApplicationsList()).extracting(
                PrefixApplication::getName).contains(applied.getName(), bApp.getName());

        // no or wrong credentials: UNAUTHENTICATED
        var anonymous = IdentifierServiceGrpc.newBlockingStub(ch);
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> anonymous.getIdentifier(
            GetIdentifierRequest.newBuilder().setName(bName).build())))).isEqualTo("UNAUTHENTICATED CREDENTIALS_MISSING");
        String forged = aToken.substring(0, aToken.indexOf('.') + 1) + Tokens.issue("x").secret();
        assertThat(reason(catchThrowableOfType(StatusRuntimeException.class, () -> ResolverNodeHarness.as(
            IdentifierServiceGrpc.newBlockingStub(ch), forged).getIdentifier(GetIdentifierRequest.newBuilder()
                .setName("prefixes/" + prefix + "/identifiers/P-1").build())))).isEqualTo(
                    "UNAUTHENTICATED CREDENTIALS_INVALID");
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (top != null) {
          top.close();
        }
      }
    }
  }
}
