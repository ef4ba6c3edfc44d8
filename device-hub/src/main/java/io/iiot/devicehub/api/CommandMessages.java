package io.iiot.devicehub.api;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import com.google.rpc.ResourceInfo;
import com.google.rpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.iiot.base.async.Failures;
import io.iiot.devicehub.command.CommandDeliveryException;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.CommandResponse;
import io.iiot.devicehub.domain.CommandState;
import io.iiot.devicehub.domain.CommandStatus;
import io.iiot.devicehub.domain.DeviceRef;
import java.time.Duration;
import java.time.Instant;

/** iiot.device.v1 command messages ↔ domain, command resource names, and the errors of command.proto. */
final class CommandMessages {
  static final String ERROR_DOMAIN = "device-hub.iiot.io";
  static final String NOT_CONNECTED = "DEVICE_NOT_CONNECTED";
  static final String REJECTED = "COMMAND_REJECTED";

  private CommandMessages() {}

  static String name(DeviceRef device, String commandId) {
    return Names.deviceName(device.tenant(), device.deviceId()) + "/commands/" + commandId;
  }

  /** {tenant, device, command id} of {@code tenants/{t}/devices/{d}/commands/{id}}. */
  static String[] parseName(String field, String name) {
    String[] s = name.split("/", -1);
    if (s.length != 6 || !s[4].equals("commands") || !Command.ID.matcher(s[5]).matches()) {
      throw ApiErrors.invalid(field, "expected tenants/{tenant}/devices/{device}/commands/{20 hex digits}, got '"
          + name + "'");
    }
    String[] device = Names.device(field, String.join("/", s[0], s[1], s[2], s[3]));
    return new String[] {device[0], device[1], s[5]};
  }

  static io.iiot.device.v1.Command toProto(CommandState s, Instant now) {
    Command c = s.command();
    io.iiot.device.v1.Command.Builder b = io.iiot.device.v1.Command.newBuilder()
        .setName(name(c.device(), c.id()))
        .setCommand(c.name())
        .setPayload(ByteString.copyFrom(c.payload()))
        .setContentType(c.contentType())
        .setCorrelationId(c.correlationId())
        .setOneWay(!c.responseRequired())
        .setTtl(duration(c.ttl()))
        .setState(io.iiot.device.v1.Command.State.valueOf(s.effectiveStatus(now).name()))
        .setFailure(s.failure())
        .setCreateTime(timestamp(c.createdAt()))
        .setExpireTime(timestamp(c.expiresAt()))
        .setUpdateTime(timestamp(s.updatedAt()));
    if (s.response() != null) {
      CommandResponse r = s.response();
      b.setResponse(io.iiot.device.v1.CommandResponse.newBuilder().setStatus(r.status())
          .setPayload(ByteString.copyFrom(r.payload())).setContentType(r.contentType())
          .setReceiveTime(timestamp(r.receivedAt())));
    }
    return b.build();
  }

  /** The state a relaying replica gets back (its own clock applies the expiry again when it answers). */
  static CommandState fromProto(Command command, io.iiot.device.v1.Command p) {
    CommandResponse response = p.hasResponse() ? new CommandResponse(p.getResponse().getStatus(),
        p.getResponse().getPayload().toByteArray(), p.getResponse().getContentType(),
        instant(p.getResponse().getReceiveTime())) : null;
    return new CommandState(command, CommandStatus.valueOf(p.getState().name()), response, p.getFailure(),
        instant(p.getUpdateTime()));
  }

  /** A relayed command as stored by the sending replica. */
  static Command commandFromProto(io.iiot.device.v1.Command p) {
    String[] n = parseName("command.name", p.getName());
    return new Command(n[2], new DeviceRef(n[0], n[1]), p.getCommand(), p.getPayload().toByteArray(),
        p.getContentType(), p.getCorrelationId(), !p.getOneWay(), instant(p.getCreateTime()),
        instant(p.getExpireTime()));
  }

  static StatusRuntimeException toStatus(Throwable err) {
    Throwable e = Failures.cause(err);
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    if (e instanceof CommandDeliveryException d) {
      return switch (d.kind()) {
        case UNKNOWN_DEVICE -> status(Code.NOT_FOUND, d.getMessage(), null);
        case NOT_CONNECTED -> status(Code.FAILED_PRECONDITION, d.getMessage(), NOT_CONNECTED);
        case REJECTED -> status(Code.FAILED_PRECONDITION, d.getMessage(), REJECTED);
        case UNAVAILABLE -> status(Code.UNAVAILABLE, d.getMessage(), null);
      };
    }
    return io.grpc.Status.UNAVAILABLE.withDescription("storage did not answer: " + e.getMessage()).withCause(e)
        .asRuntimeException();
  }

  /** NOT_FOUND carries ResourceInfo, FAILED_PRECONDITION an ErrorInfo with the reason. */
  static StatusRuntimeException deliveryStatus(Throwable err, DeviceRef device) {
    StatusRuntimeException s = toStatus(err);
    Status.Builder b = Status.newBuilder().setCode(s.getStatus().getCode().value())
        .setMessage(String.valueOf(s.getStatus().getDescription()));
    Status parsed = StatusProto.fromThrowable(s);
    if (parsed != null && parsed.getDetailsCount() > 0) {
      b.addAllDetails(parsed.getDetailsList());
    }
    if (s.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND && b.getDetailsCount() == 0) {
      b.addDetails(Any.pack(ResourceInfo.newBuilder().setResourceType("iiot.device.v1.Device")
          .setResourceName(Names.deviceName(device.tenant(), device.deviceId()))
          .setDescription("unknown or disabled device").build()));
    }
    return StatusProto.toStatusRuntimeException(b.build());
  }

  private static StatusRuntimeException status(Code code, String message, String reason) {
    Status.Builder b = Status.newBuilder().setCode(code.getNumber()).setMessage(message);
    if (reason != null) {
      b.addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(ERROR_DOMAIN).setReason(reason).build()));
    }
    return StatusProto.toStatusRuntimeException(b.build());
  }

  /** Adds tenant and device to an ErrorInfo detail, if there is one. */
  static StatusRuntimeException withDevice(StatusRuntimeException s, DeviceRef device) {
    Status parsed = StatusProto.fromThrowable(s);
    if (parsed == null) {
      return s;
    }
    Status.Builder b = parsed.toBuilder().clearDetails();
    for (Any d : parsed.getDetailsList()) {
      if (d.is(ErrorInfo.class)) {
        try {
          d = Any.pack(d.unpack(ErrorInfo.class).toBuilder().putMetadata("tenant", device.tenant())
              .putMetadata("device", device.deviceId()).build());
        } catch (com.google.protobuf.InvalidProtocolBufferException impossible) {
          // is() said it is one.
        }
      }
      b.addDetails(d);
    }
    return StatusProto.toStatusRuntimeException(b.build());
  }

  static String errorReason(StatusRuntimeException s) {
    Status parsed = StatusProto.fromThrowable(s);
    if (parsed == null) {
      return "";
    }
    for (Any d : parsed.getDetailsList()) {
      if (d.is(ErrorInfo.class)) {
        try {
          return d.unpack(ErrorInfo.class).getReason();
        } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
          return "";
        }
      }
    }
    return "";
  }

  static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  static Duration duration(com.google.protobuf.Duration d) {
    return Duration.ofSeconds(d.getSeconds(), d.getNanos());
  }

  static Timestamp timestamp(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }
}
