package io.iiot.devicehub.transport.hono;

import io.iiot.devicehub.command.CommandDeliveryException;
import io.iiot.devicehub.command.CommandResponses;
import io.iiot.devicehub.command.CommandTransport;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.CommandResponse;
import io.iiot.devicehub.domain.CommandState;
import io.iiot.devicehub.domain.DeviceRef;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentracing.noop.NoopTracerFactory;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.eclipse.hono.application.client.kafka.impl.KafkaBasedCommandSender;
import org.eclipse.hono.application.client.kafka.impl.KafkaDownstreamMessage;
import org.eclipse.hono.client.ClientErrorException;
import org.eclipse.hono.client.kafka.CommonKafkaClientConfigProperties;
import org.eclipse.hono.client.kafka.consumer.AsyncHandlingAutoCommitKafkaConsumer;
import org.eclipse.hono.client.kafka.consumer.MessagingKafkaConsumerConfigProperties;
import org.eclipse.hono.client.kafka.producer.CachingKafkaProducerFactory;
import org.eclipse.hono.client.kafka.producer.MessagingKafkaProducerConfigProperties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Commands for devices connected to a Hono adapter: the {@link CommandTransport} for the tenants in
 * {@code hono.tenants}.
 *
 * <pre>
 * CommandRouter ─deliver─► Hono's KafkaBasedCommandSender ─► hono.command.&lt;tenant&gt; (key device id; headers
 *                          device_id, subject, content-type, correlation-id = command id, response-required)
 * hono.command_response.&lt;tenant&gt; ─► Hono's AsyncHandlingAutoCommitKafkaConsumer ─► KafkaDownstreamMessage
 *     (device_id, correlation-id, status, content-type) ─► CommandResponses.answer / failed ─► offset committed
 * </pre>
 *
 * Request/response commands go out with {@code sendAsyncCommand} and device-hub's command id as Hono's correlation
 * id, not with Hono's {@code sendCommand}: that one waits for the response in this process's memory, so a response
 * arriving after a restart, or at another replica, would be lost. Here every replica's consumer (one group,
 * {@code <hono.kafka.group-id>.command-responses}) stores whatever response it reads, and commits its offset only
 * after the command's state is stored. Hono's delivery-failure notifications
 * ({@value #DELIVERY_FAILURE}, e.g. the device is not connected) mark the command FAILED with Hono's error text.
 */
public final class HonoCommands implements CommandTransport {
  static final String DELIVERY_FAILURE = "application/vnd.eclipse-hono-delivery-failure-notification+json";
  static final String RESPONSE_PREFIX = "hono.command_response.";
  private static final Logger LOG = LoggerFactory.getLogger(HonoCommands.class);
  private static final long RETRY_MS = 1_000;

  /** The {@code outcome} tag of {@code devicehub.hono.command.responses}. */
  enum Outcome { ANSWERED, FAILED, UNKNOWN_COMMAND, MALFORMED }

  private final Vertx vertx;
  private final HonoSettings settings;
  private final CommandResponses responses;
  private final Set<String> tenants;
  private final KafkaBasedCommandSender sender;
  private final Map<Outcome, Counter> outcomes = new EnumMap<>(Outcome.class);
  private final Counter sent;
  private final Counter sendFailures;
  private volatile AsyncHandlingAutoCommitKafkaConsumer<Buffer> consumer;
  private volatile boolean stopping;

  HonoCommands(Vertx vertx, HonoSettings settings, CommandResponses responses, MeterRegistry registry) {
    this.vertx = vertx;
    this.settings = settings;
    this.responses = responses;
    this.tenants = Set.copyOf(settings.tenants());
    CommonKafkaClientConfigProperties common = new CommonKafkaClientConfigProperties();
    common.setCommonClientConfig(settings.commonClientConfig());
    MessagingKafkaProducerConfigProperties producerConfig = new MessagingKafkaProducerConfigProperties();
    producerConfig.setCommonClientConfig(common);
    // Only used by Hono's sendCommand (waiting in memory), which device-hub does not call; the sender needs it.
    MessagingKafkaConsumerConfigProperties consumerConfig = new MessagingKafkaConsumerConfigProperties();
    consumerConfig.setCommonClientConfig(common);
    this.sender = new KafkaBasedCommandSender(vertx, consumerConfig, CachingKafkaProducerFactory.sharedFactory(vertx),
        producerConfig, NoopTracerFactory.create());
    for (Outcome o : Outcome.values()) {
      outcomes.put(o, Counter.builder("devicehub.hono.command.responses").tag("outcome", o.name().toLowerCase())
          .description("Command responses read from Hono's command_response topics, by what became of them")
          .register(registry));
    }
    sent = Counter.builder("devicehub.hono.commands.sent").tag("result", "sent")
        .description("Commands written to Hono's command topics").register(registry);
    sendFailures = Counter.builder("devicehub.hono.commands.sent").tag("result", "failed")
        .description("Commands written to Hono's command topics").register(registry);
  }

  @Override
  public String name() {
    return "hono";
  }

  @Override
  public boolean handles(String tenant) {
    return tenants.contains(tenant);
  }

  @Override
  public CompletionStage<Void> deliver(Command command, CommandResponses ignored) {
    DeviceRef device = command.device();
    Buffer payload = Buffer.buffer(command.payload());
    String contentType = command.contentType().isEmpty() ? null : command.contentType();
    Future<Void> out;
    try {
      out = command.responseRequired()
          ? sender.sendAsyncCommand(device.tenant(), device.deviceId(), command.name(), command.id(), payload,
              contentType, Map.of(), null)
          : sender.sendOneWayCommand(device.tenant(), device.deviceId(), command.name(), payload, contentType, null);
    } catch (RuntimeException e) {
      out = Future.failedFuture(e);
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    out.onSuccess(v -> {
      sent.increment();
      done.complete(null);
    }).onFailure(err -> {
      sendFailures.increment();
      // Hono answers 4xx for what it refuses and 503 when Kafka did not take the record in time.
      CommandDeliveryException.Kind kind = err instanceof ClientErrorException
          ? CommandDeliveryException.Kind.REJECTED : CommandDeliveryException.Kind.UNAVAILABLE;
      done.completeExceptionally(new CommandDeliveryException(kind, "Hono command topic hono.command."
          + device.tenant() + ": " + err.getMessage()));
    });
    return done;
  }

  /** Starts Hono's sender and the response consumer (in the background; a failed start is retried). */
  Future<Void> start() {
    Future<Void> started = sender.start();
    startConsumer();
    return started;
  }

  Future<Void> stop() {
    stopping = true;
    AsyncHandlingAutoCommitKafkaConsumer<Buffer> c = consumer;
    Future<Void> consumerStopped = c == null ? Future.succeededFuture() : c.stop().recover(e -> Future.succeededFuture());
    return Future.join(consumerStopped, sender.stop().recover(e -> Future.succeededFuture())).mapEmpty();
  }

  private void startConsumer() {
    if (stopping) {
      return;
    }
    Set<String> topics = new LinkedHashSet<>();
    settings.tenants().forEach(t -> topics.add(RESPONSE_PREFIX + t));
    Map<String, String> config = new HashMap<>(settings.commonClientConfig());
    config.put("group.id", settings.groupId() + ".command-responses");
    config.put("client.id", "iiot-device-hub-hono-command-responses");
    config.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    config.put("value.deserializer", "io.vertx.kafka.client.serialization.BufferDeserializer");
    // A response written before our group's first start may still be for a command of ours.
    config.put("auto.offset.reset", "earliest");
    config.put("auto.commit.interval.ms", Long.toString(settings.commitInterval().toMillis()));
    AsyncHandlingAutoCommitKafkaConsumer<Buffer> c = new AsyncHandlingAutoCommitKafkaConsumer<>(vertx, topics,
        this::handle, config);
    consumer = c;
    c.start().onFailure(err -> {
      LOG.error("Hono command responses: could not join group {} at {} ({}); retrying in 5 s",
          config.get("group.id"), settings.bootstrapServers(), err.getMessage());
      c.stop();
      vertx.setTimer(5_000, id -> startConsumer());
    });
  }

  /** One response record; the future completes once what it says is stored (then its offset may be committed). */
  Future<Void> handle(KafkaConsumerRecord<String, Buffer> record) {
    Promise<Void> done = Promise.promise();
    attempt(record, done);
    return done.future();
  }

  private void attempt(KafkaConsumerRecord<String, Buffer> record, Promise<Void> done) {
    CompletionStage<Outcome> outcome;
    try {
      outcome = store(record);
    } catch (RuntimeException e) {
      outcome = CompletableFuture.failedFuture(e);
    }
    outcome.whenComplete((o, err) -> {
      if (err == null) {
        outcomes.get(o).increment();
        done.complete();
      } else if (stopping) {
        LOG.info("Hono command response {}/{}@{} left uncommitted at stop", record.topic(), record.partition(),
            record.offset());
      } else {
        LOG.warn("Hono command response {}/{}@{} not stored yet, retrying in {} ms: {}", record.topic(),
            record.partition(), record.offset(), RETRY_MS, err.toString());
        vertx.setTimer(RETRY_MS, id -> attempt(record, done));
      }
    });
  }

  private CompletionStage<Outcome> store(KafkaConsumerRecord<String, Buffer> record) {
    KafkaDownstreamMessage msg = new KafkaDownstreamMessage(record);
    String tenant = record.topic().substring(RESPONSE_PREFIX.length());
    String deviceId = msg.getDeviceId();
    String commandId = msg.getCorrelationId();
    if (deviceId == null || commandId == null || !Command.ID.matcher(commandId).matches()) {
      // Not a response to a command device-hub sent (another Hono application shares the topic), or broken.
      LOG.debug("Hono command response {}/{}@{} skipped: device {} correlation id {}", record.topic(),
          record.partition(), record.offset(), deviceId, commandId);
      return CompletableFuture.completedFuture(Outcome.MALFORMED);
    }
    DeviceRef device = new DeviceRef(tenant, deviceId);
    byte[] payload = msg.getPayload() == null ? new byte[0] : msg.getPayload().getBytes();
    String contentType = msg.getContentType();
    if (DELIVERY_FAILURE.equals(contentType)) {
      String reason = "Hono could not deliver the command (status " + msg.getStatus() + "): " + errorText(payload);
      return responses.failed(device, commandId, reason).thenApply(s -> s.isPresent() ? Outcome.FAILED
          : Outcome.UNKNOWN_COMMAND);
    }
    CommandResponse response;
    try {
      if (msg.getStatus() == null) {
        throw new IllegalArgumentException("no status header");
      }
      response = new CommandResponse(msg.getStatus(), payload, contentType, Instant.now());
    } catch (IllegalArgumentException e) {
      LOG.info("Hono command response for {} command {} skipped: {}", device, commandId, e.getMessage());
      return CompletableFuture.completedFuture(Outcome.MALFORMED);
    }
    return responses.answer(device, commandId, response).thenApply(HonoCommands::answered);
  }

  private static Outcome answered(Optional<CommandState> state) {
    return state.isPresent() ? Outcome.ANSWERED : Outcome.UNKNOWN_COMMAND;
  }

  /** The {@code error} of Hono's {@code {"error": "..."}} notification, or the payload as it is. */
  private static String errorText(byte[] payload) {
    String text = new String(payload, java.nio.charset.StandardCharsets.UTF_8);
    try {
      String error = new JsonObject(text).getString("error");
      return error == null ? text : error;
    } catch (DecodeException | ClassCastException e) {
      return text;
    }
  }
}
