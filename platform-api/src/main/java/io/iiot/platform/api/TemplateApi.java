package io.iiot.platform.api;

import com.google.protobuf.Empty;
import com.google.protobuf.util.FieldMaskUtil;
import com.google.rpc.Code;
import io.grpc.stub.StreamObserver;
import io.iiot.base.async.Failures;
import io.iiot.platform.domain.FieldViolation;
import io.iiot.platform.domain.InvalidRequestException;
import io.iiot.platform.domain.PageSize;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.domain.ResourceNames.TemplateName;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.domain.TemplateFilter;
import io.iiot.platform.domain.TemplateRules;
import io.iiot.platform.domain.UpdateMasks;
import io.iiot.platform.storage.TemplateStore;
import io.iiot.platform.v1.CreateOnboardingTemplateRequest;
import io.iiot.platform.v1.DeleteOnboardingTemplateRequest;
import io.iiot.platform.v1.ErrorReason;
import io.iiot.platform.v1.GetOnboardingTemplateRequest;
import io.iiot.platform.v1.ListOnboardingTemplatesRequest;
import io.iiot.platform.v1.ListOnboardingTemplatesResponse;
import io.iiot.platform.v1.OnboardingTemplate;
import io.iiot.platform.v1.OnboardingTemplateServiceGrpc;
import io.iiot.platform.v1.UpdateOnboardingTemplateRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code OnboardingTemplateService}: everyone reads the shipped catalogue, only operators change it; tenants manage
 * their own templates.
 */
public final class TemplateApi extends OnboardingTemplateServiceGrpc.OnboardingTemplateServiceImplBase {
  private static final Set<String> UPDATABLE = Set.of("display_name", "description", "industry_code", "version",
      "identifier_template", "device_profile", "credential_policy");
  private static final FieldMaskUtil.MergeOptions REPLACE =
      new FieldMaskUtil.MergeOptions().setReplaceMessageFields(true).setReplaceRepeatedFields(true);
  private final TemplateStore store;
  private final PageTokens tokens;

  public TemplateApi(TemplateStore store, PageTokens tokens) {
    this.store = store;
    this.tokens = tokens;
  }

  @Override
  public void getOnboardingTemplate(GetOnboardingTemplateRequest req, StreamObserver<OnboardingTemplate> out) {
    Replies.unary(out, () -> {
      TemplateName n = ResourceNames.parseTemplate(req.getName(), "name");
      n.tenant().ifPresent(t -> PermissionDeniedException.check(ApiKeyAuthenticator.principal(), t, req.getName()));
      return store.get(n).thenApply(t -> t.orElseThrow(() -> ResourceStateException.notFound(n.format())));
    });
  }

  @Override
  public void listOnboardingTemplates(ListOnboardingTemplatesRequest req,
      StreamObserver<ListOnboardingTemplatesResponse> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      Optional<String> tenant = req.getParent().isEmpty()
          ? Optional.empty() : Optional.of(ResourceNames.parseTenant(req.getParent(), "parent"));
      tenant.ifPresent(t -> PermissionDeniedException.check(p, t, req.getParent()));
      var filter = TemplateFilter.parse(req.getFilter());
      int size = PageSize.of(req.getPageSize());
      Paging paging = new Paging(tokens, "ListOnboardingTemplates", p, req.getParent() + "\u0000" + req.getFilter(),
          size);
      return store.list(tenant, paging.cursor(req.getPageToken()), size, filter)
          .thenApply(page -> ListOnboardingTemplatesResponse.newBuilder()
              .addAllOnboardingTemplates(page.items()).setNextPageToken(paging.nextToken(page)).build());
    });
  }

  @Override
  public void createOnboardingTemplate(CreateOnboardingTemplateRequest req,
      StreamObserver<OnboardingTemplate> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      Optional<String> tenant = req.getParent().isEmpty()
          ? Optional.empty() : Optional.of(ResourceNames.parseTenant(req.getParent(), "parent"));
      mayWrite(p, tenant, req.getParent().isEmpty() ? "templates" : req.getParent());
      List<FieldViolation> bad = new ArrayList<>(TemplateRules.check(req.getOnboardingTemplate(),
          "onboarding_template"));
      if (!ResourceNames.TEMPLATE_ID.matcher(req.getOnboardingTemplateId()).matches()) {
        bad.add(new FieldViolation("onboarding_template_id", "onboarding_template_id must match "
            + ResourceNames.TEMPLATE_ID.pattern() + ", was '" + req.getOnboardingTemplateId() + "'"));
      }
      if (!bad.isEmpty()) {
        throw new InvalidRequestException(bad);
      }
      return store.create(new TemplateName(tenant, req.getOnboardingTemplateId()), req.getOnboardingTemplate());
    });
  }

  @Override
  public void updateOnboardingTemplate(UpdateOnboardingTemplateRequest req,
      StreamObserver<OnboardingTemplate> out) {
    Replies.unary(out, () -> {
      OnboardingTemplate patch = req.getOnboardingTemplate();
      TemplateName n = ResourceNames.parseTemplate(patch.getName(), "onboarding_template.name");
      mayWrite(ApiKeyAuthenticator.principal(), n.tenant(), n.format());
      List<String> paths = UpdateMasks.resolve(req.getUpdateMask().getPathsList(), UPDATABLE);
      return store.get(n).thenCompose(current -> {
        OnboardingTemplate.Builder merged = current
            .orElseThrow(() -> ResourceStateException.notFound(n.format())).toBuilder();
        FieldMaskUtil.merge(FieldMaskUtil.fromStringList(paths), patch, merged, REPLACE);
        OnboardingTemplate next = merged.build();
        List<FieldViolation> bad = TemplateRules.check(next, "onboarding_template");
        if (!bad.isEmpty()) {
          throw new InvalidRequestException(bad);
        }
        return store.update(n, next, patch.getEtag()).thenCompose(v -> store.get(n))
            .thenApply(t -> t.orElseThrow(() -> ResourceStateException.notFound(n.format())));
      });
    });
  }

  @Override
  public void deleteOnboardingTemplate(DeleteOnboardingTemplateRequest req, StreamObserver<Empty> out) {
    Replies.unary(out, () -> {
      TemplateName n = ResourceNames.parseTemplate(req.getName(), "name");
      mayWrite(ApiKeyAuthenticator.principal(), n.tenant(), n.format());
      return store.delete(n, req.getEtag()).handle((v, err) -> {
        if (err != null && !(req.getAllowMissing() && TenantApi.isNotFound(err))) {
          throw Failures.asUnchecked(err);
        }
        return Empty.getDefaultInstance();
      });
    });
  }

  /** Tenant templates: the tenant's own key or an operator. The catalogue: operators only. */
  private static void mayWrite(Principal p, Optional<String> tenant, String resource) {
    if (tenant.isPresent()) {
      PermissionDeniedException.check(p, tenant.get(), resource);
    } else if (!p.isOperator()) {
      throw GrpcErrors.error(Code.PERMISSION_DENIED, ErrorReason.CATALOG_READ_ONLY,
          "the shipped catalogue (" + resource + ") can only be changed with an operator API key; create a copy"
              + " under tenants/{tenant}/templates instead", Map.of("resource", resource));
    }
  }
}
