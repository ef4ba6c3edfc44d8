package io.iiot.resolver.api;

import com.google.rpc.Code;
import io.grpc.stub.StreamObserver;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.domain.auth.Tokens;
import io.iiot.resolver.domain.filing.PrefixApplication.AuditEntry;
import io.iiot.resolver.domain.filing.SocialCreditCode;
import io.iiot.resolver.domain.template.FieldViolation;
import io.iiot.resolver.storage.EnterpriseStore;
import io.iiot.resolver.storage.FilingStore;
import io.iiot.resolver.v1.CreateEnterpriseRequest;
import io.iiot.resolver.v1.CreateEnterpriseResponse;
import io.iiot.resolver.v1.Enterprise;
import io.iiot.resolver.v1.EnterpriseServiceGrpc;
import io.iiot.resolver.v1.GetEnterpriseRequest;
import io.iiot.resolver.v1.ListEnterprisesRequest;
import io.iiot.resolver.v1.ListEnterprisesResponse;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** {@code iiot.resolver.v1.EnterpriseService}: enterprises and their credentials (secret shown once, kept hashed). */
public final class EnterpriseGrpcService extends EnterpriseServiceGrpc.EnterpriseServiceImplBase {
  private final EnterpriseStore enterprises;
  private final FilingStore filings;

  public EnterpriseGrpcService(EnterpriseStore enterprises, FilingStore filings) {
    this.enterprises = enterprises;
    this.filings = filings;
  }

  @Override
  public void createEnterprise(CreateEnterpriseRequest req, StreamObserver<CreateEnterpriseResponse> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      if (!p.privileged()) {
        throw GrpcErrors.denied("OPERATOR_OR_SERVICE_ONLY", "enterprises are created by the operator or the platform");
      }
      Enterprise e = req.getEnterprise();
      List<FieldViolation> bad = new ArrayList<>();
      if (e.getDisplayName().isBlank() || e.getDisplayName().length() > 200) {
        bad.add(new FieldViolation("enterprise.display_name", "REQUIRED", "1-200 characters"));
      }
      SocialCreditCode.problem(e.getCreditCode()).ifPresent(pr -> bad.add(new FieldViolation(
          "enterprise.credit_code", pr.substring(0, pr.indexOf(':')), pr.substring(pr.indexOf(':') + 2))));
      if (!bad.isEmpty()) {
        throw GrpcErrors.of(GrpcErrors.invalid("", bad));
      }
      String id = Tokens.newEnterpriseId();
      Tokens.Token token = Tokens.issue(id);
      Instant now = Instant.now();
      EnterpriseStore.Stored s = new EnterpriseStore.Stored(id, e.getDisplayName(), e.getCreditCode(),
          Tokens.sha256(token.secret()), now);
      return enterprises.create(s).compose(ok -> ok ? filings.audit("enterprises/" + id, new AuditEntry(now,
          p.auditName(), "CREATE_ENTERPRISE", null, null, "")) : Future.failedFuture(GrpcErrors.of(
              Code.ABORTED, "ID_COLLISION", "retry"))).map(x -> CreateEnterpriseResponse.newBuilder()
                  .setEnterprise(toProto(s, List.of())).setCredentialToken(token.value()).build());
    }, out);
  }

  @Override
  public void getEnterprise(GetEnterpriseRequest req, StreamObserver<Enterprise> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      String id = Calls.id(req.getName(), "enterprises").orElseThrow(() -> GrpcErrors.badField("name",
          "INVALID_NAME", "must be enterprises/{enterprise_id}"));
      if (!p.actsFor(id)) {
        throw GrpcErrors.denied("NOT_YOUR_ENTERPRISE", "an enterprise credential reads only its own enterprise");
      }
      return read(id).compose(e -> e.isPresent() ? Future.succeededFuture(e.get()) : Future.failedFuture(
          GrpcErrors.of(Code.NOT_FOUND, "ENTERPRISE_NOT_FOUND", "no enterprise " + id)));
    }, out);
  }

  private Future<Optional<Enterprise>> read(String id) {
    return enterprises.get(id).compose(e -> e.isEmpty() ? Future.succeededFuture(Optional.<Enterprise>empty())
        : filings.prefixes(id).map(ps -> Optional.of(toProto(e.get(), ps))));
  }

  @Override
  public void listEnterprises(ListEnterprisesRequest req, StreamObserver<ListEnterprisesResponse> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      if (!p.privileged()) {
        throw GrpcErrors.denied("OPERATOR_OR_SERVICE_ONLY", "only the operator or the platform list enterprises");
      }
      String after = Calls.after(req.getPageToken()).orElseThrow(() -> GrpcErrors.badField("page_token",
          "INVALID_PAGE_TOKEN", "not a token this service returned"));
      int size = Calls.pageSize(req.getPageSize());
      return enterprises.ids(after, size).compose(ids -> {
        List<Future<Optional<Enterprise>>> reads = ids.stream().map(this::read).toList();
        return Future.all(reads).map(x -> {
          ListEnterprisesResponse.Builder b = ListEnterprisesResponse.newBuilder();
          reads.forEach(r -> r.result().ifPresent(b::addEnterprises));
          if (ids.size() == size) {
            b.setNextPageToken(Calls.token(ids.get(size - 1)));
          }
          return b.build();
        });
      });
    }, out);
  }

  static Enterprise toProto(EnterpriseStore.Stored s, List<String> prefixes) {
    return Enterprise.newBuilder().setName("enterprises/" + s.id()).setDisplayName(s.displayName())
        .setCreditCode(s.creditCode()).setCreateTime(Calls.ts(s.createTime())).addAllPrefixes(prefixes).build();
  }
}
