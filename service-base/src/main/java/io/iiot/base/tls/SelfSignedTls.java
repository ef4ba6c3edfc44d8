package io.iiot.base.tls;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for development, made at start when no certificate is configured: an EC P-256 key for
 * {@code localhost}/{@code 127.0.0.1}, valid one year, generated with the JDK's own {@code keytool} (no extra
 * library). Clients trust it with the exported {@link #certPem()} (e.g. {@code mosquitto_pub --cafile cert.pem}, {@code curl --cacert}).
 * Never use it in production: every start makes a new key.
 *
 * @param keystore PKCS#12 file holding key and certificate
 * @param password the keystore's password
 * @param certPem the certificate alone, PEM encoded
 */
public record SelfSignedTls(Path keystore, String password, Path certPem) {

  /**
   * Generates into a new temporary directory. Blocking (runs keytool, about a second): worker threads only.
   *
   * @param name the service's name: key alias and file names
   */
  public static SelfSignedTls generate(String name) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory(name + "-tls");
    Path keystore = dir.resolve(name + ".p12");
    Path pem = dir.resolve("cert.pem");
    String password = UUID.randomUUID().toString();
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    run(List.of(keytool, "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
        "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "365",
        "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", password, "-keypass", password));
    run(List.of(keytool, "-exportcert", "-rfc", "-alias", name, "-keystore", keystore.toString(),
        "-storepass", password, "-file", pem.toString()));
    // Removed when the JVM exits (in reverse order: files, then the directory); a new one is made at every start.
    dir.toFile().deleteOnExit();
    keystore.toFile().deleteOnExit();
    pem.toFile().deleteOnExit();
    return new SelfSignedTls(keystore, password, pem);
  }

  private static void run(List<String> command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IOException("keytool failed: " + out.trim());
    }
  }
}
