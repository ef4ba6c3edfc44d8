package io.iiot.devicehub.transport.coap;

import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.server.resources.CoapExchange;

/**
 * A response addressed to the source of its request before it is handed to Californium. {@code CoapExchange.respond}
 * would address it through {@code Message.setDestinationContext}, which checks the peer against the host's broadcast
 * addresses in {@code NetworkInterfacesUtil}, a {@code synchronized static} method: one global lock taken by every
 * response, from whichever thread completes the durable write (the profile of the benchmark's CoAP pass showed it
 * contended). A request's source address is never a broadcast address, so nothing is lost by skipping that check.
 */
final class PeerResponse extends Response {

  PeerResponse(CoapExchange exchange, ResponseCode code) {
    super(code);
    setRequestDestinationContext(exchange.advanced().getCurrentRequest().getSourceContext());
  }
}
