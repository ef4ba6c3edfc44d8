package io.iiot.base.cassandra;

import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.OverloadedException;
import com.datastax.oss.driver.api.core.servererrors.ReadTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.WriteType;
import io.iiot.base.async.Failures;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * Sends an idempotent request once more when the first attempt timed out or found the node overloaded: a bulk
 * operation (thousands of partitions in a few hundred requests) then survives one slow moment of a busy node instead
 * of failing, and rolling back, a whole chunk for one request. Only for requests whose repetition writes the same
 * data (plain INSERTs and DELETEs without counters, list appends or conditions) or that only read: the driver retries
 * write timeouts of such requests only for logged batches (DefaultRetryPolicy), and never a client-side timeout.
 * A conditional write (LWT) is never retried here: its outcome may be unknown (CAS write timeout), which only the
 * caller can resolve.
 */
public final class IdempotentRetry {
  private IdempotentRetry() {}

  /** Runs {@code attempt}; runs it a second time (once) when the first failed with {@link #worthRetrying}. */
  public static <T> CompletionStage<T> once(Supplier<? extends CompletionStage<T>> attempt) {
    CompletionStage<T> first;
    try {
      first = attempt.get();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return first.exceptionallyCompose(e -> worthRetrying(e) ? attempt.get() : CompletableFuture.failedFuture(e));
  }

  /**
   * A failure that a second attempt of an idempotent request may not meet: a server-side timeout of a plain write or a
   * read, the client-side request timeout, an overloaded coordinator. Not: CAS (LWT) timeouts, syntax or
   * authorization errors, unavailable replicas (the next attempt would find them down as well).
   */
  public static boolean worthRetrying(Throwable e) {
    Throwable cause = Failures.cause(e);
    if (cause instanceof WriteTimeoutException w) {
      return w.getWriteType() != WriteType.CAS && w.getWriteType() != WriteType.COUNTER;
    }
    return cause instanceof ReadTimeoutException r && !r.getConsistencyLevel().isSerial()
        || cause instanceof DriverTimeoutException
        || cause instanceof OverloadedException;
  }
}
