package io.iiot.platform.api;

import com.google.protobuf.Empty;
import io.grpc.stub.StreamObserver;
import io.iiot.platform.domain.ApiKeySecrets;
import io.iiot.platform.domain.InvalidRequestException;
import io.iiot.platform.domain.PageSize;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.storage.ApiKeyStore;
import io.iiot.platform.storage.TenantStore;
import io.iiot.platform.v1.ApiKey;
import io.iiot.platform.v1.ApiKeyServiceGrpc;
import io.iiot.platform.v1.CreateApiKeyRequest;
import io.iiot.platform.v1.DeleteApiKeyRequest;
import io.iiot.platform.v1.ListApiKeysRequest;
import io.iiot.platform.v1.ListApiKeysResponse;

/** {@code ApiKeyService}: tenant keys, created by the tenant itself or an operator; the secret is returned once. */
public final class ApiKeyApi extends ApiKeyServiceGrpc.ApiKeyServiceImplBase {
  private final ApiKeyStore keys;
  private final TenantStore tenants;
  private final PageTokens tokens;
  private final ApiKeyAuthenticator authenticator;

  public ApiKeyApi(ApiKeyStore keys, TenantStore tenants, PageTokens tokens, ApiKeyAuthenticator authenticator) {
    this.keys = keys;
    this.tenants = tenants;
    this.tokens = tokens;
    this.authenticator = authenticator;
  }

  @Override
  public void createApiKey(CreateApiKeyRequest req, StreamObserver<ApiKey> out) {
    Replies.unary(out, () -> {
      String tenant = ResourceNames.parseTenant(req.getParent(), "parent");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), tenant, req.getParent());
      if (req.getApiKey().getDisplayName().length() > 200) {
        throw new InvalidRequestException("api_key.display_name", "display_name may have at most 200 characters");
      }
      ApiKeySecrets.NewKey k = ApiKeySecrets.generate();
      return tenants.get(tenant).thenCompose(t -> {
        if (t.isEmpty()) {
          throw ResourceStateException.notFound(req.getParent());
        }
        return keys.save(new Principal(k.keyId(), tenant, Principal.Role.TENANT), k.secretHash(),
            req.getApiKey().getDisplayName());
      }).thenApply(saved -> saved.toBuilder().setKey(k.fullKey()).build());
    });
  }

  @Override
  public void listApiKeys(ListApiKeysRequest req, StreamObserver<ListApiKeysResponse> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      String tenant = ResourceNames.parseTenant(req.getParent(), "parent");
      PermissionDeniedException.check(p, tenant, req.getParent());
      int size = PageSize.of(req.getPageSize());
      Paging paging = new Paging(tokens, "ListApiKeys", p, req.getParent(), size);
      return keys.list(tenant, paging.cursor(req.getPageToken()), size).thenApply(page ->
          ListApiKeysResponse.newBuilder().addAllApiKeys(page.items()).setNextPageToken(paging.nextToken(page))
              .build());
    });
  }

  @Override
  public void deleteApiKey(DeleteApiKeyRequest req, StreamObserver<Empty> out) {
    Replies.unary(out, () -> {
      ResourceNames.ApiKeyName n = ResourceNames.parseApiKey(req.getName(), "name");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), n.tenant(), req.getName());
      return keys.find(n.keyId()).thenCompose(found -> {
        if (found.isEmpty() || !found.get().principal().tenant().equals(n.tenant())) {
          throw ResourceStateException.notFound(req.getName());
        }
        return keys.delete(n.tenant(), n.keyId());
      }).thenApply(v -> {
        authenticator.evict(n.keyId());
        return Empty.getDefaultInstance();
      });
    });
  }
}
