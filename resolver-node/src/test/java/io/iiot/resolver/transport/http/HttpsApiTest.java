package io.iiot.resolver.transport.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.tls.SelfSignedTls;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The JSON API over HTTPS (handle.https-port): the node's development certificate when none is configured, a
 * configured PEM certificate otherwise; HTTP Basic writes accepted there and only there, read back by CNRI's client.
 */
@Tag("large")
@ExtendWith(EmbeddedCassandraExtension.class)
class HttpsApiTest {
  static ResolverNodeHarness node;
  static int httpsPort;
  static HttpClient https;

  @BeforeAll
  static void start() throws Exception {
    httpsPort = EmbeddedCassandraExtension.freePort();
    node = ResolverNodeHarness.start("iiot_resolver_secure", Map.of("HANDLE_HTTPS_PORT", String.valueOf(httpsPort)));
    SelfSignedTls dev = node.module.https().devTls().orElseThrow();
    https = HttpClient.newBuilder().sslContext(trusting(dev.certPem())).build();
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  /** An SSL context that trusts exactly the certificate in {@code pem}. */
  static SSLContext trusting(Path pem) throws Exception {
    KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
    ks.load(null, null);
    try (InputStream in = Files.newInputStream(pem)) {
      ks.setCertificateEntry("node", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  static String basic(String identity, String secret) {
    String user = identity.replace("%", "%25").replace(":", "%3A");
    return "Basic " + Base64.getEncoder().encodeToString((user + ":" + secret).getBytes(StandardCharsets.UTF_8));
  }

  static HttpResponse<String> send(HttpClient client, String method, String url, String auth, String body)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(java.time.Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (auth != null) {
      b.header("Authorization", auth);
    }
    return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  static String values(String url) {
    return new JsonArray().add(new JsonObject().put("index", 1).put("type", "URL")
        .put("data", new JsonObject().put("format", "string").put("value", url))).encode();
  }

  @Test
  void basicWritesOverHttpsAreReadBackByCnrisClient() throws Exception {
    String base = "https://127.0.0.1:" + httpsPort + "/api/handles/";
    String admin = basic("300:0.NA/88.101", ResolverNodeHarness.SECRET);
    String handle = "88.101.5/TLS-0001";

    HttpResponse<String> created = send(https, "PUT", base + handle, admin, values("https://factory.example/tls"));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(new JsonObject(created.body()).getInteger("responseCode")).isEqualTo(1);

    AbstractResponse r = new HandleResolver().sendHdlUdpRequest(
        new ResolutionRequest(Util.encodeString(handle), null, null, null), InetAddress.getLoopbackAddress(),
        node.handlePort);
    assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    HandleValue[] vals = ((ResolutionResponse) r).getHandleValues();
    assertThat(vals).singleElement().satisfies(v -> {
      assertThat(v.getTypeAsString()).isEqualTo("URL");
      assertThat(v.getDataAsString()).isEqualTo("https://factory.example/tls");
    });

    HttpResponse<String> read = send(https, "GET", base + handle + "?type=URL", null, null);
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(read.body()).getJsonArray("values").getJsonObject(0).getJsonObject("data")
        .getString("value")).isEqualTo("https://factory.example/tls");

    // wrong secret: 401, response code 403 and a Basic challenge; no credentials: 401 with 402; nothing changed
    HttpResponse<String> wrong = send(https, "PUT", base + handle, basic("300:0.NA/88.101", "wrong"),
        values("https://attacker.example/"));
    assertThat(wrong.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(wrong.body()).getInteger("responseCode")).isEqualTo(403);
    assertThat(wrong.headers().allValues("WWW-Authenticate")).anyMatch(h -> h.startsWith("Basic"));
    HttpResponse<String> none = send(https, "DELETE", base + handle, null, null);
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(new JsonObject(none.body()).getInteger("responseCode")).isEqualTo(402);
    // the same valid credentials on the plain-HTTP port do not count (handle.net: HTTPS only)
    HttpResponse<String> plain = send(HttpClient.newHttpClient(), "DELETE",
        "http://127.0.0.1:" + node.httpPort + "/api/handles/" + handle, admin, null);
    assertThat(plain.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(plain.body()).getInteger("responseCode")).isEqualTo(402);
    assertThat(send(https, "GET", base + handle, null, null).statusCode()).isEqualTo(200);

    HttpResponse<String> deleted = send(https, "DELETE", base + handle, admin, null);
    assertThat(deleted.statusCode()).as(deleted.body()).isEqualTo(200);
    HttpResponse<String> gone = send(https, "GET", base + handle, null, null);
    assertThat(gone.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(gone.body()).getInteger("responseCode")).isEqualTo(100);
  }

  @Test
  void theDevelopmentCertificateIsSelfSignedAndNotTrustedByDefault() throws Exception {
    X509Certificate cert;
    try (InputStream in = Files.newInputStream(node.module.https().devTls().orElseThrow().certPem())) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    assertThat(cert.getSubjectX500Principal()).isEqualTo(cert.getIssuerX500Principal());
    assertThatThrownBy(() -> send(HttpClient.newHttpClient(), "GET",
        "https://127.0.0.1:" + httpsPort + "/api/handles/0.NA/88.101", null, null))
        .isInstanceOf(SSLHandshakeException.class);
  }

  @Test
  void aConfiguredPemCertificateIsServed() throws Exception {
    Path dir = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "https-pem");
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Process p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
        key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=resolver-node-test",
        "-addext", "subjectAltName=IP:127.0.0.1").redirectErrorStream(true).start();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as("openssl made a certificate").isTrue();

    int port = EmbeddedCassandraExtension.freePort();
    HttpsApiServer server = new HttpsApiServer(node.vertx,
        new HttpsApiServer.Settings("127.0.0.1", port, Optional.of(cert), Optional.of(key)));
    server.start(new HandleJsonApi(node.vertx, node.module.store(), node.module.processor(), false))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      assertThat(server.devTls()).isEmpty();
      HttpResponse<String> r = send(HttpClient.newBuilder().sslContext(trusting(cert)).build(), "GET",
          "https://127.0.0.1:" + port + "/api/handles/0.NA/88.101?type=HS_ADMIN", null, null);
      assertThat(r.statusCode()).isEqualTo(200);
      Certificate served = r.sslSession().orElseThrow().getPeerCertificates()[0];
      assertThat(((X509Certificate) served).getSubjectX500Principal().getName()).contains("resolver-node-test");
    } finally {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void certificateAndKeyGoTogether() {
    assertThatThrownBy(() -> HttpsApiServer.Settings.from(ServiceConfig.load("resolver-node",
        Map.of("HANDLE_HTTPS_PORT", "8443", "HANDLE_HTTPS_CERT", "/etc/hostname"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("handle.https-key");
  }
}
