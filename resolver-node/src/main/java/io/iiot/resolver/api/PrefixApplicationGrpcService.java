package io.iiot.resolver.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Code;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.domain.filing.PrefixApplication;
import io.iiot.resolver.domain.filing.PrefixApplication.EnterpriseRecords;
import io.iiot.resolver.domain.registration.EnterprisePrefix;
import io.iiot.resolver.domain.template.FieldViolation;
import io.iiot.resolver.storage.EnterpriseStore;
import io.iiot.resolver.storage.FilingQueue;
import io.iiot.resolver.storage.FilingStore;
import io.iiot.resolver.v1.ApprovePrefixApplicationRequest;
import io.iiot.resolver.v1.AuditEntry;
import io.iiot.resolver.v1.CreatePrefixApplicationRequest;
import io.iiot.resolver.v1.Filing;
import io.iiot.resolver.v1.FilingReport;
import io.iiot.resolver.v1.GetFilingRequest;
import io.iiot.resolver.v1.GetPrefixApplicationRequest;
import io.iiot.resolver.v1.ListAuditEntriesRequest;
import io.iiot.resolver.v1.ListAuditEntriesResponse;
import io.iiot.resolver.v1.ListFilingsRequest;
import io.iiot.resolver.v1.ListFilingsResponse;
import io.iiot.resolver.v1.ListPrefixApplicationsRequest;
import io.iiot.resolver.v1.ListPrefixApplicationsResponse;
import io.iiot.resolver.v1.PrefixApplicationServiceGrpc;
import io.iiot.resolver.v1.RejectPrefixApplicationRequest;
import io.iiot.resolver.v1.ResubmitPrefixApplicationRequest;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * {@code iiot.resolver.v1.PrefixApplicationService}: an enterprise applies for a prefix, the operator approves or
 * rejects (with a reason), every transition goes to the audit log; approval ({@link PrefixApproval}) allocates the
 * prefix, creates its prefix handle and queues the upstream filing report, whose state is served here too.
 */
public final class PrefixApplicationGrpcService extends PrefixApplicationServiceGrpc.PrefixApplicationServiceImplBase {
  private final FilingStore filings;
  private final EnterpriseStore enterprises;
  private final FilingQueue queue;
  private final PrefixApproval approval;
  private final String upstream;

  public PrefixApplicationGrpcService(FilingStore filings, EnterpriseStore enterprises, FilingQueue queue,
      PrefixApproval approval, String upstream) {
    this.filings = filings;
    this.enterprises = enterprises;
    this.queue = queue;
    this.approval = approval;
    this.upstream = upstream;
  }

  @Override
  public void createPrefixApplication(CreatePrefixApplicationRequest req,
      StreamObserver<io.iiot.resolver.v1.PrefixApplication> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      String ent = Calls.id(req.getParent(), "enterprises").orElseThrow(() -> GrpcErrors.badField("parent",
          "INVALID_NAME", "must be enterprises/{enterprise_id}"));
      if (!p.actsFor(ent)) {
        throw GrpcErrors.denied("NOT_YOUR_ENTERPRISE", "an enterprise credential applies only for itself");
      }
      byte[] key = req.getApplication().getAdminPublicKey().toByteArray();
      if (key.length > 0) {
        PrefixApproval.publicKeyProblem(key).ifPresent(pr -> {
          throw GrpcErrors.badField("application.admin_public_key", "INVALID_PUBLIC_KEY", pr);
        });
      }
      String id = "app-" + io.iiot.resolver.domain.auth.Tokens.timeOrderedHex();
      Instant now = Instant.now();
      PrefixApplication a = domain(() -> PrefixApplication.submit(id, records(req.getApplication().getRecords()),
          p.auditName(), now), "application.records.");
      return enterprises.get(ent).compose(e -> e.isEmpty() ? Future.failedFuture(GrpcErrors.of(Code.NOT_FOUND,
          "ENTERPRISE_NOT_FOUND", "no enterprise " + ent)) : filings.insert(ent, a, key, now))
          .compose(x -> read(id));
    }, out);
  }

  @Override
  public void getPrefixApplication(GetPrefixApplicationRequest req,
      StreamObserver<io.iiot.resolver.v1.PrefixApplication> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> owned(p, appId(req.getName(), "name")).map(PrefixApplicationGrpcService::toProto), out);
  }

  @Override
  public void listPrefixApplications(ListPrefixApplicationsRequest req,
      StreamObserver<ListPrefixApplicationsResponse> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      String ent = Calls.id(req.getParent(), "enterprises").orElseThrow(() -> GrpcErrors.badField("parent",
          "INVALID_NAME", "must be enterprises/{enterprise_id} or enterprises/-"));
      boolean all = ent.equals("-");
      if (all ? !p.privileged() : !p.actsFor(ent)) {
        throw GrpcErrors.denied("NOT_YOUR_ENTERPRISE", "an enterprise credential lists only its own applications");
      }
      String after = Calls.after(req.getPageToken()).orElseThrow(() -> GrpcErrors.badField("page_token",
          "INVALID_PAGE_TOKEN", "not a token this service returned"));
      int size = Calls.pageSize(req.getPageSize());
      return filings.ids(all ? null : ent, after, size).compose(ids -> {
        List<Future<Optional<FilingStore.Stored>>> reads = ids.stream().map(filings::get).toList();
        return Future.all(reads).map(x -> {
          ListPrefixApplicationsResponse.Builder b = ListPrefixApplicationsResponse.newBuilder();
          reads.forEach(r -> r.result().ifPresent(s -> b.addApplications(toProto(s))));
          if (ids.size() == size) {
            b.setNextPageToken(Calls.token(ids.get(size - 1)));
          }
          return b.build();
        });
      });
    }, out);
  }

  @Override
  public void resubmitPrefixApplication(ResubmitPrefixApplicationRequest req,
      StreamObserver<io.iiot.resolver.v1.PrefixApplication> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      String id = appId(req.getName(), "name");
      EnterpriseRecords r = records(req.getRecords());
      return owned(p, id).compose(s -> {
        PrefixApplication next = domain(() -> s.application().resubmit(r, p.auditName(), Instant.now()), "records.");
        return decide(s, next, s.rejectionReason());
      });
    }, out);
  }

  @Override
  public void rejectPrefixApplication(RejectPrefixApplicationRequest req,
      StreamObserver<io.iiot.resolver.v1.PrefixApplication> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      operatorOnly(p);
      String id = appId(req.getName(), "name");
      if (req.getReason().isBlank()) {
        throw GrpcErrors.badField("reason", "REQUIRED", "a rejection says why");
      }
      return get(id).compose(s -> decide(s, domain(() -> s.application().reject(p.auditName(), req.getReason(),
          Instant.now()), ""), req.getReason()));
    }, out);
  }

  @Override
  public void approvePrefixApplication(ApprovePrefixApplicationRequest req,
      StreamObserver<io.iiot.resolver.v1.PrefixApplication> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      operatorOnly(p);
      String id = appId(req.getName(), "name");
      if (!req.getPrefix().isEmpty()) {
        EnterprisePrefix.problem(req.getPrefix(), approval.nodePrefix()).ifPresent(pr -> {
          throw GrpcErrors.badField("prefix", "PREFIX", pr);
        });
      }
      return get(id).compose(s -> approval.approve(s, req.getPrefix(), p)).compose(x -> read(id));
    }, out);
  }

  @Override
  public void listAuditEntries(ListAuditEntriesRequest req, StreamObserver<ListAuditEntriesResponse> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      Optional<String> app = Calls.id(req.getParent(), "applications");
      Optional<String> ent = Calls.id(req.getParent(), "enterprises");
      if (app.isEmpty() && ent.isEmpty()) {
        throw GrpcErrors.badField("parent", "INVALID_NAME", "must be applications/{id} or enterprises/{id}");
      }
      UUID after;
      try {
        String t = Calls.after(req.getPageToken()).orElseThrow();
        after = t.isEmpty() ? null : UUID.fromString(t);
      } catch (RuntimeException e) {
        throw GrpcErrors.badField("page_token", "INVALID_PAGE_TOKEN", "not a token this service returned");
      }
      Future<Void> allowed = app.isPresent() ? owned(p, app.get()).mapEmpty()
          : p.actsFor(ent.get()) ? Future.succeededFuture() : Future.failedFuture(GrpcErrors.denied(
              "NOT_YOUR_ENTERPRISE", "an enterprise credential reads only its own audit log"));
      int size = Calls.pageSize(req.getPageSize());
      return allowed.compose(x -> filings.auditEntries(req.getParent(), after, size)).map(entries -> {
        ListAuditEntriesResponse.Builder b = ListAuditEntriesResponse.newBuilder();
        for (FilingStore.Audited e : entries) {
          b.addEntries(AuditEntry.newBuilder().setTime(Calls.ts(e.entry().at())).setActor(e.entry().actor())
              .setAction(e.entry().action()).setFromState(state(e.entry().from())).setToState(state(e.entry().to()))
              .setReason(e.entry().reason()));
        }
        if (entries.size() == size) {
          b.setNextPageToken(Calls.token(entries.get(size - 1).at().toString()));
        }
        return b.build();
      });
    }, out);
  }

  @Override
  public void getFiling(GetFilingRequest req, StreamObserver<Filing> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      String name = req.getName();
      if (!name.endsWith("/filing")) {
        throw GrpcErrors.badField("name", "INVALID_NAME", "must be applications/{id}/filing");
      }
      String id = appId(name.substring(0, name.length() - "/filing".length()), "name");
      return owned(p, id).compose(s -> queue.get(PrefixApproval.reportId(id))).compose(r -> r.isPresent()
          ? Future.succeededFuture(filing(r.get())) : Future.failedFuture(GrpcErrors.of(Code.NOT_FOUND,
              "FILING_NOT_FOUND", "application " + id + " has no filing report (not approved)")));
    }, out);
  }

  @Override
  public void listFilings(ListFilingsRequest req, StreamObserver<ListFilingsResponse> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      if (!p.privileged()) {
        throw GrpcErrors.denied("OPERATOR_OR_SERVICE_ONLY", "only the operator or the platform list all filings");
      }
      String after = Calls.after(req.getPageToken()).orElseThrow(() -> GrpcErrors.badField("page_token",
          "INVALID_PAGE_TOKEN", "not a token this service returned"));
      int size = Calls.pageSize(req.getPageSize());
      return queue.ids(after, size).compose(ids -> {
        List<Future<Optional<FilingQueue.Report>>> reads = ids.stream().map(queue::get).toList();
        return Future.all(reads).map(x -> {
          ListFilingsResponse.Builder b = ListFilingsResponse.newBuilder();
          reads.forEach(r -> r.result().ifPresent(f -> b.addFilings(filing(f))));
          if (ids.size() == size) {
            b.setNextPageToken(Calls.token(ids.get(size - 1)));
          }
          return b.build();
        });
      });
    }, out);
  }

  // ---------------------------------------------------------------- helpers

  private Filing filing(FilingQueue.Report r) {
    Filing.Builder b = Filing.newBuilder().setName("applications/" + r.applicationId() + "/filing")
        .setState(Filing.State.valueOf(r.state().name())).setAttempts(r.attempts()).setLastError(r.lastError())
        .setNextAttemptTime(Calls.ts(r.nextAttempt())).setUpstream(upstream);
    if (r.acknowledgeTime() != null) {
      b.setAcknowledgeTime(Calls.ts(r.acknowledgeTime()));
    }
    try {
      b.setReport(FilingReport.parseFrom(r.report()));
    } catch (InvalidProtocolBufferException e) {
      // stored by this code: cannot happen short of corruption; the state is still worth showing
    }
    return b.build();
  }

  private Future<io.iiot.resolver.v1.PrefixApplication> decide(FilingStore.Stored s, PrefixApplication next,
      String reason) {
    return filings.transition(s, next, reason, Instant.now()).compose(ok -> ok ? read(next.id())
        : Future.failedFuture(GrpcErrors.of(Code.ABORTED, "CONCURRENT_CHANGE",
            "the application changed while this request was handled; read it and retry")));
  }

  private Future<io.iiot.resolver.v1.PrefixApplication> read(String id) {
    return get(id).map(PrefixApplicationGrpcService::toProto);
  }

  private Future<FilingStore.Stored> get(String id) {
    return filings.get(id).compose(s -> s.isPresent() ? Future.succeededFuture(s.get())
        : Future.failedFuture(GrpcErrors.of(Code.NOT_FOUND, "APPLICATION_NOT_FOUND", "no application " + id)));
  }

  /** The application, if {@code p} may see it (its enterprise's, or operator/service). */
  private Future<FilingStore.Stored> owned(Principal p, String id) {
    return get(id).compose(s -> p.actsFor(s.enterpriseId()) ? Future.succeededFuture(s)
        : Future.failedFuture(GrpcErrors.denied("NOT_YOUR_APPLICATION",
            "an enterprise credential sees only its own applications")));
  }

  private static void operatorOnly(Principal p) {
    if (!p.isOperator()) {
      throw GrpcErrors.denied("OPERATOR_ONLY", "only the node operator reviews applications");
    }
  }

  private static String appId(String name, String field) {
    return Calls.id(name, "applications").orElseThrow(() -> GrpcErrors.badField(field, "INVALID_NAME",
        "must be applications/{application_id}"));
  }

  static EnterpriseRecords records(io.iiot.resolver.v1.EnterpriseRecords r) {
    return new EnterpriseRecords(r.getName(), r.getCreditCode(), r.getAddress(), r.getContact(),
        r.getIndustryCategory(), r.getIndustryCode());
  }

  static io.iiot.resolver.v1.EnterpriseRecords records(EnterpriseRecords r) {
    return io.iiot.resolver.v1.EnterpriseRecords.newBuilder().setName(r.name()).setCreditCode(r.creditCode())
        .setAddress(r.address()).setContact(r.contact()).setIndustryCategory(r.industryCategory())
        .setIndustryCode(r.industryCode()).build();
  }

  /**
   * Runs a domain transition: a bad record ("field: RULE: description") becomes a BadRequest field violation, a
   * transition not allowed in the current state FAILED_PRECONDITION.
   */
  private static PrefixApplication domain(java.util.function.Supplier<PrefixApplication> t, String fieldPrefix) {
    try {
      return t.get();
    } catch (IllegalArgumentException e) {
      String m = e.getMessage();
      int a = m.indexOf(": ");
      int b = a < 0 ? -1 : m.indexOf(": ", a + 2);
      String field = a < 0 ? "" : m.substring(0, a).replace("address/contact", "address");
      String rule = b < 0 ? "INVALID" : m.substring(a + 2, b);
      String desc = b < 0 ? (a < 0 ? m : m.substring(a + 2)) : m.substring(b + 2);
      throw GrpcErrors.of(GrpcErrors.invalid(fieldPrefix, List.of(new FieldViolation(field, rule, desc))));
    } catch (IllegalStateException e) {
      throw GrpcErrors.precondition("APPLICATION_STATE", "application", e.getMessage());
    }
  }

  private static io.iiot.resolver.v1.PrefixApplication.State state(PrefixApplication.State s) {
    return s == null ? io.iiot.resolver.v1.PrefixApplication.State.STATE_UNSPECIFIED
        : io.iiot.resolver.v1.PrefixApplication.State.valueOf(s.name());
  }

  static io.iiot.resolver.v1.PrefixApplication toProto(FilingStore.Stored s) {
    PrefixApplication a = s.application();
    return io.iiot.resolver.v1.PrefixApplication.newBuilder().setName("applications/" + a.id())
        .setEnterprise("enterprises/" + s.enterpriseId()).setRecords(records(a.records())).setState(state(a.state()))
        .setPrefix(a.prefix()).setRejectionReason(s.rejectionReason()).setCreateTime(Calls.ts(s.createTime()))
        .setUpdateTime(Calls.ts(s.updateTime())).setAdminPublicKey(ByteString.copyFrom(s.adminPublicKey())).build();
  }

}
