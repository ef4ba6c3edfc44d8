package io.iiot.platform.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.iiot.device.v1.CommandServiceGrpc;
import io.iiot.platform.domain.PageSize;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.v1.Command;
import io.iiot.platform.v1.CommandServiceGrpc.CommandServiceImplBase;
import io.iiot.platform.v1.GetCommandRequest;
import io.iiot.platform.v1.ListCommandsRequest;
import io.iiot.platform.v1.ListCommandsResponse;
import io.iiot.platform.v1.SendCommandRequest;
import java.util.concurrent.TimeUnit;

/**
 * {@code iiot.platform.v1.CommandService}: device-hub's commands for the caller's tenant's devices. The messages of
 * both APIs have the same fields and numbers, so they are converted by their wire form; the tenant check happens here.
 */
public final class CommandApi extends CommandServiceImplBase {
  /** SendCommand may wait up to 60 s for the device's answer. */
  private static final long SEND_DEADLINE_MS = 75_000;
  private final CommandServiceGrpc.CommandServiceFutureStub hub;
  private final PageTokens tokens;
  private final long deadlineMs;

  public CommandApi(Channel deviceHub, PageTokens tokens, long deadlineMs) {
    this.hub = CommandServiceGrpc.newFutureStub(deviceHub);
    this.tokens = tokens;
    this.deadlineMs = deadlineMs;
  }

  @Override
  public void sendCommand(SendCommandRequest req, StreamObserver<Command> out) {
    Replies.unary(out, () -> {
      String[] device = ResourceNames.parseDevice(req.getParent(), "parent");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), device[0], req.getParent());
      return BackendErrors.call(hub.withDeadlineAfter(Math.max(deadlineMs, SEND_DEADLINE_MS), TimeUnit.MILLISECONDS)
          .sendCommand(convert(req, io.iiot.device.v1.SendCommandRequest.parser())), "device-hub", req.getParent())
          .thenApply(c -> convert(c, Command.parser()));
    });
  }

  @Override
  public void getCommand(GetCommandRequest req, StreamObserver<Command> out) {
    Replies.unary(out, () -> {
      String[] name = ResourceNames.parseCommand(req.getName(), "name");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), name[0], req.getName());
      return BackendErrors.call(hub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).getCommand(
          io.iiot.device.v1.GetCommandRequest.newBuilder().setName(req.getName()).build()), "device-hub",
          req.getName()).thenApply(c -> convert(c, Command.parser()));
    });
  }

  @Override
  public void listCommands(ListCommandsRequest req, StreamObserver<ListCommandsResponse> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      String[] device = ResourceNames.parseDevice(req.getParent(), "parent");
      PermissionDeniedException.check(p, device[0], req.getParent());
      int size = PageSize.of(req.getPageSize());
      Paging paging = new Paging(tokens, "ListCommands", p, req.getParent(), size);
      String cursor = paging.cursor(req.getPageToken());
      return BackendErrors.call(hub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).listCommands(
          io.iiot.device.v1.ListCommandsRequest.newBuilder().setParent(req.getParent()).setPageSize(size)
              .setPageToken(cursor).build()), "device-hub", req.getParent())
          .thenApply(r -> {
            ListCommandsResponse.Builder b = ListCommandsResponse.newBuilder()
                .setNextPageToken(paging.nextToken(r.getNextPageToken()));
            r.getCommandsList().forEach(c -> b.addCommands(convert(c, Command.parser())));
            return b.build();
          });
    });
  }

  /** Same fields and numbers in iiot.device.v1 and iiot.platform.v1: re-read the wire form. */
  private static <T> T convert(com.google.protobuf.MessageLite from, com.google.protobuf.Parser<T> to) {
    try {
      return to.parseFrom(from.toByteString());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("command messages of device-hub and platform-api diverged", e);
    }
  }
}
