package io.iiot.resolver.api;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.iiot.resolver.domain.registration.Outcome;
import io.iiot.resolver.domain.template.FieldViolation;
import java.util.List;

/** gRPC errors as AIP-193 wants them: canonical code, ErrorInfo (reason, domain), BadRequest for bad input. */
final class GrpcErrors {
  static final String DOMAIN = "resolver.iiot.example";

  private GrpcErrors() {}

  static com.google.rpc.Status status(Code code, String reason, String message) {
    return com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(message)
        .addDetails(Any.pack(ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN).build())).build();
  }

  /** INVALID_ARGUMENT with one field violation per broken rule; the description starts with the rule name. */
  static com.google.rpc.Status invalid(String fieldPrefix, List<FieldViolation> violations) {
    BadRequest.Builder br = BadRequest.newBuilder();
    for (FieldViolation v : violations) {
      br.addFieldViolations(BadRequest.FieldViolation.newBuilder().setField(fieldPrefix + v.field())
          .setDescription(v.rule() + ": " + v.description()));
    }
    return status(Code.INVALID_ARGUMENT, "INVALID_FIELDS", violations.size() + " field violation(s)").toBuilder()
        .addDetails(Any.pack(br.build())).build();
  }

  /** FAILED_PRECONDITION with one PreconditionFailure violation. */
  static StatusRuntimeException precondition(String type, String subject, String description) {
    return of(status(Code.FAILED_PRECONDITION, type, description).toBuilder().addDetails(Any.pack(
        com.google.rpc.PreconditionFailure.newBuilder().addViolations(com.google.rpc.PreconditionFailure.Violation
            .newBuilder().setType(type).setSubject(subject).setDescription(description)).build())).build());
  }

  static StatusRuntimeException denied(String reason, String message) {
    return of(Code.PERMISSION_DENIED, reason, message);
  }

  static StatusRuntimeException of(com.google.rpc.Status s) {
    return StatusProto.toStatusRuntimeException(s);
  }

  static StatusRuntimeException of(Code code, String reason, String message) {
    return of(status(code, reason, message));
  }

  static StatusRuntimeException badField(String field, String rule, String description) {
    return of(invalid("", List.of(new FieldViolation(field, rule, description))));
  }

  /** The status of a registration outcome; field paths are prefixed with {@code fieldPrefix}. */
  static com.google.rpc.Status of(Outcome o, String fieldPrefix) {
    return switch (o.kind()) {
      case OK -> com.google.rpc.Status.newBuilder().setCode(Code.OK_VALUE).build();
      case INVALID -> invalid(fieldPrefix, o.violations());
      case ALREADY_EXISTS -> status(Code.ALREADY_EXISTS, "IDENTIFIER_EXISTS", o.message());
      case NOT_FOUND -> status(Code.NOT_FOUND, "IDENTIFIER_NOT_FOUND", o.message());
      case TEMPLATE_NOT_FOUND -> status(Code.NOT_FOUND, "TEMPLATE_NOT_FOUND", o.message());
      case ABORTED -> status(Code.ABORTED, "BATCH_ABORTED", o.message());
      case FAILED -> status(Code.UNAVAILABLE, "STORAGE_UNAVAILABLE", o.message());
    };
  }

  /** Any unexpected failure: UNAVAILABLE (storage) without internals beyond the exception's class. */
  static StatusRuntimeException unexpected(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    return of(Code.UNAVAILABLE, "STORAGE_UNAVAILABLE", "storage failed (" + e.getClass().getSimpleName()
        + "); retry");
  }
}
