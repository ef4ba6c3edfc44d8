package io.iiot.base.async;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * What an asynchronous call really failed with. {@code CompletableFuture} stages hand their callbacks a
 * {@link CompletionException} around the failure, {@code get()} throws an {@link ExecutionException}, and composed
 * stages may nest them; code that decides by the failure's type or shows its message wants the failure inside.
 * Plain Java, so domain code may use it.
 */
public final class Failures {
  private Failures() {}

  /**
   * The failure inside any {@link CompletionException} and {@link ExecutionException} wrappers around {@code err},
   * however deeply nested: the first throwable of the cause chain that is not such a wrapper, or the innermost wrapper
   * when it has no cause. Any other exception, its own causes included, is returned as it is; {@code null} gives
   * {@code null} (a callback's "no failure").
   */
  public static Throwable cause(Throwable err) {
    Throwable e = err;
    while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
      e = e.getCause();
    }
    return e;
  }

  /**
   * {@code err} as an unchecked exception to throw from a stage's callback: a {@link RuntimeException} itself (the
   * next stage sees it inside one {@link CompletionException}, as if the callback's own stage had failed with it), any
   * other throwable wrapped in a {@link CompletionException}.
   */
  public static RuntimeException asUnchecked(Throwable err) {
    return err instanceof RuntimeException r ? r : new CompletionException(err);
  }
}
