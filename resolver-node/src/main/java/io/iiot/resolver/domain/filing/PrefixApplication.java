package io.iiot.resolver.domain.filing;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An enterprise's application for a prefix and its review (备案 on the secondary node), as an immutable value: each
 * transition returns the next state and appends one {@link AuditEntry} (who, when, what, why); entries are never
 * changed or removed.
 *
 * <pre>
 * SUBMITTED --approve(operator)--> APPROVED (prefix allocated)
 * SUBMITTED --reject(operator, reason)--> REJECTED --resubmit(enterprise, new records)--> SUBMITTED
 * </pre>
 *
 * @param id application id
 * @param records what the enterprise filed
 * @param state current state
 * @param prefix the allocated prefix once APPROVED, else ""
 * @param audit every transition so far, oldest first
 */
public record PrefixApplication(String id, EnterpriseRecords records, State state, String prefix,
    List<AuditEntry> audit) {
  public enum State { SUBMITTED, REJECTED, APPROVED }

  /** One state change: who did what when, and why (a rejection's reason; empty otherwise). */
  public record AuditEntry(Instant at, String actor, String action, State from, State to, String reason) {}

  /** What an enterprise files: name, GB 32100 code, address, contact, GB/T 4754 industry. */
  public record EnterpriseRecords(String name, String creditCode, String address, String contact,
      String industryCategory, String industryCode) {}

  public PrefixApplication {
    audit = List.copyOf(audit);
  }

  /** A new application; {@link IllegalArgumentException} naming the first bad record when one is invalid. */
  public static PrefixApplication submit(String id, EnterpriseRecords r, String actor, Instant at) {
    check(r);
    return new PrefixApplication(id, r, State.SUBMITTED, "", List.of(
        new AuditEntry(at, actor, "SUBMIT", null, State.SUBMITTED, "")));
  }

  private static void check(EnterpriseRecords r) {
    if (r.name() == null || r.name().isBlank() || r.name().length() > 200) {
      throw new IllegalArgumentException("name: REQUIRED: 1-200 characters");
    }
    SocialCreditCode.problem(r.creditCode()).ifPresent(p -> {
      throw new IllegalArgumentException("credit_code: " + p);
    });
    if (r.address() == null || r.address().isBlank() || r.contact() == null || r.contact().isBlank()) {
      throw new IllegalArgumentException("address/contact: REQUIRED");
    }
    io.iiot.resolver.domain.template.IndustryCode.problem(r.industryCategory(), r.industryCode()).ifPresent(p -> {
      throw new IllegalArgumentException("industry: INVALID_INDUSTRY_CODE: " + p);
    });
  }

  public PrefixApplication approve(String operator, String allocatedPrefix, Instant at) {
    require(State.SUBMITTED, "approve");
    return next(State.APPROVED, allocatedPrefix, new AuditEntry(at, operator, "APPROVE", state, State.APPROVED, ""));
  }

  public PrefixApplication reject(String operator, String reason, Instant at) {
    require(State.SUBMITTED, "reject");
    if (reason == null || reason.isBlank()) {
      throw new IllegalArgumentException("reason: REQUIRED: a rejection says why");
    }
    return next(State.REJECTED, "", new AuditEntry(at, operator, "REJECT", state, State.REJECTED, reason));
  }

  /** The enterprise re-applies after a rejection, with corrected records. */
  public PrefixApplication resubmit(EnterpriseRecords corrected, String actor, Instant at) {
    require(State.REJECTED, "resubmit");
    check(corrected);
    List<AuditEntry> a = new ArrayList<>(audit);
    a.add(new AuditEntry(at, actor, "RESUBMIT", state, State.SUBMITTED, ""));
    return new PrefixApplication(id, corrected, State.SUBMITTED, "", a);
  }

  /** Whether identifiers may be registered under {@code p} on account of this application. */
  public boolean allows(String p) {
    return state == State.APPROVED && prefix.equals(p);
  }

  private void require(State s, String action) {
    if (state != s) {
      throw new IllegalStateException("cannot " + action + " an application that is " + state);
    }
  }

  private PrefixApplication next(State to, String p, AuditEntry e) {
    List<AuditEntry> a = new ArrayList<>(audit);
    a.add(e);
    return new PrefixApplication(id, records, to, p, a);
  }
}
