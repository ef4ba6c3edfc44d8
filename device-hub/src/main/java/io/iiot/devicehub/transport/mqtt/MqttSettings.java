package io.iiot.devicehub.transport.mqtt;

import io.iiot.base.config.ServiceConfig;
import java.util.Optional;

/**
 * The {@code mqtt.*} keys.
 *
 * @param tlsPort 0 disables the TLS listener
 * @param tlsCert PEM certificate chain; empty generates a self-signed certificate at start (development only)
 * @param maxMessageBytes largest MQTT packet; Vert.x closes the connection of a client sending a larger one
 * @param maxUnacked QoS 1 messages a connection may have waiting for storage before its socket is paused; also the
 *     Receive Maximum announced to MQTT 5 clients
 * @param maxConnections authenticated connections this process holds; CONNECTs beyond it are refused (3.1.1: 0x03
 *     server unavailable, 5: 0x97 quota exceeded) so a reconnect storm cannot exhaust file descriptors or heap
 */
public record MqttSettings(String host, int port, int tlsPort, Optional<String> tlsCert, Optional<String> tlsKey,
    int maxMessageBytes, int maxUnacked, int maxConnections) {

  public static MqttSettings from(ServiceConfig config) {
    MqttSettings s = new MqttSettings(
        config.string("mqtt.host"),
        config.port("mqtt.port"),
        config.integer("mqtt.tls-port", 0, 65535),
        config.optional("mqtt.tls-cert"),
        config.optional("mqtt.tls-key"),
        config.integer("mqtt.max-message-bytes", 1024, 64 * 1024 * 1024),
        config.integer("mqtt.max-unacked-per-connection", 1, 65535),
        config.integer("mqtt.max-connections", 1, 10_000_000));
    if (s.tlsCert().isPresent() != s.tlsKey().isPresent()) {
      throw new io.iiot.base.config.ConfigException(
          "Invalid configuration: mqtt.tls-cert and mqtt.tls-key must be set together (or both empty for a self-signed"
              + " development certificate)");
    }
    return s;
  }
}
