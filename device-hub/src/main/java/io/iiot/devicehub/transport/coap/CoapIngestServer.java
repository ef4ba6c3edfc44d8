package io.iiot.devicehub.transport.coap;

import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.domain.Endpoint;
import io.iiot.devicehub.ingest.RegistryCache;
import java.time.Clock;
import java.util.concurrent.ScheduledExecutorService;
import io.iiot.devicehub.ingest.DeviceAuthenticator;
import io.iiot.devicehub.ingest.TelemetryIngest;
import io.iiot.devicehub.storage.DeviceRegistry;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.elements.util.ExecutorsUtil;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CoAP on UDP (5683) and DTLS with PSK (5684), serving Hono's telemetry and event resources (commands with
 * {@code hono-ttd}), Hono's command response resource and the command Observe resource.
 */
public final class CoapIngestServer {
  private static final Logger LOG = LoggerFactory.getLogger(CoapIngestServer.class);

  static {
    CoapConfig.register();
    DtlsConfig.register();
    UdpConfig.register();
  }

  private final CoapServer server;

  public CoapIngestServer(CoapSettings settings, TelemetryIngest ingest, DeviceRegistry registry,
      DeviceAuthenticator authenticator, int maxPayloadBytes, MeterRegistry meters, CommandRouter router,
      RegistryCache cache, ScheduledExecutorService timers) {
    Configuration cfg = Configuration.createStandardWithoutFile();
    cfg.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, maxPayloadBytes);
    cfg.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.SERVER_ONLY);
    // The OS default (~200 KiB, a few hundred datagrams) overflows when a thousand devices send at once: dropped
    // requests cost each device a 2-3 s retransmission timeout.
    cfg.set(UdpConfig.UDP_RECEIVE_BUFFER_SIZE, settings.udpReceiveBufferBytes());
    cfg.set(DtlsConfig.DTLS_RECEIVE_BUFFER_SIZE, settings.udpReceiveBufferBytes());
    // Requests and responses are dropped once answered: the deduplicator keeps each exchange for EXCHANGE_LIFETIME
    // (247 s) to answer retransmissions, which needs the serialized response, not the request's payload and options.
    cfg.set(CoapConfig.USE_MESSAGE_OFFLOADING, true);
    server = new CoapServer(cfg);
    server.setExecutors(new CallerRunsProtocolStage("CoapServer"),
        ExecutorsUtil.newDefaultSecondaryScheduler("CoapServer(secondary)#"), false);
    server.addEndpoint(new CoapEndpoint.Builder().setConfiguration(cfg)
        .setInetSocketAddress(new InetSocketAddress(settings.host(), settings.port())).build());
    RegistryPskStore psk = new RegistryPskStore(registry, authenticator, meters);
    if (settings.dtlsPort() != 0) {
      DtlsConnectorConfig dtls = DtlsConnectorConfig.builder(cfg)
          .setAddress(new InetSocketAddress(settings.host(), settings.dtlsPort()))
          .setAdvancedPskStore(psk)
          .setHealthHandler(new DtlsHandshakeMetrics(meters))
          .build();
      DTLSConnector connector = new DTLSConnector(dtls);
      server.addEndpoint(new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(connector).build());
    }
    CoapCommands commands = new CoapCommands(router, timers, settings.maxTtdSeconds());
    for (String name : new String[] {"t", "telemetry"}) {
      server.add(new TelemetryResource(name, Endpoint.TELEMETRY, ingest, psk, settings, meters, commands));
    }
    for (String name : new String[] {"e", "event"}) {
      server.add(new TelemetryResource(name, Endpoint.EVENT, ingest, psk, settings, meters, commands));
    }
    CoapDevice devices = new CoapDevice(psk, cache, settings.allowUnauthenticated());
    for (String name : new String[] {"cr", "command_response"}) {
      server.add(new CommandResponseResource(name, router, devices, Clock.systemUTC()));
    }
    for (String name : new String[] {"c", "command"}) {
      server.add(new CommandObserveResource(name, router, devices));
    }
  }

  /** Binds the UDP ports. Blocking. */
  public void start() {
    server.start();
    server.getEndpoints().forEach(e -> LOG.info("CoAP listening on {}", e.getUri()));
  }

  public void stop() {
    server.destroy();
  }
}
