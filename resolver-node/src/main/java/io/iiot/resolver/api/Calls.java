package io.iiot.resolver.api;

import io.grpc.stub.StreamObserver;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Optional;

/** Finishing unary calls from futures, and the page tokens of the list methods (the last id listed). */
final class Calls {
  private Calls() {}

  static <T> void reply(Future<T> f, StreamObserver<T> out) {
    f.onComplete(r -> {
      if (r.failed()) {
        out.onError(GrpcErrors.unexpected(r.cause()));
      } else {
        out.onNext(r.result());
        out.onCompleted();
      }
    });
  }

  /** Runs {@code call}; a runtime exception thrown before any future exists becomes the call's error. */
  static <T> void run(java.util.function.Supplier<Future<T>> call, StreamObserver<T> out) {
    Future<T> f;
    try {
      f = call.get();
    } catch (RuntimeException e) {
      f = Future.failedFuture(e);
    }
    reply(f, out);
  }

  static int pageSize(int asked) {
    return asked <= 0 ? 100 : Math.min(asked, 1000);
  }

  static String token(String lastId) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(lastId.getBytes(StandardCharsets.UTF_8));
  }

  /** The id a page token names ("" for no token); empty when it is not a token. */
  static Optional<String> after(String token) {
    if (token.isEmpty()) {
      return Optional.of("");
    }
    try {
      return Optional.of(new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }

  static com.google.protobuf.Timestamp ts(java.time.Instant i) {
    return i == null ? com.google.protobuf.Timestamp.getDefaultInstance() : com.google.protobuf.Timestamp.newBuilder()
        .setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  /** The id in {@code "<collection>/<id>"}, or empty. */
  static Optional<String> id(String name, String collection) {
    String p = collection + "/";
    if (name == null || !name.startsWith(p) || name.length() == p.length() || name.indexOf('/', p.length()) >= 0) {
      return Optional.empty();
    }
    return Optional.of(name.substring(p.length()));
  }
}
