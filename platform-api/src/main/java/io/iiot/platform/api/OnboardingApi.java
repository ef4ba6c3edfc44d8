package io.iiot.platform.api;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.Code;
import io.grpc.stub.StreamObserver;
import io.iiot.platform.domain.InvalidRequestException;
import io.iiot.platform.domain.Onboarder;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.domain.ResourceNames.TemplateName;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.storage.RequestIdStore;
import io.iiot.platform.storage.RequestIdStore.Claim;
import io.iiot.platform.storage.TemplateStore;
import io.iiot.platform.storage.TenantStore;
import io.iiot.platform.v1.ErrorReason;
import io.iiot.platform.v1.MachineResult;
import io.iiot.platform.v1.OnboardDevicesRequest;
import io.iiot.platform.v1.OnboardDevicesResponse;
import io.iiot.platform.v1.OnboardingServiceGrpc;
import io.iiot.platform.v1.OnboardingTemplate;
import io.iiot.platform.v1.Tenant;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * {@code OnboardingService.OnboardDevices}: checks access, resolves tenant prefix and template, runs the
 * {@link Onboarder} saga and makes the call idempotent by request id. The stored response has the device secrets
 * removed: secrets are shown once, in the first response, and never stored by platform-api; a repeat returns the same
 * per-machine results without them.
 */
public final class OnboardingApi extends OnboardingServiceGrpc.OnboardingServiceImplBase {
  private static final Pattern UUID = Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private final TenantStore tenants;
  private final TemplateStore templates;
  private final RequestIdStore requestIds;
  private final Onboarder onboarder;

  public OnboardingApi(TenantStore tenants, TemplateStore templates, RequestIdStore requestIds, Onboarder onboarder) {
    this.tenants = tenants;
    this.templates = templates;
    this.requestIds = requestIds;
    this.onboarder = onboarder;
  }

  @Override
  public void onboardDevices(OnboardDevicesRequest req, StreamObserver<OnboardDevicesResponse> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      String tenant = ResourceNames.parseTenant(req.getParent(), "parent");
      PermissionDeniedException.check(p, tenant, req.getParent());
      TemplateName template = ResourceNames.parseTemplate(req.getTemplate(), "template");
      template.tenant().ifPresent(t -> PermissionDeniedException.check(p, t, req.getTemplate()));
      if (req.getRequestId().isEmpty()) {
        return run(tenant, template, req);
      }
      if (!UUID.matcher(req.getRequestId()).matches()) {
        throw new InvalidRequestException("request_id", "request_id must be a UUID, was '" + req.getRequestId() + "'");
      }
      String payload = payloadHash(req);
      return requestIds.claim(tenant, req.getRequestId(), payload).thenCompose(claim -> {
        if (claim instanceof Claim.Done done) {
          return CompletableFuture.completedFuture(parse(done.response()));
        }
        if (claim instanceof Claim.Reused) {
          throw GrpcErrors.invalid(ErrorReason.REQUEST_ID_REUSED, "request_id " + req.getRequestId()
              + " was used before with a different request", java.util.List.of(
                  new io.iiot.platform.domain.FieldViolation("request_id", "already used with another payload")));
        }
        if (claim instanceof Claim.InProgress) {
          throw GrpcErrors.error(Code.ABORTED, ErrorReason.REQUEST_ID_REUSED, "a call with request_id "
              + req.getRequestId() + " is still running; retry later to get its result",
              Map.of("requestId", req.getRequestId()));
        }
        return run(tenant, template, req)
            .thenCompose(response -> requestIds.complete(tenant, req.getRequestId(), withoutSecrets(response))
                .thenApply(v -> response))
            .handle((response, err) -> {
              if (err == null) {
                return CompletableFuture.completedFuture(response);
              }
              // Failures reaching here happen before anything was written (validation, lookups): free the id.
              return requestIds.release(tenant, req.getRequestId()).handle((v, e) -> response)
                  .thenCompose(r -> CompletableFuture.<OnboardDevicesResponse>failedFuture(err));
            })
            .thenCompose(f -> f);
      });
    });
  }

  private CompletionStage<OnboardDevicesResponse> run(String tenant, TemplateName template,
      OnboardDevicesRequest req) {
    CompletionStage<Tenant> t = tenants.get(tenant)
        .thenApply(o -> o.orElseThrow(() -> ResourceStateException.notFound(req.getParent())));
    CompletionStage<OnboardingTemplate> tpl = templates.get(template)
        .thenApply(o -> o.orElseThrow(() -> ResourceStateException.notFound(req.getTemplate())));
    return t.thenCombine(tpl, (tn, tp) -> onboarder.onboard(tenant, tn.getHandlePrefix(), tp, req.getMachinesList()))
        .thenCompose(f -> f);
  }

  static byte[] withoutSecrets(OnboardDevicesResponse r) {
    OnboardDevicesResponse.Builder b = r.toBuilder();
    for (MachineResult.Builder m : b.getResultsBuilderList()) {
      m.getCredentialsBuilder().clearSecret();
    }
    return b.build().toByteArray();
  }

  private static OnboardDevicesResponse parse(byte[] bytes) {
    try {
      return OnboardDevicesResponse.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored onboarding response is not decodable", e);
    }
  }

  /** SHA-256 of the request without its request id, serialized deterministically (map order fixed). */
  static String payloadHash(OnboardDevicesRequest req) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      out.useDeterministicSerialization();
      req.toBuilder().clearRequestId().build().writeTo(out);
      out.flush();
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
