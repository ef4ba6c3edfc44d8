package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.datastax.oss.driver.api.core.data.TupleValue;
import com.datastax.oss.driver.api.core.type.DataTypes;
import com.datastax.oss.driver.api.core.type.TupleType;
import io.iiot.base.cassandra.IdempotentRetry;
import io.iiot.base.cassandra.ReplicaBatches;
import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.ValueReference;
import io.vertx.core.Future;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Handles and their values in Cassandra ({@code handles}: one partition per handle, one row per value;
 * {@code handles_by_prefix} for listing), behind a bounded read cache.
 *
 * <p>Keys are the ASCII-upper-cased handle ({@link Handles#fold}). Every write is idempotent (a replay writes the same
 * rows) except {@link #create}, a lightweight transaction so that two creators of one handle cannot both succeed.
 *
 * <p>Cache: at most {@code cacheSize} handles; an entry lives no longer than {@code cacheMaxAge} and no longer than the
 * smallest relative TTL of its values. Every write through this store invalidates the handle locally; a write made by
 * another resolver-node process on the same Cassandra is seen here at the latest {@code cacheMaxAge} later, which is
 * the stated bound. Negative answers (no such handle) are cached the same way.
 *
 * <p>Methods may be called from any thread; returned futures complete on a driver thread.
 */
public final class HandleStore {
  private static final TupleType REF = DataTypes.tupleOf(DataTypes.TEXT, DataTypes.INT);

  private final CqlSession session;
  private final String keyspace;
  private final PreparedStatement select;
  private final PreparedStatement insertValue;
  private final PreparedStatement insertValueAndSpelling;
  private final PreparedStatement insertSpellingIfAbsent;
  private final PreparedStatement insertSpelling;
  private final PreparedStatement deleteValue;
  private final PreparedStatement deleteHandle;
  private final PreparedStatement insertPrefix;
  private final PreparedStatement deletePrefix;
  private final PreparedStatement listPrefix;
  private final PreparedStatement existing;
  private final ClockCache<String, Cached> cache;
  private final long maxAgeNanos;
  /** Moves on every write of a prefix handle through this store: see {@link #prefixHandleWrites}. */
  private final java.util.concurrent.atomic.AtomicLong prefixHandleWrites = new java.util.concurrent.atomic.AtomicLong();

  private static com.datastax.oss.driver.api.core.cql.SimpleStatement idempotent(String cql) {
    return com.datastax.oss.driver.api.core.cql.SimpleStatement.newInstance(cql).setIdempotent(true);
  }

  /** @param keyspace the service's keyspace (the runtime's session has no current keyspace) */
  public HandleStore(CqlSession session, String keyspace, int cacheSize, Duration cacheMaxAge) {
    this.session = session;
    this.keyspace = keyspace;
    String ks = com.datastax.oss.driver.api.core.CqlIdentifier.fromInternal(keyspace).asCql(true) + ".";
    // Reads are marked idempotent so the driver retries them on another replica when a coordinator dies mid-request
    // (the cluster test saw RC 2 answers during a node kill otherwise); writes keep the default: some are LWTs.
    select = session.prepare(idempotent("SELECT spelling, idx, type, data, ttl_type, ttl, ts, refs, admin_read, "
        + "admin_write, pub_read, pub_write FROM " + ks + "handles WHERE handle = ?"));
    insertValue = session.prepare("INSERT INTO " + ks + "handles (handle, idx, type, data, ttl_type, ttl, ts, refs, "
        + "admin_read, admin_write, pub_read, pub_write) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    insertValueAndSpelling = session.prepare("INSERT INTO " + ks + "handles (handle, spelling, idx, type, data,"
        + " ttl_type, ttl, ts, refs, admin_read, admin_write, pub_read, pub_write) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
    insertSpellingIfAbsent = session.prepare(
        "INSERT INTO " + ks + "handles (handle, spelling) VALUES (?, ?) IF NOT EXISTS");
    insertSpelling = session.prepare("INSERT INTO " + ks + "handles (handle, spelling) VALUES (?, ?)");
    deleteValue = session.prepare("DELETE FROM " + ks + "handles WHERE handle = ? AND idx = ?");
    deleteHandle = session.prepare("DELETE FROM " + ks + "handles WHERE handle = ?");
    insertPrefix = session.prepare(
        "INSERT INTO " + ks + "handles_by_prefix (prefix, handle, spelling) VALUES (?,?,?)");
    deletePrefix = session.prepare("DELETE FROM " + ks + "handles_by_prefix WHERE prefix = ? AND handle = ?");
    listPrefix = session.prepare(idempotent("SELECT spelling FROM " + ks + "handles_by_prefix WHERE prefix = ?"));
    existing = session.prepare(
        idempotent("SELECT handle FROM " + ks + "handles WHERE handle IN ? PER PARTITION LIMIT 1"));
    this.maxAgeNanos = cacheMaxAge.toNanos();
    // Size bound only: each entry carries its own deadline, checked on read. (Caffeine's per-entry expiry cost a CAS
    // and a timer-wheel update on every hit, about a third of a hot resolution's CPU; its size bound alone still
    // costs every hit a buffered access-order update on another thread: see ClockCache.) An entry past its deadline
    // is a miss and is replaced by the read that follows.
    this.cache = new ClockCache<>(cacheSize);
  }

  /**
   * A cached read: the answer made once (hits allocate nothing), the {@link System#nanoTime} it is good until, and
   * the {@link #keepForm} of the record made when the entry was filled ({@code null}: none).
   */
  private record Cached(Future<Optional<HandleRecord>> answer, long deadline, Object form) {}

  private volatile java.util.function.Function<Optional<HandleRecord>, ?> formMaker;

  private long lifetime(Optional<HandleRecord> rec) {
    long life = maxAgeNanos;
    if (rec.isPresent()) {
      long now = System.currentTimeMillis() / 1000;
      for (HandleValue v : rec.get().values()) {
        long ttl = v.ttlType() == 0 ? v.ttl() : v.ttl() - now;
        life = Math.min(life, Math.max(0, ttl) * 1_000_000_000L);
      }
    }
    return life;
  }

  /** The handle, from the cache when fresh; empty when it does not exist. */
  public Future<Optional<HandleRecord>> get(String handle) {
    String key = Handles.fold(handle);
    Cached hit = cache.get(key);
    if (hit != null && hit.deadline() - System.nanoTime() > 0) {
      return hit.answer();
    }
    return read(key).map(rec -> {
      long life = lifetime(rec);
      if (life > 0) {
        java.util.function.Function<Optional<HandleRecord>, ?> maker = formMaker;
        cache.put(key, new Cached(Future.succeededFuture(rec), System.nanoTime() + life,
            maker == null ? null : maker.apply(rec)));
      }
      return rec;
    });
  }

  /**
   * Has the cache keep {@code maker}'s form of each record it holds besides the record, made once when the entry is
   * filled (the Handle transport keeps the values' wire encoding there, so that a hot resolution neither walks the
   * values nor encodes them again). Entries filled before this call have none. {@code maker} must be pure and
   * cheap; it runs on the thread that completes the storage read.
   */
  public void keepForm(java.util.function.Function<Optional<HandleRecord>, ?> maker) {
    formMaker = maker;
  }

  /**
   * The {@link #keepForm} of the fresh cached read of {@code handle}; {@code null} when the cache holds no fresh entry
   * (use {@link #get}, which fills it) or the entry has no form.
   */
  public Object getCachedForm(String handle) {
    Cached hit = cache.get(Handles.fold(handle));
    return hit == null || hit.deadline() - System.nanoTime() <= 0 ? null : hit.form();
  }

  /** Reads Cassandra, bypassing the cache (authoritative checks before writes). */
  public Future<Optional<HandleRecord>> getFresh(String handle) {
    String key = Handles.fold(handle);
    return read(key);
  }

  private Future<Optional<HandleRecord>> read(String key) {
    return Future.fromCompletionStage(session.executeAsync(select.bind(key)))
        .compose(rs -> collect(rs, null, new ArrayList<>()));
  }

  private Future<Optional<HandleRecord>> collect(AsyncResultSet rs, String spelling, List<HandleValue> values) {
    String sp = spelling;
    for (Row row : rs.currentPage()) {
      if (sp == null) {
        sp = row.getString("spelling");
      }
      if (!row.isNull("idx")) {
        values.add(toValue(row));
      }
    }
    if (rs.hasMorePages()) {
      String s = sp;
      return Future.fromCompletionStage(rs.fetchNextPage()).compose(next -> collect(next, s, values));
    }
    if (sp == null && values.isEmpty()) {
      return Future.succeededFuture(Optional.empty());
    }
    return Future.succeededFuture(Optional.of(new HandleRecord(sp == null ? "" : sp, values)));
  }

  private static HandleValue toValue(Row row) {
    ByteBuffer data = row.getByteBuffer("data");
    byte[] bytes = new byte[data == null ? 0 : data.remaining()];
    if (data != null) {
      data.duplicate().get(bytes);
    }
    List<ValueReference> refs = new ArrayList<>();
    for (TupleValue t : row.getList("refs", TupleValue.class)) {
      refs.add(new ValueReference(t.getString(0), t.getInt(1)));
    }
    Instant ts = row.getInstant("ts");
    int perms = (row.getBoolean("admin_read") ? HandleValue.ADMIN_READ : 0)
        | (row.getBoolean("admin_write") ? HandleValue.ADMIN_WRITE : 0)
        | (row.getBoolean("pub_read") ? HandleValue.PUBLIC_READ : 0)
        | (row.getBoolean("pub_write") ? HandleValue.PUBLIC_WRITE : 0);
    return new HandleValue(row.getInt("idx"), row.getString("type"), bytes, row.getByte("ttl_type"),
        row.getInt("ttl"), ts == null ? 0 : (int) ts.getEpochSecond(), refs, perms);
  }

  private BatchStatementBuilder valueRows(BatchStatementBuilder b, String key, Collection<HandleValue> values) {
    for (HandleValue v : values) {
      List<TupleValue> refs = new ArrayList<>();
      for (ValueReference r : v.references()) {
        refs.add(REF.newValue(r.handle(), r.index()));
      }
      b.addStatement(insertValue.bind(key, v.index(), v.type(), ByteBuffer.wrap(v.data()), (byte) v.ttlType(),
          v.ttl(), Instant.ofEpochSecond(Integer.toUnsignedLong(v.timestamp())), refs,
          (v.permissions() & HandleValue.ADMIN_READ) != 0, (v.permissions() & HandleValue.ADMIN_WRITE) != 0,
          (v.permissions() & HandleValue.PUBLIC_READ) != 0, (v.permissions() & HandleValue.PUBLIC_WRITE) != 0));
    }
    return b;
  }

  /**
   * The partition of a new handle, as few statements and cells as reads give back the same record: the spelling goes
   * with the first value, and columns at their default are left out (unset: no cell; {@link #toValue} reads a missing
   * permission as false, a missing TTL type as 0 and missing references as none) instead of being written as false,
   * 0 and an empty list (for a non-frozen list that is a collection tombstone in every row). A bulk registration of
   * 10,000 identifiers of six values each writes some 20,000 fewer cells and 10,000 fewer statements. Only for a
   * handle found absent: on a value already at the same index, the columns left out would keep that value's.
   */
  private List<com.datastax.oss.driver.api.core.cql.BatchableStatement<?>> newHandleRows(String key, String spelling,
      List<HandleValue> values) {
    List<com.datastax.oss.driver.api.core.cql.BatchableStatement<?>> rows = new ArrayList<>(Math.max(1, values.size()));
    if (values.isEmpty()) {
      rows.add(insertSpelling.bind(key, spelling));
      return rows;
    }
    for (HandleValue v : values) {
      boolean first = rows.isEmpty();
      com.datastax.oss.driver.api.core.cql.BoundStatementBuilder b = (first ? insertValueAndSpelling : insertValue)
          .boundStatementBuilder();
      b.setString("handle", key);
      if (first) {
        b.setString("spelling", spelling);
      }
      b.setInt("idx", v.index()).setString("type", v.type()).setByteBuffer("data", ByteBuffer.wrap(v.data()))
          .setInt("ttl", v.ttl()).setInstant("ts", Instant.ofEpochSecond(Integer.toUnsignedLong(v.timestamp())));
      if (v.ttlType() != 0) {
        b.setByte("ttl_type", (byte) v.ttlType());
      }
      if (!v.references().isEmpty()) {
        List<TupleValue> refs = new ArrayList<>();
        for (ValueReference r : v.references()) {
          refs.add(REF.newValue(r.handle(), r.index()));
        }
        b.setList("refs", refs, TupleValue.class);
      }
      int[] bits = {HandleValue.ADMIN_READ, HandleValue.ADMIN_WRITE, HandleValue.PUBLIC_READ, HandleValue.PUBLIC_WRITE};
      String[] columns = {"admin_read", "admin_write", "pub_read", "pub_write"};
      for (int i = 0; i < bits.length; i++) {
        if ((v.permissions() & bits[i]) != 0) {
          b.setBoolean(columns[i], true);
        }
      }
      rows.add(b.build());
    }
    return rows;
  }

  /**
   * Creates the handle with {@code values}; the future holds {@code false} (and nothing is written) when it already
   * exists.
   */
  public Future<Boolean> create(String handle, List<HandleValue> values) {
    String key = Handles.fold(handle);
    invalidate(key);
    BatchStatementBuilder b = BatchStatement.builder(BatchType.LOGGED)
        .addStatement(insertSpellingIfAbsent.bind(key, handle));
    valueRows(b, key, values);
    return exec(b.build()).compose(rs -> {
      if (!rs.wasApplied()) {
        return Future.succeededFuture(false);
      }
      return exec(insertPrefix.bind(Handles.fold(Handles.prefix(handle)), key, handle)).map(x -> true);
    }).andThen(x -> invalidate(key));
  }

  /** Replaces the whole record of an existing or new handle (create with overwrite). Idempotent. */
  public Future<Void> replace(String handle, List<HandleValue> values) {
    String key = Handles.fold(handle);
    invalidate(key);
    return exec(deleteHandle.bind(key)).compose(x -> {
      BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
      b.addStatement(insertSpelling.bind(key, handle));
      return exec(valueRows(b, key, values).build());
    }).compose(x -> exec(insertPrefix.bind(Handles.fold(Handles.prefix(handle)), key, handle)))
        .<Void>mapEmpty().andThen(x -> invalidate(key));
  }

  /**
   * Writes a whole handle without checking whether it exists (bulk registration and imports): spelling, values and
   * the prefix index in one unlogged batch per partition. Idempotent; values at other indexes are left alone.
   */
  public Future<Void> importHandle(String handle, List<HandleValue> values) {
    String key = Handles.fold(handle);
    invalidate(key);
    BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED).addStatement(insertSpelling.bind(key, handle));
    return exec(valueRows(b, key, values).build())
        .compose(x -> exec(insertPrefix.bind(Handles.fold(Handles.prefix(handle)), key, handle)))
        .<Void>mapEmpty().andThen(x -> invalidate(key));
  }

  /**
   * Which of {@code handles} exist (as their folded keys), read from Cassandra in one multi-partition query: for bulk
   * registration, which checks a chunk of handles at once instead of one read each. At most a few hundred per call.
   */
  public Future<java.util.Set<String>> existing(Collection<String> handles) {
    List<String> keys = handles.stream().map(Handles::fold).distinct().toList();
    return Future.fromCompletionStage(IdempotentRetry.once(() -> session.executeAsync(existing.bind(keys))))
        .compose(rs -> existingPages(rs, new java.util.HashSet<>()));
  }

  private Future<java.util.Set<String>> existingPages(AsyncResultSet rs, java.util.Set<String> out) {
    for (Row row : rs.currentPage()) {
      out.add(row.getString(0));
    }
    if (rs.hasMorePages()) {
      return Future.fromCompletionStage(rs.fetchNextPage()).compose(next -> existingPages(next, out));
    }
    return Future.succeededFuture(out);
  }

  /** Most handles in one request of {@link #importHandles} (an unlogged batch of their partitions). */
  static final int IMPORT_HANDLES_PER_WRITE = 20;
  /** Protocol bytes of one such batch: under the nodes' 40 KiB batch_size_warn_threshold (which counts less). */
  static final int IMPORT_BATCH_BYTES = 30 * 1024;

  /**
   * Bulk form of {@link #importHandle}: each handle's partition (spelling and values) applied as one mutation, the
   * partitions of up to {@value #IMPORT_HANDLES_PER_WRITE} handles on the same replicas in one unlogged batch
   * ({@link ReplicaBatches}: one request for many partitions instead of one each), all sent at once; then the
   * prefix-index rows of those under {@code prefix} in one unlogged batch (one partition), so the index never lists a
   * handle before it exists. Idempotent; no existence check: for handles found absent (see {@link #newHandleRows}). Each request is sent once more after a timeout
   * ({@link IdempotentRetry}), so one slow moment of the node does not fail a whole chunk of a bulk registration.
   */
  public Future<Void> importHandles(String prefix, java.util.Map<String, List<HandleValue>> byHandle) {
    List<List<com.datastax.oss.driver.api.core.cql.BatchableStatement<?>>> partitions = new ArrayList<>();
    for (var e : byHandle.entrySet()) {
      String key = Handles.fold(e.getKey());
      invalidate(key);
      partitions.add(newHandleRows(key, e.getKey(), e.getValue()));
    }
    List<Future<?>> writes = new ArrayList<>();
    for (BatchStatement batch : ReplicaBatches.of(session, keyspace, partitions, IMPORT_HANDLES_PER_WRITE,
        IMPORT_BATCH_BYTES)) {
      writes.add(execIdempotent(batch));
    }
    return Future.all(writes).compose(x -> {
      if (byHandle.isEmpty()) {
        return Future.<Void>succeededFuture();
      }
      BatchStatementBuilder idx = BatchStatement.builder(BatchType.UNLOGGED);
      for (String h : byHandle.keySet()) {
        idx.addStatement(insertPrefix.bind(Handles.fold(prefix), Handles.fold(h), h));
      }
      return execIdempotent(idx.build()).<Void>mapEmpty();
    }).andThen(x -> byHandle.keySet().forEach(h -> invalidate(Handles.fold(h))));
  }

  /** Writes (adds or overwrites by index) values of a handle. Idempotent. */
  public Future<Void> putValues(String handle, List<HandleValue> values) {
    String key = Handles.fold(handle);
    invalidate(key);
    return exec(valueRows(BatchStatement.builder(BatchType.UNLOGGED), key, values).build())
        .<Void>mapEmpty().andThen(x -> invalidate(key));
  }

  /** Removes values by index. Idempotent. */
  public Future<Void> removeValues(String handle, int[] indexes) {
    String key = Handles.fold(handle);
    invalidate(key);
    BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED);
    for (int i : indexes) {
      b.addStatement(deleteValue.bind(key, i));
    }
    return exec(b.build()).<Void>mapEmpty().andThen(x -> invalidate(key));
  }

  /** Deletes the handle and all its values. Idempotent. */
  public Future<Void> delete(String handle) {
    String key = Handles.fold(handle);
    invalidate(key);
    return exec(deleteHandle.bind(key))
        .compose(x -> exec(deletePrefix.bind(Handles.fold(Handles.prefix(handle)), key)))
        .<Void>mapEmpty().andThen(x -> invalidate(key));
  }

  /** Every handle under {@code prefix} (exactly that prefix, not derived ones), sorted by folded handle. */
  public Future<List<String>> list(String prefix) {
    return Future.fromCompletionStage(session.executeAsync(listPrefix.bind(Handles.fold(prefix))))
        .compose(rs -> listPages(rs, new ArrayList<>()));
  }

  private Future<List<String>> listPages(AsyncResultSet rs, List<String> out) {
    for (Row row : rs.currentPage()) {
      out.add(row.getString("spelling"));
    }
    if (rs.hasMorePages()) {
      return Future.fromCompletionStage(rs.fetchNextPage()).compose(next -> listPages(next, out));
    }
    return Future.succeededFuture(out);
  }

  /** A write whose repetition writes the same rows: sent once more after a timeout. */
  private Future<AsyncResultSet> execIdempotent(com.datastax.oss.driver.api.core.cql.Statement<?> st) {
    com.datastax.oss.driver.api.core.cql.Statement<?> idempotent = st.setIdempotent(true);
    return Future.fromCompletionStage(IdempotentRetry.once(() -> session.executeAsync(idempotent)));
  }

  private Future<AsyncResultSet> exec(com.datastax.oss.driver.api.core.cql.Statement<?> st) {
    CompletionStage<AsyncResultSet> cs = session.executeAsync(st);
    return Future.fromCompletionStage(cs);
  }

  /** Drops every cached entry (tests). */
  public void clearCache() {
    cache.invalidateAll();
    prefixHandleWrites.incrementAndGet();
  }

  /**
   * A counter that moves (before and after) every write of a prefix handle {@code 0.NA/…} through this store, and
   * on {@link #clearCache}: whoever keeps what it derived from prefix handles (the hierarchy's routing decisions)
   * drops it when the counter moved, so a delegation written through any interface of this process is followed at
   * once. Writes by other processes are seen when such derived entries expire (their own bound).
   */
  public long prefixHandleWrites() {
    return prefixHandleWrites.get();
  }

  /** Drops {@code key} (folded) from the cache; a prefix handle also moves {@link #prefixHandleWrites}. */
  private void invalidate(String key) {
    cache.invalidate(key);
    if (key.startsWith(Handles.ZERO_NA + "/")) {
      prefixHandleWrites.incrementAndGet();
    }
  }
}
