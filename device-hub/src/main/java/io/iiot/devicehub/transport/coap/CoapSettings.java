package io.iiot.devicehub.transport.coap;

import io.iiot.base.config.ServiceConfig;

/**
 * The {@code coap.*} keys.
 *
 * @param dtlsPort 0 turns DTLS off
 * @param allowUnauthenticated whether plain CoAP may PUT to {@code /t/<tenant>/<device>} without credentials (Hono's
 *     unauthenticated devices); off by default, since anyone who can reach the port can then write for any device
 * @param overloadMaxAgeSeconds Max-Age sent with 5.03 when the writer is saturated: when to try again
 * @param maxTtdSeconds the longest {@code hono-ttd} a device may wait for a command with
 * @param udpReceiveBufferBytes the socket receive buffer of the CoAP and DTLS ports (the kernel caps it at
 *     net.core.rmem_max)
 * @param maxInFlight requests of CoAP's own write queue in flight at once ({@code coap.max-in-flight})
 */
public record CoapSettings(String host, int port, int dtlsPort, boolean allowUnauthenticated,
    int overloadMaxAgeSeconds, int maxTtdSeconds, int udpReceiveBufferBytes, int maxInFlight) {

  public static CoapSettings from(ServiceConfig config) {
    return new CoapSettings(
        config.string("coap.host"),
        config.port("coap.port"),
        config.integer("coap.dtls-port", 0, 65535),
        config.bool("coap.allow-unauthenticated"),
        config.integer("coap.overload-max-age-seconds", 1, 3600),
        config.integer("coap.max-ttd-seconds", 1, 3600),
        config.integer("coap.udp-receive-buffer-bytes", 65536, 64 * 1024 * 1024),
        config.integer("coap.max-in-flight", 1, 4096));
  }
}
