package io.iiot.devicehub.command;

import static io.iiot.devicehub.command.CommandClients.request;
import static io.iiot.devicehub.command.CommandClients.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.cql.Row;
import io.grpc.ManagedChannel;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.Command;
import io.iiot.device.v1.CommandServiceGrpc;
import io.iiot.devicehub.DeviceHubHarness;
import io.iiot.devicehub.domain.DeviceRef;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two device-hub replicas in one JVM on one Cassandra node (each with its own ports, replica id and gRPC server): a
 * device connected to replica A gets a command sent to replica B, B relays it over gRPC, the device's answer is
 * stored by A and read back from B.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class CommandReplicasTest {
  private static DeviceHubHarness a;
  private static DeviceHubHarness b;
  private static ManagedChannel channelB;
  private static CommandServiceGrpc.CommandServiceBlockingStub apiB;
  private static final ExecutorService replies = Executors.newSingleThreadExecutor();

  @BeforeAll
  static void start() throws Exception {
    // No MQTT TLS: generating its development certificate is the slowest part of a start.
    a = new DeviceHubHarness(Map.of("MQTT_TLS_PORT", "0", "REPLICA_ID", "replica-a"));
    b = new DeviceHubHarness(Map.of("MQTT_TLS_PORT", "0", "REPLICA_ID", "replica-b"));
    channelB = CommandClients.channel(b.module.grpcPort());
    apiB = CommandServiceGrpc.newBlockingStub(channelB).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    replies.shutdownNow();
    channelB.shutdownNow();
    b.close();
    a.close();
  }

  @Test
  void aCommandSentToReplicaBReachesTheDeviceOnReplicaAAndItsAnswerIsVisibleFromB() throws Exception {
    MqttClient device = new MqttClient("tcp://127.0.0.1:" + a.mqttPort, "sensor1-replicas", new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setUserName(a.user("sensor1"));
    o.setPassword(DeviceHubHarness.PASSWORD.toCharArray());
    device.connect(o);
    CompletableFuture<String> received = new CompletableFuture<>();
    try {
      device.subscribe("command///req/#", 1, (topic, msg) -> {
        received.complete(topic);
        String reqId = topic.split("/")[4];
        replies.execute(() -> {
          try {
            device.publish("command///res/" + reqId + "/201", "{\"done\":true}".getBytes(StandardCharsets.UTF_8),
                1, false);
          } catch (Exception e) {
            received.completeExceptionally(e);
          }
        });
      });
      CommandClients.awaitReachable(a, "sensor1");
      Row entry = a.session.execute("SELECT replica_id, grpc_address, transport FROM device_connections"
          + " WHERE tenant = ? AND device_id = ?", a.tenant, "sensor1").one();
      assertThat(entry.getString("replica_id")).isEqualTo("replica-a");
      assertThat(entry.getString("grpc_address")).isEqualTo("127.0.0.1:" + a.module.grpcPort());
      assertThat(entry.getString("transport")).isEqualTo("mqtt");
      assertThat(b.module.commandRouter().local().channel(new DeviceRef(a.tenant, "sensor1"))).isNull();

      Command answered = apiB.sendCommand(request(a.tenant, "sensor1", "calibrate", "{\"zero\":1}", false, 30, 20));

      assertThat(received.get(10, TimeUnit.SECONDS)).startsWith("command///req/").endsWith("/calibrate");
      assertThat(answered.getState()).isEqualTo(Command.State.ANSWERED);
      assertThat(answered.getResponse().getStatus()).isEqualTo(201);
      assertThat(utf8(answered.getResponse().getPayload())).isEqualTo("{\"done\":true}");
      Command readFromB = CommandClients.get(apiB, answered.getName());
      assertThat(readFromB.getState()).isEqualTo(Command.State.ANSWERED);
      assertThat(utf8(readFromB.getResponse().getPayload())).isEqualTo("{\"done\":true}");
      assertThat(a.counter("devicehub.commands", "outcome", "answered")).isEqualTo(1);
      assertThat(b.counter("devicehub.commands", "outcome", "relayed")).isEqualTo(1);
    } finally {
      device.disconnect();
      device.close();
    }
    // Gone from A: the registry entry goes with the connection, and B says so instead of relaying.
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (a.session.execute("SELECT replica_id FROM device_connections WHERE tenant = ? AND device_id = ?",
        a.tenant, "sensor1").one() != null && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    io.grpc.StatusRuntimeException offline = org.assertj.core.api.Assertions.catchThrowableOfType(
        () -> apiB.sendCommand(request(a.tenant, "sensor1", "calibrate", "{}", false, 30, 0)),
        io.grpc.StatusRuntimeException.class);
    assertThat(offline.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
  }
}
