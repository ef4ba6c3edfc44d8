package io.iiot.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.it.bench.DeviceIngestBenchmark;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Sustained durable MQTT QoS 1 and CoAP CON ingest through device-hub next to the best raw driver writes of the same
 * rows, in the same run: {@link DeviceIngestBenchmark}, which starts its own Cassandra node (batch commit log) and
 * writes the "device-ingest" section of docs/BENCHMARKS.md.
 *
 * <p>Run: {@code mvn -B -q -o -pl device-hub install -DskipTests && mvn -B -o -pl it-tests verify
 * -Dit.test=DeviceIngestBenchmarkIT -Diiot.bench=ingest -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false} (a few
 * minutes); {@code -Dbench.messages=N} changes the message count (default 60,000).
 */
@EnabledIfSystemProperty(named = "iiot.bench", matches = ".*ingest.*")
class DeviceIngestBenchmarkIT {

  @Test
  void benchmark() throws Exception {
    String table = DeviceIngestBenchmark.run();
    // Every message acknowledged was read back: the run fails inside if any was refused or not stored.
    assertThat(table).contains("baseline");
  }
}
