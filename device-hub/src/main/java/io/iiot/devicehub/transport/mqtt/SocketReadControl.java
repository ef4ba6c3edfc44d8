package io.iiot.devicehub.transport.mqtt;

import io.vertx.core.net.NetSocket;
import io.vertx.mqtt.MqttEndpoint;
import java.lang.reflect.Field;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops and restarts reading from an MQTT client's socket. Vert.x MQTT 4.5 has no pause/resume on the server endpoint
 * (vert-x3/vertx-mqtt#6, open since 2017), so this reaches the endpoint's socket field by reflection. If a Vert.x
 * upgrade renames that field, {@link #available()} turns false, a warning is logged once, and device-hub falls back
 * to the other two brakes it always has: withheld PUBACKs and refusing writes when the queue is full.
 */
final class SocketReadControl {
  private static final Logger LOG = LoggerFactory.getLogger(SocketReadControl.class);
  private static final Field CONN = find();

  private SocketReadControl() {}

  static boolean available() {
    return CONN != null;
  }

  static void pause(MqttEndpoint endpoint) {
    NetSocket s = socket(endpoint);
    if (s != null) {
      s.pause();
    }
  }

  static void resume(MqttEndpoint endpoint) {
    NetSocket s = socket(endpoint);
    if (s != null) {
      s.resume();
    }
  }

  private static NetSocket socket(MqttEndpoint endpoint) {
    if (CONN == null) {
      return null;
    }
    try {
      return CONN.get(endpoint) instanceof NetSocket s ? s : null;
    } catch (IllegalAccessException | IllegalArgumentException e) {
      return null;
    }
  }

  private static Field find() {
    try {
      Field f = Class.forName("io.vertx.mqtt.impl.MqttEndpointImpl").getDeclaredField("conn");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("Cannot pause MQTT sockets on this Vert.x version ({}); backpressure relies on withheld PUBACKs and"
          + " refused writes only", e.toString());
      return null;
    }
  }
}
