package io.iiot.platform.api;

import static io.iiot.platform.api.ApiHarness.errorInfo;
import static io.iiot.platform.api.ApiHarness.violations;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.FieldMask;
import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.platform.v1.CreateOnboardingTemplateRequest;
import io.iiot.platform.v1.DeleteOnboardingTemplateRequest;
import io.iiot.platform.v1.GetOnboardingTemplateRequest;
import io.iiot.platform.v1.ListOnboardingTemplatesRequest;
import io.iiot.platform.v1.ListOnboardingTemplatesResponse;
import io.iiot.platform.v1.OnboardingTemplate;
import io.iiot.platform.v1.UpdateOnboardingTemplateRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedCassandraExtension.class)
class TemplateApiTest {
  static ApiHarness api;
  static String tenant;
  static String key;

  @BeforeAll
  static void start() throws Exception {
    api = new ApiHarness();
    tenant = ApiHarness.uniqueTenantId();
    key = api.newTenantWithKey(tenant);
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
  }

  static StatusRuntimeException failure(Supplier<?> call) {
    return catchThrowableOfType(StatusRuntimeException.class, call::get);
  }

  @Test
  void anyTenantPagesThroughTheShippedCatalogue() {
    List<String> names = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListOnboardingTemplatesResponse page = api.templates(key).listOnboardingTemplates(
          ListOnboardingTemplatesRequest.newBuilder().setPageSize(5).setPageToken(token).build());
      assertThat(page.getOnboardingTemplatesCount()).isLessThanOrEqualTo(5);
      page.getOnboardingTemplatesList().forEach(t -> names.add(t.getName()));
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertThat(names).hasSize(16).doesNotHaveDuplicates().contains("templates/mine-belt-conveyor");
    assertThat(pages).isEqualTo(4);

    ListOnboardingTemplatesResponse mining = api.templates(key).listOnboardingTemplates(
        ListOnboardingTemplatesRequest.newBuilder().setFilter("industry_code = \"B*\"").build());
    assertThat(mining.getOnboardingTemplatesList()).hasSize(8)
        .allSatisfy(t -> assertThat(t.getIndustryCode()).isEqualTo("B0610"));
    assertThat(mining.getNextPageToken()).isEmpty();
  }

  @Test
  void pageTokensAreBoundToTheirQueryAndTamperProof() {
    String token = api.templates(key).listOnboardingTemplates(
        ListOnboardingTemplatesRequest.newBuilder().setPageSize(2).build()).getNextPageToken();
    assertThat(token).isNotEmpty();
    StatusRuntimeException otherSize = failure(() -> api.templates(key).listOnboardingTemplates(
        ListOnboardingTemplatesRequest.newBuilder().setPageSize(3).setPageToken(token).build()));
    assertThat(otherSize.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(errorInfo(otherSize).getReason()).isEqualTo("INVALID_PAGE_TOKEN");
    assertThat(violations(otherSize)).extracting(BadRequest.FieldViolation::getField).containsExactly("page_token");

    // Change a character in the middle (the last one may only carry padding bits that decoding drops).
    int at = token.length() / 2;
    String tampered = token.substring(0, at) + (token.charAt(at) == 'A' ? 'B' : 'A') + token.substring(at + 1);
    assertThat(failure(() -> api.templates(key).listOnboardingTemplates(ListOnboardingTemplatesRequest.newBuilder()
        .setPageSize(2).setPageToken(tampered).build())).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
  }

  @Test
  void unsupportedFilterIsAFieldViolation() {
    StatusRuntimeException e = failure(() -> api.templates(key).listOnboardingTemplates(
        ListOnboardingTemplatesRequest.newBuilder().setFilter("display_name:\"CNC\"").build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(violations(e)).extracting(BadRequest.FieldViolation::getField).containsExactly("filter");
  }

  @Test
  void aTenantCopiesACatalogueTemplateAndManagesItsOwnCopy() {
    OnboardingTemplate cnc = api.templates(key).getOnboardingTemplate(GetOnboardingTemplateRequest.newBuilder()
        .setName("templates/cnc-machining-centre").build());
    assertThat(cnc.getCatalog()).isTrue();

    OnboardingTemplate mine = api.templates(key).createOnboardingTemplate(CreateOnboardingTemplateRequest.newBuilder()
        .setParent("tenants/" + tenant).setOnboardingTemplateId("line-a-cnc")
        .setOnboardingTemplate(cnc.toBuilder().setDisplayName("Line A CNC").setVersion("1.1.0")).build());
    assertThat(mine.getName()).isEqualTo("tenants/" + tenant + "/templates/line-a-cnc");
    assertThat(mine.getCatalog()).isFalse();
    assertThat(mine.getEtag()).isNotEmpty();

    StatusRuntimeException dup = failure(() -> api.templates(key).createOnboardingTemplate(
        CreateOnboardingTemplateRequest.newBuilder().setParent("tenants/" + tenant).setOnboardingTemplateId("line-a-cnc")
            .setOnboardingTemplate(cnc).build()));
    assertThat(dup.getStatus().getCode()).isEqualTo(Status.Code.ALREADY_EXISTS);

    // Update only the display name: the mask keeps everything else, even though the patch carries no metrics.
    OnboardingTemplate renamed = api.templates(key).updateOnboardingTemplate(UpdateOnboardingTemplateRequest.newBuilder()
        .setOnboardingTemplate(OnboardingTemplate.newBuilder().setName(mine.getName()).setDisplayName("Line A 5-axis")
            .setEtag(mine.getEtag()))
        .setUpdateMask(FieldMask.newBuilder().addPaths("display_name")).build());
    assertThat(renamed.getDisplayName()).isEqualTo("Line A 5-axis");
    assertThat(renamed.getDeviceProfile()).isEqualTo(cnc.getDeviceProfile());
    assertThat(renamed.getEtag()).isNotEqualTo(mine.getEtag());

    StatusRuntimeException stale = failure(() -> api.templates(key).updateOnboardingTemplate(
        UpdateOnboardingTemplateRequest.newBuilder()
            .setOnboardingTemplate(OnboardingTemplate.newBuilder().setName(mine.getName()).setDisplayName("lost")
                .setEtag(mine.getEtag()))
            .setUpdateMask(FieldMask.newBuilder().addPaths("display_name")).build()));
    assertThat(stale.getStatus().getCode()).isEqualTo(Status.Code.ABORTED);
    assertThat(errorInfo(stale).getReason()).isEqualTo("ETAG_MISMATCH");

    StatusRuntimeException badMask = failure(() -> api.templates(key).updateOnboardingTemplate(
        UpdateOnboardingTemplateRequest.newBuilder().setOnboardingTemplate(renamed)
            .setUpdateMask(FieldMask.newBuilder().addPaths("catalog")).build()));
    assertThat(violations(badMask)).extracting(BadRequest.FieldViolation::getField).containsExactly("update_mask");

    List<String> own = api.templates(key).listOnboardingTemplates(ListOnboardingTemplatesRequest.newBuilder()
        .setParent("tenants/" + tenant).build()).getOnboardingTemplatesList().stream()
        .map(OnboardingTemplate::getName).toList();
    assertThat(own).containsExactly(mine.getName());

    api.templates(key).deleteOnboardingTemplate(DeleteOnboardingTemplateRequest.newBuilder()
        .setName(mine.getName()).build());
    assertThat(failure(() -> api.templates(key).getOnboardingTemplate(GetOnboardingTemplateRequest.newBuilder()
        .setName(mine.getName()).build())).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    assertThat(failure(() -> api.templates(key).deleteOnboardingTemplate(DeleteOnboardingTemplateRequest.newBuilder()
        .setName(mine.getName()).build())).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    api.templates(key).deleteOnboardingTemplate(DeleteOnboardingTemplateRequest.newBuilder()
        .setName(mine.getName()).setAllowMissing(true).build());
  }

  @Test
  void anInvalidTemplateIsRejectedWithEveryViolation() {
    StatusRuntimeException e = failure(() -> api.templates(key).createOnboardingTemplate(
        CreateOnboardingTemplateRequest.newBuilder().setParent("tenants/" + tenant).setOnboardingTemplateId("X")
            .setOnboardingTemplate(OnboardingTemplate.newBuilder().setDisplayName("no content")).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(errorInfo(e).getReason()).isEqualTo("INVALID_FIELD");
    assertThat(violations(e)).extracting(BadRequest.FieldViolation::getField).contains(
        "onboarding_template_id", "onboarding_template.industry_code", "onboarding_template.device_profile.metrics",
        "onboarding_template.credential_policy.type");
  }
}
