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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A deliberately tiny write path (one row per statement, one statement in flight, 100 rows of queue) flooded with
 * CoAP CON requests: device-hub refuses with 5.03 + Max-Age instead of buffering, and answers 2.04 only for what it
 * stored.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class OverloadTest {
  private static DeviceHubHarness hub;

  @BeforeAll
  static void start() throws Exception {
    CoapConfig.register();
    UdpConfig.register();
    hub = new DeviceHubHarness(Map.of("COAP_ALLOW_UNAUTHENTICATED", "true", "TELEMETRY_MAX_IN_FLIGHT", "1",
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
}
