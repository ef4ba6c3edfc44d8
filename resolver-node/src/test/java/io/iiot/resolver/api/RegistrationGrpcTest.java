package io.iiot.resolver.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.FieldMask;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.PreconditionFailure;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import io.iiot.resolver.v1.BatchRegisterIdentifiersRequest;
import io.iiot.resolver.v1.BatchRegisterIdentifiersResponse;
import io.iiot.resolver.v1.CreateTemplateRequest;
import io.iiot.resolver.v1.CreateTemplateVersionRequest;
import io.iiot.resolver.v1.DeleteIdentifierRequest;
import io.iiot.resolver.v1.FieldType;
import io.iiot.resolver.v1.GetIdentifierRequest;
import io.iiot.resolver.v1.GetTemplateRequest;
import io.iiot.resolver.v1.Identifier;
import io.iiot.resolver.v1.IdentifierServiceGrpc;
import io.iiot.resolver.v1.ListIdentifiersRequest;
import io.iiot.resolver.v1.ListIdentifiersResponse;
import io.iiot.resolver.v1.ListTemplatesRequest;
import io.iiot.resolver.v1.MetadataTemplate;
import io.iiot.resolver.v1.RegisterIdentifierRequest;
import io.iiot.resolver.v1.TemplateField;
import io.iiot.resolver.v1.TemplateServiceGrpc;
import io.iiot.resolver.v1.UpdateIdentifierRequest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Templates and identifiers over gRPC on the real module (real port, real Cassandra), and what gRPC registers
 * resolved through the node's HTTP JSON API.
 */
@Tag("medium")
@ExtendWith(EmbeddedCassandraExtension.class)
class RegistrationGrpcTest {
  static ResolverNodeHarness node;
  static ManagedChannel channel;
  static TemplateServiceGrpc.TemplateServiceBlockingStub templates;
  static IdentifierServiceGrpc.IdentifierServiceBlockingStub ids;

  static final MetadataTemplate CONVEYOR = MetadataTemplate.newBuilder().setDisplayName("矿用带式输送机")
      .setIndustryCategory("B").setIndustryCode("0610")
      .addFields(TemplateField.newBuilder().setName("serial_no").setType(FieldType.STRING).setRequired(true)
          .setValueType("SERIAL_NO").setIndex(2).setMaxLength(12).setPattern("[A-Z0-9-]+"))
      .addFields(TemplateField.newBuilder().setName("belt_speed").setType(FieldType.DECIMAL).setValueType("SPEED")
          .setIndex(3).setUnit("m/s").setMin("0").setMax("8"))
      .build();
  static final MetadataTemplate CONVEYOR_V2 = CONVEYOR.toBuilder().setFields(0, CONVEYOR.getFields(0).toBuilder()
      .setMaxLength(20)).build();

  @BeforeAll
  static void start() throws Exception {
    int grpcPort = EmbeddedCassandraExtension.freePort();
    node = ResolverNodeHarness.start("iiot_resolver_grpc", Map.of("GRPC_PORT", String.valueOf(grpcPort)));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
    // the platform's service credential registers, the operator approves the prefixes used here
    templates = ResolverNodeHarness.as(TemplateServiceGrpc.newBlockingStub(channel), node.serviceToken())
        .withDeadlineAfter(10, TimeUnit.MINUTES);
    ids = ResolverNodeHarness.as(IdentifierServiceGrpc.newBlockingStub(channel), node.serviceToken())
        .withDeadlineAfter(10, TimeUnit.MINUTES);
    for (String p : List.of("88.101.5", "88.101.8", "88.101.9", "88.101.10")) {
      FilingSteps.approvedPrefix(channel, node.operatorToken(), "企业 " + p, String.format("MA%07d",
          Integer.parseInt(p.substring(7))), p);
    }
    templates.createTemplate(CreateTemplateRequest.newBuilder().setTemplateId("belt-conveyor").setTemplate(CONVEYOR)
        .build());
    templates.createTemplateVersion(CreateTemplateVersionRequest.newBuilder().setParent("templates/belt-conveyor")
        .setTemplate(CONVEYOR_V2).build());
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    node.close();
  }

  static com.google.rpc.Status status(Throwable e) {
    return StatusProto.fromThrowable(e);
  }

  static List<String> violations(com.google.rpc.Status s) throws Exception {
    for (var d : s.getDetailsList()) {
      if (d.is(BadRequest.class)) {
        return d.unpack(BadRequest.class).getFieldViolationsList().stream()
            .map(v -> v.getField() + " " + v.getDescription()).toList();
      }
    }
    return List.of();
  }

  static <T extends com.google.protobuf.Message> T unpack(com.google.protobuf.Any a, Class<T> type) {
    try {
      return a.unpack(type);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static String reason(com.google.rpc.Status s) throws Exception {
    for (var d : s.getDetailsList()) {
      if (d.is(ErrorInfo.class)) {
        return d.unpack(ErrorInfo.class).getReason();
      }
    }
    return "";
  }

  static Identifier conveyor(String handle, String serial, String speed) {
    Identifier.Builder b = Identifier.newBuilder().setHandle(handle).setTemplate("templates/belt-conveyor")
        .putValues("serial_no", serial);
    if (speed != null) {
      b.putValues("belt_speed", speed);
    }
    return b.build();
  }

  static RegisterIdentifierRequest register(String prefix, Identifier id) {
    return RegisterIdentifierRequest.newBuilder().setParent("prefixes/" + prefix).setIdentifier(id).build();
  }

  static HttpResponse<String> httpGet(String handle) throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort
        + "/api/handles/" + handle)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void templatesAreVersionedAndBadDefinitionsNameFieldAndRule() throws Exception {
    MetadataTemplate latest = templates.getTemplate(GetTemplateRequest.newBuilder()
        .setName("templates/belt-conveyor").build());
    assertThat(latest.getName()).isEqualTo("templates/belt-conveyor/versions/2");
    assertThat(latest.getFieldsList()).isEqualTo(CONVEYOR_V2.getFieldsList());
    MetadataTemplate v1 = templates.getTemplate(GetTemplateRequest.newBuilder()
        .setName("templates/belt-conveyor/versions/1").build());
    assertThat(v1.getFieldsList()).isEqualTo(CONVEYOR.getFieldsList());

    StatusRuntimeException dup = catchThrowableOfType(StatusRuntimeException.class, () -> templates.createTemplate(
        CreateTemplateRequest.newBuilder().setTemplateId("belt-conveyor").setTemplate(CONVEYOR).build()));
    assertThat(status(dup).getCode()).isEqualTo(Code.ALREADY_EXISTS_VALUE);

    MetadataTemplate bad = CONVEYOR.toBuilder().setIndustryCode("3421")
        .setFields(0, CONVEYOR.getFields(0).toBuilder().setPattern("[A-Z")).build();
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> templates.createTemplate(
        CreateTemplateRequest.newBuilder().setTemplateId("bad-one").setTemplate(bad).build()));
    assertThat(status(e).getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
    assertThat(violations(status(e))).hasSize(2).anySatisfy(v -> assertThat(v).startsWith(
        "template.industry INVALID_INDUSTRY_CODE: industry code 3421 is not in category B (divisions 06-12)"))
        .anySatisfy(v -> assertThat(v).startsWith("template.fields[0].pattern INVALID_PATTERN: "));

    MetadataTemplate v3 = templates.createTemplateVersion(CreateTemplateVersionRequest.newBuilder()
        .setParent("templates/belt-conveyor").setTemplate(CONVEYOR).build());
    assertThat(v3.getVersion()).isEqualTo(3);
    StatusRuntimeException noParent = catchThrowableOfType(StatusRuntimeException.class, () -> templates
        .createTemplateVersion(CreateTemplateVersionRequest.newBuilder().setParent("templates/nope")
            .setTemplate(CONVEYOR).build()));
    assertThat(status(noParent).getCode()).isEqualTo(Code.NOT_FOUND_VALUE);
    assertThat(templates.listTemplates(ListTemplatesRequest.getDefaultInstance()).getTemplatesList())
        .extracting(MetadataTemplate::getName).contains("templates/belt-conveyor/versions/3");
  }

  @Test
  void aGrpcRegisteredIdentifierResolvesOverHttpAtOnceAndCanBeUpdatedListedDeleted() throws Exception {
    assertThat(httpGet("88.101.5/BC-0001").statusCode()).isEqualTo(404); // and the negative answer is cached
    Identifier got = ids.registerIdentifier(register("88.101.5", conveyor("88.101.5/BC-0001", "BC-0001", "2.5"))
        .toBuilder().setIdentifier(conveyor("88.101.5/BC-0001", "BC-0001", "2.5").toBuilder()
            .setTemplate("templates/belt-conveyor/versions/1")).build());
    assertThat(got.getName()).isEqualTo("prefixes/88.101.5/identifiers/BC-0001");
    assertThat(got.getTemplate()).isEqualTo("templates/belt-conveyor/versions/1");

    HttpResponse<String> r = httpGet("88.101.5/BC-0001");
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject json = new JsonObject(r.body());
    assertThat(json.getJsonArray("values").stream().map(v -> ((JsonObject) v).getString("type") + "="
        + ((JsonObject) v).getJsonObject("data").getValue("value")).toList())
        .contains("SERIAL_NO=BC-0001", "SPEED=2.5", "TEMPLATE=belt-conveyor@1");
    // and over the Handle protocol, with CNRI's client
    net.handle.hdllib.ResolutionResponse rr = (net.handle.hdllib.ResolutionResponse) new net.handle.hdllib
        .HandleResolver().sendHdlUdpRequest(new net.handle.hdllib.ResolutionRequest(
            net.handle.hdllib.Util.encodeString("88.101.5/bc-0001"), null, null, null),
        java.net.InetAddress.getLoopbackAddress(), node.handlePort);
    assertThat(java.util.Arrays.stream(rr.getHandleValues()).map(v -> v.getIndex() + ":" + v.getTypeAsString() + "="
        + (v.getIndex() == 100 ? "" : v.getDataAsString()))).containsExactly("2:SERIAL_NO=BC-0001", "3:SPEED=2.5",
        "100:HS_ADMIN=", "1001:TEMPLATE=belt-conveyor@1");

    Identifier updated = ids.updateIdentifier(UpdateIdentifierRequest.newBuilder()
        .setIdentifier(Identifier.newBuilder().setName(got.getName()).putValues("serial_no", "BC-0001-B"))
        .setUpdateMask(FieldMask.newBuilder().addPaths("values")).build());
    assertThat(updated.getValuesMap()).containsExactly(Map.entry("serial_no", "BC-0001-B"));
    assertThat(httpGet("88.101.5/BC-0001").body()).contains("BC-0001-B").doesNotContain("\"SPEED\"");

    StatusRuntimeException tooLong = catchThrowableOfType(StatusRuntimeException.class, () -> ids.updateIdentifier(
        UpdateIdentifierRequest.newBuilder().setIdentifier(Identifier.newBuilder().setName(got.getName())
            .putValues("serial_no", "BC-0001-TOO-LONG")).setUpdateMask(FieldMask.newBuilder().addPaths("values"))
            .build()));
    assertThat(violations(status(tooLong))).containsExactly(
        "identifier.values.serial_no MAX_LENGTH: at most 12 characters, got 16");
    Identifier moved = ids.updateIdentifier(UpdateIdentifierRequest.newBuilder()
        .setIdentifier(Identifier.newBuilder().setName(got.getName()).setTemplate("templates/belt-conveyor/versions/2")
            .putValues("serial_no", "BC-0001-TOO-LONG")).setUpdateMask(FieldMask.newBuilder().addPaths("*")).build());
    assertThat(moved.getTemplate()).isEqualTo("templates/belt-conveyor/versions/2");

    ids.registerIdentifier(register("88.101.5", conveyor("88.101.5/BC-0002", "BC-0002", null)));
    ListIdentifiersResponse page1 = ids.listIdentifiers(ListIdentifiersRequest.newBuilder()
        .setParent("prefixes/88.101.5").setPageSize(1).build());
    assertThat(page1.getIdentifiersList()).extracting(Identifier::getHandle).containsExactly("88.101.5/BC-0001");
    ListIdentifiersResponse page2 = ids.listIdentifiers(ListIdentifiersRequest.newBuilder()
        .setParent("prefixes/88.101.5").setPageSize(1).setPageToken(page1.getNextPageToken()).build());
    assertThat(page2.getIdentifiersList()).extracting(Identifier::getHandle).containsExactly("88.101.5/BC-0002");

    ids.deleteIdentifier(DeleteIdentifierRequest.newBuilder().setName(got.getName()).build());
    assertThat(httpGet("88.101.5/BC-0001").statusCode()).isEqualTo(404);
    StatusRuntimeException gone = catchThrowableOfType(StatusRuntimeException.class, () -> ids.getIdentifier(
        GetIdentifierRequest.newBuilder().setName(got.getName()).build()));
    assertThat(status(gone).getCode()).isEqualTo(Code.NOT_FOUND_VALUE);
    ids.deleteIdentifier(DeleteIdentifierRequest.newBuilder().setName(got.getName()).setAllowMissing(true).build());
  }

  @Test
  void badValuesGetFieldViolationsAndRequestIdsReplay() throws Exception {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> ids.registerIdentifier(
        register("88.101.5", conveyor("88.101.5/BC-BAD", "bc bad", "9 km/h"))));
    assertThat(status(e).getCode()).isEqualTo(Code.INVALID_ARGUMENT_VALUE);
    assertThat(violations(status(e))).containsExactly("identifier.values.serial_no PATTERN: must match [A-Z0-9-]+",
        "identifier.values.belt_speed UNIT_MISMATCH: unit is m/s, got 'km/h'");
    StatusRuntimeException wrongPrefix = catchThrowableOfType(StatusRuntimeException.class, () -> ids
        .registerIdentifier(register("88.102.5", conveyor("88.102.5/X", "X", null))));
    assertThat(status(wrongPrefix).getCode()).isEqualTo(Code.FAILED_PRECONDITION_VALUE);
    assertThat(status(wrongPrefix).getDetailsList().stream().filter(d -> d.is(PreconditionFailure.class))
        .map(d -> unpack(d, PreconditionFailure.class).getViolations(0)).map(v -> v.getType() + " " + v.getSubject())
        .toList()).containsExactly("PREFIX_NOT_APPROVED prefixes/88.102.5");
    StatusRuntimeException notApproved = catchThrowableOfType(StatusRuntimeException.class, () -> ids
        .registerIdentifier(register("88.101.6", conveyor("88.101.6/X", "X", null))));
    assertThat(status(notApproved).getCode()).isEqualTo(Code.FAILED_PRECONDITION_VALUE);

    RegisterIdentifierRequest req = register("88.101.5", conveyor("88.101.5/BC-IDEM", "BC-IDEM", "1"))
        .toBuilder().setRequestId("6f1c2d4e-0000-4000-8000-000000000001").build();
    Identifier first = ids.registerIdentifier(req);
    assertThat(ids.registerIdentifier(req)).isEqualTo(first); // not ALREADY_EXISTS: the first response again
    StatusRuntimeException reused = catchThrowableOfType(StatusRuntimeException.class, () -> ids.registerIdentifier(
        req.toBuilder().setIdentifier(conveyor("88.101.5/BC-OTHER", "BC-OTHER", null)).build()));
    assertThat(reason(status(reused))).isEqualTo("REQUEST_ID_REUSED");
    StatusRuntimeException exists = catchThrowableOfType(StatusRuntimeException.class, () -> ids.registerIdentifier(
        req.toBuilder().clearRequestId().build()));
    assertThat(status(exists).getCode()).isEqualTo(Code.ALREADY_EXISTS_VALUE);
  }

  @Test
  void batchesReportEachItemOrWriteNothing() throws Exception {
    BatchRegisterIdentifiersRequest.Builder b = BatchRegisterIdentifiersRequest.newBuilder()
        .setParent("prefixes/88.101.8").setRequestId("6f1c2d4e-0000-4000-8000-000000000002");
    for (int i = 0; i < 300; i++) {
      b.addRequests(RegisterIdentifierRequest.newBuilder().setIdentifier(conveyor("88.101.8/M-" + i, "M-" + i,
          i == 10 ? "99" : "1")));
    }
    b.setRequests(200, RegisterIdentifierRequest.newBuilder().setIdentifier(conveyor("88.101.8/M-200", "M-200", null)
        .toBuilder().setTemplate("templates/no-such")));
    BatchRegisterIdentifiersResponse resp = ids.batchRegisterIdentifiers(b.build());
    assertThat(resp.getRegisteredCount()).isEqualTo(298);
    List<String> failed = new ArrayList<>();
    for (var r : resp.getResultsList()) {
      if (r.getStatus().getCode() != Code.OK_VALUE) {
        failed.add(r.getHandle() + " " + Code.forNumber(r.getStatus().getCode()) + " " + violations(r.getStatus()));
      }
    }
    assertThat(failed).containsExactly(
        "88.101.8/M-10 INVALID_ARGUMENT [identifier.values.belt_speed ABOVE_MAXIMUM: at most 8]",
        "88.101.8/M-200 NOT_FOUND []");
    assertThat(ids.batchRegisterIdentifiers(b.build())).isEqualTo(resp); // replayed by request id
    assertThat(httpGet("88.101.8/M-299").statusCode()).isEqualTo(200);

    BatchRegisterIdentifiersRequest atomic = BatchRegisterIdentifiersRequest.newBuilder()
        .setParent("prefixes/88.101.9").setAllOrNothing(true)
        .addRequests(RegisterIdentifierRequest.newBuilder().setIdentifier(conveyor("88.101.9/A-1", "A-1", null)))
        .addRequests(RegisterIdentifierRequest.newBuilder().setIdentifier(conveyor("88.101.9/A-2", "a-2", null)))
        .build();
    BatchRegisterIdentifiersResponse none = ids.batchRegisterIdentifiers(atomic);
    assertThat(none.getResultsList()).extracting(r -> Code.forNumber(r.getStatus().getCode()))
        .containsExactly(Code.ABORTED, Code.INVALID_ARGUMENT);
    assertThat(httpGet("88.101.9/A-1").statusCode()).isEqualTo(404);
  }

  @Test
  void tenThousandItemBatchWithThreeBadItemsStoresTheOther9997() throws Exception {
    BatchRegisterIdentifiersRequest.Builder b = BatchRegisterIdentifiersRequest.newBuilder()
        .setParent("prefixes/88.101.10");
    for (int i = 0; i < 10_000; i++) {
      String h = String.format("88.101.10/P-%05d", i);
      b.addRequests(RegisterIdentifierRequest.newBuilder().setIdentifier(conveyor(h, String.format("P-%05d", i),
          "1.5")));
    }
    b.setRequests(17, RegisterIdentifierRequest.newBuilder().setIdentifier(conveyor("88.101.10/P-00017", "p 17",
        "1.5")));
    b.setRequests(4242, RegisterIdentifierRequest.newBuilder().setIdentifier(conveyor("88.101.10/P-04242", "P-04242",
        "12")));
    b.setRequests(9999, RegisterIdentifierRequest.newBuilder().setIdentifier(conveyor("88.101.9/P-09999", "P-09999",
        "1")));
    long t0 = System.nanoTime();
    BatchRegisterIdentifiersResponse resp = ids.batchRegisterIdentifiers(b.build());
    double seconds = (System.nanoTime() - t0) / 1e9;
    System.out.printf("10,000-item batch: %.2f s (%.0f identifiers/s)%n", seconds, 10_000 / seconds);
    assertThat(resp.getRegisteredCount()).isEqualTo(9_997);
    assertThat(resp.getFailedCount()).isEqualTo(3);
    List<String> failed = new ArrayList<>();
    for (var r : resp.getResultsList()) {
      if (r.getStatus().getCode() != Code.OK_VALUE) {
        failed.add(r.getHandle() + " " + Code.forNumber(r.getStatus().getCode()) + " " + violations(r.getStatus()));
      }
    }
    assertThat(failed).containsExactly(
        "88.101.10/P-00017 INVALID_ARGUMENT [identifier.values.serial_no PATTERN: must match [A-Z0-9-]+]",
        "88.101.10/P-04242 INVALID_ARGUMENT [identifier.values.belt_speed ABOVE_MAXIMUM: at most 8]",
        "88.101.9/P-09999 INVALID_ARGUMENT [identifier.handle HANDLE: must be under prefix 88.101.10]");
    assertThat(node.module.store().list("88.101.10").toCompletionStage().toCompletableFuture()
        .get(60, TimeUnit.SECONDS)).hasSize(9_997).doesNotContain("88.101.10/P-00017", "88.101.10/P-04242");
    assertThat(httpGet("88.101.10/P-09998").statusCode()).isEqualTo(200);
    assertThat(httpGet("88.101.10/P-04242").statusCode()).isEqualTo(404);
  }
}
