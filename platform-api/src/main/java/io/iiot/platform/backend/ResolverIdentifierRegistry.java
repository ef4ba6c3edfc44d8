package io.iiot.platform.backend;

import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.iiot.base.async.Failures;
import io.iiot.platform.domain.IdentifierRegistry;
import io.iiot.platform.domain.RowOutcome;
import io.iiot.platform.v1.IdentifierItem;
import io.iiot.platform.v1.OnboardingTemplate;
import io.iiot.resolver.v1.BatchRegisterIdentifiersRequest;
import io.iiot.resolver.v1.BatchRegisterResult;
import io.iiot.resolver.v1.CreateTemplateRequest;
import io.iiot.resolver.v1.DeleteIdentifierRequest;
import io.iiot.resolver.v1.FieldType;
import io.iiot.resolver.v1.GetTemplateRequest;
import io.iiot.resolver.v1.Identifier;
import io.iiot.resolver.v1.IdentifierServiceGrpc;
import io.iiot.resolver.v1.MetadataTemplate;
import io.iiot.resolver.v1.RegisterIdentifierRequest;
import io.iiot.resolver.v1.TemplateField;
import io.iiot.resolver.v1.TemplateServiceGrpc;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * {@link IdentifierRegistry} over resolver-node's {@code iiot.resolver.v1} TemplateService and IdentifierService.
 *
 * <p>An onboarding template's identifier items become a resolver metadata template: field name = the item type in
 * lower case ({@code SERIAL_NO} → {@code serial_no}, which is how resolver-node keys values), value type = the item
 * type, index = the item index, STRING with the item's max length. Its id is derived from the content
 * ({@code ob-<hash>}), so an edited onboarding template gets a new resolver template and identifiers registered
 * before keep theirs. Registration is one BatchRegisterIdentifiers per 10,000 identifiers (not all-or-nothing: one
 * result per row); compensation deletes with {@code allow_missing}, at most {@value #DELETES_IN_FLIGHT} at a time.
 */
public final class ResolverIdentifierRegistry implements IdentifierRegistry {
  static final int MAX_BATCH = 10_000;
  static final int DELETES_IN_FLIGHT = 16;
  private final TemplateServiceGrpc.TemplateServiceFutureStub templates;
  private final IdentifierServiceGrpc.IdentifierServiceFutureStub identifiers;
  private final long deadlineMs;
  private final Map<String, CompletionStage<String>> ensured = new ConcurrentHashMap<>();

  public ResolverIdentifierRegistry(Channel channel, BearerToken credentials, long deadlineMs) {
    this.templates = TemplateServiceGrpc.newFutureStub(channel).withCallCredentials(credentials);
    this.identifiers = IdentifierServiceGrpc.newFutureStub(channel).withCallCredentials(credentials);
    this.deadlineMs = deadlineMs;
  }

  /** The resolver field name of an identifier item type. */
  public static String fieldName(String itemType) {
    return itemType.toLowerCase(Locale.ROOT);
  }

  @Override
  public CompletionStage<List<RowOutcome>> register(OnboardingTemplate template, List<NewIdentifier> ids) {
    if (ids.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    return ensureTemplate(template).thenCompose(templateId -> {
      List<CompletionStage<List<RowOutcome>>> chunks = new ArrayList<>();
      for (int from = 0; from < ids.size(); from += MAX_BATCH) {
        chunks.add(registerChunk(templateId, ids.subList(from, Math.min(ids.size(), from + MAX_BATCH))));
      }
      CompletionStage<List<RowOutcome>> all = CompletableFuture.completedFuture(new ArrayList<>());
      for (CompletionStage<List<RowOutcome>> c : chunks) {
        all = all.thenCombine(c, (a, b) -> {
          a.addAll(b);
          return a;
        });
      }
      return all;
    });
  }

  private CompletionStage<List<RowOutcome>> registerChunk(String templateId, List<NewIdentifier> chunk) {
    String prefix = prefixOf(chunk.get(0).handle());
    BatchRegisterIdentifiersRequest.Builder b = BatchRegisterIdentifiersRequest.newBuilder()
        .setParent("prefixes/" + prefix);
    for (NewIdentifier id : chunk) {
      Identifier.Builder i = Identifier.newBuilder().setHandle(id.handle()).setTemplate("templates/" + templateId);
      id.values().forEach((type, value) -> i.putValues(fieldName(type), value));
      b.addRequests(RegisterIdentifierRequest.newBuilder().setIdentifier(i));
    }
    return Stages.of(identifiers.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
        .batchRegisterIdentifiers(b.build())).thenApply(response -> {
          List<RowOutcome> out = new ArrayList<>(chunk.size());
          for (BatchRegisterResult r : response.getResultsList()) {
            out.add(r.getStatus().getCode() == 0 ? RowOutcome.OK
                : RowOutcome.failed(Status.fromCodeValue(r.getStatus().getCode()).getCode() + ": "
                    + r.getStatus().getMessage()));
          }
          if (out.size() != chunk.size()) {
            throw new IllegalStateException("resolver-node answered " + out.size() + " results for " + chunk.size()
                + " identifiers");
          }
          return out;
        }).exceptionallyCompose(err -> {
          Status.Code code = code(err);
          if (code == Status.Code.FAILED_PRECONDITION || code == Status.Code.PERMISSION_DENIED
              || code == Status.Code.INVALID_ARGUMENT) {
            // Refused as a whole before anything was written (e.g. PREFIX_NOT_APPROVED): every row failed, nothing
            // to compensate.
            String why = code + ": " + describe(err);
            List<RowOutcome> out = new ArrayList<>(chunk.size());
            chunk.forEach(id -> out.add(RowOutcome.failed(why)));
            return CompletableFuture.completedFuture(out);
          }
          return CompletableFuture.failedFuture(err);
        });
  }

  @Override
  public CompletionStage<Void> delete(List<String> handles) {
    // DELETES_IN_FLIGHT lanes, each deleting its share one after the other.
    List<CompletionStage<Void>> lanes = new ArrayList<>();
    for (int lane = 0; lane < Math.min(DELETES_IN_FLIGHT, handles.size()); lane++) {
      CompletionStage<Void> chain = CompletableFuture.completedFuture(null);
      for (int i = lane; i < handles.size(); i += DELETES_IN_FLIGHT) {
        String handle = handles.get(i);
        chain = chain.thenCompose(v -> Stages.of(identifiers.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
            .deleteIdentifier(DeleteIdentifierRequest.newBuilder().setName(identifierName(handle))
                .setAllowMissing(true).build())).thenApply(e -> null));
      }
      lanes.add(chain);
    }
    return CompletableFuture.allOf(lanes.stream().map(CompletionStage::toCompletableFuture)
        .toArray(CompletableFuture[]::new));
  }

  /** The resolver template of {@code template}'s identifier items, created once if resolver-node lacks it. */
  CompletionStage<String> ensureTemplate(OnboardingTemplate template) {
    MetadataTemplate definition = definition(template);
    String id = templateId(definition);
    return ensured.compute(id, (k, existing) -> {
      if (existing != null && !existing.toCompletableFuture().isCompletedExceptionally()) {
        return existing;
      }
      return Stages.of(templates.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
          .getTemplate(GetTemplateRequest.newBuilder().setName("templates/" + id).build()))
          .thenApply(t -> id)
          .exceptionallyCompose(err -> {
            if (code(err) != Status.Code.NOT_FOUND) {
              return CompletableFuture.failedFuture(err);
            }
            return Stages.of(templates.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).createTemplate(
                CreateTemplateRequest.newBuilder().setTemplateId(id).setTemplate(definition).build()))
                .thenApply(t -> id)
                .exceptionallyCompose(e2 -> code(e2) == Status.Code.ALREADY_EXISTS
                    ? CompletableFuture.completedFuture(id) : CompletableFuture.failedFuture(e2));
          });
    });
  }

  static MetadataTemplate definition(OnboardingTemplate t) {
    String code = t.getIndustryCode();
    MetadataTemplate.Builder m = MetadataTemplate.newBuilder()
        .setDisplayName(t.getDisplayName().isEmpty() ? t.getName() : t.getDisplayName())
        .setIndustryCategory(code.isEmpty() ? "" : code.substring(0, 1))
        .setIndustryCode(code.length() > 1 ? code.substring(1) : "");
    for (IdentifierItem item : t.getIdentifierTemplate().getItemsList()) {
      TemplateField.Builder f = TemplateField.newBuilder().setName(fieldName(item.getType())).setType(FieldType.STRING)
          .setRequired(item.getRequired()).setValueType(item.getType()).setIndex(item.getIndex());
      if (item.getMaxLength() > 0) {
        f.setMaxLength(item.getMaxLength());
      }
      m.addFields(f);
    }
    return m.build();
  }

  static String templateId(MetadataTemplate definition) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(definition.toByteString().toByteArray());
      return "ob-" + HexFormat.of().formatHex(h, 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String prefixOf(String handle) {
    return handle.substring(0, handle.indexOf('/'));
  }

  /** "prefixes/{prefix}/identifiers/{suffix}", the suffix percent-encoded as resolver-node expects. */
  public static String identifierName(String handle) {
    int slash = handle.indexOf('/');
    return "prefixes/" + handle.substring(0, slash) + "/identifiers/" + encode(handle.substring(slash + 1));
  }

  /** RFC 3986: unreserved characters kept, every other UTF-8 byte percent-encoded. */
  public static String encode(String s) {
    StringBuilder out = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
          || c == '_' || c == '~') {
        out.append(c);
      } else {
        out.append('%').append(String.format("%02X", b & 0xff));
      }
    }
    return out.toString();
  }

  private static String describe(Throwable err) {
    Throwable e = Failures.cause(err);
    return e instanceof StatusRuntimeException s ? String.valueOf(s.getStatus().getDescription()) : e.toString();
  }

  static Status.Code code(Throwable err) {
    Throwable e = Failures.cause(err);
    return e instanceof StatusRuntimeException s ? s.getStatus().getCode() : Status.Code.UNKNOWN;
  }
}
