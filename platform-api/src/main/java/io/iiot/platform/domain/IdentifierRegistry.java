package io.iiot.platform.domain;

import io.iiot.platform.v1.OnboardingTemplate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * resolver-node as onboarding sees it: identifiers registered under the tenant's filed prefix with values checked
 * against the template's identifier items. Implemented over resolver-node's {@code iiot.resolver.v1} by
 * {@code backend.ResolverIdentifierRegistry}.
 */
public interface IdentifierRegistry {

  /** One identifier: {@code handle} is {@code <prefix>/<machine id>}, values keyed by item type. */
  record NewIdentifier(String handle, Map<String, String> values) {}

  /**
   * Registers each identifier on its own, its values checked against {@code template}'s identifier items; outcomes
   * in request order.
   */
  CompletionStage<List<RowOutcome>> register(OnboardingTemplate template, List<NewIdentifier> identifiers);

  /** Deletes identifiers (compensation). Deleting one that does not exist succeeds. */
  CompletionStage<Void> delete(List<String> handles);
}
