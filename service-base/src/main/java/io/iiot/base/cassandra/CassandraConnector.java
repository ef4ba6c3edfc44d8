package io.iiot.base.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.CqlSessionBuilder;
import com.datastax.oss.driver.api.core.config.DefaultDriverOption;
import com.datastax.oss.driver.api.core.config.DriverConfigLoader;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns a service's one {@link CqlSession}, whose default keyspace is the service's own: connects (retrying until Cassandra answers), applies the schema migrations,
 * answers readiness probes and closes the session on shutdown.
 *
 * <p>Thread model: {@link #start()} and {@link #close()} may be called from any thread; connection and migration run on
 * Vert.x worker threads, never on an event loop. {@link #session()} is valid once the future of {@code start()} has
 * succeeded.
 */
public final class CassandraConnector {
  private static final Logger LOG = LoggerFactory.getLogger(CassandraConnector.class);
  private static final SimpleStatement PROBE =
      SimpleStatement.newInstance("SELECT release_version FROM system.local").setTimeout(Duration.ofSeconds(2));

  private final Vertx vertx;
  private final CassandraSettings settings;
  private final String migrationsDir;
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile CqlSession session;
  private volatile boolean schemaApplied;
  private volatile long retryTimer = -1;

  /**
   * The native protocol the sessions speak: v4, not the v5 that driver 4.19 and Cassandra 5.0 would agree on. In v5,
   * Cassandra 5.0.9 answers an LWT whose Paxos round timed out (a CAS write timeout: contention, a busy node) with an
   * extra {@code contentions} field that the driver's codec (native-protocol 1.5.2) does not read; the two bytes left
   * over make the v5 segment decoder fail, and the driver closes the connection with every request in flight on it
   * (seen as ClosedConnectionException "Unexpected error on channel", IndexOutOfBoundsException or "Unsupported
   * request opcode: 0" in DeviceRegistryTest and whole onboarding chunks failing under load). v4 has neither the field
   * nor the segments.
   */
  public static final String PROTOCOL_VERSION = "V4";

  public CassandraConnector(Vertx vertx, CassandraSettings settings, String migrationsDir) {
    this.vertx = vertx;
    this.settings = settings;
    this.migrationsDir = migrationsDir;
  }

  /**
   * Connects and migrates, retrying every 2 s while Cassandra does not answer. The future succeeds with the session
   * once the schema is applied; it fails only if the schema itself is broken (a changed migration) or on close.
   */
  public Future<CqlSession> start() {
    Promise<CqlSession> promise = Promise.promise();
    attempt(promise, 1);
    return promise.future();
  }

  private void attempt(Promise<CqlSession> promise, int attempt) {
    if (closed.get()) {
      promise.tryFail("closed before Cassandra answered");
      return;
    }
    vertx.<CqlSession>executeBlocking(() -> {
      if (session == null) {
        // A session without keyspace first: the migrations may have to create the keyspace.
        try (CqlSession bootstrap = open(null)) {
          int applied = new SchemaMigrator(bootstrap, settings.keyspace(), settings.replication(), migrationsDir)
              .migrate();
          LOG.info("Cassandra keyspace {} ready ({} migrations applied now)", settings.keyspace(), applied);
        }
        // The service's session defaults to its own keyspace (switching with USE at runtime races with requests).
        session = open(settings.keyspace());
      }
      awaitAnswer(session);
      schemaApplied = true;
      return session;
    }, false).onSuccess(promise::tryComplete).onFailure(err -> {
      if (err instanceof SchemaMigrator.InvalidMigrationException) {
        LOG.error("Cassandra schema for keyspace {} cannot be applied: {}", settings.keyspace(), err.getMessage());
        promise.tryFail(err);
        return;
      }
      LOG.warn("Cassandra at {} not available yet (attempt {}): {}", settings.contactPoints(), attempt,
          err.getMessage());
      retryTimer = vertx.setTimer(2000, t -> attempt(promise, attempt + 1));
    });
  }

  /**
   * Blocks until the session answers a query: a fresh session's first connection can fail on a busy node, and the
   * module's start-up queries should not be the ones to find out.
   */
  private static void awaitAnswer(CqlSession s) throws InterruptedException {
    for (int attempt = 1; ; attempt++) {
      try {
        s.execute(PROBE);
        return;
      } catch (RuntimeException e) {
        if (attempt >= 30) {
          throw e;
        }
        Thread.sleep(1000);
      }
    }
  }

  private CqlSession open(String keyspace) {
    DriverConfigLoader loader = DriverConfigLoader.programmaticBuilder()
        .withString(DefaultDriverOption.PROTOCOL_VERSION, PROTOCOL_VERSION)
        .withDuration(DefaultDriverOption.REQUEST_TIMEOUT, settings.requestTimeout())
        .withString(DefaultDriverOption.REQUEST_CONSISTENCY, settings.consistency())
        .withString(DefaultDriverOption.REQUEST_SERIAL_CONSISTENCY, "LOCAL_SERIAL")
        // One limiter only, well above what the services keep in flight themselves (see cassandra.md, section 6).
        .withString(DefaultDriverOption.REQUEST_THROTTLER_CLASS, "ConcurrencyLimitingRequestThrottler")
        .withInt(DefaultDriverOption.REQUEST_THROTTLER_MAX_CONCURRENT_REQUESTS, settings.maxConcurrentRequests())
        .withInt(DefaultDriverOption.REQUEST_THROTTLER_MAX_QUEUE_SIZE, settings.maxConcurrentRequests() * 4)
        .withDuration(DefaultDriverOption.RECONNECTION_BASE_DELAY, Duration.ofMillis(500))
        .withDuration(DefaultDriverOption.RECONNECTION_MAX_DELAY, Duration.ofSeconds(5))
        .withDuration(DefaultDriverOption.CONNECTION_INIT_QUERY_TIMEOUT, Duration.ofSeconds(10))
        .withDuration(DefaultDriverOption.METADATA_SCHEMA_REQUEST_TIMEOUT, Duration.ofSeconds(30))
        .withDuration(DefaultDriverOption.CONTROL_CONNECTION_AGREEMENT_TIMEOUT, Duration.ofSeconds(30))
        .build();
    CqlSessionBuilder builder = CqlSession.builder()
        .withConfigLoader(loader)
        .withLocalDatacenter(settings.localDatacenter());
    for (InetSocketAddress p : settings.contactPoints()) {
      builder.addContactPoint(new InetSocketAddress(p.getHostString(), p.getPort()));
    }
    if (keyspace != null) {
      builder.withKeyspace(keyspace);
    }
    if (settings.username().isPresent()) {
      builder.withAuthCredentials(settings.username().get(), settings.password().orElse(""));
    }
    return builder.build();
  }

  /** The session; only after {@link #start()} succeeded. */
  public CqlSession session() {
    CqlSession s = session;
    if (s == null || !schemaApplied) {
      throw new IllegalStateException("Cassandra session not ready");
    }
    return s;
  }

  public String keyspace() {
    return settings.keyspace();
  }

  /** Succeeds when the schema is applied and Cassandra answers a query now. Never blocks the caller. */
  public Future<Void> probe() {
    CqlSession s = session;
    if (s == null || !schemaApplied) {
      return Future.failedFuture("Cassandra not connected or schema not applied yet");
    }
    return Future.fromCompletionStage(s.executeAsync(PROBE)).mapEmpty();
  }

  /** Closes the session (in-flight requests complete or fail first). */
  public Future<Void> close() {
    closed.set(true);
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
    }
    CqlSession s = session;
    if (s == null) {
      return Future.succeededFuture();
    }
    return Future.fromCompletionStage(s.closeAsync()).mapEmpty();
  }
}
