package io.iiot.platform.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class PageTokensTest {
  private final byte[] key = new byte[32];
  private final PageTokens tokens =
      new PageTokens(key, Duration.ofHours(1), Clock.fixed(Instant.parse("2026-11-25T10:00:00Z"), ZoneOffset.UTC));

  @Test
  void roundTripsTheCursorForTheSameQuery() {
    String t = tokens.issue("list|tenants/acme|50", "cnc-machining-centre");
    assertThat(tokens.cursor(t, "list|tenants/acme|50")).isEqualTo("cnc-machining-centre");
  }

  @Test
  void rejectsAnotherQueryATamperedTokenAndGarbage() {
    String t = tokens.issue("list|tenants/acme|50", "boiler");
    assertThatThrownBy(() -> tokens.cursor(t, "list|tenants/other|50"))
        .isInstanceOf(InvalidRequestException.class).hasMessageContaining("another query");
    byte[] raw = Base64.getUrlDecoder().decode(t);
    raw[10] ^= 1; // change the cursor
    String tampered = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    assertThatThrownBy(() -> tokens.cursor(tampered, "list|tenants/acme|50"))
        .isInstanceOf(InvalidRequestException.class).hasMessageContaining("altered");
    assertThatThrownBy(() -> tokens.cursor("not a token!", "x"))
        .isInstanceOfSatisfying(InvalidRequestException.class,
            e -> assertThat(e.violations().get(0).field()).isEqualTo("page_token"));
  }

  @Test
  void expires() {
    String t = tokens.issue("q", "c");
    PageTokens later = new PageTokens(key, Duration.ofHours(1),
        Clock.fixed(Instant.parse("2026-11-25T11:00:01Z"), ZoneOffset.UTC));
    assertThatThrownBy(() -> later.cursor(t, "q")).hasMessageContaining("expired");
  }
}
