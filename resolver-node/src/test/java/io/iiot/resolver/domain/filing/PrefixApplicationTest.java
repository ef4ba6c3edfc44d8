package io.iiot.resolver.domain.filing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.resolver.domain.filing.PrefixApplication.EnterpriseRecords;
import io.iiot.resolver.domain.filing.PrefixApplication.State;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PrefixApplicationTest {
  static final Instant T0 = Instant.parse("2026-11-25T09:00:00Z");
  static final EnterpriseRecords GOOD = new EnterpriseRecords("太原重型机械厂", "91350100M000100Y43",
      "山西省太原市", "张工 +86 351 0000000", "C", "3421");

  @Test
  void creditCodesAreCheckedByTheGb32100CheckCharacter() {
    assertThat(SocialCreditCode.problem("91350100M000100Y43")).isEmpty(); // the standard's example
    assertThat(SocialCreditCode.problem("914403001922038216")).isEmpty();
    assertThat(SocialCreditCode.problem("91110000802100433B")).isEmpty();
    assertThat(SocialCreditCode.problem("91350100M000100Y44"))
        .hasValue("CHECK_CHARACTER: the GB 32100 check character is '3', got '4'");
    assertThat(SocialCreditCode.problem("91350100M000100Y4")).hasValueSatisfying(p -> assertThat(p)
        .startsWith("LENGTH"));
    assertThat(SocialCreditCode.problem("91350100I000100Y43")).hasValueSatisfying(p -> assertThat(p)
        .startsWith("ALPHABET: character 9 'I'"));
  }

  @Test
  void rejectWithReasonThenResubmitThenApproveLeavesAnAppendOnlyAudit() {
    PrefixApplication a = PrefixApplication.submit("app-1", new EnterpriseRecords(GOOD.name(),
        GOOD.creditCode(), "山西省", GOOD.contact(), "C", "3421"), "ent:alice", T0);
    assertThat(a.allows("88.101.5")).isFalse();
    assertThatThrownBy(() -> a.reject("op:bob", " ", T0)).hasMessageStartingWith("reason: REQUIRED");
    PrefixApplication rejected = a.reject("op:bob", "地址不完整 (address incomplete)", T0.plusSeconds(60));
    assertThatThrownBy(() -> rejected.approve("op:bob", "88.101.5", T0)).isInstanceOf(IllegalStateException.class);
    PrefixApplication approved = rejected.resubmit(GOOD, "ent:alice", T0.plusSeconds(120))
        .approve("op:carol", "88.101.5", T0.plusSeconds(180));
    assertThat(approved.state()).isEqualTo(State.APPROVED);
    assertThat(approved.allows("88.101.5")).isTrue();
    assertThat(approved.allows("88.101.6")).isFalse();
    assertThat(approved.audit()).extracting(e -> e.actor() + " " + e.action() + " " + e.to() + " " + e.reason())
        .containsExactly("ent:alice SUBMIT SUBMITTED ", "op:bob REJECT REJECTED 地址不完整 (address incomplete)",
            "ent:alice RESUBMIT SUBMITTED ", "op:carol APPROVE APPROVED ");
    assertThat(rejected.audit()).hasSize(2); // earlier states are untouched values
  }

  @Test
  void badRecordsAreRefused() {
    assertThatThrownBy(() -> PrefixApplication.submit("x", new EnterpriseRecords("n", "91350100M000100Y44", "a",
        "c", "C", ""), "ent", T0)).hasMessageStartingWith("credit_code: CHECK_CHARACTER");
    assertThatThrownBy(() -> PrefixApplication.submit("x", new EnterpriseRecords("n", "91350100M000100Y43", "a",
        "c", "C", "06"), "ent", T0)).hasMessageStartingWith("industry: INVALID_INDUSTRY_CODE");
  }
}
