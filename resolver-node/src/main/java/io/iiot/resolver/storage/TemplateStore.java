package io.iiot.resolver.storage;

import com.datastax.oss.driver.api.core.CqlIdentifier;
import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.AsyncResultSet;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import com.datastax.oss.driver.api.core.cql.Row;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.iiot.resolver.domain.template.FieldType;
import io.iiot.resolver.domain.template.MetadataTemplate;
import io.iiot.resolver.domain.template.TemplateField;
import io.iiot.resolver.domain.template.TemplateValidator;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Template versions in Cassandra ({@code templates}, {@code template_ids}). A version is written once, by a
 * lightweight transaction, and never changed, so versions read are cached without expiry (bounded in number).
 *
 * <p>Methods may be called from any thread; futures complete on a driver thread.
 */
public final class TemplateStore {
  private static final int BUCKET = 0;
  private final CqlSession session;
  private final PreparedStatement insertIfAbsent;
  private final PreparedStatement insertId;
  private final PreparedStatement selectVersion;
  private final PreparedStatement selectLatest;
  private final PreparedStatement selectVersions;
  private final PreparedStatement listIds;
  private final Cache<String, TemplateValidator> versions = Caffeine.newBuilder().maximumSize(10_000).build();

  /** A stored version and when it was created. */
  public record Stored(MetadataTemplate template, Instant createTime) {}

  public TemplateStore(CqlSession session, String keyspace) {
    this.session = session;
    String ks = CqlIdentifier.fromInternal(keyspace).asCql(true) + ".";
    String cols = "template_id, version, display_name, industry, industry_code, fields, create_time";
    insertIfAbsent = session.prepare("INSERT INTO " + ks + "templates (" + cols + ") VALUES (?,?,?,?,?,?,?) "
        + "IF NOT EXISTS");
    insertId = session.prepare("INSERT INTO " + ks + "template_ids (bucket, template_id) VALUES (?, ?)");
    selectVersion = session.prepare("SELECT " + cols + " FROM " + ks + "templates WHERE template_id = ? AND "
        + "version = ?");
    selectLatest = session.prepare("SELECT " + cols + " FROM " + ks + "templates WHERE template_id = ? LIMIT 1");
    selectVersions = session.prepare("SELECT " + cols + " FROM " + ks + "templates WHERE template_id = ?");
    listIds = session.prepare("SELECT template_id FROM " + ks + "template_ids WHERE bucket = ? AND template_id > ? "
        + "LIMIT ?");
  }

  /**
   * Writes a new version; {@code false} when that id and version already exist (a concurrent writer won). The
   * template must be valid ({@link MetadataTemplate#definitionProblems()} empty).
   */
  public Future<Boolean> insert(MetadataTemplate t, Instant createTime) {
    return Future.fromCompletionStage(session.executeAsync(insertId.bind(BUCKET, t.id())))
        .compose(x -> Future.fromCompletionStage(session.executeAsync(insertIfAbsent.bind(t.id(), t.version(),
            t.name(), t.industry(), t.industryCode(), fieldsJson(t.fields()), createTime))))
        .map(AsyncResultSet::wasApplied);
  }

  /** One version, validator ready; cached, since versions never change. */
  public Future<Optional<TemplateValidator>> validator(String id, int version) {
    String key = id + "@" + version;
    TemplateValidator hit = versions.getIfPresent(key);
    if (hit != null) {
      return Future.succeededFuture(Optional.of(hit));
    }
    return get(id, version).map(s -> s.map(st -> {
      TemplateValidator v = new TemplateValidator(st.template());
      versions.put(key, v);
      return v;
    }));
  }

  public Future<Optional<Stored>> get(String id, int version) {
    return one(selectVersion.bind(id, version));
  }

  public Future<Optional<Stored>> latest(String id) {
    return one(selectLatest.bind(id));
  }

  /** Every version of a template, newest first (templates have few versions). */
  public Future<List<Stored>> versions(String id) {
    return Future.fromCompletionStage(session.executeAsync(selectVersions.bind(id)))
        .compose(rs -> page(rs, new ArrayList<>()));
  }

  /** Template ids after {@code afterId} ("" = from the start), in id order, at most {@code limit}. */
  public Future<List<String>> ids(String afterId, int limit) {
    return Future.fromCompletionStage(session.executeAsync(listIds.bind(BUCKET, afterId, limit))).map(rs -> {
      List<String> out = new ArrayList<>();
      for (Row r : rs.currentPage()) {
        out.add(r.getString(0));
      }
      return out;
    });
  }

  private Future<List<Stored>> page(AsyncResultSet rs, List<Stored> out) {
    for (Row r : rs.currentPage()) {
      out.add(toStored(r));
    }
    if (rs.hasMorePages()) {
      return Future.fromCompletionStage(rs.fetchNextPage()).compose(n -> page(n, out));
    }
    return Future.succeededFuture(out);
  }

  private Future<Optional<Stored>> one(com.datastax.oss.driver.api.core.cql.BoundStatement st) {
    return Future.fromCompletionStage(session.executeAsync(st))
        .map(rs -> Optional.ofNullable(rs.one()).map(TemplateStore::toStored));
  }

  private static Stored toStored(Row r) {
    return new Stored(new MetadataTemplate(r.getString("template_id"), r.getInt("version"),
        r.getString("display_name"), r.getString("industry"), r.getString("industry_code"),
        fields(new JsonArray(r.getString("fields")))), r.getInstant("create_time"));
  }

  static String fieldsJson(List<TemplateField> fields) {
    JsonArray a = new JsonArray();
    for (TemplateField f : fields) {
      a.add(new JsonObject().put("name", f.name()).put("type", f.type().name()).put("required", f.required())
          .put("valueType", f.valueType()).put("index", f.index()).put("minLength", f.minLength())
          .put("maxLength", f.maxLength()).put("min", f.min() == null ? null : f.min().toPlainString())
          .put("max", f.max() == null ? null : f.max().toPlainString()).put("pattern", f.pattern())
          .put("unit", f.unit()).put("allowed", new JsonArray(new ArrayList<>(f.allowed()))));
    }
    return a.encode();
  }

  static List<TemplateField> fields(JsonArray a) {
    List<TemplateField> out = new ArrayList<>();
    for (int i = 0; i < a.size(); i++) {
      JsonObject o = a.getJsonObject(i);
      List<String> allowed = new ArrayList<>();
      o.getJsonArray("allowed", new JsonArray()).forEach(v -> allowed.add((String) v));
      out.add(new TemplateField(o.getString("name"), FieldType.valueOf(o.getString("type")),
          o.getBoolean("required"), o.getString("valueType"), o.getInteger("index"), o.getInteger("minLength"),
          o.getInteger("maxLength"), decimal(o.getString("min")), decimal(o.getString("max")),
          o.getString("pattern"), o.getString("unit"), allowed));
    }
    return out;
  }

  private static BigDecimal decimal(String s) {
    return s == null ? null : new BigDecimal(s);
  }
}
