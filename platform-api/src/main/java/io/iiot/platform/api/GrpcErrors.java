package io.iiot.platform.api;

import com.datastax.oss.driver.api.core.AllNodesFailedException;
import com.datastax.oss.driver.api.core.DriverTimeoutException;
import com.datastax.oss.driver.api.core.servererrors.QueryExecutionException;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.RetryInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.iiot.base.async.Failures;
import io.iiot.platform.domain.FieldViolation;
import io.iiot.platform.domain.InvalidRequestException;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.v1.ErrorReason;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns failures into AIP-193 errors: a canonical code, an English message, and a {@code google.rpc.Status} trailer
 * with an {@code ErrorInfo} (domain {@value #DOMAIN}, a stable reason) and, for validation, a {@code BadRequest}.
 */
public final class GrpcErrors {
  public static final String DOMAIN = "platform.iiot.io";
  private static final Logger LOG = LoggerFactory.getLogger(GrpcErrors.class);

  private GrpcErrors() {}

  public static StatusRuntimeException of(Throwable failure) {
    Throwable e = Failures.cause(failure);
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    if (e instanceof InvalidRequestException bad) {
      boolean token = bad.violations().stream().anyMatch(v -> v.field().equals("page_token"));
      return invalid(token ? ErrorReason.INVALID_PAGE_TOKEN : ErrorReason.INVALID_FIELD, bad.getMessage(),
          bad.violations());
    }
    if (e instanceof PermissionDeniedException denied) {
      return error(Code.PERMISSION_DENIED, ErrorReason.PERMISSION_DENIED, denied.getMessage(), Map.of());
    }
    if (e instanceof ResourceStateException r) {
      return switch (r.kind()) {
        case NOT_FOUND -> error(Code.NOT_FOUND, ErrorReason.NOT_FOUND, r.getMessage(),
            Map.of("resource", r.resource()));
        case ALREADY_EXISTS -> error(Code.ALREADY_EXISTS, ErrorReason.ALREADY_EXISTS, r.getMessage(),
            Map.of("resource", r.resource()));
        case ETAG_MISMATCH -> error(Code.ABORTED, ErrorReason.ETAG_MISMATCH, r.getMessage(),
            Map.of("resource", r.resource()));
      };
    }
    if (e instanceof DriverTimeoutException || e instanceof AllNodesFailedException
        || e instanceof QueryExecutionException) {
      LOG.warn("storage unavailable: {}", e.toString());
      return error(Code.UNAVAILABLE, ErrorReason.BACKEND_UNAVAILABLE, "storage is unavailable; retry with backoff",
          Map.of("backend", "cassandra"));
    }
    LOG.error("unexpected failure", e);
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.INTERNAL_VALUE).setMessage("internal error").build());
  }

  public static StatusRuntimeException invalid(ErrorReason reason, String message, List<FieldViolation> violations) {
    BadRequest.Builder br = BadRequest.newBuilder();
    for (FieldViolation v : violations) {
      br.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(v.field()).setDescription(v.description()));
    }
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.INVALID_ARGUMENT_VALUE)
        .setMessage(message)
        .addDetails(Any.pack(info(reason, Map.of())))
        .addDetails(Any.pack(br.build()))
        .build());
  }

  public static StatusRuntimeException error(Code code, ErrorReason reason, String message,
      Map<String, String> metadata) {
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(info(reason, metadata)))
        .build());
  }

  public static StatusRuntimeException rateLimited(long retryAfterNanos) {
    return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
        .setCode(Code.RESOURCE_EXHAUSTED_VALUE)
        .setMessage("rate limit of this API key exceeded; retry later")
        .addDetails(Any.pack(info(ErrorReason.RATE_LIMITED, Map.of())))
        .addDetails(Any.pack(RetryInfo.newBuilder().setRetryDelay(Duration.newBuilder()
            .setSeconds(retryAfterNanos / 1_000_000_000L).setNanos((int) (retryAfterNanos % 1_000_000_000L))).build()))
        .build());
  }

  private static ErrorInfo info(ErrorReason reason, Map<String, String> metadata) {
    return ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason.name()).putAllMetadata(metadata).build();
  }
}
