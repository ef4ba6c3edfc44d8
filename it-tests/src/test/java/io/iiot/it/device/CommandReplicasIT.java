package io.iiot.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.rpc.ErrorInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.Command;
import io.iiot.device.v1.CommandServiceGrpc;
import io.iiot.device.v1.GetCommandRequest;
import io.iiot.device.v1.SendCommandRequest;
import io.iiot.it.support.DeviceHubs;
import io.iiot.it.support.ServiceProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Two device-hub processes on one Cassandra node. A Paho device on replica A answers a command sent to replica B; then
 * A is killed with SIGKILL: B fails the next command with UNAVAILABLE while A's connection entry lives, and says
 * DEVICE_NOT_CONNECTED once it expired (commands.presence-ttl). Not in the default run (tag "cluster", about a
 * minute): {@code mvn -B -pl it-tests verify -Dit.test=CommandReplicasIT -Dit.excludedGroups=none}.
 */
@Tag("cluster")
class CommandReplicasIT {
  private static final String TENANT = "commands";
  private static final String PASSWORD = "command-secret";

  private EmbeddedCassandra node;
  private ServiceProcess a;
  private ServiceProcess b;
  private final ExecutorService replies = Executors.newSingleThreadExecutor();

  private Map<String, String> env(String replica) throws Exception {
    Map<String, String> env = new HashMap<>(ServiceProcess.freePorts("device-hub"));
    env.put("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + node.settings().nativePort());
    env.put("DEVICE_HUB_MQTT_HOST", "127.0.0.1");
    env.put("DEVICE_HUB_MQTT_TLS_PORT", "0");
    env.put("DEVICE_HUB_CREDENTIALS_PBKDF2_ITERATIONS", "10000");
    env.put("DEVICE_HUB_REPLICA_ID", replica);
    env.put("DEVICE_HUB_COMMANDS_PRESENCE_TTL", "4s");
    env.put("DEVICE_HUB_COMMANDS_PRESENCE_REFRESH", "2s");
    return env;
  }

  @BeforeEach
  void start() throws Exception {
    Path dir = Path.of("target", "command-replicas-it").toAbsolutePath();
    EmbeddedCassandraExtension.deleteTree(dir);
    node = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir, EmbeddedCassandraExtension.freePort(),
        EmbeddedCassandraExtension.freePort()));
    node.start();
    a = DeviceHubs.start(env("replica-a"));
    b = DeviceHubs.start(env("replica-b"));
    DeviceHubs.provisionCounterDevices(a.port("device-hub", "grpc.port"), TENANT, 1, i -> "valve" + i, PASSWORD);
  }

  @AfterEach
  void stop() throws Exception {
    replies.shutdownNow();
    if (b != null) {
      b.close();
    }
    if (a != null) {
      a.close();
    }
    node.kill();
  }

  private static SendCommandRequest command(String name, int waitSeconds) {
    return SendCommandRequest.newBuilder().setParent("tenants/" + TENANT + "/devices/valve0")
        .setCommand(Command.newBuilder().setCommand(name).setPayload(ByteString.copyFromUtf8("{\"pos\":42}"))
            .setContentType("application/json"))
        .setResponseTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(waitSeconds)).build();
  }

  @Test
  void aCommandSentToOneProcessReachesTheDeviceOnTheOtherUntilThatOneDies() throws Exception {
    MqttClient device = new MqttClient("tcp://127.0.0.1:" + a.port("device-hub", "mqtt.port"), "valve0",
        new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setUserName("valve0@" + TENANT);
    o.setPassword(PASSWORD.toCharArray());
    device.connect(o);
    CompletableFuture<String> received = new CompletableFuture<>();
    device.subscribe("command///req/#", 1, (topic, msg) -> {
      received.complete(topic);
      String reqId = topic.split("/")[4];
      replies.execute(() -> {
        try {
          device.publish("command///res/" + reqId + "/200", "{\"pos\":\"set\"}".getBytes(StandardCharsets.UTF_8), 1,
              false);
        } catch (Exception e) {
          received.completeExceptionally(e);
        }
      });
    });
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", b.port("device-hub", "grpc.port"))
        .usePlaintext().build();
    try {
      var apiB = CommandServiceGrpc.newBlockingStub(channel);

      Command answered = apiB.withDeadlineAfter(60, TimeUnit.SECONDS).sendCommand(command("setPosition", 20));

      assertThat(received.get(10, TimeUnit.SECONDS)).endsWith("/setPosition");
      assertThat(answered.getState()).isEqualTo(Command.State.ANSWERED);
      assertThat(answered.getResponse().getPayload().toStringUtf8()).isEqualTo("{\"pos\":\"set\"}");
      assertThat(apiB.withDeadlineAfter(10, TimeUnit.SECONDS).getCommand(GetCommandRequest.newBuilder()
          .setName(answered.getName()).build()).getState()).isEqualTo(Command.State.ANSWERED);

      a.jvm().kill();
      // A's entry still names it: B cannot reach it and says so; the command is stored as FAILED.
      StatusRuntimeException unreachable = catchThrowableOfType(() -> apiB.withDeadlineAfter(60, TimeUnit.SECONDS)
          .sendCommand(command("close", 0)), StatusRuntimeException.class);
      assertThat(unreachable.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
      Thread.sleep(5000); // > commands.presence-ttl: the dead replica's entry expired
      StatusRuntimeException gone = catchThrowableOfType(() -> apiB.withDeadlineAfter(30, TimeUnit.SECONDS)
          .sendCommand(command("close", 0)), StatusRuntimeException.class);
      assertThat(gone.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      assertThat(StatusProto.fromThrowable(gone).getDetails(0).unpack(ErrorInfo.class).getReason())
          .isEqualTo("DEVICE_NOT_CONNECTED");
    } finally {
      channel.shutdownNow();
      device.close(true);
    }
  }
}
