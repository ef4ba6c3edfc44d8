package io.iiot.devicehub.api;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.ResourceInfo;
import com.google.rpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.util.ArrayList;
import java.util.List;

/** gRPC errors with google.rpc details, as the proto's header promises. */
final class ApiErrors {
  private ApiErrors() {}

  /** Collects field violations; {@link #throwIfAny()} turns them into one INVALID_ARGUMENT. */
  static final class Violations {
    private final List<BadRequest.FieldViolation> list = new ArrayList<>();

    void add(String field, String description) {
      if (list.size() < 100) {
        list.add(BadRequest.FieldViolation.newBuilder().setField(field).setDescription(description).build());
      }
    }

    void throwIfAny() {
      if (!list.isEmpty()) {
        throw StatusProto.toStatusRuntimeException(Status.newBuilder()
            .setCode(Code.INVALID_ARGUMENT_VALUE)
            .setMessage(list.size() == 1 ? list.get(0).getField() + ": " + list.get(0).getDescription()
                : list.size() + " invalid fields, first " + list.get(0).getField() + ": " + list.get(0).getDescription())
            .addDetails(Any.pack(BadRequest.newBuilder().addAllFieldViolations(list).build()))
            .build());
      }
    }
  }

  static StatusRuntimeException invalid(String field, String description) {
    Violations v = new Violations();
    v.add(field, description);
    try {
      v.throwIfAny();
    } catch (StatusRuntimeException e) {
      return e;
    }
    throw new AssertionError();
  }

  static StatusRuntimeException notFound(String type, String name) {
    return resource(Code.NOT_FOUND, type, name, type + " " + name + " not found");
  }

  static StatusRuntimeException alreadyExists(String type, String name) {
    return resource(Code.ALREADY_EXISTS, type, name, type + " " + name + " already exists");
  }

  private static StatusRuntimeException resource(Code code, String type, String name, String message) {
    return StatusProto.toStatusRuntimeException(Status.newBuilder()
        .setCode(code.getNumber())
        .setMessage(message)
        .addDetails(Any.pack(ResourceInfo.newBuilder().setResourceType(type).setResourceName(name).build()))
        .build());
  }
}
