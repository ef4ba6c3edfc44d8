package io.iiot.resolver.api;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.ValueFilter;
import io.iiot.resolver.hierarchy.DecisionBody;
import io.iiot.resolver.hierarchy.ReferralPoint;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.iiot.resolver.v1.Handle;
import io.iiot.resolver.v1.HandleReferral;
import io.iiot.resolver.v1.ResolveHandleRequest;
import io.iiot.resolver.v1.ResolverServiceGrpc;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * {@code ResolverService.ResolveHandle}: the answer the Handle protocol gives to a resolution with PO set (publicly
 * readable values only), for any authenticated principal; resolution is public data, so no prefix check.
 *
 * <pre>
 * invalid handle / index           → INVALID_ARGUMENT + BadRequest
 * hierarchy decision (as Handle)   local            → values from storage; NOT_FOUND when the handle is not stored;
 *                                                      OK with no values when the filters match nothing (RC 200)
 *                                  recursive = true → resolved through the hierarchy; same mapping of the answer
 *                                  302 / 303        → FAILED_PRECONDITION, ErrorInfo HANDLE_REFERRAL + HandleReferral
 *                                  301              → FAILED_PRECONDITION, ErrorInfo NOT_RESPONSIBLE
 *                                  RC 6             → FAILED_PRECONDITION, ErrorInfo RECURSION_LIMIT
 *                                  RC 2 / 3         → UNAVAILABLE / RESOURCE_EXHAUSTED (another node did not answer)
 * </pre>
 */
public final class ResolutionGrpcService extends ResolverServiceGrpc.ResolverServiceImplBase {
  private final HandleStore store;
  private final Supplier<ReferralPoint> hierarchy;
  private final Predicate<String> homed;
  private final Consumer<String> resolved;

  /**
   * @param hierarchy the node's routing (null until the hierarchy is attached: storage only)
   * @param homed whether this node's prefix covers a handle
   * @param resolved told of every successful resolution (statistics)
   */
  public ResolutionGrpcService(HandleStore store, Supplier<ReferralPoint> hierarchy, Predicate<String> homed,
      Consumer<String> resolved) {
    this.store = store;
    this.hierarchy = hierarchy;
    this.homed = homed;
    this.resolved = resolved;
  }

  @Override
  public void resolveHandle(ResolveHandleRequest req, StreamObserver<Handle> out) {
    Calls.run(() -> resolve(req), out);
  }

  private Future<Handle> resolve(ResolveHandleRequest req) {
    AuthInterceptor.principal();
    String asked = req.getHandle();
    String handle = Handles.normalize(asked);
    if (asked.isEmpty() || !Handles.isValid(handle)) {
      throw GrpcErrors.badField("handle", "HANDLE_SYNTAX",
          "expected <prefix>/<suffix> (or a bare prefix), without control characters; got '" + asked + "'");
    }
    int[] indexes = req.getIndexesList().stream().mapToInt(Integer::intValue).toArray();
    for (int i = 0; i < indexes.length; i++) {
      if (indexes[i] <= 0) {
        throw GrpcErrors.badField("indexes[" + i + "]", "INDEX_RANGE", "a value index is 1..2^31-1");
      }
    }
    List<String> types = req.getTypesList();
    ReferralPoint rp = hierarchy.get();
    if (rp == null) {
      return local(asked, handle, indexes, types);
    }
    int flags = ResponseCodes.FLAG_PO | (req.getRecursive() ? ResponseCodes.FLAG_REC : 0);
    return rp.route(new ReferralPoint.Query(handle, asked, indexes, types, flags, 0)).compose(d -> d.local()
        ? local(asked, handle, indexes, types) : answer(asked, DecisionBody.of(d)));
  }

  private Future<Handle> local(String asked, String handle, int[] indexes, List<String> types) {
    if (!homed.test(handle)) {
      throw GrpcErrors.of(Code.FAILED_PRECONDITION, "NOT_RESPONSIBLE",
          "That prefix doesn't live here: " + asked + " is not under this node's prefix");
    }
    return store.get(handle).map(rec -> {
      if (rec.isEmpty()) {
        throw notFound(asked);
      }
      List<HandleValue> visible = new ArrayList<>();
      for (HandleValue v : ValueFilter.select(rec.get().values(), indexes, types)) {
        if (v.publicRead()) {
          visible.add(v);
        }
      }
      return success(asked, visible);
    });
  }

  private Future<Handle> answer(String asked, DecisionBody a) {
    return switch (a.responseCode()) {
      case ResponseCodes.RC_SUCCESS -> Future.succeededFuture(success(asked, a.values()));
      case ResponseCodes.RC_VALUES_NOT_FOUND -> Future.succeededFuture(Handle.newBuilder().setHandle(asked).build());
      case ResponseCodes.RC_HANDLE_NOT_FOUND -> Future.failedFuture(notFound(asked));
      case ResponseCodes.RC_INVALID_HANDLE -> Future.failedFuture(GrpcErrors.badField("handle", "HANDLE_SYNTAX",
          a.message().isEmpty() ? "invalid handle" : a.message()));
      case ResponseCodes.RC_SERVICE_REFERRAL, ResponseCodes.RC_PREFIX_REFERRAL -> Future.failedFuture(referral(asked,
          a));
      case ResponseCodes.RC_SERVER_NOT_RESP -> Future.failedFuture(GrpcErrors.of(Code.FAILED_PRECONDITION,
          "NOT_RESPONSIBLE", a.message().isEmpty() ? "That prefix doesn't live here" : a.message()));
      case ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH -> Future.failedFuture(GrpcErrors.of(Code.FAILED_PRECONDITION,
          "RECURSION_LIMIT", a.message()));
      case ResponseCodes.RC_SERVER_TOO_BUSY -> Future.failedFuture(GrpcErrors.of(Code.RESOURCE_EXHAUSTED,
          "UPSTREAM_BUSY", a.message()));
      default -> Future.failedFuture(GrpcErrors.of(Code.UNAVAILABLE, "UPSTREAM_UNAVAILABLE",
          "resolving " + asked + " elsewhere failed (Handle RC " + a.responseCode() + "): " + a.message()));
    };
  }

  private Handle success(String asked, List<HandleValue> values) {
    resolved.accept(asked);
    Handle.Builder b = Handle.newBuilder().setHandle(asked);
    values.forEach(v -> b.addValues(toProto(v)));
    return b.build();
  }

  private static StatusRuntimeException notFound(String asked) {
    return GrpcErrors.of(Code.NOT_FOUND, "HANDLE_NOT_FOUND", "handle " + asked + " not found");
  }

  /** FAILED_PRECONDITION naming where the handle lives: ErrorInfo (reason, servers) and the HandleReferral. */
  private static StatusRuntimeException referral(String asked, DecisionBody a) {
    List<String> servers = a.servers();
    HandleReferral.Builder r = HandleReferral.newBuilder().setResponseCode(a.responseCode())
        .setServiceHandle(a.handle()).addAllServers(servers);
    a.values().forEach(v -> r.addValues(toProto(v)));
    String where = servers.isEmpty() ? "the sites in the HandleReferral detail" : String.join(", ", servers);
    ErrorInfo info = ErrorInfo.newBuilder().setReason("HANDLE_REFERRAL").setDomain(GrpcErrors.DOMAIN)
        .putMetadata("handle", asked).putMetadata("response_code", String.valueOf(a.responseCode()))
        .putMetadata("service_handle", a.handle()).putMetadata("servers", String.join(",", servers)).build();
    return GrpcErrors.of(com.google.rpc.Status.newBuilder().setCode(Code.FAILED_PRECONDITION_VALUE)
        .setMessage(asked + " is served by another node: resolve it at " + where
            + " (or ask this node to recurse: recursive = true)")
        .addDetails(Any.pack(info)).addDetails(Any.pack(r.build())).build());
  }

  static io.iiot.resolver.v1.HandleValue toProto(HandleValue v) {
    io.iiot.resolver.v1.HandleValue.Builder b = io.iiot.resolver.v1.HandleValue.newBuilder().setIndex(v.index())
        .setType(v.type()).setData(ByteString.copyFrom(v.data())).setTtlSeconds(v.ttl());
    if (v.timestamp() != 0) {
      b.setUpdateTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(v.timestamp() & 0xFFFFFFFFL));
    }
    return b.build();
  }
}
