package io.iiot.platform.api;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.iiot.base.async.Failures;
import io.iiot.platform.domain.FieldViolation;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.v1.ErrorReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * A back end's (device-hub, resolver-node) gRPC failure as this API's error: NOT_FOUND names our resource,
 * INVALID_ARGUMENT keeps the back end's field violations, outages become UNAVAILABLE / BACKEND_UNAVAILABLE. The back
 * end's own ErrorInfo domain never leaks to integrators.
 */
final class BackendErrors {
  private BackendErrors() {}

  /** A back-end call's result, its failure mapped by {@link #map}. */
  static <T> CompletionStage<T> call(ListenableFuture<T> call, String backend, String resource) {
    CompletableFuture<T> f = new CompletableFuture<>();
    Futures.addCallback(call, new FutureCallback<>() {
      @Override
      public void onSuccess(T v) {
        f.complete(v);
      }

      @Override
      public void onFailure(Throwable t) {
        f.completeExceptionally(map(t, backend, resource));
      }
    }, MoreExecutors.directExecutor());
    return f;
  }

  static RuntimeException map(Throwable failure, String backend, String resource) {
    Throwable e = Failures.cause(failure);
    if (!(e instanceof StatusRuntimeException s)) {
      return Failures.asUnchecked(e);
    }
    String why = s.getStatus().getDescription() == null ? s.getStatus().getCode().toString()
        : s.getStatus().getDescription();
    return switch (s.getStatus().getCode()) {
      case NOT_FOUND -> ResourceStateException.notFound(resource);
      case INVALID_ARGUMENT -> GrpcErrors.invalid(ErrorReason.INVALID_FIELD, why, violations(s));
      case RESOURCE_EXHAUSTED -> GrpcErrors.error(Code.RESOURCE_EXHAUSTED, ErrorReason.BACKEND_UNAVAILABLE,
          backend + " is at its limit: " + why, Map.of("backend", backend));
      case PERMISSION_DENIED, FAILED_PRECONDITION -> GrpcErrors.error(Code.FAILED_PRECONDITION,
          reason(s).orElse(ErrorReason.BACKEND_REFUSED), backend + " refused: " + why, Map.of("backend", backend));
      default -> GrpcErrors.error(Code.UNAVAILABLE, ErrorReason.BACKEND_UNAVAILABLE,
          backend + " did not answer (" + s.getStatus().getCode() + "); retry with backoff",
          Map.of("backend", backend));
    };
  }

  /** The back end's ErrorInfo reason when this API has the same one (e.g. DEVICE_NOT_CONNECTED). */
  private static java.util.Optional<ErrorReason> reason(StatusRuntimeException s) {
    com.google.rpc.Status st = StatusProto.fromThrowable(s);
    if (st != null) {
      for (com.google.protobuf.Any any : st.getDetailsList()) {
        if (any.is(com.google.rpc.ErrorInfo.class)) {
          try {
            String r = any.unpack(com.google.rpc.ErrorInfo.class).getReason();
            return java.util.Arrays.stream(ErrorReason.values()).filter(e -> e.name().equals(r)).findFirst();
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // no reason from an unreadable detail
          }
        }
      }
    }
    return java.util.Optional.empty();
  }

  private static List<FieldViolation> violations(StatusRuntimeException s) {
    List<FieldViolation> out = new ArrayList<>();
    com.google.rpc.Status st = StatusProto.fromThrowable(s);
    if (st != null) {
      for (com.google.protobuf.Any any : st.getDetailsList()) {
        if (any.is(BadRequest.class)) {
          try {
            any.unpack(BadRequest.class).getFieldViolationsList()
                .forEach(v -> out.add(new FieldViolation(v.getField(), v.getDescription())));
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // no violations from an unreadable detail
          }
        }
      }
    }
    return out;
  }
}
