package io.iiot.base.cassandra;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.datastax.oss.driver.api.core.DefaultConsistencyLevel;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.InvalidQueryException;
import com.datastax.oss.driver.api.core.servererrors.ReadTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.UnavailableException;
import com.datastax.oss.driver.api.core.servererrors.WriteTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.WriteType;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class IdempotentRetryTest {
  private static WriteTimeoutException writeTimeout(WriteType type) {
    return new WriteTimeoutException(null, DefaultConsistencyLevel.LOCAL_QUORUM, 0, 1, type);
  }

  @Test
  void aTimedOutWriteIsSentOnceMoreAndItsSecondAnswerCounts() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    String answer = IdempotentRetry.<String>once(() -> attempts.incrementAndGet() == 1
        ? CompletableFuture.failedFuture(writeTimeout(WriteType.UNLOGGED_BATCH))
        : CompletableFuture.completedFuture("written")).toCompletableFuture().get();
    assertThat(answer).isEqualTo("written");
    assertThat(attempts).hasValue(2);
  }

  @Test
  void onlyOnceMore() {
    AtomicInteger attempts = new AtomicInteger();
    assertThatThrownBy(() -> IdempotentRetry.<String>once(() -> {
      attempts.incrementAndGet();
      return CompletableFuture.failedFuture(writeTimeout(WriteType.SIMPLE));
    }).toCompletableFuture().get()).isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(WriteTimeoutException.class);
    assertThat(attempts).hasValue(2);
  }

  @Test
  void lwtTimeoutsAndErrorsThatWouldRecurAreNotRetried() {
    for (Throwable e : new Throwable[] {writeTimeout(WriteType.CAS), writeTimeout(WriteType.COUNTER),
        new ReadTimeoutException(null, DefaultConsistencyLevel.SERIAL, 0, 1, false),
        new UnavailableException(null, DefaultConsistencyLevel.LOCAL_QUORUM, 1, 0),
        new InvalidQueryException(null, "bad")}) {
      AtomicInteger attempts = new AtomicInteger();
      assertThatThrownBy(() -> IdempotentRetry.<String>once(() -> {
        attempts.incrementAndGet();
        return CompletableFuture.failedFuture(e);
      }).toCompletableFuture().get()).as(e.toString()).hasCause(e);
      assertThat(attempts).as(e.toString()).hasValue(1);
    }
  }

  @Test
  void readTimeoutsAndClientTimeoutsAreRetried() {
    assertThat(IdempotentRetry.worthRetrying(new ReadTimeoutException(null, DefaultConsistencyLevel.LOCAL_QUORUM, 0,
        1, false))).isTrue();
    assertThat(IdempotentRetry.worthRetrying(new CompletionException(new DriverTimeoutException("2 s")))).isTrue();
  }
}
