package io.iiot.devicehub.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class CommandTopicTest {
  private final DeviceRef me = new DeviceRef("acme", "pump1");
  private final Instant now = Instant.parse("2026-11-25T10:00:00Z");
  private final Command request = Command.create(new DeviceRef("acme", "pump1"), "setValve", new byte[0], "", "",
      true, now, Duration.ofSeconds(30));
  private final Command oneWay = Command.create(new DeviceRef("acme", "pump2"), "blink", new byte[0], "", "",
      false, now, Duration.ofSeconds(30));

  @Test
  void subscriptionsInHonosLongAndShortFormsGiveMatchingDeliveryTopics() throws Exception {
    CommandTopic own = CommandTopic.parseSubscription("command///req/#");
    assertThat(own.target(me)).isEqualTo(me);
    assertThat(own.deliveryTopic("pump1", request)).isEqualTo("command///req/" + request.id() + "/setValve");
    assertThat(own.deliveryTopic("pump1", oneWay)).isEqualTo("command///req//blink");

    CommandTopic explicit = CommandTopic.parseSubscription("c/acme/pump1/q/#");
    assertThat(explicit.target(me)).isEqualTo(me);
    assertThat(explicit.deliveryTopic("pump1", request)).isEqualTo("c/acme/pump1/q/" + request.id() + "/setValve");

    CommandTopic gateway = CommandTopic.parseSubscription("command//+/req/#");
    assertThat(gateway.anyDevice()).isTrue();
    assertThat(gateway.deliveryTopic("pump2", oneWay)).isEqualTo("command//pump2/req//blink");
  }

  @Test
  void badFiltersAndOtherTenantsAreRefused() throws Exception {
    assertThatThrownBy(() -> CommandTopic.parseSubscription("command///req/+")).isInstanceOf(AddressException.class);
    assertThatThrownBy(() -> CommandTopic.parseSubscription("command/#")).isInstanceOf(AddressException.class);
    assertThatThrownBy(() -> CommandTopic.parseSubscription("c///req/#")).isInstanceOf(AddressException.class);
    CommandTopic other = CommandTopic.parseSubscription("command/globex//req/#");
    assertThatThrownBy(() -> other.target(me)).isInstanceOf(AddressException.class)
        .extracting(e -> ((AddressException) e).kind()).isEqualTo(AddressException.Kind.FORBIDDEN);
  }

  @Test
  void responsesCarryRequestIdAndAnHttpLikeStatus() throws Exception {
    CommandTopic.Response r = CommandTopic.parseResponse("command///res/0123456789abcdef0123/200");
    assertThat(r.requestId()).isEqualTo("0123456789abcdef0123");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.address().target(me)).isEqualTo(me);
    assertThat(CommandTopic.parseResponse("c//pump2/s/abc/503").address().target(me))
        .isEqualTo(new DeviceRef("acme", "pump2"));
    assertThatThrownBy(() -> CommandTopic.parseResponse("command///res/abc/ok")).isInstanceOf(AddressException.class);
    assertThatThrownBy(() -> CommandTopic.parseResponse("command///res/abc/99")).isInstanceOf(AddressException.class);
    assertThatThrownBy(() -> CommandTopic.parseResponse("command///res//200")).isInstanceOf(AddressException.class);
  }

  @Test
  void statusesOnlyMoveForwardAndAnOverdueCommandReadsAsTimedOut() {
    assertThat(CommandStatus.SENT.canMoveTo(CommandStatus.DELIVERED)).isTrue();
    assertThat(CommandStatus.DELIVERED.canMoveTo(CommandStatus.ANSWERED)).isTrue();
    assertThat(CommandStatus.TIMED_OUT.canMoveTo(CommandStatus.ANSWERED)).isFalse();
    assertThat(CommandStatus.ANSWERED.canMoveTo(CommandStatus.TIMED_OUT)).isFalse();

    CommandState delivered = new CommandState(request, CommandStatus.DELIVERED, null, "", now);
    assertThat(delivered.effectiveStatus(now.plusSeconds(29))).isEqualTo(CommandStatus.DELIVERED);
    assertThat(delivered.effectiveStatus(now.plusSeconds(30))).isEqualTo(CommandStatus.TIMED_OUT);
    // A delivered one-way command is done; it never times out.
    assertThat(new CommandState(oneWay, CommandStatus.DELIVERED, null, "", now).effectiveStatus(now.plusSeconds(60)))
        .isEqualTo(CommandStatus.DELIVERED);
  }

  @Test
  void idsAreTimeOrderedAndNamesAreTopicSafe() {
    Command later = Command.create(me, "x", new byte[0], "", "", true, now.plusMillis(1), Duration.ofSeconds(1));
    assertThat(later.id().compareTo(request.id())).isPositive();
    assertThatThrownBy(() -> Command.checkName("set/valve")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Command.checkName("a#")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Command.create(me, "x", new byte[0], "", "", true, now, Duration.ofHours(25)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
