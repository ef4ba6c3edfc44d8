package io.iiot.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.support.AckedSenders;
import io.iiot.it.support.DeviceHubs;
import io.iiot.it.support.PahoDevice;
import io.iiot.it.support.ServiceProcess;
import io.iiot.it.support.StoredSequence;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Acknowledged means durable: Paho clients publish 20,000 QoS 1 messages while device-hub (a real process) or the
 * Cassandra node is killed with SIGKILL half-way; the clients reconnect and resend what was not acknowledged. Every
 * acknowledged message must then be in Cassandra, with its value, exactly once.
 */
class MqttDurabilityIT {
  private static final int CLIENTS = 8;
  private static final int PER_CLIENT = 2500;
  private static final String TENANT = "durable";
  private static final String PASSWORD = "durable-secret";

  private EmbeddedCassandra node;
  private Map<String, String> env;
  private volatile ServiceProcess hub;
  /** device-hub's MQTT port, the same after a restart (the same environment). */
  private int mqttPort;
  private final long base = Instant.now().minus(Duration.ofHours(2)).toEpochMilli();

  @BeforeEach
  void start() throws Exception {
    Path dir = Path.of("target", "device-durability-it").toAbsolutePath();
    EmbeddedCassandraExtension.deleteTree(dir);
    node = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir, EmbeddedCassandraExtension.freePort(),
        EmbeddedCassandraExtension.freePort()));
    node.start();
    env = new HashMap<>(ServiceProcess.freePorts("device-hub"));
    env.put("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + node.settings().nativePort());
    env.put("DEVICE_HUB_MQTT_HOST", "127.0.0.1");
    env.put("DEVICE_HUB_CREDENTIALS_PBKDF2_ITERATIONS", "10000");
    hub = DeviceHubs.start(env);
    mqttPort = hub.port("device-hub", "mqtt.port");
    DeviceHubs.provisionCounterDevices(hub.port("device-hub", "grpc.port"), TENANT, CLIENTS, MqttDurabilityIT::device,
        PASSWORD);
  }

  @AfterEach
  void stop() throws Exception {
    if (hub != null) {
      hub.close();
    }
    node.kill();
  }

  private static String device(int c) {
    return "dev" + c;
  }

  private AckedSenders.Device paho(int c) {
    return new PahoDevice(device(c), TENANT, PASSWORD, base, () -> "tcp://127.0.0.1:" + mqttPort);
  }

  private void assertEveryAcknowledgedMessageStoredOnce(AckedSenders run) {
    try (CqlSession session = CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", node.settings().nativePort()))
        .withLocalDatacenter("datacenter1").build()) {
      StoredSequence.assertEveryAcknowledgedMessageStoredOnce(session, "iiot_device", TENANT,
          MqttDurabilityIT::device, base, run, PER_CLIENT);
      System.out.printf("MqttDurabilityIT: %d messages acknowledged and stored once each; %d resends on a new"
          + " connection (%s)%n", run.totalAcked(), run.retries(), run.failureKinds());
    }
  }

  @Test
  void killingDeviceHubLosesNoAcknowledgedMessage() throws Exception {
    AckedSenders run = AckedSenders.sendThrough(CLIENTS, PER_CLIENT, this::paho, () -> {
      hub.jvm().kill(); // SIGKILL: no drain, in-flight writes and unsent PUBACKs are cut off
      hub = DeviceHubs.start(env);
    });

    assertThat(run.retries()).as("clients had to reconnect").isGreaterThanOrEqualTo(CLIENTS);
    assertEveryAcknowledgedMessageStoredOnce(run);
  }

  @Test
  void killingTheCassandraNodeLosesNoAcknowledgedMessage() throws Exception {
    AckedSenders run = AckedSenders.sendThrough(CLIENTS, PER_CLIENT, this::paho, () -> {
      node.kill(); // SIGKILL of the node: only fsynced (batch commit log) writes survive, and only those were acked
      Thread.sleep(3000);
      node.start();
    });

    assertThat(run.retries()).as("clients were disconnected while Cassandra was down").isGreaterThan(0);
    assertEveryAcknowledgedMessageStoredOnce(run);
  }
}
