package io.iiot.resolver.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * PUT and DELETE on {@code /api/handles} with HTTP Basic (as handle.net), on a node whose plain-HTTP port accepts
 * credentials ({@code handle.http-insecure-auth = true}, the setting for a port behind a TLS-terminating proxy), and
 * what CNRI's client then resolves over the Handle protocol.
 */
@Tag("large")
@ExtendWith(EmbeddedCassandraExtension.class)
class HttpWriteApiTest {
  static ResolverNodeHarness node;
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final String ADMIN = "Basic " + Base64.getEncoder().encodeToString(
      ("300%3A0.NA/88.101:" + ResolverNodeHarness.SECRET).getBytes(StandardCharsets.UTF_8));

  @BeforeAll
  static void start() throws Exception {
    node = ResolverNodeHarness.start("iiot_resolver_http", Map.of("HANDLE_HTTP_INSECURE_AUTH", "true"));
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static HttpResponse<String> call(String method, String path, String auth, String body) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("Content-Type", "application/json");
    if (auth != null) {
      b.header("Authorization", auth);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void putGetDeleteWithBasicAuthentication() throws Exception {
    String values = new JsonArray()
        .add(new JsonObject().put("index", 1).put("type", "URL").put("data",
            new JsonObject().put("format", "string").put("value", "https://factory.example/http/1")))
        .add(new JsonObject().put("index", 2).put("type", "EMAIL").put("data", "ops@factory.example").put("ttl", 600))
        .add(new JsonObject().put("index", 100).put("type", "HS_ADMIN").put("data", new JsonObject()
            .put("format", "admin").put("value", new JsonObject().put("handle", "0.NA/88.101").put("index", 300)
                .put("permissions", "111111111111")))).encode();

    HttpResponse<String> r = call("PUT", "/api/handles/88.101.5/HTTP-1", null, values);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Basic realm=\"handle\"");
    assertThat(new JsonObject(r.body()).getInteger("responseCode")).isEqualTo(402);

    String wrong = "Basic " + Base64.getEncoder().encodeToString("300%3A0.NA/88.101:nope".getBytes());
    r = call("PUT", "/api/handles/88.101.5/HTTP-1", wrong, values);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(r.body()).getInteger("responseCode")).isEqualTo(403);
    assertThat(call("GET", "/api/handles/88.101.5/HTTP-1", null, null).statusCode()).isEqualTo(404);

    r = call("PUT", "/api/handles/88.101.5/HTTP-1", ADMIN, values);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    assertThat(new JsonObject(r.body())).isEqualTo(new JsonObject().put("responseCode", 1)
        .put("handle", "88.101.5/HTTP-1"));
    r = call("PUT", "/api/handles/88.101.5/HTTP-1?overwrite=false", ADMIN, values);
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(new JsonObject(r.body()).getInteger("responseCode")).isEqualTo(101);

    // CNRI's client sees what HTTP wrote
    ResolutionResponse rr = (ResolutionResponse) new HandleResolver().sendHdlUdpRequest(
        new ResolutionRequest(Util.encodeString("88.101.5/HTTP-1"), null, null, null),
        InetAddress.getByName("127.0.0.1"), node.handlePort);
    assertThat(rr.getHandleValues()).hasSize(3);
    assertThat(rr.getHandleValues()[1].getTTL()).isEqualTo(600);

    // replace one value, then remove one, then the handle
    r = call("PUT", "/api/handles/88.101.5/HTTP-1?index=1", ADMIN, new JsonObject().put("index", 1)
        .put("type", "URL").put("data", "https://factory.example/http/1-v2").encode());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    r = call("DELETE", "/api/handles/88.101.5/HTTP-1?index=2", ADMIN, null);
    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject got = new JsonObject(call("GET", "/api/handles/88.101.5/HTTP-1", null, null).body());
    assertThat(got.getJsonArray("values")).hasSize(2);
    assertThat(got.getJsonArray("values").getJsonObject(0).getJsonObject("data").getString("value"))
        .isEqualTo("https://factory.example/http/1-v2");
    rr = (ResolutionResponse) new HandleResolver().sendHdlTcpRequest(
        new ResolutionRequest(Util.encodeString("88.101.5/HTTP-1"), null, null, null),
        InetAddress.getByName("127.0.0.1"), node.handlePort);
    assertThat(rr.getHandleValues()[0].getDataAsString()).isEqualTo("https://factory.example/http/1-v2");

    assertThat(call("DELETE", "/api/handles/88.101.5/HTTP-1", ADMIN, null).statusCode()).isEqualTo(200);
    assertThat(call("GET", "/api/handles/88.101.5/HTTP-1", null, null).statusCode()).isEqualTo(404);
    assertThat(new HandleResolver().sendHdlTcpRequest(
        new ResolutionRequest(Util.encodeString("88.101.5/HTTP-1"), null, null, null),
        InetAddress.getByName("127.0.0.1"), node.handlePort).responseCode)
        .isEqualTo(AbstractMessage.RC_HANDLE_NOT_FOUND);
    r = call("DELETE", "/api/handles/88.101.5/HTTP-1", ADMIN, null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(r.body()).getInteger("responseCode")).isEqualTo(100);

    r = call("PUT", "/api/handles/88.101.5/HTTP-2", ADMIN, "not json");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(new JsonObject(r.body()).getInteger("responseCode")).isEqualTo(202);
  }
}
