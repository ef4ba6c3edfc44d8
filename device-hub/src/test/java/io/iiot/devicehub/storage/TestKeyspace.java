package io.iiot.devicehub.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.testing.EmbeddedCassandraExtension;

/** One session on the device-hub keyspace (migrations applied) for all test classes of this JVM. */
public final class TestKeyspace {
  public static final String NAME = "iiot_device";
  private static CqlSession session;

  private TestKeyspace() {}

  public static synchronized CqlSession session() {
    if (session == null) {
      session = EmbeddedCassandraExtension.session(NAME, "db/devicehub");
    }
    return session;
  }
}
