package io.iiot.resolver;

import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.transport.handle.KeyCodec;
import io.iiot.resolver.transport.handle.ServerKeys;
import io.iiot.resolver.transport.handle.SiteRecord;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * First-start setup of a node: its site record, and its prefix handle {@code 0.NA/<prefix>} holding {@code HS_SITE}
 * (index 1), {@code HS_ADMIN} (index 100, all permissions, naming {@code 300:0.NA/<prefix>}) and {@code HS_SECKEY}
 * (index 300, admin read/write only). Blocking; run on a worker thread.
 */
public final class NodeBootstrap {
  private static final Logger LOG = LoggerFactory.getLogger(NodeBootstrap.class);
  public static final int SITE_INDEX = 1;
  public static final int ADMIN_INDEX = 100;
  public static final int SECKEY_INDEX = 300;

  private NodeBootstrap() {}

  /** The node's site record: one primary server with the given key, TCP admin+query, UDP query (+admin). */
  public static SiteRecord siteRecord(HandleSettings s, ServerKeys keys, int port) {
    List<SiteRecord.Interface> ifs = List.of(
        new SiteRecord.Interface(SiteRecord.ADMIN_AND_QUERY, SiteRecord.TCP, port),
        new SiteRecord.Interface(s.udpAdmin() ? SiteRecord.ADMIN_AND_QUERY : SiteRecord.QUERY, SiteRecord.UDP, port));
    return new SiteRecord(1, 2, 10, 1, true, false, 2, new byte[0],
        List.of(new SiteRecord.Attribute(bytes("desc"), bytes("IIoT resolver-node " + s.prefix()))),
        List.of(new SiteRecord.Server(1, s.advertisedAddress(), KeyCodec.encode(keys.publicKey()), ifs)));
  }

  /**
   * The stored site record names another server key than the configured one: clients that pinned the stored key
   * (CT-signed answers, sessions) would be told to trust a new one. Refused unless re-keying is allowed.
   */
  public static final class SiteKeyMismatch extends Exception {
    private static final long serialVersionUID = 1L;

    SiteKeyMismatch(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * Creates or updates the prefix handle. Its {@code HS_SITE} is rewritten when the address or ports changed; when the
   * stored record names another server key, only if {@code allowRekey} (config {@code handle.allow-rekey}).
   *
   * @throws SiteKeyMismatch the stored key differs and re-keying is not allowed; nothing was written
   */
  public static void ensurePrefixHandle(HandleSettings s, HandleStore store, SiteRecord site, boolean allowRekey)
      throws Exception {
    String prefixHandle = Handles.prefixHandleOf(s.prefix());
    Optional<HandleRecord> existing = await(store.getFresh(prefixHandle));
    int now = (int) (System.currentTimeMillis() / 1000);
    HandleValue siteValue = HandleValue.of(SITE_INDEX, "HS_SITE", site.encode()).withTimestamp(now);
    if (existing.isEmpty()) {
      byte[] secret = secret(s);
      HandleValue admin = HandleValue.of(ADMIN_INDEX, "HS_ADMIN",
          new AdminRecord(AdminRecord.ALL, prefixHandle, SECKEY_INDEX).encode()).withTimestamp(now);
      HandleValue seckey = HandleValue.of(SECKEY_INDEX, "HS_SECKEY", secret).withTimestamp(now)
          .withPermissions(HandleValue.ADMIN_READ | HandleValue.ADMIN_WRITE);
      if (await(store.create(prefixHandle, List.of(siteValue, admin, seckey)))) {
        LOG.info("Created prefix handle {} (HS_SITE, HS_ADMIN {}:{}, HS_SECKEY)", prefixHandle, SECKEY_INDEX,
            prefixHandle);
      }
      return;
    }
    List<HandleValue> updates = new ArrayList<>();
    HandleValue oldSite = existing.get().values().stream().filter(v -> v.index() == SITE_INDEX).findFirst()
        .orElse(null);
    if (oldSite == null || !Arrays.equals(oldSite.data(), siteValue.data())) {
      Optional<byte[]> storedKey = oldSite == null ? Optional.empty() : serverKey(oldSite.data());
      byte[] configuredKey = site.servers().get(0).publicKey();
      if (storedKey.isPresent() && !Arrays.equals(storedKey.get(), configuredKey)) {
        String what = "the stored HS_SITE of " + prefixHandle + " names server key " + fingerprint(storedKey.get())
            + " but the configured server key (" + s.serverKeyFile() + ") is " + fingerprint(configuredKey);
        if (!allowRekey) {
          throw new SiteKeyMismatch(what + "; refusing to re-key this node's site (clients trust the stored key): "
              + "restore the key file, or set handle.allow-rekey=true to publish the new key");
        }
        LOG.warn("Re-keying: {}; handle.allow-rekey is set, HS_SITE rewritten with the new key", what);
      }
      updates.add(siteValue);
    }
    if (s.adminSecret().isPresent()) {
      byte[] configured = s.adminSecret().get().getBytes(StandardCharsets.UTF_8);
      HandleValue old = existing.get().values().stream().filter(v -> v.index() == SECKEY_INDEX).findFirst()
          .orElse(null);
      if (old == null || !Arrays.equals(old.data(), configured)) {
        updates.add(HandleValue.of(SECKEY_INDEX, "HS_SECKEY", configured).withTimestamp(now)
            .withPermissions(HandleValue.ADMIN_READ | HandleValue.ADMIN_WRITE));
        LOG.info("HS_SECKEY of {} set from configuration", prefixHandle);
      }
    }
    if (!updates.isEmpty()) {
      await(store.putValues(prefixHandle, updates));
      LOG.info("Updated prefix handle {} ({} values)", prefixHandle, updates.size());
    }
  }

  /** The key of the first server of a stored site record; empty when it has none or does not decode. */
  private static Optional<byte[]> serverKey(byte[] siteRecord) {
    try {
      SiteRecord stored = SiteRecord.decode(siteRecord);
      return stored.servers().isEmpty() || stored.servers().get(0).publicKey().length == 0 ? Optional.empty()
          : Optional.of(stored.servers().get(0).publicKey());
    } catch (io.iiot.resolver.transport.handle.HandleCodecException e) {
      LOG.warn("The stored HS_SITE does not decode ({}); it is replaced", e.getMessage());
      return Optional.empty();
    }
  }

  /** The first 8 bytes of the key's SHA-256, in hex: enough to tell keys apart in a log or probe. */
  private static String fingerprint(byte[] key) {
    try {
      return "sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(key), 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The configured secret; else the one in {@code <data-dir>/admin-secret}; else a new random one written there. */
  private static byte[] secret(HandleSettings s) throws IOException {
    if (s.adminSecret().isPresent()) {
      return s.adminSecret().get().getBytes(StandardCharsets.UTF_8);
    }
    Path file = s.dataDir().resolve("admin-secret");
    if (Files.exists(file)) {
      LOG.info("Admin secret of {} read from {}", Handles.prefixHandleOf(s.prefix()), file.toAbsolutePath());
      return Files.readString(file, StandardCharsets.UTF_8).trim().getBytes(StandardCharsets.UTF_8);
    }
    byte[] raw = new byte[24];
    new SecureRandom().nextBytes(raw);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(raw);
    ServerKeys.writeOwnerOnly(file, (secret + "\n").getBytes(StandardCharsets.UTF_8));
    LOG.info("Generated the admin secret of 300:{}; it is in {} (readable by the owner only)",
        Handles.prefixHandleOf(s.prefix()), file.toAbsolutePath());
    return secret.getBytes(StandardCharsets.UTF_8);
  }

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
