package io.iiot.platform.backend;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executor;

/**
 * resolver-node's call credentials: {@code authorization: Bearer <principal-id>.<secret>}, the token read from a file
 * (resolver-node writes its service principal's token there at first start). The file is read again on each call
 * while it is missing or empty, so platform-api may start before resolver-node has written it; once read, the token
 * is kept (rotate by restarting platform-api).
 */
public final class BearerToken extends CallCredentials {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private final Path file;
  private volatile String token;

  public BearerToken(Path file) {
    this.file = file;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor appExecutor, MetadataApplier applier) {
    String t = token;
    if (t == null) {
      try {
        String read = Files.readString(file, StandardCharsets.US_ASCII).trim();
        if (!read.isEmpty()) {
          token = t = read;
        }
      } catch (IOException e) {
        // reported below
      }
    }
    if (t == null) {
      applier.fail(Status.UNAUTHENTICATED.withDescription("resolver service token file " + file.toAbsolutePath()
          + " is missing or empty (set resolver.service-token-file)"));
      return;
    }
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, "Bearer " + t);
    applier.apply(md);
  }
}
