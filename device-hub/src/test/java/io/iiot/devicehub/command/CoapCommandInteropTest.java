package io.iiot.devicehub.command;

import static io.iiot.devicehub.command.CommandClients.request;
import static io.iiot.devicehub.command.CommandClients.utf8;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.Command;
import io.iiot.device.v1.CommandServiceGrpc;
import io.iiot.devicehub.DeviceHubHarness;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapObserveRelation;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Commands over CoAP with Californium's client (DTLS PSK) and Debian's coap-client: a command in the response to a
 * telemetry request carrying hono-ttd (Hono's Location-Query / Location-Path options), the answer POSTed to Hono's
 * command response resource, and commands pushed as Observe notifications.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class CoapCommandInteropTest {
  private static DeviceHubHarness hub;
  private static ManagedChannel channel;
  private static CommandServiceGrpc.CommandServiceBlockingStub api;

  @BeforeAll
  static void start() throws Exception {
    CoapConfig.register();
    DtlsConfig.register();
    UdpConfig.register();
    hub = new DeviceHubHarness(Map.of("COAP_ALLOW_UNAUTHENTICATED", "true", "MQTT_TLS_PORT", "0"));
    channel = CommandClients.channel(hub.module.grpcPort());
    api = CommandServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow();
    hub.close();
  }

  private static CoapClient dtlsClient(String device, String path) {
    Configuration cfg = Configuration.createStandardWithoutFile();
    cfg.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.CLIENT_ONLY);
    DtlsConnectorConfig dtls = DtlsConnectorConfig.builder(cfg)
        .setAddress(new InetSocketAddress("127.0.0.1", 0))
        .setAdvancedPskStore(new AdvancedSinglePskStore(hub.user(device),
            DeviceHubHarness.psk(device).getBytes(StandardCharsets.UTF_8)))
        .build();
    CoapClient client = new CoapClient("coaps://127.0.0.1:" + hub.coapDtlsPort + path);
    client.setEndpoint(new CoapEndpoint.Builder().setConfiguration(cfg).setConnector(new DTLSConnector(dtls)).build());
    client.setTimeout(20_000L);
    return client;
  }

  private static String id(Command c) {
    return c.getName().substring(c.getName().lastIndexOf('/') + 1);
  }

  @Test
  void aCommandRidesInTheResponseToATelemetryRequestWithHonoTtdAndIsAnsweredOnCommandResponse() throws Exception {
    CoapClient client = dtlsClient("sensor1", "/t?hono-ttd=10");
    try {
      Instant ts = Instant.now().minusSeconds(60);
      CompletableFuture<CoapResponse> telemetryAnswer = new CompletableFuture<>();
      Request post = Request.newPost();
      post.setURI("coaps://127.0.0.1:" + hub.coapDtlsPort + "/t?hono-ttd=10");
      post.setPayload("{\"ts\": " + ts.toEpochMilli() + ", \"temperature\": 19.5}");
      post.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_JSON);
      client.advanced(new CoapHandler() {
        @Override
        public void onLoad(CoapResponse response) {
          telemetryAnswer.complete(response);
        }

        @Override
        public void onError() {
          telemetryAnswer.completeExceptionally(new AssertionError("no answer"));
        }
      }, post);
      CommandClients.awaitReachable(hub, "sensor1");

      Command sent = api.sendCommand(request(hub.tenant, "sensor1", "setLed", "{\"led\":\"red\"}", false, 30, 0));

      CoapResponse r = telemetryAnswer.get(15, TimeUnit.SECONDS);
      assertThat(r.getCode()).isEqualTo(ResponseCode.CHANGED);
      assertThat(r.getResponseText()).isEqualTo("{\"led\":\"red\"}");
      assertThat(r.getOptions().getContentFormat()).isEqualTo(MediaTypeRegistry.APPLICATION_JSON);
      assertThat(r.getOptions().getLocationQuery()).containsExactly("hono-command=setLed");
      assertThat(r.getOptions().getLocationPath()).containsExactly("cr", id(sent));
      assertThat(sent.getState()).isEqualTo(Command.State.DELIVERED);
      assertThat(hub.stored("sensor1", ts)).contains(ts.toEpochMilli() + " temperature 19.5");

      client.setURI("coaps://127.0.0.1:" + hub.coapDtlsPort + "/cr/" + id(sent) + "?hono-cmd-status=200");
      CoapResponse ack = client.post("{\"led\":\"is red\"}", MediaTypeRegistry.APPLICATION_JSON);
      assertThat(ack.getCode()).isEqualTo(ResponseCode.CHANGED);
      Command read = CommandClients.get(api, sent.getName());
      assertThat(read.getState()).isEqualTo(Command.State.ANSWERED);
      assertThat(read.getResponse().getStatus()).isEqualTo(200);
      assertThat(read.getResponse().getContentType()).isEqualTo("application/json");
      assertThat(utf8(read.getResponse().getPayload())).isEqualTo("{\"led\":\"is red\"}");

      // Hono's long resource name also works; an unknown req-id and a missing status are refused.
      client.setURI("coaps://127.0.0.1:" + hub.coapDtlsPort + "/command_response/00000000000000000000"
          + "?hono-cmd-status=200");
      assertThat(client.post("", MediaTypeRegistry.TEXT_PLAIN).getCode()).isEqualTo(ResponseCode.NOT_FOUND);
      client.setURI("coaps://127.0.0.1:" + hub.coapDtlsPort + "/cr/" + id(sent));
      assertThat(client.post("", MediaTypeRegistry.TEXT_PLAIN).getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
    } finally {
      client.shutdown();
    }
  }

  @Test
  void observingTheCommandResourceDeliversCommandsAsNotifications() throws Exception {
    CoapClient client = dtlsClient("sensor2", "/command");
    LinkedBlockingQueue<CoapResponse> notes = new LinkedBlockingQueue<>();
    CoapObserveRelation relation = client.observeAndWait(new CoapHandler() {
      @Override
      public void onLoad(CoapResponse response) {
        notes.add(response);
      }

      @Override
      public void onError() {
      }
    });
    try {
      assertThat(relation.isCanceled()).isFalse();
      CommandClients.awaitReachable(hub, "sensor2");
      notes.poll(5, TimeUnit.SECONDS); // the registration's own (empty) 2.05

      Command oneWay = api.sendCommand(request(hub.tenant, "sensor2", "blink", "3", true, 30, 0));
      CoapResponse first = notes.poll(10, TimeUnit.SECONDS);
      assertThat(first).isNotNull();
      assertThat(first.getCode()).isEqualTo(ResponseCode.CONTENT);
      assertThat(first.getResponseText()).isEqualTo("3");
      assertThat(first.getOptions().getLocationQuery()).containsExactly("hono-command=blink");
      assertThat(first.getOptions().getLocationPath()).isEmpty();
      assertThat(oneWay.getState()).isEqualTo(Command.State.DELIVERED);

      // A request/response command answered on command_response while SendCommand waits for it.
      CompletableFuture<Command> waiting = CompletableFuture.supplyAsync(() ->
          api.sendCommand(request(hub.tenant, "sensor2", "readConfig", "{}", false, 30, 20)));
      CoapResponse second = notes.poll(10, TimeUnit.SECONDS);
      assertThat(second).isNotNull();
      assertThat(second.getOptions().getLocationQuery()).containsExactly("hono-command=readConfig");
      List<String> location = second.getOptions().getLocationPath();
      assertThat(location).hasSize(2).first().isEqualTo("command_response");
      CoapClient answer = dtlsClient("sensor2", "/command_response/" + location.get(1) + "?hono-cmd-status=200");
      try {
        assertThat(answer.post("{\"interval\":5}", MediaTypeRegistry.APPLICATION_JSON).getCode())
            .isEqualTo(ResponseCode.CHANGED);
      } finally {
        answer.shutdown();
      }
      Command answered = waiting.get(20, TimeUnit.SECONDS);
      assertThat(answered.getState()).isEqualTo(Command.State.ANSWERED);
      assertThat(utf8(answered.getResponse().getPayload())).isEqualTo("{\"interval\":5}");
    } finally {
      relation.proactiveCancel();
      client.shutdown();
    }
  }

  @Test
  void debiansCoapClientGetsACommandInTheResponseToItsTtdRequest() throws Exception {
    Instant ts = Instant.now().minusSeconds(120);
    Process p = new ProcessBuilder("coap-client-notls", "-m", "put", "-t", "50", "-B", "20",
        "-e", "{\"ts\": " + ts.toEpochMilli() + ", \"pressure\": 2.5}",
        "coap://127.0.0.1:" + hub.coapPort + "/telemetry/" + hub.tenant + "/sensor3?hono-ttd=15")
        .redirectErrorStream(true).start();
    try {
      CommandClients.awaitReachable(hub, "sensor3");

      Command sent = api.sendCommand(request(hub.tenant, "sensor3", "stop", "{\"now\":true}", true, 30, 0));

      assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(out).contains("{\"now\":true}");
      assertThat(sent.getState()).isEqualTo(Command.State.DELIVERED);
      assertThat(hub.stored("sensor3", ts)).contains(ts.toEpochMilli() + " pressure 2.5");
    } finally {
      p.destroy();
    }
  }
}
