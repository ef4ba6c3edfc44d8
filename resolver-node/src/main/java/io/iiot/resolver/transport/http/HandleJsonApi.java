package io.iiot.resolver.transport.http;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.ValueFilter;
import io.iiot.resolver.hierarchy.DecisionBody;
import io.iiot.resolver.hierarchy.ReferralPoint;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.transport.handle.HandleRequestProcessor;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * handle.net's REST API (manual §14) on the service's HTTP port.
 *
 * <ul>
 *   <li>{@code GET /api/handles/{handle}} with {@code type} and {@code index} filters; only publicly readable values.
 *   <li>{@code PUT /api/handles/{handle}} (create, or replace the record; {@code overwrite=false} refuses an existing
 *       handle; with {@code index=} parameters only those values are added or replaced) and
 *       {@code DELETE /api/handles/{handle}} (the handle, or with {@code index=} only those values), authenticated
 *       with HTTP Basic: user {@code index:handle} with {@code :} as {@code %3A}, password the HS_SECKEY secret, and
 *       authorised by HS_ADMIN exactly as over the Handle protocol. As in handle.net, credentials count only over
 *       TLS: on a plain-HTTP port writes are refused with 403 and response code 402, unless
 *       {@code handle.http-insecure-auth} is set (for a port reached only through a TLS-terminating proxy).
 * </ul>
 *
 * Errors are JSON bodies with the Handle response code, never HTML.
 *
 * <p>Handles this node is not responsible for take the Handle protocol's hierarchy decision (docs/resolution.md):
 * a GET is resolved through the hierarchy on the caller's behalf, as a handle.net proxy does ({@code recursive=false}
 * asks for the referral instead); PUT/DELETE, and a GET that cannot recurse, get HTTP 400 with response code 302/303
 * and a {@code referral} object naming where the handle lives (301 when nothing is known).
 */
public final class HandleJsonApi {
  private final HandleStore store;
  private final HandleRequestProcessor processor;
  private final boolean insecureAuth;
  private final java.util.function.Supplier<ReferralPoint> hierarchy;

  public HandleJsonApi(Vertx vertx, HandleStore store, HandleRequestProcessor processor, boolean insecureAuth) {
    this(vertx, store, processor, insecureAuth, () -> null);
  }

  /** @param hierarchy the node's routing, the same decision the Handle protocol takes (null: storage only) */
  public HandleJsonApi(Vertx vertx, HandleStore store, HandleRequestProcessor processor, boolean insecureAuth,
      java.util.function.Supplier<ReferralPoint> hierarchy) {
    this.store = store;
    this.processor = processor;
    this.insecureAuth = insecureAuth;
    this.hierarchy = hierarchy;
  }

  public void mount(Router router) {
    router.get("/api/handles/*").handler(this::get);
    router.put("/api/handles/*").handler(io.vertx.ext.web.handler.BodyHandler.create().setBodyLimit(256 * 1024))
        .handler(this::put);
    router.delete("/api/handles/*").handler(this::delete);
    router.route("/api/handles/*").handler(ctx -> send(ctx, 405, new JsonObject()
        .put("responseCode", ResponseCodes.RC_OPERATION_NOT_SUPPORTED).put("message", "method not supported")
        .put("handle", handleOf(ctx))));
    router.route("/api/*").handler(ctx -> send(ctx, 404, new JsonObject()
        .put("responseCode", ResponseCodes.RC_OPERATION_NOT_SUPPORTED).put("message", "no such resource")));
  }

  private static String handleOf(RoutingContext ctx) {
    String path = ctx.request().path();
    String raw = path.substring(path.indexOf("/api/handles/") + "/api/handles/".length());
    return URLDecoder.decode(raw.replace("+", "%2B"), StandardCharsets.UTF_8);
  }

  private void get(RoutingContext ctx) {
    String asked = handleOf(ctx);
    String handle = Handles.normalize(asked);
    JsonObject base = new JsonObject();
    if (!Handles.isValid(handle)) {
      send(ctx, 400, base.put("responseCode", ResponseCodes.RC_INVALID_HANDLE).put("handle", asked));
      return;
    }
    List<String> types = ctx.queryParam("type");
    List<Integer> idx = new ArrayList<>();
    for (String i : ctx.queryParam("index")) {
      try {
        idx.add(Integer.parseInt(i.trim()));
      } catch (NumberFormatException e) {
        send(ctx, 400, base.put("responseCode", ResponseCodes.RC_INVALID_VALUE)
            .put("message", "index must be an integer").put("handle", asked));
        return;
      }
    }
    int[] indexes = idx.stream().mapToInt(Integer::intValue).toArray();
    ReferralPoint rp = hierarchy.get();
    if (rp == null) {
      getLocal(ctx, asked, handle, indexes, types);
      return;
    }
    int flags = ResponseCodes.FLAG_PO | (ctx.queryParam("recursive").contains("false") ? 0 : ResponseCodes.FLAG_REC)
        | (ctx.queryParam("auth").contains("true") ? ResponseCodes.FLAG_AT : 0);
    rp.route(new ReferralPoint.Query(handle, asked, indexes, types, flags, 0)).onComplete(ar -> {
      if (ar.failed()) {
        send(ctx, 500, new JsonObject().put("responseCode", ResponseCodes.RC_ERROR)
            .put("message", "routing failed").put("handle", asked));
      } else if (ar.result().local()) {
        getLocal(ctx, asked, handle, indexes, types);
      } else {
        answerElsewhere(ctx, asked, DecisionBody.of(ar.result()));
      }
    });
  }

  /** The answer obtained elsewhere (recursion) or the referral, in the GET answer's JSON. */
  private void answerElsewhere(RoutingContext ctx, String asked, DecisionBody a) {
    JsonObject body = new JsonObject().put("responseCode", a.responseCode()).put("handle", asked);
    if (a.responseCode() == ResponseCodes.RC_SUCCESS) {
      processor.resolved(asked);
      send(ctx, 200, body.put("values", ValueJson.toJson(a.values())));
    } else if (a.responseCode() == ResponseCodes.RC_VALUES_NOT_FOUND) {
      send(ctx, 200, body.put("values", new JsonArray()));
    } else {
      referralOrError(ctx, body, a);
    }
  }

  /** HTTP 400 with the referral (302/303), or the error of another code, with its message. */
  private static void referralOrError(RoutingContext ctx, JsonObject body, DecisionBody a) {
    if (!a.message().isEmpty()) {
      body.put("message", a.message());
    }
    if (a.referral()) {
      body.put("message", "this node is not responsible for " + body.getString("handle") + ": go to "
          + (a.servers().isEmpty() ? "the sites in 'referral'" : String.join(", ", a.servers())));
      body.put("referral", new JsonObject().put("serviceHandle", a.handle())
          .put("values", ValueJson.toJson(a.values())).put("servers", new JsonArray(a.servers())));
      send(ctx, 400, body);
      return;
    }
    // RC 2 here: the node asked on the caller's behalf did not answer
    send(ctx, a.responseCode() == ResponseCodes.RC_ERROR ? 502 : httpStatus(a.responseCode()), body);
  }

  /**
   * For a write: the referral answer when the handle lives elsewhere (sent, and the future holds true), else false.
   */
  private io.vertx.core.Future<Boolean> referredElsewhere(RoutingContext ctx, String asked) {
    String handle = Handles.normalize(asked);
    if (!Handles.isValid(handle)) {
      send(ctx, 400, new JsonObject().put("responseCode", ResponseCodes.RC_INVALID_HANDLE).put("handle", asked));
      return io.vertx.core.Future.succeededFuture(true);
    }
    ReferralPoint rp = hierarchy.get();
    if (rp == null || !processor.homed(handle) || Handles.isPrefixHandle(handle)) {
      // not homed: the write itself answers 301; prefix handles homed here are administered here
      return io.vertx.core.Future.succeededFuture(false);
    }
    return rp.route(new ReferralPoint.Query(handle, asked, new int[0], List.of(), 0, 0)).map(d -> {
      if (d.local()) {
        return false;
      }
      referralOrError(ctx, new JsonObject().put("responseCode", d.responseCode()).put("handle", asked),
          DecisionBody.of(d));
      return true;
    });
  }

  private void getLocal(RoutingContext ctx, String asked, String handle, int[] indexes, List<String> types) {
    if (!processor.homed(handle)) {
      send(ctx, 400, new JsonObject().put("responseCode", ResponseCodes.RC_SERVER_NOT_RESP)
          .put("message", "That prefix doesn't live here").put("handle", asked));
      return;
    }
    store.get(handle).onComplete(ar -> {
      if (ar.failed()) {
        send(ctx, 500, new JsonObject().put("responseCode", ResponseCodes.RC_ERROR)
            .put("message", "storage unavailable").put("handle", asked));
        return;
      }
      if (ar.result().isEmpty()) {
        send(ctx, 404, new JsonObject().put("responseCode", ResponseCodes.RC_HANDLE_NOT_FOUND).put("handle", asked));
        return;
      }
      List<HandleValue> visible = new ArrayList<>();
      for (HandleValue v : ValueFilter.select(ar.result().get().values(), indexes, types)) {
        if (v.publicRead()) {
          visible.add(v);
        }
      }
      if (visible.isEmpty()) {
        send(ctx, 200, new JsonObject().put("responseCode", ResponseCodes.RC_VALUES_NOT_FOUND)
            .put("values", new JsonArray()).put("handle", asked));
        return;
      }
      processor.resolved(handle);
      send(ctx, 200, new JsonObject().put("responseCode", ResponseCodes.RC_SUCCESS).put("handle", asked)
          .put("values", ValueJson.toJson(visible)));
    });
  }

  /** The authenticated identity of a write, or {@code null} after an error answer has been sent. */
  private io.vertx.core.Future<io.iiot.resolver.domain.ValueReference> authenticate(RoutingContext ctx,
      String handle) {
    if (!ctx.request().isSSL() && !insecureAuth) {
      send(ctx, 403, new JsonObject().put("responseCode", ResponseCodes.RC_AUTHENTICATION_NEEDED)
          .put("message", "authentication requires HTTPS").put("handle", handle));
      return io.vertx.core.Future.succeededFuture(null);
    }
    String header = ctx.request().getHeader("Authorization");
    io.iiot.resolver.domain.ValueReference id = null;
    byte[] secret = null;
    if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
      try {
        String creds = new String(java.util.Base64.getDecoder().decode(header.substring(6).trim()),
            StandardCharsets.UTF_8);
        int colon = creds.indexOf(':');
        String user = URLDecoder.decode(creds.substring(0, colon).replace("+", "%2B"), StandardCharsets.UTF_8);
        int sep = user.indexOf(':');
        id = new io.iiot.resolver.domain.ValueReference(user.substring(sep + 1),
            Integer.parseInt(user.substring(0, sep)));
        secret = creds.substring(colon + 1).getBytes(StandardCharsets.UTF_8);
      } catch (RuntimeException e) {
        id = null;
      }
    }
    if (id == null) {
      ctx.response().putHeader("WWW-Authenticate", "Basic realm=\"handle\"");
      send(ctx, 401, new JsonObject().put("responseCode", ResponseCodes.RC_AUTHENTICATION_NEEDED)
          .put("handle", handle));
      return io.vertx.core.Future.succeededFuture(null);
    }
    io.iiot.resolver.domain.ValueReference who = id;
    byte[] given = secret;
    return store.getFresh(id.handle()).map(rec -> {
      boolean ok = false;
      if (rec.isPresent()) {
        for (HandleValue v : rec.get().values()) {
          if (v.hasType("HS_SECKEY") && (who.index() == 0 || v.index() == who.index())) {
            ok |= java.security.MessageDigest.isEqual(v.data(), given);
          }
        }
      }
      if (!ok) {
        ctx.response().putHeader("WWW-Authenticate", "Basic realm=\"handle\"");
        send(ctx, 401, new JsonObject().put("responseCode", ResponseCodes.RC_AUTHENTICATION_FAILED)
            .put("message", "Identity not verified").put("handle", handle));
        return null;
      }
      return who;
    });
  }

  private void put(RoutingContext ctx) {
    String asked = handleOf(ctx);
    List<HandleValue> values;
    try {
      Object body = ctx.body().buffer() == null ? null : io.vertx.core.json.Json.decodeValue(ctx.body().buffer());
      values = ValueJsonReader.values(body);
    } catch (ValueJsonReader.BadValue e) {
      send(ctx, 400, new JsonObject().put("responseCode", ResponseCodes.RC_INVALID_VALUE)
          .put("message", e.getMessage()).put("handle", asked));
      return;
    } catch (io.vertx.core.json.DecodeException e) {
      send(ctx, 400, new JsonObject().put("responseCode", ResponseCodes.RC_INVALID_VALUE)
          .put("message", "body is not JSON").put("handle", asked));
      return;
    }
    boolean overwrite = !ctx.queryParam("overwrite").contains("false");
    boolean onlyIndexes = !ctx.queryParam("index").isEmpty();
    referredElsewhere(ctx, asked).compose(referred -> referred ? io.vertx.core.Future.succeededFuture(null)
        : authenticate(ctx, asked)).onSuccess(id -> {
      if (id == null) {
        return;
      }
      String handle = Handles.normalize(asked);
      store.getFresh(handle).compose(existing -> {
        io.iiot.resolver.transport.handle.Bodies.Values body =
            new io.iiot.resolver.transport.handle.Bodies.Values(asked, values);
        if (existing.isEmpty()) {
          return processor.administer(ResponseCodes.OC_CREATE_HANDLE, 0, body, id).map(rc -> new int[] {rc, 201});
        }
        if (!overwrite) {
          return io.vertx.core.Future.succeededFuture(new int[] {ResponseCodes.RC_HANDLE_ALREADY_EXISTS, 409});
        }
        if (onlyIndexes) {
          return processor.administer(ResponseCodes.OC_ADD_VALUE, ResponseCodes.FLAG_OVRW, body, id)
              .map(rc -> new int[] {rc, 200});
        }
        return processor.administer(ResponseCodes.OC_CREATE_HANDLE, ResponseCodes.FLAG_OVRW, body, id)
            .map(rc -> new int[] {rc, 200});
      }).onComplete(ar -> answerWrite(ctx, asked, ar));
    });
  }

  private void delete(RoutingContext ctx) {
    String asked = handleOf(ctx);
    List<String> idx = ctx.queryParam("index");
    int[] indexes;
    try {
      indexes = idx.stream().mapToInt(s -> Integer.parseInt(s.trim())).toArray();
    } catch (NumberFormatException e) {
      send(ctx, 400, new JsonObject().put("responseCode", ResponseCodes.RC_INVALID_VALUE)
          .put("message", "index must be an integer").put("handle", asked));
      return;
    }
    referredElsewhere(ctx, asked).compose(referred -> referred ? io.vertx.core.Future.succeededFuture(null)
        : authenticate(ctx, asked)).onSuccess(id -> {
      if (id == null) {
        return;
      }
      io.vertx.core.Future<Integer> f = indexes.length == 0
          ? processor.administer(ResponseCodes.OC_DELETE_HANDLE, 0,
              new io.iiot.resolver.transport.handle.Bodies.HandleOnly(asked), id)
          : processor.administer(ResponseCodes.OC_REMOVE_VALUE, 0,
              new io.iiot.resolver.transport.handle.Bodies.Remove(asked, indexes), id);
      f.map(rc -> new int[] {rc, 200}).onComplete(ar -> answerWrite(ctx, asked, ar));
    });
  }

  private static void answerWrite(RoutingContext ctx, String handle, io.vertx.core.AsyncResult<int[]> ar) {
    if (ar.failed()) {
      send(ctx, 500, new JsonObject().put("responseCode", ResponseCodes.RC_ERROR)
          .put("message", "storage unavailable").put("handle", handle));
      return;
    }
    int rc = ar.result()[0];
    int status = rc == ResponseCodes.RC_SUCCESS ? ar.result()[1] : httpStatus(rc);
    send(ctx, status, new JsonObject().put("responseCode", rc).put("handle", handle));
  }

  /** Handle response code → HTTP status (manual §14.4). */
  static int httpStatus(int rc) {
    return switch (rc) {
      case ResponseCodes.RC_SUCCESS, ResponseCodes.RC_VALUES_NOT_FOUND -> 200;
      case ResponseCodes.RC_HANDLE_NOT_FOUND -> 404;
      case ResponseCodes.RC_HANDLE_ALREADY_EXISTS, ResponseCodes.RC_VALUE_ALREADY_EXISTS -> 409;
      case ResponseCodes.RC_INVALID_HANDLE, ResponseCodes.RC_INVALID_VALUE, ResponseCodes.RC_SERVER_NOT_RESP -> 400;
      case ResponseCodes.RC_AUTHENTICATION_NEEDED -> 401;
      case ResponseCodes.RC_INVALID_ADMIN, ResponseCodes.RC_INSUFFICIENT_PERMISSIONS,
          ResponseCodes.RC_AUTHENTICATION_FAILED, ResponseCodes.RC_INVALID_CREDENTIAL, ResponseCodes.RC_AUTHEN_TIMEOUT,
          ResponseCodes.RC_AUTHEN_ERROR -> 403;
      case ResponseCodes.RC_OPERATION_NOT_SUPPORTED -> 501;
      case ResponseCodes.RC_SERVICE_REFERRAL, ResponseCodes.RC_PREFIX_REFERRAL -> 400;
      // too busy / referral loop or depth exceeded
      case ResponseCodes.RC_SERVER_TOO_BUSY -> 503;
      case ResponseCodes.RC_RECURSION_COUNT_TOO_HIGH -> 508;
      default -> 500;
    };
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json;charset=utf-8")
        .putHeader("Access-Control-Allow-Origin", "*")
        .end(ctx.queryParam("pretty").contains("true") ? body.encodePrettily() : body.encode());
  }
}
