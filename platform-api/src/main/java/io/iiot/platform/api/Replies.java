package io.iiot.platform.api;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/** Completes a unary call from an asynchronous result, mapping every failure through {@link GrpcErrors}. */
final class Replies {
  private Replies() {}

  static <T> void unary(StreamObserver<T> out, Supplier<CompletionStage<T>> work) {
    CompletionStage<T> stage;
    try {
      stage = work.get();
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.of(e));
      return;
    }
    stage.whenComplete((value, err) -> {
      if (err != null) {
        out.onError(GrpcErrors.of(err));
      } else {
        out.onNext(value);
        out.onCompleted();
      }
    });
  }
}
