package io.iiot.platform.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.DefaultBatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.v1.ApiKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** API keys: by id for authentication, by tenant for listing. Only the secret's hash is stored. */
public final class ApiKeyStore {
  /** A stored key: who it is and the hash its secret must match. */
  public record StoredKey(Principal principal, String secretHash) {
    @Override
    public String toString() {
      return "StoredKey[" + principal + "]";
    }
  }

  private final CqlSession session;
  private final PreparedStatement byId;
  private final PreparedStatement insert;
  private final PreparedStatement insertByTenant;
  private final PreparedStatement delete;
  private final PreparedStatement deleteByTenant;
  private final PreparedStatement listFirst;
  private final PreparedStatement listAfter;

  public ApiKeyStore(CqlSession session, String keyspace) {
    this.session = session;
    byId = session.prepare("SELECT key_id, tenant, role, secret_hash FROM " + keyspace + ".api_keys WHERE key_id = ?");
    insert = session.prepare("INSERT INTO " + keyspace + ".api_keys (key_id, tenant, role, secret_hash, display_name, create_time)"
        + " VALUES (?, ?, ?, ?, ?, ?)");
    insertByTenant = session.prepare(
        "INSERT INTO " + keyspace + ".api_keys_by_tenant (tenant, key_id, display_name, create_time) VALUES (?, ?, ?, ?)");
    delete = session.prepare("DELETE FROM " + keyspace + ".api_keys WHERE key_id = ?");
    deleteByTenant = session.prepare("DELETE FROM " + keyspace + ".api_keys_by_tenant WHERE tenant = ? AND key_id = ?");
    listFirst = session.prepare(
        "SELECT key_id, display_name, create_time FROM " + keyspace + ".api_keys_by_tenant WHERE tenant = ? LIMIT ?");
    listAfter = session.prepare("SELECT key_id, display_name, create_time FROM " + keyspace + ".api_keys_by_tenant"
        + " WHERE tenant = ? AND key_id > ? LIMIT ?");
  }

  public CompletionStage<Optional<StoredKey>> find(String keyId) {
    return session.executeAsync(byId.bind(keyId)).thenApply(rs -> Optional.ofNullable(rs.one()).map(r ->
        new StoredKey(new Principal(r.getString("key_id"), r.getString("tenant"),
            Principal.Role.valueOf(r.getString("role"))), r.getString("secret_hash"))));
  }

  /** Stores a key (both tables, one logged batch so they cannot diverge). Idempotent. */
  public CompletionStage<ApiKey> save(Principal p, String secretHash, String displayName) {
    Instant now = Instant.now();
    BatchStatement batch = BatchStatement.newInstance(DefaultBatchType.LOGGED,
        insert.bind(p.keyId(), p.tenant(), p.role().name(), secretHash, displayName, now),
        insertByTenant.bind(p.tenant(), p.keyId(), displayName, now));
    return session.executeAsync(batch).thenApply(rs -> ApiKey.newBuilder()
        .setName(new ResourceNames.ApiKeyName(p.tenant(), p.keyId()).format())
        .setDisplayName(displayName)
        .setCreateTime(TenantStore.ts(now))
        .build());
  }

  public CompletionStage<Void> delete(String tenant, String keyId) {
    BatchStatement batch = BatchStatement.newInstance(DefaultBatchType.LOGGED,
        delete.bind(keyId), deleteByTenant.bind(tenant, keyId));
    return session.executeAsync(batch).thenAccept(rs -> { });
  }

  public CompletionStage<Page<ApiKey>> list(String tenant, String cursor, int pageSize) {
    var stmt = cursor.isEmpty() ? listFirst.bind(tenant, pageSize + 1) : listAfter.bind(tenant, cursor, pageSize + 1);
    return session.executeAsync(stmt).thenApply(rs -> {
      List<ApiKey> out = new ArrayList<>();
      List<String> ids = new ArrayList<>();
      for (Row r : rs.currentPage()) {
        ids.add(r.getString("key_id"));
        out.add(ApiKey.newBuilder()
            .setName(new ResourceNames.ApiKeyName(tenant, r.getString("key_id")).format())
            .setDisplayName(r.getString("display_name"))
            .setCreateTime(TenantStore.ts(r.getInstant("create_time")))
            .build());
      }
      if (out.size() > pageSize) {
        return new Page<>(List.copyOf(out.subList(0, pageSize)), Optional.of(ids.get(pageSize - 1)));
      }
      return new Page<>(out, Optional.empty());
    });
  }
}
