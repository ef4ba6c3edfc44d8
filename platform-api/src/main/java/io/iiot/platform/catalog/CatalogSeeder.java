package io.iiot.platform.catalog;

import io.iiot.base.async.Failures;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.storage.TemplateStore;
import io.iiot.platform.v1.OnboardingTemplate;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Puts the shipped catalogue into Cassandra at start. Each template is created only if absent (LWT), so an
 * operator's later edit of a catalogue template survives restarts, and several replicas starting at once write each
 * template once. The catalogue is one partition, so the inserts go one after another: concurrent Paxos rounds on one
 * partition contend and time out.
 */
public final class CatalogSeeder {
  private CatalogSeeder() {}

  /** Completes with the number of templates this call created (0 when all were there already). */
  public static CompletionStage<Integer> seed(TemplateStore store, List<OnboardingTemplate> catalog) {
    CompletionStage<Integer> chain = CompletableFuture.completedFuture(0);
    for (OnboardingTemplate t : catalog) {
      chain = chain.thenCompose(created -> store.create(ResourceNames.parseTemplate(t.getName(), "name"), t)
          .handle((ok, err) -> {
            if (err == null) {
              return created + 1;
            }
            Throwable cause = Failures.cause(err);
            if (cause instanceof ResourceStateException r && r.kind() == ResourceStateException.Kind.ALREADY_EXISTS) {
              return created;
            }
            throw new CompletionException(cause);
          }));
    }
    return chain;
  }
}
