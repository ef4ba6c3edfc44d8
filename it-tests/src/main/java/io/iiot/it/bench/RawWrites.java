package io.iiot.it.bench;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.Statement;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/** The raw driver baselines' load loop: statements sent asynchronously with a bounded number in flight. */
public final class RawWrites {
  private RawWrites() {}

  /**
   * Sends statements {@code 0 … count-1}, made in that order by {@code statement}, at most {@code inFlight} at once,
   * and waits for all of them; returns the seconds taken. Throws if any failed ({@code what} names them).
   */
  public static double send(CqlSession session, int count, int inFlight, IntFunction<Statement<?>> statement,
      String what) throws InterruptedException {
    Semaphore permits = new Semaphore(inFlight);
    AtomicInteger errors = new AtomicInteger();
    long start = System.nanoTime();
    for (int k = 0; k < count; k++) {
      Statement<?> s = statement.apply(k);
      permits.acquire();
      session.executeAsync(s).whenComplete((rs, err) -> {
        if (err != null) {
          errors.incrementAndGet();
        }
        permits.release();
      });
    }
    permits.acquire(inFlight);
    double seconds = (System.nanoTime() - start) / 1e9;
    if (errors.get() > 0) {
      throw new IllegalStateException(errors.get() + " " + what + " failed");
    }
    return seconds;
  }
}
