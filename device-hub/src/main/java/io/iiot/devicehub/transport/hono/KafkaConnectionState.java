package io.iiot.devicehub.transport.hono;

import io.iiot.base.async.Failures;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the Hono deployment's Kafka accepts device-hub's connection, from the outcome of the connector's periodic
 * admin calls. A failure is turned into a reason an operator can act on (wrong SASL credentials, untrusted TLS
 * certificate, missing ACLs, unreachable brokers), logged once as an error when it appears or changes, and exposed
 * as {@code devicehub_hono_kafka_connected} (1/0). Thread-safe: probes complete on the Kafka admin client's thread.
 */
final class KafkaConnectionState {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaConnectionState.class);

  private final HonoSettings settings;
  private String problem = "not probed yet";

  KafkaConnectionState(HonoSettings settings, MeterRegistry registry) {
    this.settings = settings;
    Gauge.builder("devicehub.hono.kafka.connected", this, s -> s.problem() == null ? 1 : 0)
        .description("1 while the Hono Kafka brokers accept the connector's connection (TLS, SASL), else 0")
        .register(registry);
  }

  /** Why the brokers cannot be used, or null when the latest probe succeeded. */
  synchronized String problem() {
    return problem;
  }

  /**
   * Records a probe's outcome ({@code err} null: success).
   *
   * @return whether the brokers refused us (authentication, TLS or authorization), which retrying will not fix
   */
  boolean probed(Throwable err) {
    Throwable cause = Failures.cause(err);
    String now = cause == null ? null : describe(cause);
    String before;
    synchronized (this) {
      before = problem;
      problem = now;
    }
    if (now != null && !now.equals(before)) {
      LOG.error("Hono Kafka {} ({}): {}", settings.bootstrapServers(), settings.securityProtocol(), now);
    } else if (now == null && before != null) {
      LOG.info("Hono Kafka {} ({}) accepts the connection", settings.bootstrapServers(), settings.securityProtocol());
    }
    return cause instanceof SaslAuthenticationException || cause instanceof SslAuthenticationException
        || cause instanceof AuthorizationException;
  }

  private String describe(Throwable err) {
    if (err instanceof SaslAuthenticationException) {
      return "SASL authentication failed for user '" + settings.saslUsername().orElse("") + "' with "
          + settings.saslMechanism() + " (check hono.kafka.sasl-username and hono.kafka.sasl-password): "
          + err.getMessage();
    }
    if (err instanceof SslAuthenticationException) {
      return "TLS handshake failed (check hono.kafka.ssl-truststore-pem and the broker's certificate): "
          + rootMessage(err);
    }
    if (err instanceof AuthorizationException) {
      return "not authorized (check the broker's ACLs for user '" + settings.saslUsername().orElse("") + "'): "
          + err.getMessage();
    }
    if (err instanceof TimeoutException) {
      return "no answer from the brokers (unreachable, or hono.kafka.security-protocol does not match the listener): "
          + err.getMessage();
    }
    return err.getClass().getSimpleName() + ": " + err.getMessage();
  }

  private static String rootMessage(Throwable err) {
    Throwable e = err;
    while (e.getCause() != null && e.getCause() != e) {
      e = e.getCause();
    }
    return e.getMessage();
  }
}
