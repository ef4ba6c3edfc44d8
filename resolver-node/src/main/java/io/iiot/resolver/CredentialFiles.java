package io.iiot.resolver;

import io.iiot.resolver.domain.auth.Tokens;
import io.iiot.resolver.transport.handle.ServerKeys;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's and the platform service's bearer tokens ({@code <principal>.<secret>}) in files, generated at first
 * start (random, owner-only) so the platform's run command needs no flags: platform-api reads the service token from
 * the same default path. Blocking; run on a worker thread.
 */
public final class CredentialFiles {
  private static final Logger LOG = LoggerFactory.getLogger(CredentialFiles.class);

  private CredentialFiles() {}

  /** The token in {@code file}; a new one for {@code principalId} written there (0600) when the file is missing. */
  public static Tokens.Token loadOrCreate(Path file, String principalId) throws IOException {
    if (Files.exists(file)) {
      String content = Files.readString(file, StandardCharsets.UTF_8).trim();
      Tokens.Token t = Tokens.parse(content).orElseThrow(() -> new IOException(file.toAbsolutePath()
          + " does not hold a token \"" + principalId + ".<secret>\""));
      if (!t.principalId().equals(principalId)) {
        throw new IOException(file.toAbsolutePath() + " holds a token of " + t.principalId() + ", expected "
            + principalId);
      }
      return t;
    }
    Tokens.Token t = Tokens.issue(principalId);
    ServerKeys.writeOwnerOnly(file, (t.value() + "\n").getBytes(StandardCharsets.UTF_8));
    LOG.info("Generated the {} token of resolver-node's gRPC API into {} (owner-only)", principalId,
        file.toAbsolutePath());
    return t;
  }

  /** The token in {@code file} (another node's credential, e.g. for the upstream); empty path = none. */
  public static java.util.Optional<String> read(String file) throws IOException {
    if (file == null || file.isBlank()) {
      return java.util.Optional.empty();
    }
    return java.util.Optional.of(Files.readString(Path.of(file), StandardCharsets.UTF_8).trim());
  }
}
