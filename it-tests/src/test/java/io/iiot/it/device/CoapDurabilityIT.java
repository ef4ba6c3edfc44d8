package io.iiot.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.support.AckedSenders;
import io.iiot.it.support.DeviceHubs;
import io.iiot.it.support.ServiceProcess;
import io.iiot.it.support.StoredSequence;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.elements.config.UdpConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The CoAP counterpart of {@link MqttDurabilityIT}: Californium clients send 20,000 CON requests (plain CoAP,
 * unauthenticated devices allowed) while device-hub or the Cassandra node is killed with SIGKILL half-way; a request
 * without a 2.04 is sent again. Every request answered 2.04 must then be in Cassandra, with its value, exactly once.
 */
class CoapDurabilityIT {
  private static final int CLIENTS = 8;
  private static final int PER_CLIENT = 2500;
  private static final String TENANT = "durable-coap";
  private static final String PASSWORD = "durable-secret";

  private EmbeddedCassandra node;
  private Map<String, String> env;
  private volatile ServiceProcess hub;
  /** device-hub's CoAP port, the same after a restart (the same environment). */
  private int coapPort;
  private final long base = Instant.now().minus(Duration.ofHours(2)).toEpochMilli();

  @BeforeEach
  void start() throws Exception {
    CoapConfig.register();
    UdpConfig.register();
    // Otherwise the default client endpoint writes Californium3.properties into the working directory.
    org.eclipse.californium.elements.config.Configuration.setStandard(
        org.eclipse.californium.elements.config.Configuration.createStandardWithoutFile());
    Path dir = Path.of("target", "device-coap-durability-it").toAbsolutePath();
    EmbeddedCassandraExtension.deleteTree(dir);
    node = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir, EmbeddedCassandraExtension.freePort(),
        EmbeddedCassandraExtension.freePort()));
    node.start();
    env = new HashMap<>(ServiceProcess.freePorts("device-hub"));
    env.put("CASSANDRA_CONTACT_POINTS", "127.0.0.1:" + node.settings().nativePort());
    env.put("DEVICE_HUB_MQTT_HOST", "127.0.0.1");
    env.put("DEVICE_HUB_CREDENTIALS_PBKDF2_ITERATIONS", "10000");
    env.put("DEVICE_HUB_COAP_ALLOW_UNAUTHENTICATED", "true");
    env.put("DEVICE_HUB_COAP_HOST", "127.0.0.1");
    hub = DeviceHubs.start(env);
    coapPort = hub.port("device-hub", "coap.port");
    DeviceHubs.provisionCounterDevices(hub.port("device-hub", "grpc.port"), TENANT, CLIENTS, CoapDurabilityIT::device,
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

  /** One device: one CON at a time; no answer (device-hub down) or 5.03 (Cassandra down) means not stored. */
  private AckedSenders.Device californium(int c) {
    return new AckedSenders.Device() {
      private CoapClient client;

      @Override
      public boolean send(int seq) throws Exception {
        if (client == null) {
          client = new CoapClient("coap://127.0.0.1:" + coapPort + "/t/" + TENANT + "/" + device(c));
          client.setTimeout(20_000L);
        }
        CoapResponse r = client.put(DeviceHubs.counterPayload(base, seq), MediaTypeRegistry.APPLICATION_JSON);
        return r != null && r.getCode() == CoAP.ResponseCode.CHANGED;
      }

      @Override
      public void drop() {
        if (client != null) {
          client.shutdown();
          client = null;
        }
      }
    };
  }

  private void assertEveryAcknowledgedMessageStoredOnce(AckedSenders run) {
    try (CqlSession session = CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", node.settings().nativePort()))
        .withLocalDatacenter("datacenter1").build()) {
      StoredSequence.assertEveryAcknowledgedMessageStoredOnce(session, "iiot_device", TENANT,
          CoapDurabilityIT::device, base, run, PER_CLIENT);
      System.out.printf("CoapDurabilityIT: %d requests answered 2.04 and stored once each; %d resends (%s)%n",
          run.totalAcked(), run.retries(), run.failureKinds());
    }
  }

  @Test
  void killingDeviceHubLosesNoConfirmedRequest() throws Exception {
    AckedSenders run = AckedSenders.sendThrough(CLIENTS, PER_CLIENT, this::californium, () -> {
      hub.jvm().kill(); // SIGKILL: no drain, in-flight writes and unsent 2.04s are cut off
      hub = DeviceHubs.start(env);
    });

    // No resend count to check here: Californium retransmits an unanswered CON itself (same message id), and the
    // restarted device-hub on the same port answers the retransmission, usually within the client's timeout.
    assertEveryAcknowledgedMessageStoredOnce(run);
  }

  @Test
  void killingTheCassandraNodeLosesNoConfirmedRequest() throws Exception {
    AckedSenders run = AckedSenders.sendThrough(CLIENTS, PER_CLIENT, this::californium, () -> {
      node.kill(); // SIGKILL of the node: only fsynced (batch commit log) writes survive, and only those were acked
      Thread.sleep(3000);
      node.start();
    });

    assertThat(run.retries()).as("requests refused while Cassandra was down").isGreaterThan(0);
    assertEveryAcknowledgedMessageStoredOnce(run);
  }
}
