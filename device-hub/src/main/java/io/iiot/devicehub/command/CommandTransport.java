package io.iiot.devicehub.command;

import io.iiot.devicehub.domain.Command;
import java.util.concurrent.CompletionStage;

/**
 * A path to devices that is not one of device-hub's own connections, for example Eclipse Hono's command sender for
 * devices connected to a Hono adapter. Registered with {@link CommandRouter#addTransport(CommandTransport)}.
 *
 * <p>For every command the router asks the registered transports, in registration order, whether one
 * {@link #handles(String) handles the device's tenant}; the first that does gets the command, on whichever replica
 * the command was sent to (no device connection registry, no forwarding between replicas). Otherwise the command goes
 * to the replica the device is connected to over MQTT or CoAP.
 *
 * <p>The router has already stored the command (status SENT) when it calls {@link #deliver}; it records DELIVERED
 * when the returned stage completes and FAILED (with the message) when it fails. The transport reports the device's
 * answer to a request/response command through {@link CommandResponses#answer} with {@link Command#id()} — use that id
 * as the correlation id towards the device (Hono: {@code sendAsyncCommand(..., correlationId = command.id(), ...)}), or
 * call {@code answer} from the completion of Hono's {@code sendCommand} future. A command with no answer by
 * {@link Command#expiresAt()} is marked TIMED_OUT by the router; the transport need not time anything out.
 */
public interface CommandTransport {
  /** Short name for logs and metrics, e.g. {@code hono}. */
  String name();

  /** Whether this transport carries the commands of devices of {@code tenant}. Cheap, no I/O. */
  boolean handles(String tenant);

  /**
   * Hands the command over. Must not block (it may be called on an event loop or a gRPC thread). Completes when the
   * command was accepted by the path to the device; fails with a {@link CommandDeliveryException} saying why not
   * (device not connected, path unavailable, rejected), which becomes the gRPC status the sender sees.
   *
   * @param responses where to report the device's answer (request/response commands), any time before expiry
   */
  CompletionStage<Void> deliver(io.iiot.devicehub.domain.Command command, CommandResponses responses);
}
