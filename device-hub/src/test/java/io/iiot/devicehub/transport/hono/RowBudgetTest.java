package io.iiot.devicehub.transport.hono;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class RowBudgetTest {

  @Test
  void recordsWaitInArrivalOrderUntilWrittenRowsMakeRoom() {
    RowBudget budget = new RowBudget(20);
    assertThat(budget.acquire(9).toCompletableFuture()).isDone();
    assertThat(budget.acquire(9).toCompletableFuture()).isDone();
    CompletableFuture<Void> third = budget.acquire(9).toCompletableFuture();
    // Fits by itself, but must not overtake the one waiting before it.
    CompletableFuture<Void> fourth = budget.acquire(1).toCompletableFuture();
    assertThat(third).isNotDone();
    assertThat(fourth).isNotDone();
    assertThat(budget.waiting()).isEqualTo(2);

    budget.release(9);
    assertThat(third).isDone();
    assertThat(fourth).isDone();
    assertThat(budget.used()).isEqualTo(19);
  }

  @Test
  void aRecordLargerThanTheBudgetGetsItAlone() {
    RowBudget budget = new RowBudget(10);
    assertThat(budget.acquire(3).toCompletableFuture()).isDone();
    CompletableFuture<Void> huge = budget.acquire(50).toCompletableFuture();
    assertThat(huge).isNotDone();
    budget.release(3);
    assertThat(huge).isDone();
    assertThat(budget.used()).isEqualTo(50);
    CompletableFuture<Void> next = budget.acquire(1).toCompletableFuture();
    assertThat(next).isNotDone();
    budget.release(50);
    assertThat(next).isDone();
  }
}
