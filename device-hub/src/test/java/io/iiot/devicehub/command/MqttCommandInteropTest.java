package io.iiot.devicehub.command;

import static io.iiot.devicehub.command.CommandClients.request;
import static io.iiot.devicehub.command.CommandClients.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.BadRequest;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.Command;
import io.iiot.device.v1.CommandServiceGrpc;
import io.iiot.device.v1.ListCommandsRequest;
import io.iiot.devicehub.DeviceHubHarness;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Commands over MQTT with clients nobody here wrote: Debian's mosquitto_sub receives a one-way command, Eclipse Paho
 * answers a request/response command on Hono's response topic; what the gRPC API reports is read back.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class MqttCommandInteropTest {
  private static DeviceHubHarness hub;
  private static ManagedChannel channel;
  private static CommandServiceGrpc.CommandServiceBlockingStub api;
  private static final ExecutorService replies = Executors.newSingleThreadExecutor();

  @BeforeAll
  static void start() throws Exception {
    hub = new DeviceHubHarness();
    channel = CommandClients.channel(hub.module.grpcPort());
    api = CommandServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    replies.shutdownNow();
    channel.shutdownNow();
    hub.close();
  }

  private static MqttClient paho(String device) throws Exception {
    return hub.pahoV3(device, device + "-cmd");
  }

  @Test
  void mosquittoSubReceivesAOneWayCommandOnHonosTopic() throws Exception {
    Process sub = new ProcessBuilder("mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(hub.mqttPort),
        "-V", "mqttv311", "-q", "1", "-u", hub.user("sensor1"), "-P", DeviceHubHarness.PASSWORD,
        "-t", "command///req/#", "-v", "-C", "1", "-W", "30").redirectErrorStream(true).start();
    try {
      CommandClients.awaitReachable(hub, "sensor1");

      Command sent = api.sendCommand(request(hub.tenant, "sensor1", "setValve", "{\"open\":true}", true, 30, 0));

      assertThat(sub.waitFor(20, TimeUnit.SECONDS)).isTrue();
      String out = new String(sub.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      // One-way: empty req-id segment, the command name last.
      assertThat(out.trim()).isEqualTo("command///req//setValve {\"open\":true}");
      assertThat(sent.getState()).isEqualTo(Command.State.DELIVERED);
      assertThat(sent.getOneWay()).isTrue();
      assertThat(CommandClients.get(api, sent.getName()).getState()).isEqualTo(Command.State.DELIVERED);
      assertThat(sent.getName()).startsWith("tenants/" + hub.tenant + "/devices/sensor1/commands/");
    } finally {
      sub.destroy();
    }
  }

  @Test
  void pahoAnswersARequestResponseCommandAndTheResponseIsStored() throws Exception {
    MqttClient device = paho("sensor2");
    CompletableFuture<String> received = new CompletableFuture<>();
    try {
      device.subscribe("c///q/#", 1, (topic, msg) -> {
        received.complete(topic + " " + new String(msg.getPayload(), StandardCharsets.UTF_8));
        String reqId = topic.split("/")[4];
        // Answer from another thread: Paho's callback thread must not wait for its own PUBACK.
        replies.execute(() -> {
          try {
            device.publish("c///s/" + reqId + "/200", "{\"valve\":\"open\"}".getBytes(StandardCharsets.UTF_8), 1,
                false);
          } catch (Exception e) {
            received.completeExceptionally(e);
          }
        });
      });
      CommandClients.awaitReachable(hub, "sensor2");

      Command answered = api.sendCommand(request(hub.tenant, "sensor2", "setValve", "{\"open\":1}", false, 30, 20));

      String id = answered.getName().substring(answered.getName().lastIndexOf('/') + 1);
      assertThat(received.get(10, TimeUnit.SECONDS)).isEqualTo("c///q/" + id + "/setValve {\"open\":1}");
      assertThat(answered.getState()).isEqualTo(Command.State.ANSWERED);
      assertThat(answered.getResponse().getStatus()).isEqualTo(200);
      assertThat(utf8(answered.getResponse().getPayload())).isEqualTo("{\"valve\":\"open\"}");
      Command read = CommandClients.get(api, answered.getName());
      assertThat(read.getState()).isEqualTo(Command.State.ANSWERED);
      assertThat(utf8(read.getResponse().getPayload())).isEqualTo("{\"valve\":\"open\"}");
      assertThat(read.getCorrelationId()).isEqualTo("corr-setValve");
      assertThat(api.listCommands(ListCommandsRequest.newBuilder()
          .setParent("tenants/" + hub.tenant + "/devices/sensor2").build()).getCommandsList())
          .extracting(Command::getName).contains(answered.getName());
    } finally {
      device.disconnect();
      device.close();
    }
  }

  @Test
  void aCommandNobodyAnswersTimesOut() throws Exception {
    MqttClient device = paho("sensor3");
    try {
      device.subscribe("command///req/#", 1, (topic, msg) -> { });
      CommandClients.awaitReachable(hub, "sensor3");

      Command sent = api.sendCommand(request(hub.tenant, "sensor3", "reboot", "{}", false, 1, 0));
      assertThat(sent.getState()).isEqualTo(Command.State.DELIVERED);
      Thread.sleep(1500);

      assertThat(CommandClients.get(api, sent.getName()).getState()).isEqualTo(Command.State.TIMED_OUT);
      // Stored as timed out by the replica, not only computed on read.
      String id = sent.getName().substring(sent.getName().lastIndexOf('/') + 1);
      assertThat(hub.session.execute("SELECT status FROM commands WHERE tenant = ? AND device_id = ?"
          + " AND command_id = ?", hub.tenant, "sensor3", id).one().getString("status")).isEqualTo("TIMED_OUT");
    } finally {
      device.disconnect();
      device.close();
    }
  }

  @Test
  void unknownAndOfflineDevicesAndBadCommandsGetClearStatuses() throws Exception {
    StatusRuntimeException unknown = catchThrowableOfType(() -> api.sendCommand(
        request(hub.tenant, "no-such-device", "x", "{}", true, 10, 0)), StatusRuntimeException.class);
    assertThat(unknown.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(StatusProto.fromThrowable(unknown).getDetails(0).unpack(ResourceInfo.class).getResourceName())
        .isEqualTo("tenants/" + hub.tenant + "/devices/no-such-device");

    StatusRuntimeException offline = catchThrowableOfType(() -> api.sendCommand(
        request(hub.tenant, "gw1", "x", "{}", true, 10, 0)), StatusRuntimeException.class);
    assertThat(offline.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    ErrorInfo info = StatusProto.fromThrowable(offline).getDetails(0).unpack(ErrorInfo.class);
    assertThat(info.getReason()).isEqualTo("DEVICE_NOT_CONNECTED");
    assertThat(info.getMetadataMap()).containsEntry("device", "gw1").containsEntry("tenant", hub.tenant);

    StatusRuntimeException bad = catchThrowableOfType(() -> api.sendCommand(
        request(hub.tenant, "sensor1", "set/valve", "{}", true, 0, 0)), StatusRuntimeException.class);
    assertThat(bad.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(StatusProto.fromThrowable(bad).getDetails(0).unpack(BadRequest.class).getFieldViolationsList())
        .extracting(BadRequest.FieldViolation::getField).isEqualTo(List.of("command.command"));

    StatusRuntimeException missing = catchThrowableOfType(() -> CommandClients.get(api,
        "tenants/" + hub.tenant + "/devices/sensor1/commands/00000000000000000000"), StatusRuntimeException.class);
    assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }
}
