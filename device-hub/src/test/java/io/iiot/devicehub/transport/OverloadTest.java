package io.iiot.devicehub.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.devicehub.DeviceHubHarness;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A deliberately tiny write path (one row per statement, one statement in flight, 100 rows of queue) flooded with
 * CoAP CON requests: device-hub refuses with 5.03 + Max-Age instead of buffering, and answers 2.04 only for what it
 * stored. MQTT clients that together overfill the queue, each within its window, are slowed down (reads paused,
 * PUBACKs withheld), never refused or disconnected.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class OverloadTest {
  private static DeviceHubHarness hub;

  @BeforeAll
  static void start() throws Exception {
    CoapConfig.register();
    UdpConfig.register();
    hub = new DeviceHubHarness(Map.of("COAP_ALLOW_UNAUTHENTICATED", "true", "TELEMETRY_MAX_IN_FLIGHT", "1",
        "COAP_MAX_IN_FLIGHT", "1",
        "TELEMETRY_MAX_QUEUED_ROWS", "100", "TELEMETRY_MAX_BATCH_ROWS", "1"));
  }

  @AfterAll
  static void stop() throws Exception {
    hub.close();
  }

  @Test
  void aFloodOfConRequestsGets503WithMaxAgeAnd204OnlyForWhatWasStored() throws Exception {
    int n = 600;
    long base = Instant.now().minusSeconds(7200).toEpochMilli();
    Set<Long> changed = ConcurrentHashMap.newKeySet();
    Set<Long> unavailable = ConcurrentHashMap.newKeySet();
    Set<Integer> maxAges = ConcurrentHashMap.newKeySet();
    CountDownLatch answered = new CountDownLatch(n);
    CoapClient client = new CoapClient();
    client.setTimeout(30_000L);
    for (int i = 0; i < n; i++) {
      long ts = base + i;
      String device = List.of("sensor1", "sensor2", "sensor3").get(i % 3);
      Request put = Request.newPut();
      put.setURI("coap://127.0.0.1:" + hub.coapPort + "/t/" + hub.tenant + "/" + device);
      put.setType(CoAP.Type.CON);
      put.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_JSON);
      put.setPayload(("{\"ts\": " + ts + ", \"temperature\": 20}").getBytes(StandardCharsets.UTF_8));
      client.advanced(new CoapHandler() {
        @Override
        public void onLoad(CoapResponse r) {
          if (r.getCode() == CoAP.ResponseCode.CHANGED) {
            changed.add(ts);
          } else if (r.getCode() == CoAP.ResponseCode.SERVICE_UNAVAILABLE) {
            unavailable.add(ts);
            maxAges.add(r.getOptions().getMaxAge().intValue());
          }
          answered.countDown();
        }

        @Override
        public void onError() {
          answered.countDown();
        }
      }, put);
    }
    assertThat(answered.await(60, TimeUnit.SECONDS)).isTrue();
    client.shutdown();

    assertThat(changed.size() + unavailable.size()).isEqualTo(n);
    assertThat(unavailable).as("refused under overload").isNotEmpty();
    assertThat(maxAges).containsExactly(2);
    Set<Long> stored = ConcurrentHashMap.newKeySet();
    for (String device : List.of("sensor1", "sensor2", "sensor3")) {
      hub.stored(device, Instant.ofEpochMilli(base)).forEach(r -> stored.add(Long.parseLong(r.split(" ")[0])));
      hub.stored(device, Instant.ofEpochMilli(base + n)).forEach(r -> stored.add(Long.parseLong(r.split(" ")[0])));
    }
    assertThat(stored).containsAll(changed);
    assertThat(stored).doesNotContainAnyElementsOf(unavailable);
    assertThat(hub.counter("devicehub.messages", "transport", "coap", "qos", "1", "outcome", "overloaded",
        "endpoint", "telemetry")).isEqualTo(unavailable.size());
  }

  @Test
  void mqttClientsWithinTheirWindowAreSlowedDownNotDisconnectedWhenTogetherTheyOverfillTheQueue() throws Exception {
    // 4 clients x 10 unacknowledged (Paho's default) x 4 rows = 160 rows against a queue of 100.
    List<String> devices = List.of("sensor1", "sensor2", "sensor3", "gw1");
    int perClient = 30;
    long base = Instant.now().minusSeconds(3 * 3600).toEpochMilli();
    List<MqttAsyncClient> clients = new java.util.ArrayList<>();
    Set<String> lost = ConcurrentHashMap.newKeySet();
    Set<String> failed = ConcurrentHashMap.newKeySet();
    CountDownLatch acked = new CountDownLatch(devices.size() * perClient);
    for (String device : devices) {
      MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + hub.mqttPort, "overload-" + device,
          new MemoryPersistence());
      c.setCallback(new MqttCallback() {
        @Override
        public void connectionLost(Throwable cause) {
          lost.add(device + ": " + cause);
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {}

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {}
      });
      MqttConnectOptions o = new MqttConnectOptions();
      o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
      o.setUserName(hub.user(device));
      o.setPassword(DeviceHubHarness.PASSWORD.toCharArray());
      o.setAutomaticReconnect(false);
      o.setMaxInflight(10);
      c.connect(o).waitForCompletion(10_000);
      clients.add(c);
    }
    // Every client keeps its window full: a new PUBLISH as soon as one is acknowledged.
    List<java.util.concurrent.Semaphore> windows = devices.stream().map(d -> new java.util.concurrent.Semaphore(10))
        .toList();
    for (int k = 0; k < perClient; k++) {
      for (int c = 0; c < clients.size(); c++) {
        assertThat(windows.get(c).tryAcquire(30, TimeUnit.SECONDS)).as("window of " + devices.get(c)).isTrue();
        java.util.concurrent.Semaphore window = windows.get(c);
        String device = devices.get(c);
        String json = "{\"ts\": " + (base + k) + ", \"temperature\": 20, \"pressure\": 1.5, \"running\": true,"
            + " \"status\": \"ok\"}";
        clients.get(c).publish("t", json.getBytes(StandardCharsets.UTF_8), 1, false, null, new IMqttActionListener() {
          @Override
          public void onSuccess(IMqttToken token) {
            window.release();
            acked.countDown();
          }

          @Override
          public void onFailure(IMqttToken token, Throwable err) {
            failed.add(device + ": " + err);
            window.release();
            acked.countDown();
          }
        });
      }
    }
    assertThat(acked.await(60, TimeUnit.SECONDS)).as("every PUBLISH answered").isTrue();
    assertThat(lost).as("connections lost").isEmpty();
    assertThat(failed).as("publishes failed").isEmpty();
    for (MqttAsyncClient c : clients) {
      c.disconnect().waitForCompletion(10_000);
      c.close();
    }
    for (String device : devices) {
      long rows = java.util.stream.Stream.of(base, base + perClient)
          .map(Instant::ofEpochMilli).map(t -> t.truncatedTo(java.time.temporal.ChronoUnit.DAYS)).distinct()
          .flatMap(day -> hub.stored(device, day).stream())
          .filter(r -> {
            long ts = Long.parseLong(r.split(" ")[0]);
            return ts >= base && ts < base + perClient;
          }).count();
      assertThat(rows).as("rows of " + device).isEqualTo(perClient * 4L);
    }
    assertThat(hub.counter("devicehub.mqtt.overload.waits")).as("the queue was full at times").isPositive();
    assertThat(hub.counter("devicehub.messages", "transport", "mqtt", "qos", "1", "outcome", "overloaded")).isZero();
  }
}
