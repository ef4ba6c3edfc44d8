package io.iiot.devicehub;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Row;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.ops.Metrics;
import io.iiot.base.ops.OpsHttpServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.PasswordHasher;
import io.iiot.devicehub.domain.Schemas;
import io.iiot.devicehub.domain.Tenant;
import io.iiot.devicehub.storage.DeviceRegistry;
import io.iiot.devicehub.storage.TestKeyspace;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * device-hub started in-process as the runtime would start it (config from device-hub.yaml with free ports, the
 * shared embedded Cassandra node), plus a fresh tenant with a pump profile and devices to publish as.
 */
public final class DeviceHubHarness implements AutoCloseable {
  public static final String PASSWORD = "pw-0815";
  public final String tenant = "t" + UUID.randomUUID().toString().substring(0, 8);
  public final CqlSession session = TestKeyspace.session();
  public final PrometheusMeterRegistry registry = Metrics.newRegistry("device-hub");
  public final Vertx vertx = Vertx.vertx(Metrics.vertxOptions(registry));
  public final DeviceRegistry devices = new DeviceRegistry(session, TestKeyspace.NAME);
  public final DeviceHubModule module;
  /** The ops HTTP server (/health/ready, /metrics), not listening unless a test calls {@code listen}. */
  public final OpsHttpServer ops;
  public final int mqttPort = EmbeddedCassandraExtension.freePort();
  public final int mqttTlsPort = EmbeddedCassandraExtension.freePort();
  public final int coapPort = EmbeddedCassandraExtension.freePort();
  public final int coapDtlsPort = EmbeddedCassandraExtension.freePort();

  public DeviceHubHarness(Map<String, String> extraEnv) throws Exception {
    Map<String, String> env = new HashMap<>();
    env.put("CASSANDRA_CONTACT_POINTS", EmbeddedCassandraExtension.contactPoint());
    env.put("CASSANDRA_KEYSPACE", TestKeyspace.NAME);
    env.put("HTTP_PORT", Integer.toString(EmbeddedCassandraExtension.freePort()));
    env.put("GRPC_HOST", "127.0.0.1");
    env.put("GRPC_PORT", Integer.toString(EmbeddedCassandraExtension.freePort()));
    env.put("MQTT_HOST", "127.0.0.1");
    env.put("MQTT_PORT", Integer.toString(mqttPort));
    env.put("MQTT_TLS_PORT", Integer.toString(mqttTlsPort));
    env.put("COAP_HOST", "127.0.0.1");
    env.put("COAP_PORT", Integer.toString(coapPort));
    env.put("COAP_DTLS_PORT", Integer.toString(coapDtlsPort));
    env.putAll(extraEnv);
    ServiceConfig config = ServiceConfig.load("device-hub", env);
    module = new DeviceHubModule(config);
    ops = new OpsHttpServer(vertx, registry);
    module.start(new ServiceContext(vertx, config, session, registry, ops))
        .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    PasswordHasher hasher = new PasswordHasher(1000);
    await(devices.putTenant(new Tenant(tenant, true, Duration.ofDays(365))));
    await(devices.putProfile(tenant, "pump", Schemas.pump()));
    for (String id : List.of("sensor1", "sensor2", "sensor3", "gw1")) {
      // sensor2 lets gw1 act for it; sensor3 does not.
      Set<String> via = id.equals("sensor2") ? Set.of("gw1") : Set.of();
      await(devices.putDevice(new Device(tenant, id, "pump", true, via, Instant.now())));
      await(devices.putPassword(tenant, id, id, hasher.hash(PASSWORD)));
      await(devices.putPsk(tenant, id, id, psk(id).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
  }

  public DeviceHubHarness() throws Exception {
    this(Map.of());
  }

  /** The DTLS pre-shared key of a test device. */
  public static String psk(String device) {
    return "key-of-" + device;
  }

  /**
   * A Paho MQTT 3.1.1 client connected to this hub as {@code device} with {@link #PASSWORD}, without automatic
   * reconnect (a refused connect surfaces as the {@link MqttException}).
   */
  public MqttClient pahoV3(String device, String clientId) throws MqttException {
    MqttClient c = new MqttClient("tcp://127.0.0.1:" + mqttPort, clientId, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o.setUserName(user(device));
    o.setPassword(PASSWORD.toCharArray());
    o.setAutomaticReconnect(false);
    c.connect(o);
    return c;
  }

  public String user(String device) {
    return device + "@" + tenant;
  }

  public static <T> T await(java.util.concurrent.CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  /** Rows of a device on the UTC day of {@code day}, as "ts metric value". */
  public List<String> stored(String device, Instant day) {
    List<Row> rows = session.execute("SELECT ts, metric, value_double, value_text FROM telemetry WHERE tenant = ?"
        + " AND device_id = ? AND day = ?", tenant, device, LocalDate.ofInstant(day, ZoneOffset.UTC)).all();
    return rows.stream().map(r -> r.getInstant("ts").toEpochMilli() + " " + r.getString("metric") + " "
        + (r.isNull("value_double") ? r.getString("value_text") : r.getDouble("value_double"))).toList();
  }

  /** Polls until {@code device} has {@code n} rows on the day of {@code day}, or 10 s passed. */
  public List<String> awaitStored(String device, Instant day, int n) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> rows = stored(device, day);
    while (rows.size() < n && System.nanoTime() < end) {
      Thread.sleep(50);
      rows = stored(device, day);
    }
    return rows;
  }

  public double counter(String name, String... tags) {
    var c = registry.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  /**
   * Polls until the counter reaches {@code n}, or 60 s passed, and returns its value then. A message is counted when
   * its write completes in device-hub, which can be just after its row is already readable.
   */
  public double awaitCounter(double n, String name, String... tags) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (counter(name, tags) < n && System.nanoTime() < end) {
      Thread.sleep(50);
    }
    return counter(name, tags);
  }

  @Override
  public void close() throws Exception {
    module.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
