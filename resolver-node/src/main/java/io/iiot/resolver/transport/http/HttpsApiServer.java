package io.iiot.resolver.transport.http;

import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.tls.SelfSignedTls;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PfxOptions;
import io.vertx.ext.web.Router;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JSON API over HTTPS: its own listener ({@code handle.https-port}) serving the same {@link HandleJsonApi} as the
 * plain HTTP port. Only here do HTTP Basic credentials count for {@code PUT} / {@code DELETE} (handle.net's rule).
 * The certificate is {@code handle.https-cert} + {@code handle.https-key} (PEM); without them a self-signed
 * development certificate is made at start and its path logged.
 */
public final class HttpsApiServer {
  private static final Logger LOG = LoggerFactory.getLogger(HttpsApiServer.class);

  /** The {@code handle.https-*} keys. {@code port} 0 = no HTTPS listener. */
  public record Settings(String host, int port, Optional<Path> cert, Optional<Path> key) {
    public static Settings from(ServiceConfig c) {
      int port = c.integer("handle.https-port", 0, 65_535);
      Optional<Path> cert = c.optional("handle.https-cert").map(String::trim).filter(s -> !s.isEmpty()).map(Path::of);
      Optional<Path> key = c.optional("handle.https-key").map(String::trim).filter(s -> !s.isEmpty()).map(Path::of);
      if (cert.isPresent() != key.isPresent()) {
        throw new ConfigException("Invalid configuration: handle.https-cert and handle.https-key go together "
            + "(PEM certificate chain and its PKCS#8 private key); set both or neither");
      }
      for (Optional<Path> p : java.util.List.of(cert, key)) {
        if (p.isPresent() && !Files.isReadable(p.get())) {
          throw new ConfigException("Invalid configuration: " + p.get() + " (handle.https-cert/-key) is not readable");
        }
      }
      return new Settings(c.string("handle.host").trim(), port, cert, key);
    }
  }

  private final Vertx vertx;
  private final Settings settings;
  private HttpServer server;
  private SelfSignedTls devTls;

  public HttpsApiServer(Vertx vertx, Settings settings) {
    this.vertx = vertx;
    this.settings = settings;
  }

  /**
   * Starts listening with {@code api}'s routes; a no-op when the port is 0. Blocking when it has to make the
   * development certificate (keytool): call it where the module starts, off the event loop.
   */
  public Future<Void> start(HandleJsonApi api) throws Exception {
    if (settings.port() == 0) {
      return Future.succeededFuture();
    }
    Router router = Router.router(vertx);
    api.mount(router);
    server = vertx.createHttpServer(new HttpServerOptions().setHost(settings.host()).setPort(settings.port())
        .setSsl(true).setKeyCertOptions(keyCert()));
    return server.requestHandler(router).listen()
        .onSuccess(s -> LOG.info("Handle JSON API over HTTPS on {}:{}", settings.host(), s.actualPort()))
        .mapEmpty();
  }

  private KeyCertOptions keyCert() throws Exception {
    if (settings.cert().isPresent()) {
      return new PemKeyCertOptions().setCertPath(settings.cert().get().toString())
          .setKeyPath(settings.key().orElseThrow().toString());
    }
    devTls = SelfSignedTls.generate("resolver-node");
    LOG.warn("handle.https-cert not set: the JSON API over HTTPS uses a self-signed development certificate ({}); "
        + "configure a real one for production", devTls.certPem());
    return new PfxOptions().setPath(devTls.keystore().toString()).setPassword(devTls.password());
  }

  /** The port listened on (0 when off). */
  public int port() {
    return server == null ? 0 : server.actualPort();
  }

  /** The development certificate in use, when no certificate is configured. */
  public Optional<SelfSignedTls> devTls() {
    return Optional.ofNullable(devTls);
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
