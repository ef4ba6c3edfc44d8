package io.iiot.resolver.domain.auth;

/**
 * Who makes a call: the node's operator (reviews filings, sees everything), the platform's service account (acts
 * like the operator for templates, enterprises, applications and identifiers, but does not review), or one
 * enterprise (its own applications and its own approved prefixes only).
 */
public record Principal(Kind kind, String id) {
  public enum Kind { OPERATOR, SERVICE, ENTERPRISE }

  public static final String OPERATOR_ID = "operator";
  public static final String SERVICE_ID = "service";

  public static Principal operator() {
    return new Principal(Kind.OPERATOR, OPERATOR_ID);
  }

  public static Principal service() {
    return new Principal(Kind.SERVICE, SERVICE_ID);
  }

  public static Principal enterprise(String enterpriseId) {
    return new Principal(Kind.ENTERPRISE, enterpriseId);
  }

  /** Operator or service: may act for any enterprise. */
  public boolean privileged() {
    return kind != Kind.ENTERPRISE;
  }

  public boolean isOperator() {
    return kind == Kind.OPERATOR;
  }

  /** Whether this principal may act for enterprise {@code enterpriseId}. */
  public boolean actsFor(String enterpriseId) {
    return privileged() || id.equals(enterpriseId);
  }

  /** How the audit log names it: "operator", "service", "enterprises/{id}". */
  public String auditName() {
    return kind == Kind.ENTERPRISE ? "enterprises/" + id : id;
  }
}
