package io.iiot.platform.backend;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** gRPC future stubs as {@link CompletionStage}s. */
final class Stages {
  private Stages() {}

  static <T> CompletionStage<T> of(ListenableFuture<T> future) {
    CompletableFuture<T> out = new CompletableFuture<>();
    Futures.addCallback(future, new FutureCallback<>() {
      @Override
      public void onSuccess(T result) {
        out.complete(result);
      }

      @Override
      public void onFailure(Throwable t) {
        out.completeExceptionally(t);
      }
    }, MoreExecutors.directExecutor());
    return out;
  }
}
