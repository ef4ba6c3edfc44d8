package io.iiot.devicehub.query;

import com.google.protobuf.Any;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.iiot.devicehub.domain.Device;

/** INVALID_ARGUMENT with a BadRequest field violation, and resource-name parsing, for TelemetryQueryService. */
final class QueryErrors {
  private QueryErrors() {}

  static StatusRuntimeException invalid(String field, String description) {
    return StatusProto.toStatusRuntimeException(Status.newBuilder()
        .setCode(Code.INVALID_ARGUMENT_VALUE)
        .setMessage(field + ": " + description)
        .addDetails(Any.pack(BadRequest.newBuilder().addFieldViolations(BadRequest.FieldViolation.newBuilder()
            .setField(field).setDescription(description)).build()))
        .build());
  }

  /** "tenants/{t}/devices/{d}" as {t, d}. */
  static String[] device(String field, String name) {
    String[] s = name.split("/", -1);
    if (s.length != 4 || !s[0].equals("tenants") || !s[2].equals("devices") || !Device.ID.matcher(s[1]).matches()
        || !Device.ID.matcher(s[3]).matches()) {
      throw invalid(field, "expected tenants/{tenant}/devices/{device}, got '" + name + "'");
    }
    return new String[] {s[1], s[3]};
  }

  static String tenant(String field, String name) {
    String[] s = name.split("/", -1);
    if (s.length != 2 || !s[0].equals("tenants") || !Device.ID.matcher(s[1]).matches()) {
      throw invalid(field, "expected tenants/{tenant}, got '" + name + "'");
    }
    return s[1];
  }
}
