package io.iiot.devicehub.query;

import io.iiot.devicehub.domain.TelemetryRow;
import io.iiot.devicehub.storage.TelemetryWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The ingest hook of the live stream: a {@link TelemetryWriter} that, once the wrapped writer reports the rows
 * durably written, hands them to {@link LiveTelemetry}. Every ingest path (MQTT, CoAP, Hono) writes through it, so a
 * subscriber sees exactly what was stored (and acknowledged to the device), never a sample that was refused.
 */
public final class PublishingTelemetryWriter implements TelemetryWriter {
  private final TelemetryWriter delegate;
  private final LiveTelemetry live;

  public PublishingTelemetryWriter(TelemetryWriter delegate, LiveTelemetry live) {
    this.delegate = delegate;
    this.live = live;
  }

  @Override
  public CompletionStage<Void> write(List<TelemetryRow> rows, Duration ttl) {
    CompletionStage<Void> written = delegate.write(rows, ttl);
    written.thenRun(() -> live.publish(rows)); // bounded and non-blocking; the caller's stage is not delayed by it
    return written;
  }

  @Override
  public boolean saturated() {
    return delegate.saturated();
  }
}
