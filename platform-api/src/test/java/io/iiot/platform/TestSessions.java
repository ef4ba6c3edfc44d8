package io.iiot.platform;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import java.net.InetSocketAddress;
import java.time.Duration;

/**
 * Sessions on the shared test node like the runtime's: migrations applied, no current keyspace, and the service's
 * default request timeout (5 s, not the driver's 2 s, which a loaded CI machine exceeds for LWTs).
 */
public final class TestSessions {
  private TestSessions() {}

  public static CqlSession migrated(String keyspace) {
    EmbeddedCassandraExtension.session(keyspace, "db/platform").close();
    return CqlSession.builder()
        .addContactPoint(new InetSocketAddress("127.0.0.1", EmbeddedCassandraExtension.node().settings().nativePort()))
        .withLocalDatacenter("datacenter1")
        .withConfigLoader(DriverConfigLoader.programmaticBuilder()
            .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, Duration.ofSeconds(5)).build())
        .build();
  }
}
