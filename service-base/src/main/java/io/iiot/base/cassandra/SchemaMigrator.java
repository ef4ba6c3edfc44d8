package io.iiot.base.cassandra;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.ResultSet;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.cql.SimpleStatement;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies a service's versioned CQL migrations to its keyspace, idempotently.
 *
 * <p>Migrations are classpath resources {@code <dir>/V<n>__<name>.cql}, listed in order in {@code <dir>/migrations.list}
 * (jars cannot be listed portably). Each applied version is recorded in {@code <keyspace>.schema_migrations} with a
 * SHA-256 of its text: a recorded migration whose text has since changed stops the start with a clear message, because
 * editing an applied migration silently diverges existing clusters. Several replicas starting at once take a
 * lightweight-transaction lock so only one runs the DDL; statements should still be written {@code IF NOT EXISTS} so a
 * migration interrupted half-way can run again.
 *
 * <p>Blocking: call from a worker thread only.
 */
public final class SchemaMigrator {
  private static final Logger LOG = LoggerFactory.getLogger(SchemaMigrator.class);
  private static final Pattern FILE = Pattern.compile("V(\\d+)__([A-Za-z0-9_]+)\\.cql");
  private static final Duration DDL_TIMEOUT = Duration.ofSeconds(30);

  private final CqlSession session;
  private final String keyspace;
  private final String replication;
  private final String resourceDir;

  public SchemaMigrator(CqlSession session, String keyspace, String replication, String resourceDir) {
    this.session = session;
    this.keyspace = keyspace;
    this.replication = replication;
    this.resourceDir = resourceDir;
  }

  /** The migrations themselves are wrong (edited after being applied, misnamed, missing): retrying cannot help. */
  public static final class InvalidMigrationException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    InvalidMigrationException(String message) {
      super(message);
    }
  }

  /** A migration read from the classpath. */
  public record Migration(int version, String name, String text, String checksum) {}

  /** Creates the keyspace if needed and applies every migration not yet recorded. Returns how many were applied. */
  public int migrate() {
    ddl("CREATE KEYSPACE IF NOT EXISTS " + keyspace + " WITH replication = " + replication
        + " AND durable_writes = true");
    ddl("CREATE TABLE IF NOT EXISTS " + keyspace + ".schema_migrations ("
        + "version int PRIMARY KEY, name text, checksum text, applied_at timestamp)");
    ddl("CREATE TABLE IF NOT EXISTS " + keyspace + ".schema_lock (id int PRIMARY KEY, owner uuid)");
    List<Migration> migrations = load(resourceDir);
    UUID owner = UUID.randomUUID();
    acquireLock(owner);
    try {
      int applied = 0;
      for (Migration m : migrations) {
        Row row = session.execute(SimpleStatement.newInstance(
            "SELECT checksum FROM " + keyspace + ".schema_migrations WHERE version = ?", m.version())).one();
        if (row != null) {
          if (!m.checksum().equals(row.getString("checksum"))) {
            throw new InvalidMigrationException("Schema migration V" + m.version() + "__" + m.name() + " of keyspace "
                + keyspace + " was changed after it was applied; add a new migration instead");
          }
          continue;
        }
        for (String statement : statements(m.text())) {
          ddl(statement.replace("${keyspace}", keyspace));
        }
        session.execute(SimpleStatement.newInstance(
            "INSERT INTO " + keyspace + ".schema_migrations (version, name, checksum, applied_at) VALUES (?,?,?,?)",
            m.version(), m.name(), m.checksum(), Instant.now()));
        LOG.info("Applied schema migration V{}__{} to keyspace {}", m.version(), m.name(), keyspace);
        applied++;
      }
      return applied;
    } finally {
      session.execute(SimpleStatement.newInstance(
          "DELETE FROM " + keyspace + ".schema_lock WHERE id = 0 IF owner = ?", owner));
    }
  }

  private void acquireLock(UUID owner) {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (true) {
      // The TTL frees the lock of a replica that died while migrating.
      ResultSet rs = session.execute(SimpleStatement.newInstance(
          "INSERT INTO " + keyspace + ".schema_lock (id, owner) VALUES (0, ?) IF NOT EXISTS USING TTL 60", owner)
          .setTimeout(DDL_TIMEOUT));
      if (rs.wasApplied()) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("Timed out waiting for the schema lock of keyspace " + keyspace);
      }
      try {
        Thread.sleep(500);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("Interrupted while waiting for the schema lock", e);
      }
    }
  }

  private void ddl(String cql) {
    session.execute(SimpleStatement.newInstance(cql).setTimeout(DDL_TIMEOUT));
  }

  /** Reads the migrations listed in {@code <dir>/migrations.list}, checking names and order. */
  public static List<Migration> load(String dir) {
    List<Migration> out = new ArrayList<>();
    int last = 0;
    for (String line : read(dir + "/migrations.list").split("\n")) {
      String file = line.trim();
      if (file.isEmpty() || file.startsWith("#")) {
        continue;
      }
      Matcher m = FILE.matcher(file);
      if (!m.matches()) {
        throw new InvalidMigrationException("Bad migration file name " + file + " (expected V<n>__<name>.cql)");
      }
      int version = Integer.parseInt(m.group(1));
      if (version <= last) {
        throw new InvalidMigrationException("Migrations out of order in " + dir + ": V" + version + " after V" + last);
      }
      last = version;
      String text = read(dir + "/" + file);
      out.add(new Migration(version, m.group(2), text, sha256(text)));
    }
    return out;
  }

  /** Splits a CQL script on semicolons that end a line, dropping {@code --} comment lines. */
  static List<String> statements(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    for (String line : script.split("\n")) {
      String trimmed = line.trim();
      if (trimmed.startsWith("--") || trimmed.isEmpty()) {
        continue;
      }
      current.append(line).append('\n');
      if (trimmed.endsWith(";")) {
        String s = current.toString().trim();
        out.add(s.substring(0, s.length() - 1));
        current.setLength(0);
      }
    }
    if (!current.toString().isBlank()) {
      out.add(current.toString().trim());
    }
    return out;
  }

  private static String read(String resource) {
    try (InputStream in = SchemaMigrator.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new InvalidMigrationException("Migration resource " + resource + " not found on the classpath");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("Cannot read " + resource, e);
    }
  }

  private static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
