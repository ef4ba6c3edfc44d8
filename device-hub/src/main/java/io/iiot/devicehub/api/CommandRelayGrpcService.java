package io.iiot.devicehub.api;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.iiot.device.v1.CommandRelayServiceGrpc;
import io.iiot.device.v1.RelayCommandRequest;
import io.iiot.devicehub.command.CommandRouter;
import io.iiot.devicehub.domain.Command;
import java.time.Clock;

/** Replica-to-replica: takes a command another replica stored and delivers it to the device connected here. */
public final class CommandRelayGrpcService extends CommandRelayServiceGrpc.CommandRelayServiceImplBase {
  private final CommandRouter router;
  private final Clock clock;

  public CommandRelayGrpcService(CommandRouter router, Clock clock) {
    this.router = router;
    this.clock = clock;
  }

  @Override
  public void relayCommand(RelayCommandRequest request, StreamObserver<io.iiot.device.v1.Command> response) {
    Command command;
    try {
      command = CommandMessages.commandFromProto(request.getCommand());
    } catch (StatusRuntimeException e) {
      response.onError(e);
      return;
    } catch (IllegalArgumentException e) {
      response.onError(ApiErrors.invalid("command", e.getMessage()));
      return;
    }
    CommandGrpcService.reply(response, router.deliverRelayed(command,
            CommandMessages.duration(request.getResponseTimeout()), request.getReplicaId()),
        s -> CommandMessages.toProto(s, clock.instant()), CommandMessages::toStatus);
  }
}
