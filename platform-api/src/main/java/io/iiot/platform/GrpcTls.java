package io.iiot.platform;

import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.iiot.base.config.ConfigException;
import io.iiot.base.config.ServiceConfig;
import java.io.File;
import java.io.IOException;
import java.util.Optional;

/** The gRPC transport security from {@code grpc.tls.*}: plaintext, TLS, or mutual TLS. */
final class GrpcTls {
  private GrpcTls() {}

  static ServerCredentials fromConfig(ServiceConfig config) {
    Optional<String> chain = config.optional("grpc.tls.cert-chain");
    Optional<String> key = config.optional("grpc.tls.private-key");
    Optional<String> clientCa = config.optional("grpc.tls.client-ca");
    if (chain.isEmpty() && key.isEmpty()) {
      if (clientCa.isPresent()) {
        throw new ConfigException("Invalid configuration: grpc.tls.client-ca needs grpc.tls.cert-chain and"
            + " grpc.tls.private-key (mutual TLS is TLS first)");
      }
      return InsecureServerCredentials.create();
    }
    if (chain.isEmpty() || key.isEmpty()) {
      throw new ConfigException("Invalid configuration: grpc.tls.cert-chain and grpc.tls.private-key must be set"
          + " together");
    }
    TlsServerCredentials.Builder tls = TlsServerCredentials.newBuilder();
    try {
      tls.keyManager(readable(chain.get(), "grpc.tls.cert-chain"), readable(key.get(), "grpc.tls.private-key"));
      if (clientCa.isPresent()) {
        tls.trustManager(readable(clientCa.get(), "grpc.tls.client-ca"))
            .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
      }
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException("Invalid configuration: grpc.tls files cannot be used: " + e.getMessage());
    }
    return tls.build();
  }

  private static File readable(String path, String key) {
    File f = new File(path);
    if (!f.canRead()) {
      throw new ConfigException("Invalid configuration: " + key + " = '" + path + "': file not readable");
    }
    return f;
  }
}
