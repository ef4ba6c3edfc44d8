package io.iiot.it.cluster;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Reads rows the cluster has just acknowledged, at the session's consistency (LOCAL_QUORUM), while the write load and
 * the fault go on. With writes and reads both at LOCAL_QUORUM of 3 replicas every read must see the acknowledged row
 * with its value; a missing row or another value is a wrong answer. Read failures (timeouts, unavailable) are counted
 * apart: they are errors the caller sees, not wrong answers.
 */
final class ReadYourWritesProbe implements AutoCloseable {
  private static final int IN_FLIGHT = 16;
  private final CqlSession session;
  private final SteadyWriteLoad load;
  private final PreparedStatement select;
  private final Semaphore inFlight = new Semaphore(IN_FLIGHT);
  private final AtomicLongArray correct = new AtomicLongArray(3600);
  private final AtomicLongArray wrong = new AtomicLongArray(3600);
  private final AtomicLongArray failed = new AtomicLongArray(3600);
  private final Thread thread = new Thread(this::run, "read-your-writes-probe");
  private volatile boolean running = true;
  private volatile String firstWrong;

  ReadYourWritesProbe(CqlSession session, String keyspace, SteadyWriteLoad load) {
    this.session = session;
    this.load = load;
    this.select = session.prepare("SELECT value_double FROM " + keyspace + ".telemetry WHERE tenant = ? AND device_id = ?"
        + " AND day = ? AND ts = ? AND metric = ?");
  }

  ReadYourWritesProbe start() {
    thread.start();
    return this;
  }

  private void run() {
    while (running) {
      long id = load.recentlyAcked(ThreadLocalRandom.current().nextInt(4096));
      try {
        if (id < 0) {
          Thread.sleep(10);
          continue;
        }
        if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          continue;
        }
      } catch (InterruptedException e) {
        return;
      }
      session.executeAsync(select.bind(SteadyWriteLoad.TENANT, SteadyWriteLoad.device(id), load.day(), load.ts(id),
              SteadyWriteLoad.METRIC).setIdempotent(true))
          .whenComplete((rs, err) -> {
            int second = (int) Math.min(correct.length() - 1, load.elapsedSeconds());
            if (err != null) {
              failed.incrementAndGet(second);
            } else {
              Row row = rs.one();
              if (row != null && row.getDouble(0) == (double) id) {
                correct.incrementAndGet(second);
              } else {
                wrong.incrementAndGet(second);
                if (firstWrong == null) {
                  firstWrong = "sequence " + id + " read back as " + (row == null ? "no row" : row.getDouble(0));
                }
              }
            }
            inFlight.release();
          });
    }
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.join();
    if (!inFlight.tryAcquire(IN_FLIGHT, 60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("reads still in flight 60 s after the probe stopped");
    }
    inFlight.release(IN_FLIGHT);
  }

  long correct(int from, int to) {
    return sum(correct, from, to);
  }

  long wrong(int from, int to) {
    return sum(wrong, from, to);
  }

  long failed(int from, int to) {
    return sum(failed, from, to);
  }

  /** The first wrong answer seen, or null. */
  String firstWrong() {
    return firstWrong;
  }

  private static long sum(AtomicLongArray a, int from, int to) {
    long s = 0;
    for (int i = Math.max(0, from); i < Math.min(a.length(), to); i++) {
      s += a.get(i);
    }
    return s;
  }
}
