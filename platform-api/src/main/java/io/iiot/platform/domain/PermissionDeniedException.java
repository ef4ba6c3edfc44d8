package io.iiot.platform.domain;

/**
 * The caller's key may not do this. Raised before any lookup, so the answer is the same whether the resource exists
 * or not (AIP-211: no existence leak across tenants).
 */
public final class PermissionDeniedException extends RuntimeException {
  public PermissionDeniedException(String message) {
    super(message);
  }

  /** Throws unless {@code principal} may act on {@code tenant}'s resources. */
  public static void check(Principal principal, String tenant, String resource) {
    if (!principal.mayAccess(tenant)) {
      throw new PermissionDeniedException("the API key of tenant '" + principal.tenant() + "' may not access "
          + resource);
    }
  }

  public static void requireOperator(Principal principal, String what) {
    if (!principal.isOperator()) {
      throw new PermissionDeniedException(what + " needs an operator API key");
    }
  }
}
