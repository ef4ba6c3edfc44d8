package io.iiot.devicehub.domain;

import java.time.Instant;

/**
 * A command as stored: the command, its status and, once answered, the device's response.
 *
 * @param response the response, null unless ANSWERED
 * @param failure why it FAILED, empty otherwise
 */
public record CommandState(Command command, CommandStatus status, CommandResponse response, String failure,
    Instant updatedAt) {
  public CommandState {
    failure = failure == null ? "" : failure;
  }

  public static CommandState sent(Command command) {
    return new CommandState(command, CommandStatus.SENT, null, "", command.createdAt());
  }

  /**
   * The status a reader should see at {@code now}: a command still waiting past its expiry is timed out even if the
   * replica that should have marked it went away.
   */
  public CommandStatus effectiveStatus(Instant now) {
    boolean waiting = status == CommandStatus.SENT
        || (status == CommandStatus.DELIVERED && command.responseRequired());
    return waiting && command.expired(now) ? CommandStatus.TIMED_OUT : status;
  }
}
