package io.iiot.resolver.transport.handle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.RSAPublicKeySpec;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's RSA key pair: its public half goes into the site record, its private half signs answers to requests
 * with CT set (session setup in particular). Kept as PKCS#8 DER in a file readable only by the owner, generated at
 * first start.
 */
public final class ServerKeys implements Response.Signer {
  private static final Logger LOG = LoggerFactory.getLogger(ServerKeys.class);
  private final KeyPair keys;

  public ServerKeys(KeyPair keys) {
    this.keys = keys;
  }

  /** Loads the key at {@code file}, or generates a 2048-bit RSA key and writes it there (mode 0600). */
  public static ServerKeys loadOrCreate(Path file) throws IOException, GeneralSecurityException {
    if (Files.exists(file)) {
      PrivateKey priv = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Files.readAllBytes(file)));
      RSAPrivateCrtKey crt = (RSAPrivateCrtKey) priv;
      PublicKey pub = KeyFactory.getInstance("RSA")
          .generatePublic(new RSAPublicKeySpec(crt.getModulus(), crt.getPublicExponent()));
      LOG.info("Handle server key loaded from {}", file);
      return new ServerKeys(new KeyPair(pub, priv));
    }
    KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
    g.initialize(2048);
    KeyPair kp = g.generateKeyPair();
    writeOwnerOnly(file, kp.getPrivate().getEncoded());
    LOG.info("Handle server key generated and written to {}", file);
    return new ServerKeys(kp);
  }

  /** Writes {@code content} to a new file readable and writable by the owner only. */
  public static void writeOwnerOnly(Path file, byte[] content) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    try {
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(Set.of(
          java.nio.file.attribute.PosixFilePermission.OWNER_READ,
          java.nio.file.attribute.PosixFilePermission.OWNER_WRITE)));
    } catch (UnsupportedOperationException e) {
      Files.createFile(tmp);
    }
    Files.write(tmp, content, StandardOpenOption.TRUNCATE_EXISTING);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  public PublicKey publicKey() {
    return keys.getPublic();
  }

  /** SHA256withRSA from 2.7, SHA1withRSA below (as CNRI's server). */
  @Override
  public Credential sign(Version version, byte[] data) {
    boolean sha256 = version.atLeast(2, 7);
    try {
      Signature s = Signature.getInstance(sha256 ? "SHA256withRSA" : "SHA1withRSA");
      s.initSign(keys.getPrivate());
      s.update(data);
      return new Credential(0, Credential.SIGNED, sha256 ? "SHA-256" : "SHA1", s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign with the server key", e);
    }
  }
}
