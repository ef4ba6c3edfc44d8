package io.iiot.it.support;

import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;

/**
 * A device publishing its counter messages with QoS 1 through Eclipse Paho (MQTT 3.1.1, clean session): a publish
 * returns only once the PUBACK arrived. Each new connection asks {@code serverUri} where to connect, so a device can
 * move to another device-hub replica when its own one dies.
 */
public final class PahoDevice implements AckedSenders.Device {
  private final String deviceId;
  private final String username;
  private final String password;
  private final long base;
  private final Supplier<String> serverUri;
  private MqttClient client;

  public PahoDevice(String deviceId, String tenant, String password, long base, Supplier<String> serverUri) {
    this.deviceId = deviceId;
    this.username = deviceId + "@" + tenant;
    this.password = password;
    this.base = base;
    this.serverUri = serverUri;
  }

  @Override
  public boolean send(int seq) throws Exception {
    if (client == null || !client.isConnected()) {
      drop();
      client = connect();
    }
    client.publish("telemetry", DeviceHubs.counterPayload(base, seq).getBytes(StandardCharsets.UTF_8), 1, false);
    return true; // publish returned: the PUBACK arrived
  }

  private MqttClient connect() throws MqttException {
    MqttClient c = new MqttClient(serverUri.get(), deviceId, new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setUserName(username);
    o.setPassword(password.toCharArray());
    o.setCleanSession(true);
    o.setConnectionTimeout(10);
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    c.setTimeToWait(15_000);
    try {
      c.connect(o);
    } catch (MqttException e) {
      discard(c);
      throw e;
    }
    return c;
  }

  @Override
  public void drop() {
    if (client != null) {
      discard(client);
      client = null;
    }
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
}
