package io.iiot.devicehub.api;

import io.grpc.stub.StreamObserver;
import io.iiot.device.v1.CommandServiceGrpc;
import io.iiot.device.v1.GetCommandRequest;
import io.iiot.device.v1.ListCommandsRequest;
import io.iiot.device.v1.ListCommandsResponse;
import io.iiot.device.v1.SendCommandRequest;
import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.DeviceRef;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import io.grpc.StatusRuntimeException;

/**
 * {@code iiot.device.v1.CommandService} (command.proto). Asynchronous: a SendCommand waiting for a device's answer
 * holds no thread.
 */
public final class CommandGrpcService extends CommandServiceGrpc.CommandServiceImplBase {
  static final Duration DEFAULT_TTL = Duration.ofSeconds(60);
  static final Duration MAX_RESPONSE_WAIT = Duration.ofSeconds(60);

  private final CommandRouter router;
  private final Clock clock;

  public CommandGrpcService(CommandRouter router, Clock clock) {
    this.router = router;
    this.clock = clock;
  }

  @Override
  public void sendCommand(SendCommandRequest request, StreamObserver<io.iiot.device.v1.Command> response) {
    Command command;
    Duration wait;
    DeviceRef device;
    try {
      String[] d = Names.device("parent", request.getParent());
      device = new DeviceRef(d[0], d[1]);
      io.iiot.device.v1.Command in = request.getCommand();
      ApiErrors.Violations v = new ApiErrors.Violations();
      try {
        Command.checkName(in.getCommand());
      } catch (IllegalArgumentException e) {
        v.add("command.command", e.getMessage());
      }
      if (in.getPayload().size() > Command.MAX_PAYLOAD_BYTES) {
        v.add("command.payload", "at most " + Command.MAX_PAYLOAD_BYTES + " bytes");
      }
      if (in.getCorrelationId().length() > 128) {
        v.add("command.correlation_id", "at most 128 characters");
      }
      if (in.getContentType().length() > 255) {
        v.add("command.content_type", "at most 255 characters");
      }
      Duration ttl = in.hasTtl() ? CommandMessages.duration(in.getTtl()) : DEFAULT_TTL;
      if (ttl.compareTo(Duration.ofSeconds(1)) < 0 || ttl.compareTo(Command.MAX_TTL) > 0) {
        v.add("command.ttl", "1 s to 24 h (unset: 60 s)");
      }
      wait = CommandMessages.duration(request.getResponseTimeout());
      if (wait.isNegative() || wait.compareTo(MAX_RESPONSE_WAIT) > 0) {
        v.add("response_timeout", "0 to 60 s");
      }
      v.throwIfAny();
      command = Command.create(device, in.getCommand(), in.getPayload().toByteArray(), in.getContentType(),
          in.getCorrelationId(), !in.getOneWay(), clock.instant(), ttl);
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    }
    DeviceRef target = device;
    reply(response, router.send(command, wait), s -> CommandMessages.toProto(s, clock.instant()),
        err -> CommandMessages.withDevice(CommandMessages.deliveryStatus(err, target), target));
  }

  @Override
  public void getCommand(GetCommandRequest request, StreamObserver<io.iiot.device.v1.Command> response) {
    String[] n;
    try {
      n = CommandMessages.parseName("name", request.getName());
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    }
    reply(response, router.get(new DeviceRef(n[0], n[1]), n[2]), found -> CommandMessages.toProto(
        found.orElseThrow(() -> ApiErrors.notFound("iiot.device.v1.Command", request.getName())), clock.instant()),
        CommandMessages::toStatus);
  }

  @Override
  public void listCommands(ListCommandsRequest request, StreamObserver<ListCommandsResponse> response) {
    DeviceRef device;
    int size;
    String after = null;
    try {
      String[] d = Names.device("parent", request.getParent());
      device = new DeviceRef(d[0], d[1]);
      size = request.getPageSize() == 0 ? 100 : request.getPageSize();
      if (size < 1 || size > 1000) {
        throw ApiErrors.invalid("page_size", "1 to 1000 (0 means 100)");
      }
      if (!request.getPageToken().isEmpty()) {
        try {
          after = new String(Base64.getUrlDecoder().decode(request.getPageToken()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          after = "";
        }
        if (!Command.ID.matcher(after).matches()) {
          throw ApiErrors.invalid("page_token", "not a token from a previous response");
        }
      }
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    }
    reply(response, router.list(device, after, size), page -> {
      ListCommandsResponse.Builder b = ListCommandsResponse.newBuilder();
      page.commands().forEach(s -> b.addCommands(CommandMessages.toProto(s, clock.instant())));
      if (page.nextAfter() != null) {
        b.setNextPageToken(Base64.getUrlEncoder().withoutPadding()
            .encodeToString(page.nextAfter().getBytes(StandardCharsets.UTF_8)));
      }
      return b.build();
    }, CommandMessages::toStatus);
  }

  static <S, T> void reply(StreamObserver<T> observer, CompletionStage<S> stage, Function<S, T> map,
      Function<Throwable, StatusRuntimeException> error) {
    stage.whenComplete((s, err) -> {
      if (err != null) {
        observer.onError(error.apply(err));
        return;
      }
      T out;
      try {
        out = map.apply(s);
      } catch (StatusRuntimeException e) {
        observer.onError(e);
        return;
      } catch (RuntimeException e) {
        observer.onError(io.grpc.Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
        return;
      }
      observer.onNext(out);
      observer.onCompleted();
    });
  }
}
