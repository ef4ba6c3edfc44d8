package io.iiot.devicehub.command;

import io.iiot.devicehub.domain.CommandResponse;
import io.iiot.devicehub.domain.CommandState;
import io.iiot.devicehub.domain.DeviceRef;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Where transports report what became of a command. Implemented by {@link CommandRouter}; every method stores the
 * change in Cassandra (a conditional update: a command that already timed out or was answered stays as it was) and
 * wakes up a SendCommand that waits for the answer, on this replica or the one that forwarded the command here.
 */
public interface CommandResponses {
  /**
   * The device answered command {@code commandId}. Completes with the stored state (ANSWERED), with an empty
   * optional when no such command exists for that device, or with the unchanged state when it had already ended
   * (answered, timed out or failed) — a late or repeated answer is not stored.
   */
  CompletionStage<Optional<CommandState>> answer(DeviceRef device, String commandId, CommandResponse response);

  /** Delivery failed after the transport's {@code deliver} stage had completed (e.g. Hono reported it later). */
  CompletionStage<Optional<CommandState>> failed(DeviceRef device, String commandId, String reason);
}
