package io.iiot.platform.domain;

import io.iiot.platform.v1.IdentifierTemplate;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * resolver-node as onboarding sees it: identifiers registered under the tenant's filed prefix with values checked
 * against the template's identifier items. Implemented by a gRPC adapter to {@code iiot.resolver.v1} once
 * resolver-node serves registration; until then nothing in the service implements it.
 */
public interface IdentifierRegistry {

  /** One identifier: {@code handle} is {@code <prefix>/<machine id>}, values keyed by item type. */
  record NewIdentifier(String handle, Map<String, String> values) {}

  /** Registers each identifier on its own; outcomes in request order. */
  CompletionStage<List<RowOutcome>> register(IdentifierTemplate template, List<NewIdentifier> identifiers);

  /** Deletes identifiers (compensation). Deleting one that does not exist succeeds. */
  CompletionStage<Void> delete(List<String> handles);
}
