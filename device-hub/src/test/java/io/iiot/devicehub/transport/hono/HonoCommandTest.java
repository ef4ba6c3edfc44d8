package io.iiot.devicehub.transport.hono;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.Command;
import io.iiot.device.v1.CommandServiceGrpc;
import io.iiot.devicehub.DeviceHubHarness;
import io.iiot.devicehub.command.CommandClients;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.Schemas;
import io.iiot.devicehub.domain.Tenant;
import io.opentracing.noop.NoopTracerFactory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.hono.client.command.CommandResponse;
import org.eclipse.hono.client.command.Commands;
import org.eclipse.hono.client.command.kafka.KafkaBasedCommandResponseSender;
import org.eclipse.hono.client.kafka.producer.CachingKafkaProducerFactory;
import org.eclipse.hono.util.MessagingType;
import org.eclipse.hono.util.RegistrationAssertion;
import org.eclipse.hono.util.TenantObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Commands through Hono: a command sent with device-hub's gRPC SendCommand for a device of a Hono tenant is written
 * to {@code hono.command.<tenant>} in Hono's format (read back here with a plain Kafka consumer), and the response a
 * Hono protocol adapter writes with Hono's own {@link KafkaBasedCommandResponseSender} to
 * {@code hono.command_response.<tenant>} is stored with the command: GetCommand shows it ANSWERED with the device's
 * status and payload. Hono's delivery-failure notification marks a command FAILED with Hono's reason.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class HonoCommandTest {
  private static final String RUN = UUID.randomUUID().toString().substring(0, 6);

  @Test
  void commandGoesOutInHonoFormatAndHonosResponseIsStoredWithIt() throws Exception {
    KafkaBroker broker = KafkaBroker.shared();
    String tenant = "hono-cmd-" + RUN;
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      List<NewTopic> topics = new ArrayList<>();
      for (String kind : List.of("telemetry", "event", "command", "command_response")) {
        topics.add(new NewTopic("hono." + kind + "." + tenant, 3, (short) 1));
      }
      admin.createTopics(topics).all().get(30, TimeUnit.SECONDS);
    }
    Map<String, String> env = new HashMap<>(Map.of(
        "HONO_KAFKA_BOOTSTRAP_SERVERS", broker.bootstrapServers(),
        "HONO_KAFKA_GROUP_ID", "cmd-" + RUN,
        "HONO_TENANTS", tenant));
    Vertx vertx = Vertx.vertx();
    try (DeviceHubHarness hub = new DeviceHubHarness(env);
        KafkaConsumer<String, byte[]> commands = new KafkaConsumer<>(Map.of("bootstrap.servers",
            broker.bootstrapServers(), "group.id", "hono-adapter-" + RUN, "auto.offset.reset", "earliest"),
            new StringDeserializer(), new ByteArrayDeserializer())) {
      DeviceHubHarness.await(hub.devices.putTenant(new Tenant(tenant, true, Duration.ofDays(30))));
      DeviceHubHarness.await(hub.devices.putProfile(tenant, "pump", Schemas.pump()));
      for (String d : List.of("valve-1", "valve-2")) {
        DeviceHubHarness.await(hub.devices.putDevice(new Device(tenant, d, "pump", true, Set.of(), Instant.now())));
      }
      ManagedChannel channel = CommandClients.channel(hub.module.grpcPort());
      try {
        CommandServiceGrpc.CommandServiceBlockingStub api = CommandServiceGrpc.newBlockingStub(channel)
            .withDeadlineAfter(60, TimeUnit.SECONDS);
        commands.subscribe(List.of("hono.command." + tenant));

        // Request/response: returns DELIVERED once Hono's sender has the record acknowledged by Kafka.
        Command sent = api.sendCommand(CommandClients.request(tenant, "valve-1", "setValve", "{\"open\": true}",
            false, 60, 0));
        assertThat(sent.getState()).isEqualTo(Command.State.DELIVERED);
        String commandId = sent.getName().substring(sent.getName().lastIndexOf('/') + 1);
        // One-way
        Command oneWay = api.sendCommand(CommandClients.request(tenant, "valve-2", "reboot", "{}", true, 60, 0));
        assertThat(oneWay.getState()).isEqualTo(Command.State.DELIVERED);

        Map<String, ConsumerRecord<String, byte[]>> byDevice = new HashMap<>();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (byDevice.size() < 2 && System.nanoTime() < end) {
          commands.poll(java.time.Duration.ofMillis(200)).forEach(r -> byDevice.put(r.key(), r));
        }
        ConsumerRecord<String, byte[]> request = byDevice.get("valve-1");
        assertThat(request).as("request/response command on hono.command." + tenant).isNotNull();
        assertThat(new String(request.value(), StandardCharsets.UTF_8)).isEqualTo("{\"open\": true}");
        assertThat(headers(request)).containsEntry("device_id", "valve-1").containsEntry("subject", "setValve")
            .containsEntry("content-type", "application/json").containsEntry("correlation-id", commandId)
            .containsEntry("response-required", "true");
        ConsumerRecord<String, byte[]> command2 = byDevice.get("valve-2");
        assertThat(command2).as("one-way command").isNotNull();
        assertThat(headers(command2)).containsEntry("device_id", "valve-2").containsEntry("subject", "reboot")
            .doesNotContainKey("correlation-id").doesNotContainEntry("response-required", "true");

        // The device answers through its Hono adapter, which writes the response with Hono's own sender.
        KafkaBasedCommandResponseSender responder = new KafkaBasedCommandResponseSender(vertx,
            CachingKafkaProducerFactory.sharedFactory(vertx),
            HonoSenders.producerConfig(Map.of("bootstrap.servers", broker.bootstrapServers())),
            NoopTracerFactory.create());
        await(responder.start());
        // As Hono's adapters do: the request id the device saw encodes the command's correlation id; the device
        // answers with it, and the adapter turns it back into a response for Kafka.
        String requestId = Commands.encodeRequestIdParameters(headers(request).get("correlation-id"),
            MessagingType.kafka);
        CommandResponse response = CommandResponse.fromRequestId(requestId, tenant, "valve-1",
            Buffer.buffer("{\"opened\": 1}"), "application/json", 200);
        assertThat(response).as("Hono parses its own request id").isNotNull();
        await(responder.sendCommandResponse(TenantObject.from(tenant, true), new RegistrationAssertion("valve-1"),
            response, null));
        await(responder.stop());

        Command answered = awaitState(api, sent.getName(), Command.State.ANSWERED);
        assertThat(answered.getState()).isEqualTo(Command.State.ANSWERED);
        assertThat(answered.getResponse().getStatus()).isEqualTo(200);
        assertThat(answered.getResponse().getPayload().toStringUtf8()).isEqualTo("{\"opened\": 1}");
        assertThat(answered.getResponse().getContentType()).isEqualTo("application/json");
        assertThat(hub.counter("devicehub.hono.command.responses", "outcome", "answered")).isEqualTo(1);

        // Hono reports a command it could not deliver (device not connected) with its failure notification.
        Command undeliverable = api.sendCommand(CommandClients.request(tenant, "valve-2", "close", "{}", false, 60,
            0));
        String failedId = undeliverable.getName().substring(undeliverable.getName().lastIndexOf('/') + 1);
        try (KafkaProducer<String, byte[]> hono = new KafkaProducer<>(Map.of("bootstrap.servers",
            broker.bootstrapServers()), new StringSerializer(), new ByteArraySerializer())) {
          ProducerRecord<String, byte[]> r = new ProducerRecord<>("hono.command_response." + tenant, "valve-2",
              "{\"error\": \"device is not connected\"}".getBytes(StandardCharsets.UTF_8));
          r.headers().add("device_id", bytes("valve-2")).add("tenant_id", bytes(tenant))
              .add("correlation-id", bytes(failedId)).add("status", bytes("503"))
              .add("creation-time", bytes(Long.toString(System.currentTimeMillis())))
              .add("content-type", bytes(HonoCommands.DELIVERY_FAILURE));
          hono.send(r).get(10, TimeUnit.SECONDS);
        }
        Command failed = awaitState(api, undeliverable.getName(), Command.State.FAILED);
        assertThat(failed.getState()).isEqualTo(Command.State.FAILED);
        assertThat(failed.getFailure()).contains("device is not connected").contains("503");
      } finally {
        channel.shutdownNow();
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private static Command awaitState(CommandServiceGrpc.CommandServiceBlockingStub api, String name,
      Command.State state) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    Command c = CommandClients.get(api, name);
    while (c.getState() != state && System.nanoTime() < end) {
      Thread.sleep(100);
      c = CommandClients.get(api, name);
    }
    return c;
  }

  private static Map<String, String> headers(ConsumerRecord<String, byte[]> r) {
    Map<String, String> out = new HashMap<>();
    for (Header h : r.headers()) {
      out.put(h.key(), new String(h.value(), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
