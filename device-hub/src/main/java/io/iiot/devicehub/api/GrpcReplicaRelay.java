package io.iiot.devicehub.api;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.iiot.device.v1.CommandRelayServiceGrpc;
import io.iiot.device.v1.RelayCommandRequest;
import io.iiot.devicehub.command.CommandDeliveryException;
import io.iiot.devicehub.command.ReplicaRelay;
import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.CommandState;
import io.iiot.devicehub.storage.DeviceConnections;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@link ReplicaRelay} over gRPC ({@code CommandRelayService} of the other replica, at the address it registered).
 * One plaintext channel per replica address, kept for the life of this replica (the internal network is trusted like
 * the rest of device-hub's internal gRPC API).
 */
public final class GrpcReplicaRelay implements ReplicaRelay, AutoCloseable {
  /** Beyond the response wait: time for the other replica to deliver (an MQTT QoS 1 PUBACK) and answer. */
  static final Duration DELIVERY_ALLOWANCE = Duration.ofSeconds(30);

  private final Clock clock;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();

  public GrpcReplicaRelay(Clock clock) {
    this.clock = clock;
  }

  @Override
  public CompletionStage<CommandState> relay(DeviceConnections.Entry target, Command command, Duration responseWait) {
    ManagedChannel ch = channels.computeIfAbsent(target.grpcAddress(),
        a -> ManagedChannelBuilder.forTarget(a).usePlaintext().build());
    RelayCommandRequest req = RelayCommandRequest.newBuilder()
        .setCommand(CommandMessages.toProto(io.iiot.devicehub.domain.CommandState.sent(command), clock.instant()))
        .setResponseTimeout(CommandMessages.duration(responseWait))
        .setReplicaId(target.replicaId())
        .build();
    CompletableFuture<CommandState> out = new CompletableFuture<>();
    CommandRelayServiceGrpc.newStub(ch)
        .withDeadlineAfter(responseWait.plus(DELIVERY_ALLOWANCE).toMillis(), TimeUnit.MILLISECONDS)
        .relayCommand(req, new StreamObserver<>() {
          @Override
          public void onNext(io.iiot.device.v1.Command value) {
            out.complete(CommandMessages.fromProto(command, value));
          }

          @Override
          public void onError(Throwable t) {
            out.completeExceptionally(deliveryError(t, target));
          }

          @Override
          public void onCompleted() {
            out.completeExceptionally(new CommandDeliveryException(CommandDeliveryException.Kind.UNAVAILABLE,
                "replica " + target.replicaId() + " answered nothing"));
          }
        });
    return out;
  }

  private static CommandDeliveryException deliveryError(Throwable t, DeviceConnections.Entry target) {
    if (t instanceof StatusRuntimeException s) {
      String reason = CommandMessages.errorReason(s);
      if (CommandMessages.NOT_CONNECTED.equals(reason)) {
        return new CommandDeliveryException(CommandDeliveryException.Kind.NOT_CONNECTED,
            String.valueOf(s.getStatus().getDescription()));
      }
      if (CommandMessages.REJECTED.equals(reason)) {
        return new CommandDeliveryException(CommandDeliveryException.Kind.REJECTED,
            String.valueOf(s.getStatus().getDescription()));
      }
      if (s.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return new CommandDeliveryException(CommandDeliveryException.Kind.UNKNOWN_DEVICE,
            String.valueOf(s.getStatus().getDescription()));
      }
    }
    return new CommandDeliveryException(CommandDeliveryException.Kind.UNAVAILABLE,
        "replica " + target.replicaId() + " at " + target.grpcAddress() + " did not take the command: "
            + Status.fromThrowable(t));
  }

  @Override
  public void close() {
    channels.values().forEach(ManagedChannel::shutdownNow);
  }
}
