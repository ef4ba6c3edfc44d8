package io.iiot.devicehub.command;

import io.iiot.devicehub.domain.Command;
import io.iiot.devicehub.domain.CommandState;
import io.iiot.devicehub.storage.DeviceConnections;
import java.time.Duration;
import java.util.concurrent.CompletionStage;

/** Hands a stored command to the replica a device is connected to (implemented over gRPC in {@code api}). */
public interface ReplicaRelay {
  /**
   * Completes with the command's state as the other replica returns it (after delivery, or after the answer when
   * {@code responseWait} is positive); fails with a {@link CommandDeliveryException}.
   */
  CompletionStage<CommandState> relay(DeviceConnections.Entry target, Command command, Duration responseWait);
}
