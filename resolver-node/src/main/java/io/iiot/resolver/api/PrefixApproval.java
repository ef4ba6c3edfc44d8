package io.iiot.resolver.api;

import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.domain.filing.PrefixApplication;
import io.iiot.resolver.storage.FilingQueue;
import io.iiot.resolver.storage.FilingStore;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.transport.handle.KeyCodec;
import io.iiot.resolver.v1.FilingReport;
import io.vertx.core.Future;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Approval of a prefix application, in steps that can each be repeated, so that an approval interrupted half-way
 * (crash, storage timeout) is completed by approving again:
 *
 * <ol>
 *   <li>claim a prefix ({@code INSERT IF NOT EXISTS}: race-free across replicas), the next free
 *       {@code <node prefix>.N} or the one the operator named;
 *   <li>move the application SUBMITTED → APPROVED ({@code IF version = v}; on losing, the claim is given back);
 *   <li>mark the prefix approved (registration under it is allowed from here on);
 *   <li>create the prefix handle {@code 0.NA/<prefix>}: HS_SITE (1) = this node's site record, so the hierarchy
 *       answers for it here; HS_ADMIN (100) naming {@code 300:0.NA/<prefix>} with the enterprise's HS_PUBKEY at 300
 *       when it gave one; HS_ADMIN (101) naming the node admin {@code 300:0.NA/<node prefix>};
 *   <li>queue the filing report for the upstream top-level node (id {@code filing-<application id>}: queued once).
 * </ol>
 *
 * An approval interrupted after step 2 (APPROVED, but steps 3-5 not all done) is also completed without the operator:
 * {@link #completeInterrupted()} runs at start and periodically ({@code filing.completion-sweep-interval}).
 */
public final class PrefixApproval {
  private static final int MAX_PROBES = 10_000;

  private final FilingStore filings;
  private final FilingQueue queue;
  private final HandleStore handles;
  private final String nodePrefix;
  private final Supplier<byte[]> siteRecord;
  private final Runnable reportQueued;

  /**
   * @param siteRecord this node's site record (GET_SITEINFO body)
   * @param reportQueued told when a report was queued (the upstream sender tries at once)
   */
  public PrefixApproval(FilingStore filings, FilingQueue queue, HandleStore handles, String nodePrefix,
      Supplier<byte[]> siteRecord, Runnable reportQueued) {
    this.filings = filings;
    this.queue = queue;
    this.handles = handles;
    this.nodePrefix = nodePrefix;
    this.siteRecord = siteRecord;
    this.reportQueued = reportQueued;
  }

  String nodePrefix() {
    return nodePrefix;
  }

  static String reportId(String applicationId) {
    return "filing-" + applicationId;
  }

  Future<Void> approve(FilingStore.Stored s, String requested, Principal operator) {
    PrefixApplication a = s.application();
    if (a.state() == PrefixApplication.State.APPROVED) {
      return complete(s, a.prefix(), s.updateTime());
    }
    if (a.state() != PrefixApplication.State.SUBMITTED) {
      return Future.failedFuture(GrpcErrors.precondition("APPLICATION_STATE", "applications/" + a.id(),
          "cannot approve an application that is " + a.state()));
    }
    Future<String> claimed = requested.isEmpty() ? claimNext(a.id(), s.enterpriseId())
        : filings.claim(requested, a.id(), s.enterpriseId()).compose(ok -> ok ? Future.succeededFuture(requested)
            : Future.failedFuture(GrpcErrors.of(Code.ALREADY_EXISTS, "PREFIX_TAKEN", "prefix " + requested
                + " is already allocated")));
    Instant now = Instant.now();
    return claimed.compose(prefix -> {
      PrefixApplication next = a.approve(operator.auditName(), prefix, now);
      return filings.transition(s, next, s.rejectionReason(), now).compose(ok -> {
        if (!ok) {
          return filings.release(prefix, a.id()).compose(x -> Future.failedFuture(GrpcErrors.of(Code.ABORTED,
              "CONCURRENT_CHANGE", "the application changed while it was being approved; read it and retry")));
        }
        return complete(s, prefix, now);
      });
    });
  }

  /**
   * Completes every APPROVED application whose filing report is not queued: steps 3-5 run in order, so a queued
   * report means the earlier steps were done (and a prefix handle deleted later on purpose is not brought back).
   * Idempotent, safe beside a running approval and on several replicas (every step is). The future holds how many
   * were completed.
   */
  public Future<Integer> completeInterrupted() {
    return sweep("", 0);
  }

  private static final int SWEEP_PAGE = 200;

  private Future<Integer> sweep(String after, int completed) {
    return filings.ids(null, after, SWEEP_PAGE).compose(ids -> {
      Future<Integer> page = Future.succeededFuture(completed);
      for (String id : ids) {
        page = page.compose(n -> completeIfInterrupted(id).map(done -> done ? n + 1 : n));
      }
      return ids.size() < SWEEP_PAGE ? page : page.compose(n -> sweep(ids.get(ids.size() - 1), n));
    });
  }

  private Future<Boolean> completeIfInterrupted(String applicationId) {
    return filings.get(applicationId).compose(stored -> {
      if (stored.isEmpty() || stored.get().application().state() != PrefixApplication.State.APPROVED
          || stored.get().application().prefix().isEmpty()) {
        return Future.succeededFuture(false);
      }
      FilingStore.Stored s = stored.get();
      return queue.get(reportId(applicationId)).compose(report -> report.isPresent() ? Future.succeededFuture(false)
          : complete(s, s.application().prefix(), s.updateTime()).map(true));
    });
  }

  private Future<String> claimNext(String applicationId, String enterpriseId) {
    return filings.nextNumberHint(nodePrefix).compose(n -> probe(n, 0, applicationId, enterpriseId));
  }

  private Future<String> probe(long n, int tries, String applicationId, String enterpriseId) {
    if (tries >= MAX_PROBES) {
      return Future.failedFuture(GrpcErrors.of(Code.RESOURCE_EXHAUSTED, "NO_FREE_PREFIX", "no free prefix found"));
    }
    String prefix = nodePrefix + "." + n;
    return filings.claim(prefix, applicationId, enterpriseId).compose(ok -> ok
        ? filings.advanceHint(nodePrefix, n + 1).map(prefix)
        : probe(n + 1, tries + 1, applicationId, enterpriseId));
  }

  private Future<Void> complete(FilingStore.Stored s, String prefix, Instant approvedAt) {
    Instant at = approvedAt == null ? Instant.now() : approvedAt;
    return filings.approved(prefix, s.enterpriseId(), at)
        .compose(x -> handles.create(Handles.prefixHandleOf(prefix), prefixHandleValues(prefix, s.adminPublicKey())))
        .compose(x -> queue.enqueue(reportId(s.application().id()), s.application().id(), FilingReport.newBuilder()
            .setReportId(reportId(s.application().id())).setPrefix(prefix)
            .setRecords(PrefixApplicationGrpcService.records(s.application().records())).setNodePrefix(nodePrefix)
            .setSiteRecord(ByteString.copyFrom(siteRecord.get())).setApproveTime(Calls.ts(at)).build().toByteArray(),
            Instant.now()))
        .onSuccess(x -> reportQueued.run());
  }

  private List<HandleValue> prefixHandleValues(String prefix, byte[] adminKey) {
    int now = (int) (System.currentTimeMillis() / 1000);
    String prefixHandle = Handles.prefixHandleOf(prefix);
    List<HandleValue> v = new ArrayList<>();
    v.add(HandleValue.of(1, "HS_SITE", siteRecord.get()).withTimestamp(now));
    if (adminKey.length > 0) {
      v.add(HandleValue.of(100, "HS_ADMIN", new AdminRecord(AdminRecord.ALL, prefixHandle, 300).encode())
          .withTimestamp(now));
      v.add(HandleValue.of(300, "HS_PUBKEY", KeyCodec.encode(publicKey(adminKey).orElseThrow())).withTimestamp(now));
    }
    v.add(HandleValue.of(101, "HS_ADMIN", new AdminRecord(AdminRecord.ALL, Handles.prefixHandleOf(nodePrefix), 300)
        .encode()).withTimestamp(now));
    return v;
  }

  /** Why {@code der} is not an RSA or DSA X.509 public key, or empty when it is one. */
  static Optional<String> publicKeyProblem(byte[] der) {
    return publicKey(der).isPresent() ? Optional.empty()
        : Optional.of("must be an RSA or DSA public key, X.509 SubjectPublicKeyInfo DER");
  }

  private static Optional<PublicKey> publicKey(byte[] der) {
    for (String alg : List.of("RSA", "DSA")) {
      try {
        return Optional.of(KeyFactory.getInstance(alg).generatePublic(new X509EncodedKeySpec(der)));
      } catch (Exception e) {
        // try the next algorithm
      }
    }
    return Optional.empty();
  }
}
