package io.iiot.resolver.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.Empty;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageLite;
import com.google.protobuf.Timestamp;
import com.google.rpc.Code;
import io.grpc.stub.StreamObserver;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.registration.Outcome;
import io.iiot.resolver.domain.registration.Registered;
import io.iiot.resolver.storage.IdentifierRegistry;
import io.iiot.resolver.storage.IdentifierRegistry.Draft;
import io.iiot.resolver.storage.RequestLog;
import io.iiot.resolver.storage.StatisticsRecorder;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.v1.BatchRegisterIdentifiersRequest;
import io.iiot.resolver.v1.BatchRegisterIdentifiersResponse;
import io.iiot.resolver.v1.BatchRegisterResult;
import io.iiot.resolver.v1.DeleteIdentifierRequest;
import io.iiot.resolver.v1.GetIdentifierRequest;
import io.iiot.resolver.v1.Identifier;
import io.iiot.resolver.v1.IdentifierServiceGrpc;
import io.iiot.resolver.v1.ListIdentifiersRequest;
import io.iiot.resolver.v1.ListIdentifiersResponse;
import io.iiot.resolver.v1.RegisterIdentifierRequest;
import io.iiot.resolver.v1.UpdateIdentifierRequest;
import io.vertx.core.Future;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * {@code iiot.resolver.v1.IdentifierService} over {@link IdentifierRegistry} (which writes through the node's
 * HandleStore) and {@link RequestLog} for request ids.
 */
public final class IdentifierGrpcService extends IdentifierServiceGrpc.IdentifierServiceImplBase {
  private final IdentifierRegistry registry;
  private final RequestLog requests;
  private final PrefixAccess access;
  private final StatisticsRecorder stats;

  public IdentifierGrpcService(IdentifierRegistry registry, RequestLog requests, PrefixAccess access,
      StatisticsRecorder stats) {
    this.registry = registry;
    this.requests = requests;
    this.access = access;
    this.stats = stats;
  }

  /** Runs {@code then} once the access check passed; otherwise the call fails with the check's status. */
  private static void allowed(Future<Void> check, StreamObserver<?> out, Runnable then) {
    check.onComplete(ar -> {
      if (ar.failed()) {
        out.onError(GrpcErrors.unexpected(ar.cause()));
      } else {
        then.run();
      }
    });
  }

  /** A template reference from the API: {@code templates/{id}} (version 0 = latest) or {@code .../versions/{v}}. */
  record TemplateName(String id, int version) {
    static Optional<TemplateName> parse(String s) {
      String[] p = s.split("/", -1);
      if (p.length == 2 && p[0].equals("templates")) {
        return Optional.of(new TemplateName(p[1], 0));
      }
      if (p.length == 4 && p[0].equals("templates") && p[2].equals("versions") && p[3].matches("[1-9][0-9]{0,8}")) {
        return Optional.of(new TemplateName(p[1], Integer.parseInt(p[3])));
      }
      return Optional.empty();
    }
  }

  @Override
  public void registerIdentifier(RegisterIdentifierRequest req, StreamObserver<Identifier> out) {
    Optional<String> prefix = IdentifierNames.prefixOfParent(req.getParent());
    if (prefix.isEmpty()) {
      out.onError(GrpcErrors.badField("parent", "INVALID_NAME", "must be prefixes/{prefix}"));
      return;
    }
    Optional<TemplateName> tn = TemplateName.parse(req.getIdentifier().getTemplate());
    if (tn.isEmpty()) {
      out.onError(GrpcErrors.badField("identifier.template", "INVALID_NAME",
          "must be templates/{template_id} or templates/{template_id}/versions/{version}"));
      return;
    }
    Principal p = AuthInterceptor.principal();
    allowed(access.mayWrite(p, prefix.get()), out, () -> idempotent("register", req.getRequestId(),
        req.toBuilder().clearRequestId().build(), Identifier.parser(),
        () -> registry.register(prefix.get(), draft(req.getIdentifier(), tn.get())).compose(o -> {
          if (!o.ok()) {
            return Future.failedFuture(GrpcErrors.of(GrpcErrors.of(o, "identifier.")));
          }
          stats.registered(prefix.get(), 1);
          return read(o.handle());
        }), out));
  }

  private static Draft draft(Identifier id, TemplateName tn) {
    return new Draft(id.getHandle(), tn.id(), tn.version(), id.getValuesMap());
  }

  /**
   * Runs {@code call} once per request id: a repeat gets the stored response; the same id with another request is
   * REQUEST_ID_REUSED. Only successful responses are stored, so a failed call may be retried with its id.
   */
  private <T extends MessageLite> void idempotent(String scope, String requestId, MessageLite request,
      com.google.protobuf.Parser<T> parser, java.util.function.Supplier<Future<T>> call, StreamObserver<T> out) {
    Future<T> f;
    if (requestId.isEmpty()) {
      f = call.get();
    } else if (requestId.length() > 128) {
      out.onError(GrpcErrors.badField("request_id", "TOO_LONG", "at most 128 characters (a UUID is 36)"));
      return;
    } else {
      byte[] fp = sha256(request.toByteArray());
      f = requests.find(scope, requestId).compose(hit -> {
        if (hit.isPresent()) {
          if (!Arrays.equals(hit.get().fingerprint(), fp)) {
            return Future.failedFuture(GrpcErrors.of(Code.INVALID_ARGUMENT, "REQUEST_ID_REUSED",
                "request_id " + requestId + " was used for a different request"));
          }
          try {
            return Future.succeededFuture(parser.parseFrom(hit.get().response()));
          } catch (InvalidProtocolBufferException e) {
            return Future.failedFuture(e);
          }
        }
        return call.get().compose(resp -> requests.record(scope, requestId, fp, resp.toByteArray()).map(resp));
      });
    }
    reply(f, Function.identity(), out);
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static <A, T> void reply(Future<A> f, Function<A, T> map, StreamObserver<T> out) {
    f.onComplete(r -> {
      if (r.failed()) {
        out.onError(GrpcErrors.unexpected(r.cause()));
      } else {
        out.onNext(map.apply(r.result()));
        out.onCompleted();
      }
    });
  }

  private Future<Identifier> read(String handle) {
    return registry.get(handle).compose(r -> r.isPresent() ? Future.succeededFuture(toProto(r.get()))
        : Future.failedFuture(GrpcErrors.of(Code.NOT_FOUND, "IDENTIFIER_NOT_FOUND", "no registered identifier "
            + handle)));
  }

  @Override
  public void getIdentifier(GetIdentifierRequest req, StreamObserver<Identifier> out) {
    Optional<String> handle = IdentifierNames.handle(req.getName());
    if (handle.isEmpty()) {
      out.onError(GrpcErrors.badField("name", "INVALID_NAME", "must be prefixes/{prefix}/identifiers/{suffix}"));
      return;
    }
    Principal p = AuthInterceptor.principal();
    allowed(access.mayRead(p, Handles.prefix(handle.get())), out, () -> reply(read(handle.get())
        .onSuccess(i -> stats.resolved(i.getHandle())), Function.identity(), out));
  }

  @Override
  public void updateIdentifier(UpdateIdentifierRequest req, StreamObserver<Identifier> out) {
    Identifier id = req.getIdentifier();
    Optional<String> handle = id.getName().isEmpty() ? Optional.of(id.getHandle()).filter(Handles::isValid)
        : IdentifierNames.handle(id.getName());
    if (handle.isEmpty()) {
      out.onError(GrpcErrors.badField("identifier.name", "INVALID_NAME",
          "must be prefixes/{prefix}/identifiers/{suffix}, or set identifier.handle"));
      return;
    }
    List<String> paths = req.getUpdateMask().getPathsList();
    if (paths.isEmpty() || !paths.stream().allMatch(p -> p.equals("values") || p.equals("template")
        || p.equals("*"))) {
      out.onError(GrpcErrors.badField("update_mask", "INVALID_MASK", "paths: values, template or *"));
      return;
    }
    boolean values = paths.contains("values") || paths.contains("*");
    boolean template = paths.contains("template") || paths.contains("*");
    TemplateName tn = new TemplateName("", 0);
    if (template) {
      Optional<TemplateName> t = TemplateName.parse(id.getTemplate());
      if (t.isEmpty()) {
        out.onError(GrpcErrors.badField("identifier.template", "INVALID_NAME",
            "must be templates/{template_id} or templates/{template_id}/versions/{version}"));
        return;
      }
      tn = t.get();
    }
    TemplateName target = tn;
    Future<Identifier> f = access.mayWrite(AuthInterceptor.principal(), Handles.prefix(handle.get()))
        .compose(ok -> registry.get(handle.get())).compose(cur -> {
      if (cur.isEmpty()) {
        return Future.failedFuture(GrpcErrors.of(Code.NOT_FOUND, "IDENTIFIER_NOT_FOUND", "no registered identifier "
            + handle.get()));
      }
      var v = values ? id.getValuesMap() : cur.get().values();
      return registry.update(cur.get().handle(), target.id(), target.version(), v).compose(o -> o.ok()
          ? read(o.handle()) : Future.failedFuture(GrpcErrors.of(GrpcErrors.of(o, "identifier."))));
    });
    reply(f, Function.identity(), out);
  }

  @Override
  public void deleteIdentifier(DeleteIdentifierRequest req, StreamObserver<Empty> out) {
    Optional<String> handle = IdentifierNames.handle(req.getName());
    if (handle.isEmpty()) {
      out.onError(GrpcErrors.badField("name", "INVALID_NAME", "must be prefixes/{prefix}/identifiers/{suffix}"));
      return;
    }
    reply(access.mayWrite(AuthInterceptor.principal(), Handles.prefix(handle.get()))
        .compose(ok -> registry.delete(handle.get())).compose(o -> o.ok() || o.kind() == Outcome.Kind.NOT_FOUND
        && req.getAllowMissing() ? Future.succeededFuture(Empty.getDefaultInstance())
        : Future.failedFuture(GrpcErrors.of(GrpcErrors.of(o, "")))), Function.identity(), out);
  }

  @Override
  public void listIdentifiers(ListIdentifiersRequest req, StreamObserver<ListIdentifiersResponse> out) {
    Optional<String> prefix = IdentifierNames.prefixOfParent(req.getParent());
    if (prefix.isEmpty()) {
      out.onError(GrpcErrors.badField("parent", "INVALID_NAME", "must be prefixes/{prefix}"));
      return;
    }
    int size = req.getPageSize() <= 0 ? 100 : Math.min(req.getPageSize(), 1000);
    String after;
    try {
      after = req.getPageToken().isEmpty() ? ""
          : new String(Base64.getUrlDecoder().decode(req.getPageToken()), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      out.onError(GrpcErrors.badField("page_token", "INVALID_PAGE_TOKEN", "not a token this service returned"));
      return;
    }
    // The token is the last handle listed: any value is only a starting point within this parent's listing.
    Future<ListIdentifiersResponse> f = access.mayRead(AuthInterceptor.principal(), prefix.get())
        .compose(ok -> registry.list(prefix.get(), after, size)).compose(handles -> {
      List<Future<Optional<Registered>>> reads = handles.stream().map(registry::get).toList();
      return Future.all(reads).map(x -> {
        ListIdentifiersResponse.Builder b = ListIdentifiersResponse.newBuilder();
        for (int i = 0; i < handles.size(); i++) {
          Optional<Registered> r = reads.get(i).result();
          b.addIdentifiers(r.map(IdentifierGrpcService::toProto).orElse(Identifier.newBuilder()
              .setName(IdentifierNames.name(handles.get(i))).setHandle(handles.get(i)).build()));
        }
        if (handles.size() == size) {
          b.setNextPageToken(Base64.getUrlEncoder().withoutPadding()
              .encodeToString(handles.get(size - 1).getBytes(StandardCharsets.UTF_8)));
        }
        return b.build();
      });
    });
    reply(f, Function.identity(), out);
  }

  @Override
  public void batchRegisterIdentifiers(BatchRegisterIdentifiersRequest req,
      StreamObserver<BatchRegisterIdentifiersResponse> out) {
    Optional<String> prefix = IdentifierNames.prefixOfParent(req.getParent());
    if (prefix.isEmpty()) {
      out.onError(GrpcErrors.badField("parent", "INVALID_NAME", "must be prefixes/{prefix}"));
      return;
    }
    int n = req.getRequestsCount();
    if (n == 0 || n > IdentifierRegistry.MAX_BATCH) {
      out.onError(GrpcErrors.badField("requests", "BATCH_SIZE", "1 to " + IdentifierRegistry.MAX_BATCH
          + " identifiers, got " + n));
      return;
    }
    // Items that cannot even be read (bad parent or template name) fail on their own; the rest go to the registry.
    BatchRegisterResult[] early = new BatchRegisterResult[n];
    List<Draft> drafts = new ArrayList<>();
    List<Integer> at = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RegisterIdentifierRequest r = req.getRequests(i);
      Optional<TemplateName> tn = TemplateName.parse(r.getIdentifier().getTemplate());
      String h = r.getIdentifier().getHandle();
      if (!r.getParent().isEmpty() && !r.getParent().equals(req.getParent())) {
        early[i] = result(h, GrpcErrors.invalid("", List.of(new io.iiot.resolver.domain.template.FieldViolation(
            "parent", "PARENT_MISMATCH", "must be empty or the batch's parent " + req.getParent()))));
      } else if (tn.isEmpty()) {
        early[i] = result(h, GrpcErrors.invalid("", List.of(new io.iiot.resolver.domain.template.FieldViolation(
            "identifier.template", "INVALID_NAME", "must be templates/{template_id}[/versions/{version}]"))));
      } else {
        drafts.add(draft(r.getIdentifier(), tn.get()));
        at.add(i);
      }
    }
    boolean atomic = req.getAllOrNothing();
    if (atomic && drafts.size() < n) {
      // Nothing is written: report the unreadable items and abort the others.
      for (int i = 0; i < n; i++) {
        if (early[i] == null) {
          early[i] = result(req.getRequests(i).getIdentifier().getHandle(), GrpcErrors.status(Code.ABORTED,
              "BATCH_ABORTED", "not written: another item of this all-or-nothing batch failed"));
        }
      }
      out.onNext(response(Arrays.asList(early)));
      out.onCompleted();
      return;
    }
    allowed(access.mayWrite(AuthInterceptor.principal(), prefix.get()), out, () -> idempotent("batch",
        req.getRequestId(), req.toBuilder().clearRequestId().build(), BatchRegisterIdentifiersResponse.parser(),
        () -> registry.registerBatch(prefix.get(), drafts, atomic).map(outcomes -> {
          for (int k = 0; k < outcomes.size(); k++) {
            early[at.get(k)] = result(outcomes.get(k).handle(), GrpcErrors.of(outcomes.get(k), "identifier."));
          }
          BatchRegisterIdentifiersResponse resp = response(Arrays.asList(early));
          stats.registered(prefix.get(), resp.getRegisteredCount());
          return resp;
        }), out));
  }

  private static BatchRegisterResult result(String handle, com.google.rpc.Status s) {
    return BatchRegisterResult.newBuilder().setHandle(handle).setStatus(s).build();
  }

  private static BatchRegisterIdentifiersResponse response(List<BatchRegisterResult> results) {
    int ok = (int) results.stream().filter(r -> r.getStatus().getCode() == Code.OK_VALUE).count();
    return BatchRegisterIdentifiersResponse.newBuilder().addAllResults(results).setRegisteredCount(ok)
        .setFailedCount(results.size() - ok).build();
  }

  static Identifier toProto(Registered r) {
    Identifier.Builder b = Identifier.newBuilder().setName(IdentifierNames.name(r.handle())).setHandle(r.handle())
        .setTemplate("templates/" + r.template().id() + "/versions/" + r.template().version())
        .putAllValues(r.values());
    for (HandleValue v : r.record().values()) {
      if (v.adminRead() && !v.publicRead()) {
        continue; // secrets (HS_SECKEY) are not for this API's readers
      }
      b.addHandleValues(io.iiot.resolver.v1.HandleValue.newBuilder().setIndex(v.index()).setType(v.type())
          .setData(ByteString.copyFrom(v.data())).setTtlSeconds(v.ttl())
          .setUpdateTime(Timestamp.newBuilder().setSeconds(Integer.toUnsignedLong(v.timestamp()))));
    }
    return b.build();
  }
}
