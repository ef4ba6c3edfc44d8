package io.iiot.resolver.api;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.storage.FilingStore;
import io.vertx.core.Future;
import java.util.Optional;

/**
 * Who may do what under an enterprise prefix: registration needs an APPROVED prefix (FAILED_PRECONDITION with a
 * PreconditionFailure otherwise, for every principal); an enterprise may only touch its own approved prefixes
 * (PERMISSION_DENIED, reason NOT_YOUR_PREFIX); operator and service may touch all.
 *
 * <p>Approved owners are cached without expiry (an approval is never taken back); anything else is read again each
 * time, so a new approval counts at once.
 */
public final class PrefixAccess {
  private final FilingStore filings;
  private final Cache<String, FilingStore.Owner> approved = Caffeine.newBuilder().maximumSize(100_000).build();

  public PrefixAccess(FilingStore filings) {
    this.filings = filings;
  }

  /** The approved owner of {@code prefix}, or empty. */
  Future<Optional<FilingStore.Owner>> approvedOwner(String prefix) {
    FilingStore.Owner hit = approved.getIfPresent(prefix);
    if (hit != null) {
      return Future.succeededFuture(Optional.of(hit));
    }
    return filings.owner(prefix).map(o -> {
      if (o.isPresent() && o.get().approved()) {
        approved.put(prefix, o.get());
        return o;
      }
      return Optional.empty();
    });
  }

  /** Succeeds when {@code p} may write identifiers under {@code prefix}. */
  Future<Void> mayWrite(Principal p, String prefix) {
    return approvedOwner(prefix).compose(o -> {
      if (o.isEmpty()) {
        return Future.failedFuture(GrpcErrors.precondition("PREFIX_NOT_APPROVED", "prefixes/" + prefix,
            "prefix " + prefix + " is not an approved, filed prefix of this node: apply for it and have it approved"));
      }
      if (!p.actsFor(o.get().enterpriseId())) {
        return Future.failedFuture(notYours(prefix));
      }
      return Future.succeededFuture();
    });
  }

  /** Succeeds when {@code p} may read under {@code prefix} (operator and service: any prefix). */
  Future<Void> mayRead(Principal p, String prefix) {
    if (p.privileged()) {
      return Future.succeededFuture();
    }
    return approvedOwner(prefix).compose(o -> o.isPresent() && p.actsFor(o.get().enterpriseId())
        ? Future.succeededFuture() : Future.failedFuture(notYours(prefix)));
  }

  static io.grpc.StatusRuntimeException notYours(String prefix) {
    return GrpcErrors.denied("NOT_YOUR_PREFIX", "prefix " + prefix + " is not one of this enterprise's prefixes");
  }
}
