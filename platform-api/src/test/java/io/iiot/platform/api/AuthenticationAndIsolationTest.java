package io.iiot.platform.api;

import static io.iiot.platform.api.ApiHarness.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.platform.domain.RateLimiter;
import io.iiot.platform.v1.CreateOnboardingTemplateRequest;
import io.iiot.platform.v1.CreateTenantRequest;
import io.iiot.platform.v1.DeleteApiKeyRequest;
import io.iiot.platform.v1.GetOnboardingTemplateRequest;
import io.iiot.platform.v1.GetTenantRequest;
import io.iiot.platform.v1.ListApiKeysRequest;
import io.iiot.platform.v1.ListOnboardingTemplatesRequest;
import io.iiot.platform.v1.ListTenantsRequest;
import io.iiot.platform.v1.Tenant;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedCassandraExtension.class)
class AuthenticationAndIsolationTest {
  static ApiHarness api;
  static String tenantA;
  static String keyA;
  static String tenantB;
  static String keyB;

  @BeforeAll
  static void start() throws Exception {
    api = new ApiHarness();
    tenantA = ApiHarness.uniqueTenantId();
    tenantB = ApiHarness.uniqueTenantId();
    keyA = api.newTenantWithKey(tenantA);
    keyB = api.newTenantWithKey(tenantB);
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
  }

  static StatusRuntimeException failure(Supplier<?> call) {
    return catchThrowableOfType(StatusRuntimeException.class, call::get);
  }

  @Test
  void missingMalformedOrWrongKeysAreUnauthenticated() {
    StatusRuntimeException none = failure(() -> api.templates(null)
        .listOnboardingTemplates(ListOnboardingTemplatesRequest.getDefaultInstance()));
    assertThat(none.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(errorInfo(none).getReason()).isEqualTo("API_KEY_MISSING");
    assertThat(errorInfo(none).getDomain()).isEqualTo("platform.iiot.io");

    assertThat(errorInfo(failure(() -> api.templates("Bearer something")
        .listOnboardingTemplates(ListOnboardingTemplatesRequest.getDefaultInstance()))).getReason())
        .isEqualTo("API_KEY_MISSING");

    String wrongSecret = keyA.substring(0, keyA.length() - 3) + "xyz";
    StatusRuntimeException wrong = failure(() -> api.templates(wrongSecret)
        .listOnboardingTemplates(ListOnboardingTemplatesRequest.getDefaultInstance()));
    assertThat(wrong.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
    assertThat(errorInfo(wrong).getReason()).isEqualTo("API_KEY_INVALID");

    StatusRuntimeException unknown = failure(() -> api.templates("iiotk_0000000000000000_" + "s".repeat(43))
        .listOnboardingTemplates(ListOnboardingTemplatesRequest.getDefaultInstance()));
    assertThat(errorInfo(unknown).getReason()).isEqualTo("API_KEY_INVALID");
  }

  @Test
  void aTenantKeySeesOnlyItsOwnTenantAndCannotTellWhetherOthersExist() {
    assertThat(api.tenants(keyA).getTenant(GetTenantRequest.newBuilder().setName("tenants/" + tenantA).build())
        .getName()).isEqualTo("tenants/" + tenantA);
    for (String other : new String[] {"tenants/" + tenantB, "tenants/no-such-tenant"}) {
      StatusRuntimeException e = failure(() -> api.tenants(keyA)
          .getTenant(GetTenantRequest.newBuilder().setName(other).build()));
      assertThat(e.getStatus().getCode()).as(other).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(errorInfo(e).getReason()).isEqualTo("PERMISSION_DENIED");
    }
    assertThat(failure(() -> api.templates(keyA).listOnboardingTemplates(ListOnboardingTemplatesRequest.newBuilder()
        .setParent("tenants/" + tenantB).build())).getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(failure(() -> api.templates(keyA).getOnboardingTemplate(GetOnboardingTemplateRequest.newBuilder()
        .setName("tenants/" + tenantB + "/templates/anything").build())).getStatus().getCode())
        .isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(failure(() -> api.apiKeys(keyA).listApiKeys(ListApiKeysRequest.newBuilder()
        .setParent("tenants/" + tenantB).build())).getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(api.tenants(keyA).listTenants(ListTenantsRequest.getDefaultInstance()).getTenantsList())
        .extracting(Tenant::getName).containsExactly("tenants/" + tenantA);
  }

  @Test
  void administrationNeedsTheOperatorRole() {
    StatusRuntimeException e = failure(() -> api.tenants(keyA).createTenant(CreateTenantRequest.newBuilder()
        .setTenantId(ApiHarness.uniqueTenantId())
        .setTenant(Tenant.newBuilder().setDisplayName("x").setHandlePrefix("88.1.1")).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(e.getStatus().getDescription()).contains("operator");

    StatusRuntimeException catalog = failure(() -> api.templates(keyA).createOnboardingTemplate(
        CreateOnboardingTemplateRequest.newBuilder().setOnboardingTemplateId("my-copy").build()));
    assertThat(catalog.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
    assertThat(errorInfo(catalog).getReason()).isEqualTo("CATALOG_READ_ONLY");

    assertThat(api.tenants(api.operatorKey).getTenant(GetTenantRequest.newBuilder().setName("tenants/" + tenantB)
        .build()).getName()).as("operators see every tenant").isEqualTo("tenants/" + tenantB);
  }

  @Test
  void aRevokedKeyStopsWorking() {
    String tenant = ApiHarness.uniqueTenantId();
    String key = api.newTenantWithKey(tenant);
    var keys = api.apiKeys(key).listApiKeys(ListApiKeysRequest.newBuilder().setParent("tenants/" + tenant).build());
    assertThat(keys.getApiKeysList()).singleElement().satisfies(k -> assertThat(k.getKey()).as("secret not shown again")
        .isEmpty());
    api.apiKeys(api.operatorKey).deleteApiKey(DeleteApiKeyRequest.newBuilder()
        .setName(keys.getApiKeys(0).getName()).build());
    StatusRuntimeException e = failure(() -> api.tenants(key)
        .getTenant(GetTenantRequest.newBuilder().setName("tenants/" + tenant).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
  }

  @Test
  void overTheRateAKeyGetsResourceExhaustedWithRetryInfo() throws Exception {
    try (ApiHarness limited = new ApiHarness(new RateLimiter(1, 3, 1000, System::nanoTime))) {
      limited.templates(limited.operatorKey).listOnboardingTemplates(ListOnboardingTemplatesRequest.newBuilder()
          .setPageSize(1).build());
      // Someone who knows the key id but not the secret cannot use up the key's budget.
      String op = limited.operatorKey;
      String wrongSecret = op.substring(0, op.length() - 1) + (op.endsWith("z") ? "y" : "z");
      for (int i = 0; i < 5; i++) {
        assertThat(failure(() -> limited.templates(wrongSecret).listOnboardingTemplates(
            ListOnboardingTemplatesRequest.getDefaultInstance())).getStatus().getCode())
            .isEqualTo(Status.Code.UNAUTHENTICATED);
      }
      for (int i = 0; i < 2; i++) {
        limited.templates(limited.operatorKey).listOnboardingTemplates(ListOnboardingTemplatesRequest.newBuilder()
            .setPageSize(1).build());
      }
      StatusRuntimeException e = failure(() -> limited.templates(limited.operatorKey)
          .listOnboardingTemplates(ListOnboardingTemplatesRequest.getDefaultInstance()));
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
      assertThat(errorInfo(e).getReason()).isEqualTo("RATE_LIMITED");
      RetryInfo retry = ApiHarness.detail(e, RetryInfo.class);
      assertThat(retry.getRetryDelay().getSeconds() * 1000 + retry.getRetryDelay().getNanos() / 1_000_000)
          .isBetween(1L, 1000L);
    }
  }
}
