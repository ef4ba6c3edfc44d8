package io.iiot.devicehub.command;

import io.iiot.devicehub.domain.Command;
import java.util.concurrent.CompletionStage;

/**
 * One way to reach a device connected to this replica: an MQTT connection subscribed to its command topic, a CoAP
 * request waiting with {@code hono-ttd}, a CoAP Observe on the command resource. Attached with
 * {@link LocalDevices#attach} while it can take commands.
 */
public interface DeviceChannel {
  /** {@code mqtt}, {@code coap-ttd}, {@code coap-observe}: stored in the connection registry, for operators. */
  String transport();

  /**
   * Sends the command to the device. Must not block; hops to the connection's own thread. Completes once the
   * command left (QoS 0, CoAP) or was acknowledged (MQTT QoS 1); fails with a {@link CommandDeliveryException}
   * (NOT_CONNECTED) if the channel is gone.
   */
  CompletionStage<Void> deliver(Command command);

  /**
   * Whether this is a gateway's channel for every device that names the gateway in its {@code via} (MQTT
   * {@code command//+/req/#}); such a channel is attached under the gateway's own id.
   */
  default boolean forGatewayDevices() {
    return false;
  }
}
