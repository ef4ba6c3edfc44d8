package io.iiot.platform.domain;

import java.util.Objects;

/**
 * Who is calling: the API key's id, its tenant and role. Operators administer every tenant; a tenant key acts only on
 * its own tenant's resources.
 */
public record Principal(String keyId, String tenant, Role role) {
  public enum Role {
    TENANT,
    OPERATOR
  }

  public Principal {
    Objects.requireNonNull(keyId, "keyId");
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(role, "role");
  }

  public boolean isOperator() {
    return role == Role.OPERATOR;
  }

  /** Whether this key may act on resources of {@code resourceTenant}. */
  public boolean mayAccess(String resourceTenant) {
    return isOperator() || tenant.equals(resourceTenant);
  }
}
