package io.iiot.devicehub.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.rpc.BadRequest;
import com.google.rpc.ResourceInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.BatchCreateDevicesRequest;
import io.iiot.device.v1.BatchCreateDevicesResponse;
import io.iiot.device.v1.BatchDeleteDevicesRequest;
import io.iiot.device.v1.CreateDeviceRequest;
import io.iiot.device.v1.DeleteDeviceRequest;
import io.iiot.device.v1.Credential;
import io.iiot.device.v1.Device;
import io.iiot.device.v1.DeviceProfile;
import io.iiot.device.v1.DeviceServiceGrpc;
import io.iiot.device.v1.GetDeviceRequest;
import io.iiot.device.v1.ListDevicesRequest;
import io.iiot.device.v1.ListDevicesResponse;
import io.iiot.device.v1.Metric;
import io.iiot.device.v1.PutDeviceProfileRequest;
import io.iiot.device.v1.PutTenantRequest;
import io.iiot.device.v1.Tenant;
import io.iiot.devicehub.DeviceHubHarness;
import io.iiot.devicehub.transport.mqtt.Cli;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** iiot.device.v1 over a real gRPC channel: provisioning that devices can then use, and rich errors. */
@ExtendWith(EmbeddedCassandraExtension.class)
class DeviceGrpcServiceTest {
  private static DeviceHubHarness hub;
  private static ManagedChannel channel;
  private static DeviceServiceGrpc.DeviceServiceBlockingStub api;
  private final String tenant = "g" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void start() throws Exception {
    hub = new DeviceHubHarness();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", hub.module.grpcPort()).usePlaintext().build();
    api = DeviceServiceGrpc.newBlockingStub(channel);
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow();
    hub.close();
  }

  private void tenantWithProfile() {
    api.putTenant(PutTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setName("tenants/" + tenant)
        .setEnabled(true).setTelemetryTtlSeconds(86_400 * 30)).build());
    api.putDeviceProfile(PutDeviceProfileRequest.newBuilder().setProfile(DeviceProfile.newBuilder()
        .setName("tenants/" + tenant + "/profiles/press")
        .addMetrics(Metric.newBuilder().setName("force").setId(1).setType(Metric.Type.NUMBER).setUnit("kN")
            .setMin(0).setMax(500))).build());
  }

  private static CreateDeviceRequest device(String id, Credential... credentials) {
    return CreateDeviceRequest.newBuilder().setDeviceId(id)
        .setDevice(Device.newBuilder().setProfile("press").setEnabled(true))
        .addAllCredentials(List.of(credentials)).build();
  }

  private static Credential password(String pw) {
    return Credential.newBuilder().setPassword(pw).build();
  }

  @Test
  void aBatchCreatedDeviceCanPublishOverMqttAndIsListed() throws Exception {
    tenantWithProfile();
    List<CreateDeviceRequest> batch = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      batch.add(device("press-" + i, password("secret-" + i + "-xyz"),
          Credential.newBuilder().setAuthId("press-" + i + "-dtls").setPsk(ByteString.copyFromUtf8("psk-" + i + "-key"))
              .build()));
    }
    BatchCreateDevicesResponse created = api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder()
        .setParent("tenants/" + tenant).addAllRequests(batch).build());

    assertThat(created.getDevicesList()).extracting(Device::getName)
        .containsExactly("tenants/" + tenant + "/devices/press-0", "tenants/" + tenant + "/devices/press-1",
            "tenants/" + tenant + "/devices/press-2", "tenants/" + tenant + "/devices/press-3",
            "tenants/" + tenant + "/devices/press-4");
    assertThat(api.getDevice(GetDeviceRequest.newBuilder().setName("tenants/" + tenant + "/devices/press-3").build()))
        .isEqualTo(created.getDevices(3));

    ListDevicesResponse first = api.listDevices(ListDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .setPageSize(3).build());
    ListDevicesResponse second = api.listDevices(ListDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .setPageSize(3).setPageToken(first.getNextPageToken()).build());
    assertThat(first.getDevicesList()).extracting(Device::getName).hasSize(3);
    assertThat(second.getDevicesList()).extracting(Device::getName)
        .containsExactly("tenants/" + tenant + "/devices/press-3", "tenants/" + tenant + "/devices/press-4");
    assertThat(second.getNextPageToken()).isEmpty();

    long ts = Instant.now().minusSeconds(10).toEpochMilli();
    Cli cli = Cli.run(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(hub.mqttPort), "-q", "1",
        "-u", "press-2@" + tenant, "-P", "secret-2-xyz", "-t", "t", "-m", "{\"ts\": " + ts + ", \"force\": 125.5}"));
    assertThat(cli.exit()).as(cli.output()).isZero();
    assertThat(hub.session.execute("SELECT value_double, TTL(value_double) AS ttl FROM telemetry WHERE tenant = ?"
            + " AND device_id = 'press-2' AND day = ?", tenant,
        java.time.LocalDate.ofInstant(Instant.ofEpochMilli(ts), java.time.ZoneOffset.UTC)).all())
        .singleElement().satisfies(r -> {
          assertThat(r.getDouble("value_double")).isEqualTo(125.5);
          assertThat(r.getInt("ttl")).isBetween(86_400 * 30 - 120, 86_400 * 30);
        });
  }

  @Test
  void aGeneratedPasswordIsHashedWithoutTheHumanWorkFactorAndStillLogsIn() throws Exception {
    tenantWithProfile();
    String generated = "Qm9hcmQtbWFjaGluZS0wMDE3LXJhbmRvbQ"; // 34 characters, as platform-api generates them
    api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .addRequests(device("gen-1", Credential.newBuilder().setPassword(generated).setGeneratedPassword(true).build()))
        .addRequests(device("human-1", password("chosen-by-a-person"))).build());

    assertThat(storedHash("gen-1")).startsWith("pbkdf2-sha256$1000$");
    assertThat(storedHash("human-1")).startsWith("pbkdf2-sha256$100000$");
    Cli cli = Cli.run(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(hub.mqttPort), "-q", "1",
        "-u", "gen-1@" + tenant, "-P", generated, "-t", "t", "-m", "{\"force\": 12.5}"));
    assertThat(cli.exit()).as(cli.output()).isZero();

    StatusRuntimeException e = catchThrowableOfType(() -> api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder()
        .setParent("tenants/" + tenant).addRequests(device("gen-2", Credential.newBuilder()
            .setPassword("only-16-chars-xx").setGeneratedPassword(true).build())).build()),
        StatusRuntimeException.class);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(unpack(e, BadRequest.class).getFieldViolationsList()).extracting(BadRequest.FieldViolation::getField)
        .containsExactly("requests[0].credentials[0].generated_password");
  }

  @Test
  void anAuthIdMayHoldOnePasswordAndOnePskButNotTwoOfAKind() {
    tenantWithProfile();
    api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .addRequests(device("both-1", Credential.newBuilder().setAuthId("shared").setPassword("pw-of-shared").build(),
            Credential.newBuilder().setAuthId("shared").setPsk(ByteString.copyFromUtf8("psk-of-shared")).build()))
        .build());
    assertThat(storedHash("shared")).startsWith("pbkdf2-sha256$");

    StatusRuntimeException e = catchThrowableOfType(() -> api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder()
        .setParent("tenants/" + tenant)
        .addRequests(device("twice-1", Credential.newBuilder().setAuthId("twice").setPassword("first-pw-1").build()))
        .addRequests(device("twice-2", Credential.newBuilder().setAuthId("twice").setPassword("second-pw-2").build()))
        .build()), StatusRuntimeException.class);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(unpack(e, BadRequest.class).getFieldViolationsList()).extracting(BadRequest.FieldViolation::getField)
        .containsExactly("requests[1].credentials[0].auth_id");
  }

  /** A tenant from before claims may hold credentials without claims: creation still reads for them. */
  @Test
  void aCredentialFromBeforeClaimsOfAnOlderTenantStillFailsTheBatch() throws Exception {
    hub.session.execute("INSERT INTO tenants (tenant, enabled, telemetry_ttl_seconds, created_at) VALUES (?, true, 0,"
        + " toTimestamp(now()))", tenant);
    tenantWithProfile(); // an update: the tenant stays one from before claims
    DeviceHubHarness.await(hub.devices.putPassword(tenant, "old-auth", "old-device", "pbkdf2-sha256$1000$AA$AA"));

    StatusRuntimeException e = catchThrowableOfType(() -> api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder()
        .setParent("tenants/" + tenant).addRequests(device("new-device", Credential.newBuilder().setAuthId("old-auth")
            .setPassword("long-enough").build())).build()), StatusRuntimeException.class);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(unpack(e, ResourceInfo.class).getResourceName()).isEqualTo("old-auth@" + tenant);
    assertThat(notFound("tenants/" + tenant + "/devices/new-device").getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(storedHash("old-auth")).isEqualTo("pbkdf2-sha256$1000$AA$AA");
  }

  private String storedHash(String authId) {
    return hub.session.execute("SELECT secret FROM credentials WHERE tenant = ? AND auth_id = ? AND type = ?",
        tenant, authId, io.iiot.devicehub.storage.DeviceRegistry.PASSWORD).one().getString("secret");
  }

  @Test
  void aBatchSpanningEveryClaimPartitionCreatesEveryDeviceInRequestOrder() {
    tenantWithProfile();
    BatchCreateDevicesRequest.Builder batch = BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant);
    int n = io.iiot.devicehub.storage.DeviceRegistry.CLAIMS_PER_CONDITIONAL_BATCH * 2 + 7;
    for (int i = 0; i < n; i++) {
      batch.addRequests(device(String.format("m-%03d", n - i), Credential.newBuilder()
          .setPassword("Z2VuZXJhdGVkLXNlY3JldC1udW1iZXI" + i).setGeneratedPassword(true).build()));
    }
    BatchCreateDevicesResponse created = api.batchCreateDevices(batch.build());

    assertThat(created.getDevicesList()).extracting(Device::getName).containsExactlyElementsOf(
        batch.getRequestsList().stream().map(r -> "tenants/" + tenant + "/devices/" + r.getDeviceId()).toList());
    assertThat(hub.session.execute("SELECT count(*) FROM devices WHERE tenant = ?", tenant).one().getLong(0))
        .isEqualTo(n);
    assertThat(storedHash(String.format("m-%03d", 1))).startsWith("pbkdf2-sha256$1000$");
  }

  @Test
  void ofTwoConcurrentCreatorsOfTheSameDevicesOnlyTheWinnersCredentialsAreStored() throws Exception {
    tenantWithProfile();
    int n = 200;
    BatchCreateDevicesRequest.Builder a = BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant);
    BatchCreateDevicesRequest.Builder b = BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant);
    for (int i = 0; i < n; i++) {
      a.addRequests(device("race-" + i, Credential.newBuilder().setPassword(racePassword("A", i))
          .setGeneratedPassword(true).build()));
      b.addRequests(device("race-" + i, Credential.newBuilder().setPassword(racePassword("B", i))
          .setGeneratedPassword(true).build()));
    }
    java.util.concurrent.ExecutorService callers = java.util.concurrent.Executors.newFixedThreadPool(2);
    java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
    try {
      List<java.util.concurrent.Future<Object>> calls = new ArrayList<>();
      for (BatchCreateDevicesRequest request : List.of(a.build(), b.build())) {
        calls.add(callers.submit(() -> {
          go.await();
          try {
            return api.batchCreateDevices(request);
          } catch (StatusRuntimeException e) {
            return e;
          }
        }));
      }
      go.countDown();
      Object first = calls.get(0).get(2, java.util.concurrent.TimeUnit.MINUTES);
      Object second = calls.get(1).get(2, java.util.concurrent.TimeUnit.MINUTES);

      assertThat(List.of(first, second)).filteredOn(r -> r instanceof BatchCreateDevicesResponse).hasSize(1);
      StatusRuntimeException lost = (StatusRuntimeException) (first instanceof StatusRuntimeException ? first
          : second);
      assertThat(lost.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
      String winner = first instanceof BatchCreateDevicesResponse ? "A" : "B";
      String loser = winner.equals("A") ? "B" : "A";
      for (int i = 0; i < n; i++) {
        String stored = storedHash("race-" + i);
        assertThat(io.iiot.devicehub.domain.PasswordHasher.verify(racePassword(winner, i), stored))
            .as("race-%d's credential is the winner's (%s)", i, winner).isTrue();
        assertThat(io.iiot.devicehub.domain.PasswordHasher.verify(racePassword(loser, i), stored)).isFalse();
      }
    } finally {
      callers.shutdownNow();
    }
  }

  private static String racePassword(String caller, int i) {
    return caller + "-generated-secret-" + String.format("%05d", i) + "-x";
  }

  @Test
  void deletedDevicesLoseTheirCredentialsAndTheirIdsCanBeUsedAgain() {
    tenantWithProfile();
    BatchCreateDevicesRequest batch = BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .addRequests(device("del-1", password("pw-of-del-1"),
            Credential.newBuilder().setAuthId("del-1-dtls").setPsk(ByteString.copyFromUtf8("psk-of-del-1")).build()))
        .addRequests(device("del-2", password("pw-of-del-2")))
        .addRequests(device("keep-1", password("pw-of-keep-1"))).build();
    api.batchCreateDevices(batch);

    assertThat(api.batchDeleteDevices(BatchDeleteDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .addDeviceIds("del-1").addDeviceIds("del-2").addDeviceIds("never-created").build()).getDeletedCount())
        .isEqualTo(2);

    assertThat(notFound("tenants/" + tenant + "/devices/del-1").getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(notFound("tenants/" + tenant + "/devices/del-2").getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(hub.session.execute("SELECT auth_id FROM credentials WHERE tenant = ? AND auth_id IN ?", tenant,
        List.of("del-1", "del-1-dtls", "del-2")).all()).isEmpty();
    assertThat(storedHash("keep-1")).startsWith("pbkdf2-sha256$");
    // Same ids and auth ids again: nothing of the deleted devices is left to collide with.
    assertThat(api.batchCreateDevices(batch.toBuilder().removeRequests(2).build()).getDevicesCount()).isEqualTo(2);

    api.deleteDevice(DeleteDeviceRequest.newBuilder().setName("tenants/" + tenant + "/devices/keep-1").build());
    StatusRuntimeException again = catchThrowableOfType(() -> api.deleteDevice(DeleteDeviceRequest.newBuilder()
        .setName("tenants/" + tenant + "/devices/keep-1").build()), StatusRuntimeException.class);
    assertThat(again.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    api.deleteDevice(DeleteDeviceRequest.newBuilder().setName("tenants/" + tenant + "/devices/keep-1")
        .setAllowMissing(true).build());
    StatusRuntimeException bad = catchThrowableOfType(() -> api.batchDeleteDevices(BatchDeleteDevicesRequest
        .newBuilder().setParent("tenants/" + tenant).addDeviceIds("ok").addDeviceIds("bad id!").build()),
        StatusRuntimeException.class);
    assertThat(unpack(bad, BadRequest.class).getFieldViolationsList()).extracting(BadRequest.FieldViolation::getField)
        .containsExactly("device_ids[1]");
  }

  @Test
  void invalidFieldsAreAllReportedAsBadRequestAndNothingIsCreated() {
    tenantWithProfile();
    StatusRuntimeException e = catchThrowableOfType(() -> api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder()
        .setParent("tenants/" + tenant)
        .addRequests(device("ok-1", password("long-enough")))
        .addRequests(device("bad id!", password("short")))
        .addRequests(device("ok-1")).build()), StatusRuntimeException.class);

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    BadRequest details = unpack(e, BadRequest.class);
    assertThat(details.getFieldViolationsList()).extracting(BadRequest.FieldViolation::getField)
        .containsExactly("requests[1].device_id", "requests[1].credentials[0].password", "requests[2].device_id");
    assertThat(notFound("tenants/" + tenant + "/devices/ok-1").getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void anExistingDeviceFailsTheWholeBatchBeforeAnythingIsWritten() {
    tenantWithProfile();
    api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .addRequests(device("taken", password("long-enough"))).build());

    StatusRuntimeException e = catchThrowableOfType(() -> api.batchCreateDevices(BatchCreateDevicesRequest.newBuilder()
        .setParent("tenants/" + tenant).addRequests(device("fresh")).addRequests(device("taken")).build()),
        StatusRuntimeException.class);

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);
    assertThat(unpack(e, ResourceInfo.class).getResourceName()).isEqualTo("tenants/" + tenant + "/devices/taken");
    assertThat(notFound("tenants/" + tenant + "/devices/fresh").getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void unknownTenantsAndProfilesAreNotFound() {
    StatusRuntimeException noTenant = catchThrowableOfType(() -> api.batchCreateDevices(
        BatchCreateDevicesRequest.newBuilder().setParent("tenants/nobody-" + tenant).addRequests(device("d1")).build()),
        StatusRuntimeException.class);
    assertThat(noTenant.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(unpack(noTenant, ResourceInfo.class).getResourceName()).isEqualTo("tenants/nobody-" + tenant);

    tenantWithProfile();
    StatusRuntimeException noProfile = catchThrowableOfType(() -> api.batchCreateDevices(
        BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant).addRequests(CreateDeviceRequest
            .newBuilder().setDeviceId("d1").setDevice(Device.newBuilder().setProfile("lathe"))).build()),
        StatusRuntimeException.class);
    assertThat(noProfile.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(notFound("bogus").getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  private static Status notFound(String name) {
    return catchThrowableOfType(() -> api.getDevice(GetDeviceRequest.newBuilder().setName(name).build()),
        StatusRuntimeException.class).getStatus();
  }

  private static <T extends com.google.protobuf.Message> T unpack(StatusRuntimeException e, Class<T> type) {
    try {
      for (com.google.protobuf.Any any : StatusProto.fromThrowable(e).getDetailsList()) {
        if (any.is(type)) {
          return any.unpack(type);
        }
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException ex) {
      throw new AssertionError(ex);
    }
    throw new AssertionError("no " + type.getSimpleName() + " in " + e);
  }
}
