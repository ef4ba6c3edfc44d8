package io.iiot.platform.domain;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ApiKeySecretsTest {
  @Test
  void generatedKeysParseAndMatchOnlyTheirHash() {
    ApiKeySecrets.NewKey k = ApiKeySecrets.generate();
    ApiKeySecrets.PresentedKey p = ApiKeySecrets.parse(k.fullKey()).orElseThrow();
    assertThat(p.keyId()).isEqualTo(k.keyId());
    assertThat(ApiKeySecrets.matches(p.secret(), k.secretHash())).isTrue();
    assertThat(ApiKeySecrets.matches(p.secret() + "x", k.secretHash())).isFalse();
    assertThat(k.secretHash()).doesNotContain(p.secret());
    assertThat(k.toString()).doesNotContain(p.secret());
  }

  @Test
  void malformedKeysDoNotParse() {
    assertThat(ApiKeySecrets.parse(null)).isEmpty();
    assertThat(ApiKeySecrets.parse("")).isEmpty();
    assertThat(ApiKeySecrets.parse("Bearer abc")).isEmpty();
    assertThat(ApiKeySecrets.parse("iiotk_SHORT_x")).isEmpty();
    assertThat(ApiKeySecrets.parse("iiotk_abcdefghijklmnop-secret")).isEmpty();
  }
}
