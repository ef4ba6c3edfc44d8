package io.iiot.base.async;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class FailuresTest {
  @Test
  void theFailureAStageCallbackSeesIsUnwrapped() {
    IllegalStateException failure = new IllegalStateException("node down");
    Throwable seen = CompletableFuture.failedFuture(failure).thenApply(v -> v)
        .handle((v, err) -> err).join();
    assertThat(seen).isInstanceOf(CompletionException.class);
    assertThat(Failures.cause(seen)).isSameAs(failure);
  }

  @Test
  void theFailureGetThrowsIsUnwrapped() {
    IOException failure = new IOException("reset");
    Throwable thrown = catchThrowable(() -> CompletableFuture.failedFuture(failure).get(1, TimeUnit.SECONDS));
    assertThat(thrown).isInstanceOf(ExecutionException.class);
    assertThat(Failures.cause(thrown)).isSameAs(failure);
  }

  @Test
  void nestedWrappersOfBothKindsAreAllUnwrapped() {
    IOException failure = new IOException("reset");
    Throwable nested = new CompletionException(new ExecutionException(new CompletionException(failure)));
    assertThat(Failures.cause(nested)).isSameAs(failure);
  }

  @Test
  void theCausesOfTheFailureItselfAreKept() {
    IOException root = new IOException("reset");
    IllegalStateException failure = new IllegalStateException("write failed", new CompletionException(root));
    assertThat(Failures.cause(new CompletionException(failure))).isSameAs(failure);
    assertThat(Failures.cause(failure)).isSameAs(failure);
  }

  @Test
  void aWrapperWithoutCauseIsTheFailure() {
    CompletionException empty = new CompletionException("cancelled", null);
    assertThat(Failures.cause(empty)).isSameAs(empty);
    ExecutionException inner = new ExecutionException("no cause", null);
    assertThat(Failures.cause(new CompletionException(inner))).isSameAs(inner);
  }

  @Test
  void noFailureIsNoCause() {
    assertThat(Failures.cause(null)).isNull();
  }

  @Test
  void anUncheckedFailureIsThrownAsItIsAndACheckedOneWrapped() {
    IllegalArgumentException unchecked = new IllegalArgumentException("bad name");
    assertThat(Failures.asUnchecked(unchecked)).isSameAs(unchecked);
    CompletionException wrapper = new CompletionException(unchecked);
    assertThat(Failures.asUnchecked(wrapper)).isSameAs(wrapper);
    IOException checked = new IOException("reset");
    RuntimeException wrapped = Failures.asUnchecked(checked);
    assertThat(wrapped).isInstanceOf(CompletionException.class).hasCause(checked);
    assertThat(Failures.cause(wrapped)).isSameAs(checked);
  }
}
