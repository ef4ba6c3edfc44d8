package io.iiot.devicehub.transport.hono;

import io.opentracing.noop.NoopTracerFactory;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.function.Supplier;
import org.eclipse.hono.client.kafka.CommonKafkaClientConfigProperties;
import org.eclipse.hono.client.kafka.producer.CachingKafkaProducerFactory;
import org.eclipse.hono.client.kafka.producer.MessagingKafkaProducerConfigProperties;
import org.eclipse.hono.client.telemetry.kafka.KafkaBasedEventSender;
import org.eclipse.hono.client.telemetry.kafka.KafkaBasedTelemetrySender;

/** Hono's own Kafka senders (what its protocol adapters use) as test producers, plus a device's resend behaviour. */
public final class HonoSenders {
  private HonoSenders() {}

  /** Hono's producer settings on top of {@code clientConfig} (bootstrap.servers, security settings). */
  public static MessagingKafkaProducerConfigProperties producerConfig(Map<String, String> clientConfig) {
    MessagingKafkaProducerConfigProperties producerConfig = new MessagingKafkaProducerConfigProperties();
    CommonKafkaClientConfigProperties common = new CommonKafkaClientConfigProperties();
    common.setCommonClientConfig(clientConfig);
    producerConfig.setCommonClientConfig(common);
    return producerConfig;
  }

  /** A telemetry sender, not yet started. */
  public static KafkaBasedTelemetrySender telemetry(Vertx vertx, Map<String, String> clientConfig) {
    return new KafkaBasedTelemetrySender(vertx, CachingKafkaProducerFactory.sharedFactory(vertx),
        producerConfig(clientConfig), true, NoopTracerFactory.create());
  }

  /** An event sender, not yet started. */
  public static KafkaBasedEventSender events(Vertx vertx, Map<String, String> clientConfig) {
    return new KafkaBasedEventSender(vertx, CachingKafkaProducerFactory.sharedFactory(vertx),
        producerConfig(clientConfig), true, NoopTracerFactory.create());
  }

  /**
   * Sends as a Hono adapter's device would: Hono's producer gives up after 2.5 s (delivery.timeout.ms) and answers 503,
   * easily reached on a loaded 2-core box, and the device sends again. The record may then be in Kafka twice, which is
   * exactly the redelivery the connector must store once.
   */
  public static Future<Void> sendRetrying(Supplier<Future<Void>> send, int attempts) {
    return send.get().recover(err -> attempts <= 1 ? Future.failedFuture(err) : sendRetrying(send, attempts - 1));
  }
}
