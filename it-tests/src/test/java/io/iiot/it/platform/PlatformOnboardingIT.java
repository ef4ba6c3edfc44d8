package io.iiot.it.platform;

import static io.iiot.it.platform.PlatformStack.withKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Timestamp;
import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.platform.v1.AggregateTelemetryRequest;
import io.iiot.platform.v1.AggregateTelemetryResponse;
import io.iiot.platform.v1.DeviceServiceGrpc;
import io.iiot.platform.v1.GetDeviceRequest;
import io.iiot.platform.v1.GetIdentifierRequest;
import io.iiot.platform.v1.Identifier;
import io.iiot.platform.v1.IdentifierServiceGrpc;
import io.iiot.platform.v1.ListDevicesRequest;
import io.iiot.platform.v1.ListDevicesResponse;
import io.iiot.platform.v1.ListTelemetryRequest;
import io.iiot.platform.v1.ListTelemetryResponse;
import io.iiot.platform.v1.Machine;
import io.iiot.platform.v1.MachineResult;
import io.iiot.platform.v1.OnboardDevicesRequest;
import io.iiot.platform.v1.OnboardDevicesResponse;
import io.iiot.platform.v1.OnboardingServiceGrpc;
import io.iiot.platform.v1.StreamTelemetryRequest;
import io.iiot.platform.v1.StreamTelemetryResponse;
import io.iiot.platform.v1.TelemetryPoint;
import io.iiot.platform.v1.TelemetryServiceGrpc;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.Util;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The SME story end to end on the real deployables: 100 mine belt conveyors onboarded in one call (identifiers under
 * the tenant's approved prefix on resolver-node, devices and credentials on device-hub), one machine sending over MQTT
 * with Paho and one over CoAP/DTLS with Californium using the returned credentials, their telemetry read back through
 * the history API and the live stream, their identifiers resolved over the Handle protocol with CNRI's client; then
 * the bad-input and isolation rules an integrator relies on.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class PlatformOnboardingIT {

  @Test
  void onboardsAHundredBeltConveyorsThatSendOverMqttAndCoapAndResolveOverHandle() throws Exception {
    PlatformStack stack = PlatformStack.shared();
    try {
      run(stack);
    } catch (AssertionError | RuntimeException e) {
      throw new AssertionError(e.getMessage() + "\n" + stack.logs(), e);
    }
  }

  private static Machine machine(int i) {
    String id = String.format("belt-%04d", i);
    return Machine.newBuilder().setMachineId(id).setDisplayName("主运输带 " + i)
        .putIdentifierValues("SERIAL_NO", "DSJ120-" + i).putIdentifierValues("MODEL", "DSJ120/150/2x355")
        .putIdentifierValues("MANUFACTURER", "山西煤矿机械制造股份有限公司").putIdentifierValues("MA_CERT_NO", "MAC100" + i)
        .putIdentifierValues("LOCATION", "主斜井").putLabels("line", "main-incline").build();
  }

  private void run(PlatformStack stack) throws Exception {
    String prefix = stack.approvedPrefix();
    String tenant = "mine-" + Long.toString(System.nanoTime(), 36);
    String key = stack.tenantKey(tenant, prefix);
    String other = "other-" + Long.toString(System.nanoTime(), 36);
    String otherKey = stack.tenantKey(other, stack.approvedPrefix());
    var onboarding = withKey(OnboardingServiceGrpc.newBlockingStub(stack.platformChannel), key);

    List<Machine> machines = new ArrayList<>();
    for (int i = 1; i <= 100; i++) {
      machines.add(machine(i));
    }
    OnboardDevicesRequest request = OnboardDevicesRequest.newBuilder().setParent("tenants/" + tenant)
        .setTemplate("templates/mine-belt-conveyor").addAllMachines(machines)
        .setRequestId(UUID.randomUUID().toString()).build();
    long t0 = System.nanoTime();
    OnboardDevicesResponse onboarded = onboarding.onboardDevices(request);
    long onboardMs = (System.nanoTime() - t0) / 1_000_000;
    assertThat(onboarded.getOnboardedCount()).as("onboarded in " + onboardMs + " ms: " + onboarded.getResultsList()
        .stream().filter(r -> r.getStatus().getCode() != 0).findFirst()).isEqualTo(100);
    MachineResult belt1 = onboarded.getResults(0);
    MachineResult belt2 = onboarded.getResults(1);
    assertThat(belt1.getIdentifier()).isEqualTo(prefix + "/belt-0001");
    assertThat(belt1.getDevice()).isEqualTo("tenants/" + tenant + "/devices/belt-0001");
    assertThat(belt1.getCredentials().getType()).isEqualTo("password");
    assertThat(belt1.getCredentials().getAuthId()).isEqualTo("belt-0001@" + tenant);
    assertThat(belt1.getCredentials().getSecret()).hasSizeGreaterThanOrEqualTo(32);
    assertThat(belt1.getMqttUri()).isEqualTo("mqtt://127.0.0.1:" + stack.hubMqttPort);
    assertThat(belt1.getCoapUri()).isEqualTo("coaps://127.0.0.1:" + stack.hubCoapDtlsPort);

    // Same request id: the first result again, without secrets, and nothing onboarded twice.
    OnboardDevicesResponse replay = onboarding.onboardDevices(request);
    assertThat(replay.getOnboardedCount()).isEqualTo(100);
    assertThat(replay.getResults(0).getIdentifier()).isEqualTo(belt1.getIdentifier());
    assertThat(replay.getResultsList()).allSatisfy(r -> assertThat(r.getCredentials().getSecret()).isEmpty());
    ListDevicesResponse devices = withKey(DeviceServiceGrpc.newBlockingStub(stack.platformChannel), key)
        .listDevices(ListDevicesRequest.newBuilder().setParent("tenants/" + tenant).setPageSize(1000).build());
    assertThat(devices.getDevicesList()).hasSize(100);
    assertThat(devices.getDevices(0).getProfile()).isEqualTo("mine-belt-conveyor-v1");
    assertThat(devices.getNextPageToken()).isEmpty();

    // Live stream first, so what the machines send next shows up on it.
    BlockingQueue<StreamTelemetryResponse> live = new LinkedBlockingQueue<>();
    double before = stack.hubStreamSubscribers();
    withKey(TelemetryServiceGrpc.newStub(stack.platformChannel), key).withDeadlineAfter(5, TimeUnit.MINUTES)
        .streamTelemetry(StreamTelemetryRequest.newBuilder().setParent("tenants/" + tenant)
            .addDevices("belt-0001").addDevices("belt-0002").build(), collect(live));
    stack.awaitHubSubscribers((int) before + 1);

    long ts1 = Instant.now().minusSeconds(5).toEpochMilli();
    MqttClient mqtt = new MqttClient("tcp://127.0.0.1:" + stack.hubMqttPort, "belt-0001", new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setUserName(belt1.getCredentials().getAuthId());
    o.setPassword(belt1.getCredentials().getSecret().toCharArray());
    mqtt.connect(o);
    mqtt.publish("telemetry", ("{\"ts\": " + ts1 + ", \"belt_speed\": 3.15, \"motor_current\": 212.5,"
        + " \"running\": true}").getBytes(StandardCharsets.UTF_8), 1, false);
    mqtt.disconnect();
    mqtt.close();

    long ts2 = ts1 + 1000;
    CoapClient coap = dtlsClient(stack.hubCoapDtlsPort, belt2.getCredentials().getAuthId(),
        belt2.getCredentials().getSecret());
    CoapResponse answer = coap.post("{\"ts\": " + ts2 + ", \"belt_speed\": 2.5, \"bearing_temp\": 61.0}",
        MediaTypeRegistry.APPLICATION_JSON);
    coap.shutdown();
    assertThat(answer).as("CoAP answer").isNotNull();
    assertThat(answer.isSuccess()).as(answer.getCode() + " " + answer.getResponseText()).isTrue();

    List<TelemetryPoint> streamed = new ArrayList<>();
    while (streamed.size() < 5) {
      StreamTelemetryResponse e = live.poll(15, TimeUnit.SECONDS);
      assertThat(e).as("live point " + streamed.size() + " of 5; got " + streamed).isNotNull();
      assertThat(e.hasGap()).as("no points dropped for a reading client").isFalse();
      streamed.add(e.getPoint());
    }
    assertThat(streamed).extracting(p -> p.getDevice() + " " + p.getMetric() + " " + p.getNumber())
        .containsExactlyInAnyOrder("tenants/" + tenant + "/devices/belt-0001 belt_speed 3.15",
            "tenants/" + tenant + "/devices/belt-0001 motor_current 212.5",
            "tenants/" + tenant + "/devices/belt-0001 running 1.0",
            "tenants/" + tenant + "/devices/belt-0002 belt_speed 2.5",
            "tenants/" + tenant + "/devices/belt-0002 bearing_temp 61.0");

    var telemetry = withKey(TelemetryServiceGrpc.newBlockingStub(stack.platformChannel), key);
    ListTelemetryResponse history = telemetry.listTelemetry(ListTelemetryRequest.newBuilder()
        .setDevice("tenants/" + tenant + "/devices/belt-0001").setStartTime(ts(ts1 - 3_600_000))
        .setEndTime(ts(ts1 + 3_600_000)).build());
    assertThat(history.getPointsList()).extracting(p -> p.getMetric() + "=" + p.getNumber())
        .containsExactly("running=1.0", "motor_current=212.5", "belt_speed=3.15");
    assertThat(history.getPoints(0).getTime()).isEqualTo(ts(ts1));
    ListTelemetryResponse paged = telemetry.listTelemetry(ListTelemetryRequest.newBuilder()
        .setDevice("tenants/" + tenant + "/devices/belt-0002").setStartTime(ts(ts1 - 3_600_000))
        .setEndTime(ts(ts1 + 3_600_000)).addMetrics("bearing_temp").setPageSize(1).build());
    assertThat(paged.getPointsList()).extracting(TelemetryPoint::getNumber).containsExactly(61.0);
    AggregateTelemetryResponse agg = telemetry.aggregateTelemetry(AggregateTelemetryRequest.newBuilder()
        .setDevice("tenants/" + tenant + "/devices/belt-0002").setStartTime(ts(ts1 - 60_000))
        .setEndTime(ts(ts1 + 60_000)).setInterval(com.google.protobuf.Duration.newBuilder().setSeconds(60)).build());
    assertThat(agg.getAggregatesList()).extracting(a -> a.getMetric() + " n=" + a.getCount() + " avg=" + a.getAvg())
        .containsExactly("bearing_temp n=1 avg=61.0", "belt_speed n=1 avg=2.5");

    // The identifiers, resolved over the Handle protocol (UDP) with CNRI's client, and through platform-api.
    for (String suffix : List.of("belt-0001", "belt-0100")) {
      ResolutionResponse rr = (ResolutionResponse) new HandleResolver().sendHdlUdpRequest(new ResolutionRequest(
          Util.encodeString(prefix + "/" + suffix), null, null, null), InetAddress.getLoopbackAddress(),
          stack.resolverHandlePort);
      int n = Integer.parseInt(suffix.substring(5));
      assertThat(Arrays.stream(rr.getHandleValues()).map(v -> v.getIndex() + ":" + v.getTypeAsString() + "="
          + (v.getIndex() == 100 ? "" : v.getDataAsString())))
          .contains("2000:SERIAL_NO=DSJ120-" + n, "2002:MANUFACTURER=山西煤矿机械制造股份有限公司",
              "2005:MA_CERT_NO=MAC100" + n);
    }
    Identifier id = withKey(IdentifierServiceGrpc.newBlockingStub(stack.platformChannel), key)
        .getIdentifier(GetIdentifierRequest.newBuilder().setName("tenants/" + tenant + "/identifiers/belt-0042")
            .build());
    assertThat(id.getHandle()).isEqualTo(prefix + "/belt-0042");
    assertThat(id.getValuesMap()).containsEntry("SERIAL_NO", "DSJ120-42").containsEntry("LOCATION", "主斜井");

    badInputAndIsolation(stack, tenant, key, otherKey, request);
  }

  private void badInputAndIsolation(PlatformStack stack, String tenant, String key, String otherKey,
      OnboardDevicesRequest first) {
    var onboarding = withKey(OnboardingServiceGrpc.newBlockingStub(stack.platformChannel), key);
    // Invalid rows: every bad row named, nothing onboarded.
    StatusRuntimeException bad = catchThrowableOfType(StatusRuntimeException.class, () -> onboarding.onboardDevices(
        OnboardDevicesRequest.newBuilder().setParent("tenants/" + tenant).setTemplate("templates/mine-belt-conveyor")
            .addMachines(machine(201)).addMachines(machine(202).toBuilder().removeIdentifierValues("SERIAL_NO"))
            .addMachines(machine(203).toBuilder().setMachineId("bad id/1")).build()));
    assertThat(bad.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(violations(bad)).anyMatch(f -> f.startsWith("machines[1]")).anyMatch(f -> f.startsWith("machines[2]"))
        .noneMatch(f -> f.startsWith("machines[0]"));
    var devices = withKey(DeviceServiceGrpc.newBlockingStub(stack.platformChannel), key);
    assertThat(catchThrowableOfType(StatusRuntimeException.class, () -> devices.getDevice(GetDeviceRequest
        .newBuilder().setName("tenants/" + tenant + "/devices/belt-0201").build())).getStatus().getCode())
        .as("the valid row of a rejected call is not onboarded").isEqualTo(Status.Code.NOT_FOUND);

    // The same request id with another payload.
    StatusRuntimeException reused = catchThrowableOfType(StatusRuntimeException.class, () -> onboarding
        .onboardDevices(first.toBuilder().removeMachines(99).build()));
    assertThat(reused.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(reason(reused)).isEqualTo("REQUEST_ID_REUSED");

    // Keys: none, wrong, another tenant's.
    assertThat(catchThrowableOfType(StatusRuntimeException.class, () -> DeviceServiceGrpc.newBlockingStub(
        stack.platformChannel).withDeadlineAfter(10, TimeUnit.SECONDS).listDevices(ListDevicesRequest.newBuilder()
        .setParent("tenants/" + tenant).build())).getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(catchThrowableOfType(StatusRuntimeException.class, () -> withKey(DeviceServiceGrpc.newBlockingStub(
        stack.platformChannel), key.substring(0, key.length() - 4) + "AAAA").listDevices(ListDevicesRequest
        .newBuilder().setParent("tenants/" + tenant).build())).getStatus().getCode())
        .isEqualTo(Status.Code.UNAUTHENTICATED);
    String belt1 = "tenants/" + tenant + "/devices/belt-0001";
    List<Runnable> foreign = List.of(
        () -> withKey(DeviceServiceGrpc.newBlockingStub(stack.platformChannel), otherKey)
            .getDevice(GetDeviceRequest.newBuilder().setName(belt1).build()),
        () -> withKey(DeviceServiceGrpc.newBlockingStub(stack.platformChannel), otherKey)
            .getDevice(GetDeviceRequest.newBuilder().setName("tenants/" + tenant + "/devices/no-such").build()),
        () -> withKey(TelemetryServiceGrpc.newBlockingStub(stack.platformChannel), otherKey)
            .listTelemetry(ListTelemetryRequest.newBuilder().setDevice(belt1).setStartTime(ts(1))
                .setEndTime(ts(2)).build()),
        () -> withKey(IdentifierServiceGrpc.newBlockingStub(stack.platformChannel), otherKey)
            .getIdentifier(GetIdentifierRequest.newBuilder().setName("tenants/" + tenant + "/identifiers/belt-0001")
                .build()),
        () -> withKey(OnboardingServiceGrpc.newBlockingStub(stack.platformChannel), otherKey)
            .onboardDevices(first.toBuilder().setRequestId(UUID.randomUUID().toString()).build()),
        () -> withKey(TelemetryServiceGrpc.newBlockingStub(stack.platformChannel), otherKey)
            .streamTelemetry(StreamTelemetryRequest.newBuilder().setParent("tenants/" + tenant).build()).hasNext());
    for (Runnable call : foreign) {
      StatusRuntimeException denied = catchThrowableOfType(StatusRuntimeException.class, call::run);
      assertThat(denied.getStatus().getCode()).as(String.valueOf(denied)).isEqualTo(Status.Code.PERMISSION_DENIED);
    }
  }

  private static CoapClient dtlsClient(int port, String identity, String secret) {
    CoapConfig.register();
    DtlsConfig.register();
    UdpConfig.register();
    Configuration cfg = Configuration.createStandardWithoutFile();
    cfg.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.CLIENT_ONLY);
    DtlsConnectorConfig dtls = DtlsConnectorConfig.builder(cfg)
        .setAddress(new InetSocketAddress("127.0.0.1", 0))
        .setAdvancedPskStore(new AdvancedSinglePskStore(identity, secret.getBytes(StandardCharsets.UTF_8)))
        .build();
    CoapClient client = new CoapClient("coaps://127.0.0.1:" + port + "/t");
    client.setEndpoint(new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(new DTLSConnector(dtls)).build());
    client.setTimeout(20_000L);
    return client;
  }

  static Timestamp ts(long epochMs) {
    return Timestamp.newBuilder().setSeconds(Math.floorDiv(epochMs, 1000))
        .setNanos((int) Math.floorMod(epochMs, 1000) * 1_000_000).build();
  }

  private static <T> StreamObserver<T> collect(BlockingQueue<T> into) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        into.add(value);
      }

      @Override
      public void onError(Throwable t) {
        // the test's polls time out and say what was missing
      }

      @Override
      public void onCompleted() {
      }
    };
  }

  private static List<String> violations(StatusRuntimeException e) {
    try {
      for (com.google.protobuf.Any any : StatusProto.fromThrowable(e).getDetailsList()) {
        if (any.is(BadRequest.class)) {
          return any.unpack(BadRequest.class).getFieldViolationsList().stream()
              .map(BadRequest.FieldViolation::getField).toList();
        }
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException x) {
      throw new IllegalStateException(x);
    }
    return List.of();
  }

  private static String reason(StatusRuntimeException e) {
    try {
      for (com.google.protobuf.Any any : StatusProto.fromThrowable(e).getDetailsList()) {
        if (any.is(ErrorInfo.class)) {
          return any.unpack(ErrorInfo.class).getReason();
        }
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException x) {
      throw new IllegalStateException(x);
    }
    return "";
  }
}
