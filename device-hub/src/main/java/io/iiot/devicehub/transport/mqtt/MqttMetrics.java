package io.iiot.devicehub.transport.mqtt;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * MQTT meters: {@code devicehub_messages_total{transport="mqtt",endpoint,qos,outcome}} (endpoint {@code telemetry},
 * {@code event}, {@code command_response} or {@code unknown} for a topic that names none; outcome {@code stored} or an
 * {@code IngestException.Kind} in lower case; the same tag keys as CoAP's, which Prometheus requires of one name), {@code devicehub_mqtt_connects_total{result}} and the gauge
 * {@code devicehub_mqtt_connections}, and {@code devicehub_mqtt_protocol_errors_total{kind}}: packets the MQTT codec
 * could not read ({@code malformed}) or cut because they exceed {@code mqtt.max-message-bytes} ({@code too_large});
 * either ends the connection. {@code devicehub_mqtt_overload_waits_total}: times a QoS 1 message found the write queue
 * full and waited (with its socket paused) instead of being refused.
 */
final class MqttMetrics {
  private final MeterRegistry registry;
  final AtomicInteger connections = new AtomicInteger();
  /** Message counters by "endpoint/qos/outcome": looked up once, not built and registered again for every message. */
  private final Map<String, Counter> messages = new ConcurrentHashMap<>();
  private final Counter overloadWaits;

  MqttMetrics(MeterRegistry registry) {
    this.registry = registry;
    registry.gauge("devicehub.mqtt.connections", connections);
    overloadWaits = Counter.builder("devicehub.mqtt.overload.waits")
        .description("QoS 1 messages that found the write queue full and were offered again later instead of refused")
        .register(registry);
  }

  void overloadWait() {
    overloadWaits.increment();
  }

  void message(String endpoint, int qos, String outcome) {
    String key = endpoint + "/" + qos + "/" + outcome;
    Counter c = messages.get(key);
    if (c == null) {
      c = messages.computeIfAbsent(key, k -> Counter.builder("devicehub.messages").tag("transport", "mqtt")
          .tag("endpoint", endpoint).tag("qos", Integer.toString(qos)).tag("outcome", outcome).register(registry));
    }
    c.increment();
  }

  /** Counts a decoder failure reported by Vert.x/Netty; other errors (resets, TLS) are not bad packets. */
  void protocolError(Throwable err) {
    String kind = null;
    for (Throwable e = err; e != null && kind == null; e = e.getCause()) {
      kind = e instanceof io.netty.handler.codec.TooLongFrameException ? "too_large"
          : e instanceof io.netty.handler.codec.DecoderException ? "malformed" : null;
    }
    if (kind != null) {
      Counter.builder("devicehub.mqtt.protocol.errors").tag("kind", kind).register(registry).increment();
    }
  }

  void connect(String result) {
    Counter.builder("devicehub.mqtt.connects").tag("result", result).register(registry).increment();
  }
}
