package io.iiot.resolver.transport.http;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.ValueFilter;
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
 * handle.net's REST API (manual §14) on the service's HTTP port: {@code GET /api/handles/{handle}} with {@code type}
 * and {@code index} filters. Unauthenticated: only publicly readable values are returned. Writes over HTTP
 * ({@code PUT}, {@code DELETE}) need HTTPS with Basic authentication in handle.net; this node answers them with
 * {@code RC_OPERATION_NOT_SUPPORTED} until TLS is configured for the HTTP port. Errors are JSON bodies with the Handle
 * response code, never HTML.
 */
public final class HandleJsonApi {
  private final HandleStore store;
  private final HandleRequestProcessor processor;

  public HandleJsonApi(Vertx vertx, HandleStore store, HandleRequestProcessor processor, String nodePrefix) {
    this.store = store;
    this.processor = processor;
  }

  public void mount(Router router) {
    router.get("/api/handles/*").handler(this::get);
    router.route("/api/handles/*").handler(ctx -> send(ctx, 403, new JsonObject()
        .put("responseCode", ResponseCodes.RC_OPERATION_NOT_SUPPORTED)
        .put("message", "writes over HTTP need HTTPS, which is not configured on this node")
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
    if (!processor.homed(handle)) {
      send(ctx, 400, base.put("responseCode", ResponseCodes.RC_SERVER_NOT_RESP)
          .put("message", "That prefix doesn't live here").put("handle", asked));
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
      send(ctx, 200, new JsonObject().put("responseCode", ResponseCodes.RC_SUCCESS).put("handle", asked)
          .put("values", ValueJson.toJson(visible)));
    });
  }

  private static void send(RoutingContext ctx, int status, JsonObject body) {
    ctx.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json;charset=utf-8")
        .putHeader("Access-Control-Allow-Origin", "*")
        .end(ctx.queryParam("pretty").contains("true") ? body.encodePrettily() : body.encode());
  }
}
