package io.iiot.devicehub.storage;

import io.iiot.devicehub.domain.TelemetryRow;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The one write path for telemetry, shared by every ingest path (MQTT, CoAP, a Hono Kafka consumer): a transport
 * acknowledges a message only once the stage returned here has completed successfully.
 *
 * <p>Contract:
 *
 * <ul>
 *   <li>The stage completes successfully only after every row is durably written (Cassandra acknowledged the write at
 *       the session's consistency; with the commit log in batch/group mode that means fsynced).
 *   <li>It fails with {@link WriterOverloadedException} at once, without writing anything, when accepting the rows
 *       would exceed the bounded queue: the caller should refuse the message (MQTT 5 reason 0x97, CoAP 5.03) or stop
 *       reading; nothing is buffered without bound.
 *   <li>It fails with the driver's exception when Cassandra did not acknowledge in time. Some rows may then be stored:
 *       writes are idempotent (keyed by tenant, device, time and metric), so the sender simply retries.
 *   <li>The stage may complete on a driver thread: callers hop back to their own event loop.
 * </ul>
 *
 * Implementations are thread-safe.
 */
public interface TelemetryWriter {

  /**
   * Stores {@code rows} (any devices, any partitions).
   *
   * @param ttl how long the rows are kept; {@link Duration#ZERO} keeps them forever
   */
  CompletionStage<Void> write(List<TelemetryRow> rows, Duration ttl);

  /**
   * Whether the writer is above its high-water mark. Transports stop reading from their sockets while this is true and
   * poll it again shortly; it turns false once the backlog has fallen below the low-water mark.
   */
  boolean saturated();
}
