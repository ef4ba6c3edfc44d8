package io.iiot.platform.storage;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.google.protobuf.InvalidProtocolBufferException;
import io.iiot.platform.domain.Etags;
import io.iiot.platform.domain.ResourceNames.TemplateName;
import io.iiot.platform.domain.ResourceStateException;
import io.iiot.platform.v1.OnboardingTemplate;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Predicate;

/**
 * Onboarding templates, one partition per scope (a tenant, or {@value #CATALOG} for the shipped catalogue), sorted
 * by template id. The template content is stored as its protobuf encoding.
 */
public final class TemplateStore {
  public static final String CATALOG = "_catalog";
  /** Rows fetched per round trip while filtering a listing. */
  private static final int FETCH = 200;
  private final CqlSession session;
  private final PreparedStatement get;
  private final PreparedStatement insert;
  private final PreparedStatement update;
  private final PreparedStatement updateIf;
  private final PreparedStatement delete;
  private final PreparedStatement deleteIf;
  private final PreparedStatement scan;

  public TemplateStore(CqlSession session, String keyspace) {
    this.session = session;
    String cols = "scope, template_id, body, create_time, update_time, etag";
    get = session.prepare("SELECT " + cols + " FROM " + keyspace + ".templates WHERE scope = ? AND template_id = ?");
    insert = session.prepare("INSERT INTO " + keyspace + ".templates (" + cols + ") VALUES (?, ?, ?, ?, ?, ?) IF NOT EXISTS");
    update = session.prepare("UPDATE " + keyspace + ".templates SET body = ?, update_time = ?, etag = ?"
        + " WHERE scope = ? AND template_id = ? IF EXISTS");
    updateIf = session.prepare("UPDATE " + keyspace + ".templates SET body = ?, update_time = ?, etag = ?"
        + " WHERE scope = ? AND template_id = ? IF etag = ?");
    delete = session.prepare("DELETE FROM " + keyspace + ".templates WHERE scope = ? AND template_id = ? IF EXISTS");
    deleteIf = session.prepare("DELETE FROM " + keyspace + ".templates WHERE scope = ? AND template_id = ? IF etag = ?");
    scan = session.prepare("SELECT " + cols + " FROM " + keyspace + ".templates WHERE scope = ? AND template_id > ?");
  }

  private static String scope(TemplateName n) {
    return n.tenant().orElse(CATALOG);
  }

  public CompletionStage<Optional<OnboardingTemplate>> get(TemplateName n) {
    return session.executeAsync(get.bind(scope(n), n.templateId()))
        .thenApply(rs -> Optional.ofNullable(rs.one()).map(TemplateStore::map));
  }

  /** Creates the template; ALREADY_EXISTS if the name is taken. Returns it as stored. */
  public CompletionStage<OnboardingTemplate> create(TemplateName n, OnboardingTemplate t) {
    Instant now = Instant.now();
    String etag = Etags.next();
    return session.executeAsync(insert.bind(scope(n), n.templateId(), body(t), now, now, etag)).thenApply(rs -> {
      if (!rs.wasApplied()) {
        throw ResourceStateException.alreadyExists(n.format());
      }
      return decorate(t, n, now, now, etag);
    });
  }

  /** Replaces the content; with a non-empty {@code expectedEtag} only if it is still current. */
  public CompletionStage<Void> update(TemplateName n, OnboardingTemplate t, String expectedEtag) {
    Instant now = Instant.now();
    String etag = Etags.next();
    var stmt = expectedEtag.isEmpty()
        ? update.bind(body(t), now, etag, scope(n), n.templateId())
        : updateIf.bind(body(t), now, etag, scope(n), n.templateId(), expectedEtag);
    return session.executeAsync(stmt).thenAccept(rs -> TenantStore.checkApplied(rs, n.format()));
  }

  public CompletionStage<Void> delete(TemplateName n, String expectedEtag) {
    var stmt = expectedEtag.isEmpty()
        ? delete.bind(scope(n), n.templateId())
        : deleteIf.bind(scope(n), n.templateId(), expectedEtag);
    return session.executeAsync(stmt).thenAccept(rs -> TenantStore.checkApplied(rs, n.format()));
  }

  /**
   * Templates of {@code tenant} (empty: the catalogue) with an id after {@code cursor} that pass {@code filter}, up to
   * {@code pageSize}. Reads the partition in chunks until the page is full, so a selective filter costs reads, not
   * memory.
   */
  public CompletionStage<Page<OnboardingTemplate>> list(Optional<String> tenant, String cursor, int pageSize,
      Predicate<OnboardingTemplate> filter) {
    var stmt = scan.bind(tenant.orElse(CATALOG), cursor).setPageSize(FETCH);
    return session.executeAsync(stmt).thenCompose(rs -> collect(rs, new ArrayList<>(), pageSize, filter));
  }

  private CompletionStage<Page<OnboardingTemplate>> collect(AsyncResultSet rs, List<OnboardingTemplate> acc,
      int pageSize, Predicate<OnboardingTemplate> filter) {
    for (Row r : rs.currentPage()) {
      OnboardingTemplate t = map(r);
      if (filter.test(t)) {
        if (acc.size() == pageSize) {
          // One more match exists: the page is full and there is a next one.
          String last = acc.get(pageSize - 1).getName();
          return CompletableFuture.completedFuture(
              new Page<>(List.copyOf(acc), Optional.of(last.substring(last.lastIndexOf('/') + 1))));
        }
        acc.add(t);
      }
    }
    if (rs.hasMorePages()) {
      return rs.fetchNextPage().thenCompose(next -> collect(next, acc, pageSize, filter));
    }
    return CompletableFuture.completedFuture(new Page<>(List.copyOf(acc), Optional.empty()));
  }

  private static ByteBuffer body(OnboardingTemplate t) {
    return ByteBuffer.wrap(t.toBuilder().clearName().clearCreateTime().clearUpdateTime().clearEtag().clearCatalog()
        .build().toByteArray());
  }

  private static OnboardingTemplate map(Row r) {
    String scope = r.getString("scope");
    TemplateName n = new TemplateName(CATALOG.equals(scope) ? Optional.empty() : Optional.of(scope),
        r.getString("template_id"));
    try {
      ByteBuffer b = r.getByteBuffer("body");
      byte[] bytes = new byte[b.remaining()];
      b.duplicate().get(bytes);
      return decorate(OnboardingTemplate.parseFrom(bytes), n, r.getInstant("create_time"),
          r.getInstant("update_time"), r.getString("etag"));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored template " + n.format() + " is not decodable: " + e.getMessage(), e);
    }
  }

  private static OnboardingTemplate decorate(OnboardingTemplate t, TemplateName n, Instant created, Instant updated,
      String etag) {
    return t.toBuilder().setName(n.format()).setCatalog(n.tenant().isEmpty()).setCreateTime(TenantStore.ts(created))
        .setUpdateTime(TenantStore.ts(updated)).setEtag(etag).build();
  }
}
