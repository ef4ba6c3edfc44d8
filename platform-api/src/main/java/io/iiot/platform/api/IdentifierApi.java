package io.iiot.platform.api;

import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.iiot.platform.backend.BearerToken;
import io.iiot.platform.backend.ResolverIdentifierRegistry;
import io.iiot.platform.domain.InvalidRequestException;
import io.iiot.platform.domain.PageSize;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.storage.TenantStore;
import io.iiot.platform.v1.GetIdentifierRequest;
import io.iiot.platform.v1.Identifier;
import io.iiot.platform.v1.IdentifierServiceGrpc.IdentifierServiceImplBase;
import io.iiot.platform.v1.ListIdentifiersRequest;
import io.iiot.platform.v1.ListIdentifiersResponse;
import io.iiot.resolver.v1.IdentifierServiceGrpc;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * {@code iiot.platform.v1.IdentifierService}: resolver-node's identifiers under the caller's tenant's filed prefix
 * (the prefix comes from the tenant record, never from the request, so a key cannot read another prefix).
 */
public final class IdentifierApi extends IdentifierServiceImplBase {
  private final IdentifierServiceGrpc.IdentifierServiceFutureStub resolver;
  private final TenantStore tenants;
  private final PageTokens tokens;
  private final long deadlineMs;

  public IdentifierApi(Channel resolverChannel, BearerToken credentials, TenantStore tenants, PageTokens tokens,
      long deadlineMs) {
    this.resolver = IdentifierServiceGrpc.newFutureStub(resolverChannel).withCallCredentials(credentials);
    this.tenants = tenants;
    this.tokens = tokens;
    this.deadlineMs = deadlineMs;
  }

  @Override
  public void getIdentifier(GetIdentifierRequest req, StreamObserver<Identifier> out) {
    Replies.unary(out, () -> {
      String[] name = ResourceNames.parseIdentifier(req.getName(), "name");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), name[0], req.getName());
      String suffix;
      try {
        suffix = URLDecoder.decode(name[1].replace("+", "%2B"), StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        throw new InvalidRequestException("name", "the identifier suffix is not validly percent-encoded");
      }
      return prefix(name[0], req.getName()).thenCompose(prefix -> BackendErrors.call(
          resolver.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).getIdentifier(
              io.iiot.resolver.v1.GetIdentifierRequest.newBuilder()
                  .setName(ResolverIdentifierRegistry.identifierName(prefix + "/" + suffix)).build()),
          "resolver-node", req.getName()).thenApply(i -> toApi(name[0], i)));
    });
  }

  @Override
  public void listIdentifiers(ListIdentifiersRequest req, StreamObserver<ListIdentifiersResponse> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      String tenant = ResourceNames.parseTenant(req.getParent(), "parent");
      PermissionDeniedException.check(p, tenant, req.getParent());
      int size = PageSize.of(req.getPageSize());
      Paging paging = new Paging(tokens, "ListIdentifiers", p, req.getParent(), size);
      String cursor = paging.cursor(req.getPageToken());
      return prefix(tenant, req.getParent()).thenCompose(prefix -> BackendErrors.call(
          resolver.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).listIdentifiers(
              io.iiot.resolver.v1.ListIdentifiersRequest.newBuilder().setParent("prefixes/" + prefix)
                  .setPageSize(size).setPageToken(cursor).build()), "resolver-node", req.getParent()))
          .thenApply(r -> {
            ListIdentifiersResponse.Builder b = ListIdentifiersResponse.newBuilder()
                .setNextPageToken(paging.nextToken(r.getNextPageToken()));
            r.getIdentifiersList().forEach(i -> b.addIdentifiers(toApi(tenant, i)));
            return b.build();
          });
    });
  }

  private CompletionStage<String> prefix(String tenant, String resource) {
    return tenants.get(tenant).thenApply(t -> t.orElseThrow(() -> ResourceStateException.notFound(resource))
        .getHandlePrefix());
  }

  static Identifier toApi(String tenant, io.iiot.resolver.v1.Identifier i) {
    String suffix = i.getHandle().substring(i.getHandle().indexOf('/') + 1);
    Identifier.Builder b = Identifier.newBuilder()
        .setName("tenants/" + tenant + "/identifiers/" + ResolverIdentifierRegistry.encode(suffix))
        .setHandle(i.getHandle()).setTemplate(i.getTemplate());
    // resolver-node keys values by field name, which onboarding made from the item type in lower case.
    i.getValuesMap().forEach((field, value) -> b.putValues(field.toUpperCase(Locale.ROOT), value));
    return b.build();
  }
}
