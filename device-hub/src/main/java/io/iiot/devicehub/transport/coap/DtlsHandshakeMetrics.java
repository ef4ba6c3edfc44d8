package io.iiot.devicehub.transport.coap;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.eclipse.californium.scandium.DtlsHealth;

/**
 * Counts DTLS handshakes by result ({@code devicehub_coap_dtls_handshakes_total{result}}) and dropped incoming records
 * ({@code devicehub_coap_dtls_records_dropped_total}). A wrong pre-shared key shows up as dropped records: the
 * client's encrypted Finished message fails its MAC check, and DTLS discards such records silently (RFC 6347 4.1.2.7)
 * instead of failing the handshake.
 */
final class DtlsHandshakeMetrics implements DtlsHealth {
  private final Counter succeeded;
  private final Counter failed;
  private final Counter dropped;

  DtlsHandshakeMetrics(MeterRegistry registry) {
    succeeded = Counter.builder("devicehub.coap.dtls.handshakes").tag("result", "succeeded").register(registry);
    failed = Counter.builder("devicehub.coap.dtls.handshakes").tag("result", "failed").register(registry);
    dropped = Counter.builder("devicehub.coap.dtls.records.dropped").register(registry);
  }

  @Override
  public void dump(String tag, int maxConnections, int remainingCapacity, int pendingWithoutVerify) {}

  @Override
  public boolean isEnabled() {
    return true;
  }

  @Override
  public void startHandshake() {}

  @Override
  public void endHandshake(boolean success) {
    (success ? succeeded : failed).increment();
  }

  @Override
  public void receivingRecord(boolean recordDropped) {
    if (recordDropped) {
      dropped.increment();
    }
  }

  @Override
  public void sendingRecord(boolean dropped) {}
}
