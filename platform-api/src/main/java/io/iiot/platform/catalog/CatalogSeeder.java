package io.iiot.platform.catalog;

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
 * template once.
 */
public final class CatalogSeeder {
  private CatalogSeeder() {}

  /** Completes with the number of templates this call created (0 when all were there already). */
  public static CompletionStage<Integer> seed(TemplateStore store, List<OnboardingTemplate> catalog) {
    CompletableFuture<?>[] each = new CompletableFuture<?>[catalog.size()];
    int[] created = new int[1];
    for (int i = 0; i < catalog.size(); i++) {
      OnboardingTemplate t = catalog.get(i);
      each[i] = store.create(ResourceNames.parseTemplate(t.getName(), "name"), t)
          .handle((ok, err) -> {
            if (err == null) {
              synchronized (created) {
                created[0]++;
              }
              return null;
            }
            Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            if (cause instanceof ResourceStateException r && r.kind() == ResourceStateException.Kind.ALREADY_EXISTS) {
              return null;
            }
            throw new CompletionException(cause);
          })
          .toCompletableFuture();
    }
    return CompletableFuture.allOf(each).thenApply(v -> {
      synchronized (created) {
        return created[0];
      }
    });
  }
}
