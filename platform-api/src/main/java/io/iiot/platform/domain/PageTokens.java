package io.iiot.platform.domain;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Opaque, tamper-proof page tokens (AIP-158). A token carries the position to resume from and is signed with
 * HMAC-SHA256 over that position and the query it belongs to (method, parent, filter, page size, caller's tenant), so
 * a client can neither forge a position nor replay a token against another query or tenant. Tokens expire.
 *
 * <p>Layout before base64url: version (1 byte) | issued at, epoch ms (8) | cursor (UTF-8) | MAC (32).
 */
public final class PageTokens {
  private static final byte VERSION = 1;
  private static final int MAC_BYTES = 32;
  private final byte[] key;
  private final Duration lifetime;
  private final Clock clock;

  public PageTokens(byte[] key, Duration lifetime, Clock clock) {
    if (key.length < 32) {
      throw new IllegalArgumentException("page token key must have at least 32 bytes");
    }
    this.key = key.clone();
    this.lifetime = lifetime;
    this.clock = clock;
  }

  /** A token to resume after {@code cursor} in the query described by {@code binding}. */
  public String issue(String binding, String cursor) {
    byte[] c = cursor.getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(1 + 8 + c.length);
    body.put(VERSION).putLong(clock.millis()).put(c);
    byte[] mac = mac(binding, body.array());
    byte[] all = Arrays.copyOf(body.array(), body.capacity() + MAC_BYTES);
    System.arraycopy(mac, 0, all, body.capacity(), MAC_BYTES);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(all);
  }

  /**
   * The cursor of {@code token}, if it was issued by us for the same {@code binding} and has not expired; otherwise
   * INVALID_ARGUMENT on {@code page_token}.
   */
  public String cursor(String token, String binding) {
    byte[] all;
    try {
      all = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw invalid("is not a page token of this API");
    }
    if (all.length < 1 + 8 + MAC_BYTES || all[0] != VERSION) {
      throw invalid("is not a page token of this API");
    }
    byte[] body = Arrays.copyOf(all, all.length - MAC_BYTES);
    byte[] mac = Arrays.copyOfRange(all, all.length - MAC_BYTES, all.length);
    if (!MessageDigest.isEqual(mac, mac(binding, body))) {
      throw invalid("was altered or belongs to another query (parent, filter and page_size must stay the same)");
    }
    long issued = ByteBuffer.wrap(body, 1, 8).getLong();
    if (clock.millis() - issued > lifetime.toMillis()) {
      throw invalid("has expired; start the listing again without page_token");
    }
    return new String(body, 9, body.length - 9, StandardCharsets.UTF_8);
  }

  private static InvalidRequestException invalid(String why) {
    return new InvalidRequestException("page_token", "page_token " + why);
  }

  private byte[] mac(String binding, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(binding.getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      return mac.doFinal(body);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
    }
  }
}
