package io.iiot.platform.api;

import com.google.protobuf.Empty;
import com.google.protobuf.util.FieldMaskUtil;
import io.grpc.stub.StreamObserver;
import io.iiot.base.async.Failures;
import io.iiot.platform.domain.FieldViolation;
import io.iiot.platform.domain.InvalidRequestException;
import io.iiot.platform.domain.PageSize;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.domain.TenantRules;
import io.iiot.platform.domain.UpdateMasks;
import io.iiot.platform.storage.TenantStore;
import io.iiot.platform.v1.CreateTenantRequest;
import io.iiot.platform.v1.DeleteTenantRequest;
import io.iiot.platform.v1.GetTenantRequest;
import io.iiot.platform.v1.ListTenantsRequest;
import io.iiot.platform.v1.ListTenantsResponse;
import io.iiot.platform.v1.Tenant;
import io.iiot.platform.v1.TenantServiceGrpc;
import io.iiot.platform.v1.UpdateTenantRequest;
import java.util.List;
import java.util.Set;

/** {@code TenantService}: tenants are created, changed and deleted by operators; a tenant key reads its own. */
public final class TenantApi extends TenantServiceGrpc.TenantServiceImplBase {
  private static final Set<String> UPDATABLE = Set.of("display_name", "handle_prefix");
  private final TenantStore store;
  private final PageTokens tokens;

  public TenantApi(TenantStore store, PageTokens tokens) {
    this.store = store;
    this.tokens = tokens;
  }

  @Override
  public void getTenant(GetTenantRequest req, StreamObserver<Tenant> out) {
    Replies.unary(out, () -> {
      String id = ResourceNames.parseTenant(req.getName(), "name");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), id, req.getName());
      return store.get(id).thenApply(t -> t.orElseThrow(() -> ResourceStateException.notFound(req.getName())));
    });
  }

  @Override
  public void listTenants(ListTenantsRequest req, StreamObserver<ListTenantsResponse> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      int size = PageSize.of(req.getPageSize());
      Paging paging = new Paging(tokens, "ListTenants", p, "", size);
      String cursor = paging.cursor(req.getPageToken());
      if (!p.isOperator()) {
        // A tenant key sees exactly its own tenant.
        return store.get(p.tenant()).thenApply(t -> ListTenantsResponse.newBuilder()
            .addAllTenants(cursor.isEmpty() ? t.stream().toList() : List.of()).build());
      }
      return store.list(cursor, size).thenApply(page -> ListTenantsResponse.newBuilder()
          .addAllTenants(page.items()).setNextPageToken(paging.nextToken(page)).build());
    });
  }

  @Override
  public void createTenant(CreateTenantRequest req, StreamObserver<Tenant> out) {
    Replies.unary(out, () -> {
      PermissionDeniedException.requireOperator(ApiKeyAuthenticator.principal(), "CreateTenant");
      List<FieldViolation> bad = new java.util.ArrayList<>(TenantRules.check(req.getTenant(), "tenant"));
      if (!ResourceNames.TENANT_ID.matcher(req.getTenantId()).matches()) {
        bad.add(new FieldViolation("tenant_id", "tenant_id must match " + ResourceNames.TENANT_ID.pattern()
            + ", was '" + req.getTenantId() + "'"));
      }
      if (!bad.isEmpty()) {
        throw new InvalidRequestException(bad);
      }
      return store.create(req.getTenantId(), req.getTenant());
    });
  }

  @Override
  public void updateTenant(UpdateTenantRequest req, StreamObserver<Tenant> out) {
    Replies.unary(out, () -> {
      PermissionDeniedException.requireOperator(ApiKeyAuthenticator.principal(), "UpdateTenant");
      String id = ResourceNames.parseTenant(req.getTenant().getName(), "tenant.name");
      List<String> paths = UpdateMasks.resolve(req.getUpdateMask().getPathsList(), UPDATABLE);
      return store.get(id).thenCompose(current -> {
        Tenant.Builder merged = current.orElseThrow(() -> ResourceStateException.notFound(req.getTenant().getName()))
            .toBuilder();
        FieldMaskUtil.merge(FieldMaskUtil.fromStringList(paths), req.getTenant(), merged);
        Tenant next = merged.build();
        List<FieldViolation> bad = TenantRules.check(next, "tenant");
        if (!bad.isEmpty()) {
          throw new InvalidRequestException(bad);
        }
        return store.update(id, next, req.getTenant().getEtag()).thenCompose(v -> store.get(id))
            .thenApply(t -> t.orElseThrow(() -> ResourceStateException.notFound(req.getTenant().getName())));
      });
    });
  }

  @Override
  public void deleteTenant(DeleteTenantRequest req, StreamObserver<Empty> out) {
    Replies.unary(out, () -> {
      PermissionDeniedException.requireOperator(ApiKeyAuthenticator.principal(), "DeleteTenant");
      String id = ResourceNames.parseTenant(req.getName(), "name");
      return store.delete(id, req.getEtag()).handle((v, err) -> {
        if (err != null && !(req.getAllowMissing() && isNotFound(err))) {
          throw Failures.asUnchecked(err);
        }
        return Empty.getDefaultInstance();
      });
    });
  }

  static boolean isNotFound(Throwable err) {
    Throwable e = Failures.cause(err);
    return e instanceof ResourceStateException r && r.kind() == ResourceStateException.Kind.NOT_FOUND;
  }
}
