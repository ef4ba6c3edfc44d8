package io.iiot.resolver;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.transport.handle.KeyCodec;
import io.iiot.resolver.transport.handle.ServerKeys;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.GenericRequest;
import net.handle.hdllib.GetSiteInfoResponse;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A node whose stored site record ({@code HS_SITE} of its prefix handle) names another server key than its key file
 * (a lost key file, a second node pointed at the same keyspace) does not silently publish the new key: it serves
 * nothing and /health/ready says why, until {@code handle.allow-rekey} is set. Real module, real embedded Cassandra,
 * CNRI's client reading the site record.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class NodeBootstrapTest {
  // HandleStoreTest's keyspace (no schema migration of its own), a prefix nobody else uses
  static final String KEYSPACE = "iiot_resolver_store";
  static final String PREFIX = "88.777";

  @Test
  void aChangedServerKeyIsRefusedUnlessReKeyingIsAllowed() throws Exception {
    Path keys = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "bootstrap-keys");
    ServerKeys first = ServerKeys.loadOrCreate(keys.resolve("first.pk8"));
    ServerKeys second = ServerKeys.loadOrCreate(keys.resolve("second.pk8"));
    byte[] firstKey = KeyCodec.encode(first.publicKey());
    byte[] secondKey = KeyCodec.encode(second.publicKey());

    // first start with the first key: its site record is published
    try (ResolverNodeHarness node = ResolverNodeHarness.start(KEYSPACE, env(keys.resolve("first.pk8"), "true"))) {
      assertThat(siteKey(node)).isEqualTo(firstKey);
      assertThat(storedKey(node)).isEqualTo(firstKey);
    }

    // restart with another key, re-keying not allowed: not ready, nothing served, the stored record untouched
    try (ResolverNodeHarness node = ResolverNodeHarness.start(KEYSPACE, env(keys.resolve("second.pk8"), "false"))) {
      HttpResponse<String> ready = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + node.httpPort + "/health/ready")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.headers().firstValue("content-type")).hasValueSatisfying(t -> assertThat(t)
          .contains("application/json"));
      JsonObject check = new JsonObject(ready.body()).getJsonArray("checks").stream().map(JsonObject.class::cast)
          .filter(c -> c.getString("id").equals("handle-site-key")).findFirst().orElseThrow();
      assertThat(check.getString("status")).isEqualTo("DOWN");
      assertThat(check.getJsonObject("data").getString("reason")).contains("0.NA/88.777", "server key",
          "handle.allow-rekey=true");
      assertThat(node.module.refusal()).contains("refusing to re-key");
      assertThat(storedKey(node)).isEqualTo(firstKey);
      HandleResolver client = new HandleResolver();
      client.setUdpRetryScheme(new int[] {300});
      client.setTcpTimeout(1_000);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.sendHdlTcpRequest(siteInfoRequest(),
          java.net.InetAddress.getLoopbackAddress(), node.handlePort)).isInstanceOf(
          net.handle.hdllib.HandleException.class);
    }

    // allowed explicitly: the new key is published
    try (ResolverNodeHarness node = ResolverNodeHarness.start(KEYSPACE, env(keys.resolve("second.pk8"), "true"))) {
      assertThat(node.module.refusal()).isNull();
      assertThat(siteKey(node)).isEqualTo(secondKey);
      assertThat(storedKey(node)).isEqualTo(secondKey);
      assertThat(HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + node.httpPort + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);
    }
  }

  private static Map<String, String> env(Path keyFile, String allowRekey) {
    return Map.of("HANDLE_PREFIX", PREFIX, "HANDLE_SERVER_KEY_FILE", keyFile.toString(), "HANDLE_ALLOW_REKEY",
        allowRekey);
  }

  private static GenericRequest siteInfoRequest() {
    return new GenericRequest(Util.encodeString("/"), AbstractMessage.OC_GET_SITE_INFO, null);
  }

  /** The server key in the node's GET_SITEINFO answer, read by CNRI's client. */
  private static byte[] siteKey(ResolverNodeHarness node) throws Exception {
    AbstractResponse r = new HandleResolver().sendHdlTcpRequest(siteInfoRequest(),
        java.net.InetAddress.getLoopbackAddress(), node.handlePort);
    return ((GetSiteInfoResponse) r).siteInfo.servers[0].publicKey;
  }

  /** The server key in the stored HS_SITE of 0.NA/88.777. */
  private static byte[] storedKey(ResolverNodeHarness node) throws Exception {
    try (var session = EmbeddedCassandraExtension.builder().withKeyspace(KEYSPACE).build()) {
      var store = new io.iiot.resolver.storage.HandleStore(session, KEYSPACE, 0, java.time.Duration.ZERO);
      HandleValue site = store.getFresh("0.NA/" + PREFIX).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS).orElseThrow().values().stream().filter(v -> v.hasType("HS_SITE")).findFirst()
          .orElseThrow();
      return SiteRecord.decode(site.data()).servers().get(0).publicKey();
    }
  }
}
