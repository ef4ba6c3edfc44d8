package io.iiot.it.cluster;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Telemetry inserts into device-hub's real {@code telemetry} table at a constant number of requests in flight, the
 * way an ingest service keeps writing while the cluster changes under it. Every row carries a unique sequence number
 * (as its value and in its timestamp); the sequence numbers the cluster acknowledged are kept for the check afterwards.
 * Acknowledgements and failures are counted per second since the start.
 */
final class SteadyWriteLoad implements AutoCloseable {
  static final String TENANT = "cluster-it";
  static final int DEVICES = 50;
  static final String METRIC = "seq";

  private final CqlSession session;
  private final PreparedStatement insert;
  private final Semaphore inFlight;
  private final int maxInFlight;
  private final long baseMillis = Instant.now().toEpochMilli();
  private final LocalDate day = LocalDate.now(ZoneOffset.UTC);
  private final Set<Long> acked = ConcurrentHashMap.newKeySet();
  /** The most recently acknowledged sequence numbers (+1; 0 = empty slot), for readers checking them. */
  private final AtomicLongArray recent = new AtomicLongArray(4096);
  private final Map<String, Long> errorKinds = new ConcurrentHashMap<>();
  private final AtomicLongArray ackedPerSecond = new AtomicLongArray(3600);
  private final AtomicLongArray failedPerSecond = new AtomicLongArray(3600);
  private final Thread thread;
  private volatile boolean running = true;
  private volatile long startNanos;

  SteadyWriteLoad(CqlSession session, String keyspace, int maxInFlight) {
    this.session = session;
    this.maxInFlight = maxInFlight;
    this.inFlight = new Semaphore(maxInFlight);
    this.insert = session.prepare("INSERT INTO " + keyspace
        + ".telemetry (tenant, device_id, day, ts, metric, value_double) VALUES (?, ?, ?, ?, ?, ?)");
    this.thread = new Thread(this::run, "steady-write-load");
  }

  SteadyWriteLoad start() {
    startNanos = System.nanoTime();
    thread.start();
    return this;
  }

  /** Seconds since {@link #start()}, as a fraction. */
  double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private void run() {
    long seq = 0;
    while (running) {
      try {
        if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          continue;
        }
      } catch (InterruptedException e) {
        return;
      }
      long id = seq++;
      // A plain INSERT is idempotent: the driver may retry it on another coordinator when one dies mid-request.
      session.executeAsync(insert.bind(TENANT, device(id), day, Instant.ofEpochMilli(baseMillis + id), METRIC,
              (double) id).setIdempotent(true))
          .whenComplete((rs, err) -> {
            int second = (int) Math.min(ackedPerSecond.length() - 1, (System.nanoTime() - startNanos) / 1_000_000_000L);
            if (err == null) {
              acked.add(id);
              recent.set((int) (id % recent.length()), id + 1);
              ackedPerSecond.incrementAndGet(second);
            } else {
              failedPerSecond.incrementAndGet(second);
              errorKinds.merge(err.getClass().getSimpleName(), 1L, Long::sum);
            }
            inFlight.release();
          });
    }
  }

  /** A recently acknowledged sequence number, or -1 if none yet. */
  long recentlyAcked(int slot) {
    return recent.get(Math.floorMod(slot, recent.length())) - 1;
  }

  /** The timestamp of the row written for sequence number {@code id}. */
  Instant ts(long id) {
    return Instant.ofEpochMilli(baseMillis + id);
  }

  static String device(long id) {
    return "dev-" + (id % DEVICES);
  }

  LocalDate day() {
    return day;
  }

  /** Stops issuing writes and waits until every write in flight has completed or failed. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join();
    if (!inFlight.tryAcquire(maxInFlight, 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("writes still in flight 60 s after the load stopped");
    }
    inFlight.release(maxInFlight);
  }

  Set<Long> acked() {
    return acked;
  }

  Map<String, Long> errorKinds() {
    return new TreeMap<>(errorKinds);
  }

  /** Acknowledged writes in whole seconds [from, to). */
  long acked(int fromSecond, int toSecond) {
    return sum(ackedPerSecond, fromSecond, toSecond);
  }

  /** Failed writes in whole seconds [from, to). */
  long failed(int fromSecond, int toSecond) {
    return sum(failedPerSecond, fromSecond, toSecond);
  }

  long ackedAt(int second) {
    return ackedPerSecond.get(second);
  }

  long failedAt(int second) {
    return failedPerSecond.get(second);
  }

  private static long sum(AtomicLongArray a, int from, int to) {
    long s = 0;
    for (int i = Math.max(0, from); i < Math.min(a.length(), to); i++) {
      s += a.get(i);
    }
    return s;
  }
}
