package io.iiot.platform.api;

import static io.iiot.platform.api.ApiHarness.violations;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.FieldMask;
import com.google.rpc.BadRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.platform.v1.CreateTenantRequest;
import io.iiot.platform.v1.DeleteTenantRequest;
import io.iiot.platform.v1.GetTenantRequest;
import io.iiot.platform.v1.ListTenantsRequest;
import io.iiot.platform.v1.ListTenantsResponse;
import io.iiot.platform.v1.Tenant;
import io.iiot.platform.v1.UpdateTenantRequest;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedCassandraExtension.class)
class TenantApiTest {
  static ApiHarness api;

  @BeforeAll
  static void start() throws Exception {
    api = new ApiHarness();
  }

  @AfterAll
  static void stop() throws Exception {
    api.close();
  }

  static StatusRuntimeException failure(Supplier<?> call) {
    return catchThrowableOfType(StatusRuntimeException.class, call::get);
  }

  @Test
  void operatorCreatesUpdatesAndDeletesATenant() {
    String id = ApiHarness.uniqueTenantId();
    Tenant created = api.tenants(api.operatorKey).createTenant(CreateTenantRequest.newBuilder().setTenantId(id)
        .setTenant(Tenant.newBuilder().setDisplayName("塔山煤矿").setHandlePrefix("88.101.5")).build());
    assertThat(created.getName()).isEqualTo("tenants/" + id);
    assertThat(created.getCreateTime().getSeconds()).isPositive();

    Tenant updated = api.tenants(api.operatorKey).updateTenant(UpdateTenantRequest.newBuilder()
        .setTenant(Tenant.newBuilder().setName(created.getName()).setHandlePrefix("88.101.6").setEtag(created.getEtag()))
        .setUpdateMask(FieldMask.newBuilder().addPaths("handle_prefix")).build());
    assertThat(updated.getHandlePrefix()).isEqualTo("88.101.6");
    assertThat(updated.getDisplayName()).isEqualTo("塔山煤矿");

    assertThat(failure(() -> api.tenants(api.operatorKey).deleteTenant(DeleteTenantRequest.newBuilder()
        .setName(created.getName()).setEtag(created.getEtag()).build())).getStatus().getCode())
        .isEqualTo(Status.Code.ABORTED);
    api.tenants(api.operatorKey).deleteTenant(DeleteTenantRequest.newBuilder().setName(created.getName())
        .setEtag(updated.getEtag()).build());
    assertThat(failure(() -> api.tenants(api.operatorKey).getTenant(GetTenantRequest.newBuilder()
        .setName(created.getName()).build())).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void invalidTenantsGetFieldViolations() {
    StatusRuntimeException e = failure(() -> api.tenants(api.operatorKey).createTenant(CreateTenantRequest.newBuilder()
        .setTenantId("Bad_Id").setTenant(Tenant.newBuilder().setHandlePrefix("abc")).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(violations(e)).extracting(BadRequest.FieldViolation::getField)
        .containsExactlyInAnyOrder("tenant_id", "tenant.display_name", "tenant.handle_prefix");
  }

  @Test
  void operatorPagesThroughAllTenants() {
    Set<String> mine = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      String id = ApiHarness.uniqueTenantId();
      mine.add("tenants/" + id);
      api.tenants(api.operatorKey).createTenant(CreateTenantRequest.newBuilder().setTenantId(id)
          .setTenant(Tenant.newBuilder().setDisplayName("p" + i).setHandlePrefix("88.101." + i)).build());
    }
    Set<String> seen = new HashSet<>();
    String token = "";
    do {
      ListTenantsResponse page = api.tenants(api.operatorKey).listTenants(ListTenantsRequest.newBuilder()
          .setPageSize(2).setPageToken(token).build());
      assertThat(page.getTenantsCount()).isLessThanOrEqualTo(2);
      page.getTenantsList().forEach(t -> assertThat(seen.add(t.getName())).as("no tenant twice").isTrue());
      token = page.getNextPageToken();
    } while (!token.isEmpty());
    assertThat(seen).containsAll(mine);
  }
}
