package io.iiot.platform.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.google.protobuf.Timestamp;
import io.iiot.platform.domain.Etags;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.v1.Tenant;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Tenants in {@code tenants}. Writes that must not race (create, etag-guarded update/delete) use LWT. */
public final class TenantStore {
  private static final String COLUMNS = "tenant_id, display_name, handle_prefix, create_time, update_time, etag";
  private final CqlSession session;
  private final PreparedStatement get;
  private final PreparedStatement insert;
  private final PreparedStatement update;
  private final PreparedStatement updateIf;
  private final PreparedStatement delete;
  private final PreparedStatement deleteIf;
  private final PreparedStatement first;
  private final PreparedStatement after;

  public TenantStore(CqlSession session, String keyspace) {
    this.session = session;
    get = session.prepare("SELECT " + COLUMNS + " FROM " + keyspace + ".tenants WHERE tenant_id = ?");
    insert = session.prepare("INSERT INTO " + keyspace + ".tenants (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS");
    update = session.prepare(
        "UPDATE " + keyspace + ".tenants SET display_name = ?, handle_prefix = ?, update_time = ?, etag = ? WHERE tenant_id = ? IF EXISTS");
    updateIf = session.prepare(
        "UPDATE " + keyspace + ".tenants SET display_name = ?, handle_prefix = ?, update_time = ?, etag = ? WHERE tenant_id = ? IF etag = ?");
    delete = session.prepare("DELETE FROM " + keyspace + ".tenants WHERE tenant_id = ? IF EXISTS");
    deleteIf = session.prepare("DELETE FROM " + keyspace + ".tenants WHERE tenant_id = ? IF etag = ?");
    first = session.prepare("SELECT " + COLUMNS + " FROM " + keyspace + ".tenants LIMIT ?");
    after = session.prepare("SELECT " + COLUMNS + " FROM " + keyspace + ".tenants WHERE token(tenant_id) > token(?) LIMIT ?");
  }

  public CompletionStage<Optional<Tenant>> get(String tenantId) {
    return session.executeAsync(get.bind(tenantId)).thenApply(rs -> Optional.ofNullable(rs.one()).map(TenantStore::map));
  }

  /** Creates the tenant; ALREADY_EXISTS if the id is taken. */
  public CompletionStage<Tenant> create(String tenantId, Tenant t) {
    Instant now = Instant.now();
    String etag = Etags.next();
    return session.executeAsync(insert.bind(tenantId, t.getDisplayName(), t.getHandlePrefix(), now, now, etag))
        .thenApply(rs -> {
          if (!rs.wasApplied()) {
            throw ResourceStateException.alreadyExists(ResourceNames.tenant(tenantId));
          }
          return t.toBuilder().setName(ResourceNames.tenant(tenantId)).setCreateTime(ts(now)).setUpdateTime(ts(now))
              .setEtag(etag).build();
        });
  }

  /** Writes the mutable fields of {@code t}; with a non-empty {@code expectedEtag} only if it is still current. */
  public CompletionStage<Void> update(String tenantId, Tenant t, String expectedEtag) {
    Instant now = Instant.now();
    String etag = Etags.next();
    String name = ResourceNames.tenant(tenantId);
    var stmt = expectedEtag.isEmpty()
        ? update.bind(t.getDisplayName(), t.getHandlePrefix(), now, etag, tenantId)
        : updateIf.bind(t.getDisplayName(), t.getHandlePrefix(), now, etag, tenantId, expectedEtag);
    return session.executeAsync(stmt).thenAccept(rs -> checkApplied(rs, name));
  }

  public CompletionStage<Void> delete(String tenantId, String expectedEtag) {
    String name = ResourceNames.tenant(tenantId);
    var stmt = expectedEtag.isEmpty() ? delete.bind(tenantId) : deleteIf.bind(tenantId, expectedEtag);
    return session.executeAsync(stmt).thenAccept(rs -> checkApplied(rs, name));
  }

  /** Tenants in token order after {@code cursor} (a tenant id; empty for the start). */
  public CompletionStage<Page<Tenant>> list(String cursor, int pageSize) {
    var stmt = cursor.isEmpty() ? first.bind(pageSize + 1) : after.bind(cursor, pageSize + 1);
    return session.executeAsync(stmt).thenApply(rs -> {
      List<Tenant> out = new ArrayList<>();
      for (Row r : rs.currentPage()) {
        out.add(map(r));
      }
      if (out.size() > pageSize) {
        out = out.subList(0, pageSize);
        return new Page<>(List.copyOf(out), Optional.of(out.get(pageSize - 1).getName().substring("tenants/".length())));
      }
      return new Page<>(out, Optional.empty());
    });
  }

  /** LWT outcome: not applied means missing (no etag column returned) or another etag. */
  static void checkApplied(AsyncResultSet rs, String name) {
    if (rs.wasApplied()) {
      return;
    }
    Row r = rs.one();
    boolean exists = r != null && r.getColumnDefinitions().contains("etag") && r.getString("etag") != null;
    throw exists ? ResourceStateException.etagMismatch(name) : ResourceStateException.notFound(name);
  }

  private static Tenant map(Row r) {
    return Tenant.newBuilder()
        .setName(ResourceNames.tenant(r.getString("tenant_id")))
        .setDisplayName(r.getString("display_name"))
        .setHandlePrefix(r.getString("handle_prefix"))
        .setCreateTime(ts(r.getInstant("create_time")))
        .setUpdateTime(ts(r.getInstant("update_time")))
        .setEtag(r.getString("etag"))
        .build();
  }

  static Timestamp ts(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }
}
