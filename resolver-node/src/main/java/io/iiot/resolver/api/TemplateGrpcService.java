package io.iiot.resolver.api;

import com.google.protobuf.Timestamp;
import com.google.rpc.Code;
import io.grpc.stub.StreamObserver;
import io.iiot.resolver.domain.template.FieldViolation;
import io.iiot.resolver.domain.template.MetadataTemplate;
import io.iiot.resolver.domain.template.TemplateField;
import io.iiot.resolver.storage.TemplateStore;
import io.iiot.resolver.v1.CreateTemplateRequest;
import io.iiot.resolver.v1.CreateTemplateVersionRequest;
import io.iiot.resolver.v1.FieldType;
import io.iiot.resolver.v1.GetTemplateRequest;
import io.iiot.resolver.v1.ListTemplatesRequest;
import io.iiot.resolver.v1.ListTemplatesResponse;
import io.iiot.resolver.v1.TemplateServiceGrpc;
import io.vertx.core.Future;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;

/** {@code iiot.resolver.v1.TemplateService} over {@link TemplateStore}. */
public final class TemplateGrpcService extends TemplateServiceGrpc.TemplateServiceImplBase {
  private final TemplateStore store;

  public TemplateGrpcService(TemplateStore store) {
    this.store = store;
  }

  /** Templates are the node's: the operator and the platform service define them, everyone reads them. */
  private static boolean mayDefine(StreamObserver<?> out) {
    if (!AuthInterceptor.principal().privileged()) {
      out.onError(GrpcErrors.denied("OPERATOR_OR_SERVICE_ONLY", "templates are defined by the operator or the "
          + "platform"));
      return false;
    }
    return true;
  }

  @Override
  public void createTemplate(CreateTemplateRequest req, StreamObserver<io.iiot.resolver.v1.MetadataTemplate> out) {
    if (!mayDefine(out)) {
      return;
    }
    create(req.getTemplateId(), 1, req.getTemplate(), "template_id", out, false);
  }

  @Override
  public void createTemplateVersion(CreateTemplateVersionRequest req,
      StreamObserver<io.iiot.resolver.v1.MetadataTemplate> out) {
    if (!mayDefine(out)) {
      return;
    }
    String parent = req.getParent();
    String id = parent.startsWith("templates/") ? parent.substring(10) : "";
    if (!MetadataTemplate.isValidId(id)) {
      out.onError(GrpcErrors.badField("parent", "INVALID_NAME", "must be templates/{template_id}"));
      return;
    }
    store.latest(id).onComplete(r -> {
      if (r.failed()) {
        out.onError(GrpcErrors.unexpected(r.cause()));
      } else if (r.result().isEmpty()) {
        out.onError(GrpcErrors.of(Code.NOT_FOUND, "TEMPLATE_NOT_FOUND", "no template " + id));
      } else {
        create(id, r.result().get().template().version() + 1, req.getTemplate(), "parent", out, true);
      }
    });
  }

  private void create(String id, int version, io.iiot.resolver.v1.MetadataTemplate t, String idField,
      StreamObserver<io.iiot.resolver.v1.MetadataTemplate> out, boolean newVersion) {
    List<FieldViolation> problems = new ArrayList<>();
    MetadataTemplate domain = toDomain(id, version, t, problems);
    problems.addAll(domain.definitionProblems().stream()
        .map(p -> p.field().equals("template_id") ? new FieldViolation(idField, p.rule(), p.description())
            : new FieldViolation("template." + p.field(), p.rule(), p.description())).toList());
    if (!problems.isEmpty()) {
      out.onError(GrpcErrors.of(GrpcErrors.invalid("", problems)));
      return;
    }
    Instant now = Instant.now();
    store.insert(domain, now).onComplete(r -> {
      if (r.failed()) {
        out.onError(GrpcErrors.unexpected(r.cause()));
      } else if (!r.result()) {
        out.onError(newVersion
            ? GrpcErrors.of(Code.ABORTED, "CONCURRENT_VERSION", "another version of " + id + " was created at the "
                + "same time; retry")
            : GrpcErrors.of(Code.ALREADY_EXISTS, "TEMPLATE_EXISTS", "template " + id + " exists; add a version with "
                + "CreateTemplateVersion"));
      } else {
        out.onNext(toProto(new TemplateStore.Stored(domain, now)));
        out.onCompleted();
      }
    });
  }

  @Override
  public void getTemplate(GetTemplateRequest req, StreamObserver<io.iiot.resolver.v1.MetadataTemplate> out) {
    String[] parts = req.getName().split("/", -1);
    Future<Optional<TemplateStore.Stored>> f;
    if (parts.length == 2 && parts[0].equals("templates") && MetadataTemplate.isValidId(parts[1])) {
      f = store.latest(parts[1]);
    } else if (parts.length == 4 && parts[0].equals("templates") && MetadataTemplate.isValidId(parts[1])
        && parts[2].equals("versions") && parts[3].matches("[1-9][0-9]{0,8}")) {
      f = store.get(parts[1], Integer.parseInt(parts[3]));
    } else {
      out.onError(GrpcErrors.badField("name", "INVALID_NAME",
          "must be templates/{template_id} or templates/{template_id}/versions/{version}"));
      return;
    }
    f.onComplete(r -> {
      if (r.failed()) {
        out.onError(GrpcErrors.unexpected(r.cause()));
      } else if (r.result().isEmpty()) {
        out.onError(GrpcErrors.of(Code.NOT_FOUND, "TEMPLATE_NOT_FOUND", "no " + req.getName()));
      } else {
        out.onNext(toProto(r.result().get()));
        out.onCompleted();
      }
    });
  }

  @Override
  public void listTemplates(ListTemplatesRequest req, StreamObserver<ListTemplatesResponse> out) {
    int size = req.getPageSize() <= 0 ? 50 : Math.min(req.getPageSize(), 1000);
    String after;
    try {
      after = req.getPageToken().isEmpty() ? ""
          : new String(Base64.getUrlDecoder().decode(req.getPageToken()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      out.onError(GrpcErrors.badField("page_token", "INVALID_PAGE_TOKEN", "not a token this service returned"));
      return;
    }
    // The token is only the last template id listed: any value is a valid starting point, nothing to tamper with.
    store.ids(after, size).compose(ids -> {
      List<Future<Optional<TemplateStore.Stored>>> latest = ids.stream().map(store::latest).toList();
      return Future.all(latest).map(x -> {
        ListTemplatesResponse.Builder b = ListTemplatesResponse.newBuilder();
        latest.forEach(l -> l.result().ifPresent(s -> b.addTemplates(toProto(s))));
        if (ids.size() == size) {
          b.setNextPageToken(Base64.getUrlEncoder().withoutPadding()
              .encodeToString(ids.get(ids.size() - 1).getBytes(StandardCharsets.UTF_8)));
        }
        return b.build();
      });
    }).onComplete(r -> {
      if (r.failed()) {
        out.onError(GrpcErrors.unexpected(r.cause()));
      } else {
        out.onNext(r.result());
        out.onCompleted();
      }
    });
  }

  static MetadataTemplate toDomain(String id, int version, io.iiot.resolver.v1.MetadataTemplate t,
      List<FieldViolation> problems) {
    List<TemplateField> fields = new ArrayList<>();
    for (int i = 0; i < t.getFieldsCount(); i++) {
      io.iiot.resolver.v1.TemplateField f = t.getFields(i);
      io.iiot.resolver.domain.template.FieldType type = null;
      if (f.getType() == FieldType.FIELD_TYPE_UNSPECIFIED || f.getType() == FieldType.UNRECOGNIZED) {
        problems.add(new FieldViolation("template.fields[" + i + "].type", "REQUIRED", "a field needs a type"));
      } else {
        type = io.iiot.resolver.domain.template.FieldType.valueOf(f.getType().name());
      }
      fields.add(new TemplateField(f.getName(), type, f.getRequired(), f.getValueType(), f.getIndex(),
          f.hasMinLength() ? f.getMinLength() : null, f.hasMaxLength() ? f.getMaxLength() : null,
          decimal(f.getMin(), "template.fields[" + i + "].min", problems),
          decimal(f.getMax(), "template.fields[" + i + "].max", problems),
          f.getPattern().isEmpty() ? null : f.getPattern(), f.getUnit().isEmpty() ? null : f.getUnit(),
          f.getAllowedValuesList()));
    }
    return new MetadataTemplate(id, version, t.getDisplayName(), t.getIndustryCategory(), t.getIndustryCode(),
        fields);
  }

  private static BigDecimal decimal(String s, String field, List<FieldViolation> problems) {
    if (s.isEmpty()) {
      return null;
    }
    try {
      return new BigDecimal(s);
    } catch (NumberFormatException e) {
      problems.add(new FieldViolation(field, "NOT_A_DECIMAL", "must be a decimal number, got '" + s + "'"));
      return null;
    }
  }

  static io.iiot.resolver.v1.MetadataTemplate toProto(TemplateStore.Stored s) {
    MetadataTemplate t = s.template();
    io.iiot.resolver.v1.MetadataTemplate.Builder b = io.iiot.resolver.v1.MetadataTemplate.newBuilder()
        .setName("templates/" + t.id() + "/versions/" + t.version()).setTemplateId(t.id()).setVersion(t.version())
        .setDisplayName(t.name()).setIndustryCategory(t.industry()).setIndustryCode(t.industryCode());
    if (s.createTime() != null) {
      b.setCreateTime(Timestamp.newBuilder().setSeconds(s.createTime().getEpochSecond())
          .setNanos(s.createTime().getNano()));
    }
    for (TemplateField f : t.fields()) {
      io.iiot.resolver.v1.TemplateField.Builder fb = io.iiot.resolver.v1.TemplateField.newBuilder()
          .setName(f.name()).setType(FieldType.valueOf(f.type().name())).setRequired(f.required())
          .setValueType(f.valueType()).setIndex(f.index()).addAllAllowedValues(f.allowed());
      if (f.minLength() != null) {
        fb.setMinLength(f.minLength());
      }
      if (f.maxLength() != null) {
        fb.setMaxLength(f.maxLength());
      }
      if (f.min() != null) {
        fb.setMin(f.min().toPlainString());
      }
      if (f.max() != null) {
        fb.setMax(f.max().toPlainString());
      }
      if (f.pattern() != null) {
        fb.setPattern(f.pattern());
      }
      if (f.unit() != null) {
        fb.setUnit(f.unit());
      }
      b.addFields(fb);
    }
    return b.build();
  }
}
