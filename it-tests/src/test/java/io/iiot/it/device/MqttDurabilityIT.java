package io.iiot.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.BatchCreateDevicesRequest;
import io.iiot.device.v1.CreateDeviceRequest;
import io.iiot.device.v1.Credential;
import io.iiot.device.v1.Device;
import io.iiot.device.v1.DeviceProfile;
import io.iiot.device.v1.DeviceServiceGrpc;
import io.iiot.device.v1.Metric;
import io.iiot.device.v1.PutDeviceProfileRequest;
import io.iiot.device.v1.PutTenantRequest;
import io.iiot.device.v1.Tenant;
import io.iiot.it.support.Http;
import io.iiot.it.support.ServiceProcess;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
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
  private ServiceProcess hub;
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
    hub = startHub();
    provision();
  }

  @AfterEach
  void stop() throws Exception {
    if (hub != null) {
      hub.close();
    }
    node.kill();
  }

  private ServiceProcess startHub() throws Exception {
    ServiceProcess p = ServiceProcess.start("device-hub", env);
    Http.await("http://127.0.0.1:" + p.port("device-hub", "http.port") + "/health/ready", s -> s == 200,
        Duration.ofSeconds(120));
    // Readiness turns 200 once Cassandra answers, which can be before the module's listeners are bound.
    for (String key : List.of("grpc.port", "mqtt.port")) {
      int port = p.port("device-hub", key);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!EmbeddedCassandra.portOpen(port)) {
        assertThat(System.nanoTime()).as("device-hub %s %d listening", key, port).isLessThan(end);
        Thread.sleep(100);
      }
    }
    return p;
  }

  private int mqttPort() throws Exception {
    return hub.port("device-hub", "mqtt.port");
  }

  private void provision() throws Exception {
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", hub.port("device-hub", "grpc.port"))
        .usePlaintext().build();
    try {
      var api = DeviceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
      api.putTenant(PutTenantRequest.newBuilder().setTenant(Tenant.newBuilder().setName("tenants/" + TENANT)
          .setEnabled(true)).build());
      api.putDeviceProfile(PutDeviceProfileRequest.newBuilder().setProfile(DeviceProfile.newBuilder()
          .setName("tenants/" + TENANT + "/profiles/counter").addMetrics(Metric.newBuilder().setName("seq").setId(1)
              .setType(Metric.Type.NUMBER).setMin(0).setMax(1_000_000))).build());
      BatchCreateDevicesRequest.Builder batch = BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + TENANT);
      for (int c = 0; c < CLIENTS; c++) {
        batch.addRequests(CreateDeviceRequest.newBuilder().setDeviceId("dev" + c)
            .setDevice(Device.newBuilder().setProfile("counter").setEnabled(true))
            .addCredentials(Credential.newBuilder().setPassword(PASSWORD)));
      }
      api.batchCreateDevices(batch.build());
    } finally {
      channel.shutdownNow();
    }
  }

  /** One device: publishes its messages in order, one at a time; on any failure reconnects and resends. */
  private Runnable publisher(int c, Map<Integer, Boolean> acked, AtomicInteger total, AtomicInteger reconnects) {
    return () -> {
      MqttClient client = null;
      int i = 0;
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(8);
      while (i < PER_CLIENT && System.nanoTime() < deadline) {
        try {
          if (client == null || !client.isConnected()) {
            if (client != null) {
              reconnects.incrementAndGet();
              discard(client);
              client = null;
            }
            client = connect("dev" + c);
          }
          String payload = "{\"ts\": " + (base + i) + ", \"seq\": " + i + "}";
          client.publish("telemetry", payload.getBytes(StandardCharsets.UTF_8), 1, false);
          acked.put(i, true); // publish returned: the PUBACK arrived
          total.incrementAndGet();
          i++;
        } catch (Exception e) {
          // Not acknowledged: the same message goes again, on a new connection (a connection that timed out waiting
          // for a PUBACK may still hold Paho's in-flight slots).
          if (client != null) {
            reconnects.incrementAndGet();
            discard(client);
            client = null;
          }
          sleep(200);
        }
      }
      if (client != null) {
        discard(client);
      }
    };
  }

  /** Drops a client whatever state Paho thinks it is in (a failed connect can leave it refusing close()). */
  private static void discard(MqttClient client) {
    try {
      client.disconnectForcibly(0, 1000);
    } catch (MqttException | RuntimeException ignored) {
      // already down
    }
    try {
      client.close(true);
    } catch (MqttException | RuntimeException ignored) {
      // nothing more to release
    }
  }

  private MqttClient connect(String device) throws Exception {
    MqttClient client = new MqttClient("tcp://127.0.0.1:" + mqttPort(), device, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setUserName(device + "@" + TENANT);
    o.setPassword(PASSWORD.toCharArray());
    o.setCleanSession(true);
    o.setConnectionTimeout(10);
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    client.setTimeToWait(15_000);
    client.connect(o);
    return client;
  }

  private record Run(List<Map<Integer, Boolean>> acked, int reconnects) {}

  /** Publishes everything, calling {@code crash} once 40 % is acknowledged. */
  private Run publishThrough(CrashAction crash) throws Exception {
    List<Map<Integer, Boolean>> acked = new ArrayList<>();
    AtomicInteger total = new AtomicInteger();
    AtomicInteger reconnects = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(CLIENTS);
    List<Future<?>> done = new ArrayList<>();
    for (int c = 0; c < CLIENTS; c++) {
      Map<Integer, Boolean> mine = new ConcurrentHashMap<>();
      acked.add(mine);
      done.add(pool.submit(publisher(c, mine, total, reconnects)));
    }
    while (total.get() < CLIENTS * PER_CLIENT * 4 / 10) {
      Thread.sleep(20);
    }
    crash.run();
    for (Future<?> f : done) {
      f.get(10, TimeUnit.MINUTES);
    }
    pool.shutdown();
    return new Run(acked, reconnects.get());
  }

  interface CrashAction {
    void run() throws Exception;
  }

  private void assertEveryAcknowledgedMessageStoredOnce(Run run) {
    try (CqlSession session = CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", node.settings().nativePort()))
        .withLocalDatacenter("datacenter1").build()) {
      int acknowledged = 0;
      for (int c = 0; c < CLIENTS; c++) {
        Map<Long, Double> stored = new HashMap<>();
        for (long day = LocalDate.ofInstant(Instant.ofEpochMilli(base), ZoneOffset.UTC).toEpochDay();
            day <= LocalDate.ofInstant(Instant.ofEpochMilli(base + PER_CLIENT), ZoneOffset.UTC).toEpochDay(); day++) {
          for (Row r : session.execute("SELECT ts, value_double FROM iiot_device.telemetry WHERE tenant = ? AND"
              + " device_id = ? AND day = ?", TENANT, "dev" + c,
              LocalDate.ofEpochDay(day))) {
            assertThat(stored.put(r.getInstant("ts").toEpochMilli(), r.getDouble("value_double")))
                .as("one row per message").isNull();
          }
        }
        Map<Integer, Boolean> acked = run.acked().get(c);
        acknowledged += acked.size();
        for (int i : acked.keySet()) {
          assertThat(stored.get(base + i)).as("dev%d message %d acknowledged but not stored", c, i)
              .isEqualTo((double) i);
        }
        assertThat(acked).as("dev%d finished", c).hasSize(PER_CLIENT);
      }
      assertThat(acknowledged).isEqualTo(CLIENTS * PER_CLIENT);
      System.out.printf("MqttDurabilityIT: %d messages acknowledged and stored once each; %d client reconnects%n",
          acknowledged, run.reconnects());
    }
  }

  @Test
  void killingDeviceHubLosesNoAcknowledgedMessage() throws Exception {
    Run run = publishThrough(() -> {
      hub.jvm().kill(); // SIGKILL: no drain, in-flight writes and unsent PUBACKs are cut off
      hub = startHub();
    });

    assertThat(run.reconnects()).as("clients had to reconnect").isGreaterThanOrEqualTo(CLIENTS);
    assertEveryAcknowledgedMessageStoredOnce(run);
  }

  @Test
  void killingTheCassandraNodeLosesNoAcknowledgedMessage() throws Exception {
    Run run = publishThrough(() -> {
      node.kill(); // SIGKILL of the node: only fsynced (batch commit log) writes survive, and only those were acked
      Thread.sleep(3000);
      node.start();
    });

    assertThat(run.reconnects()).as("clients were disconnected while Cassandra was down").isGreaterThan(0);
    assertEveryAcknowledgedMessageStoredOnce(run);
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
