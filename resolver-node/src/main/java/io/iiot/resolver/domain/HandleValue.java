package io.iiot.resolver.domain;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One value of a handle record (RFC 3651 §3.1). Immutable; {@code data} is never exposed for mutation by this class's
 * own methods, callers must not modify the array they pass or get.
 *
 * @param index value index, &gt; 0 for stored values
 * @param type value type, e.g. {@code URL}, {@code HS_ADMIN}; compared without ASCII case
 * @param data opaque value data
 * @param ttlType 0 relative (TTL is seconds to cache), 1 absolute (TTL is an expiry time, seconds since 1970 UTC)
 * @param ttl seconds
 * @param timestamp last change, seconds since 1970 UTC
 * @param references value references (usually empty)
 * @param permissions bits {@link #ADMIN_READ}, {@link #ADMIN_WRITE}, {@link #PUBLIC_READ}, {@link #PUBLIC_WRITE}
 */
public record HandleValue(int index, String type, byte[] data, int ttlType, int ttl, int timestamp,
    List<ValueReference> references, int permissions) {
  public static final int ADMIN_READ = 0x08;
  public static final int ADMIN_WRITE = 0x04;
  public static final int PUBLIC_READ = 0x02;
  public static final int PUBLIC_WRITE = 0x01;
  public static final int DEFAULT_PERMISSIONS = 0x0E;
  public static final int DEFAULT_TTL = 86_400;

  public HandleValue {
    references = List.copyOf(references);
  }

  /** A value with CNRI's defaults: relative TTL 86,400 s, permissions {@code 0x0E}, no references. */
  public static HandleValue of(int index, String type, byte[] data) {
    return new HandleValue(index, type, data, 0, DEFAULT_TTL, 0, List.of(), DEFAULT_PERMISSIONS);
  }

  public static HandleValue of(int index, String type, String text) {
    return of(index, type, text.getBytes(StandardCharsets.UTF_8));
  }

  public HandleValue withTimestamp(int ts) {
    return new HandleValue(index, type, data, ttlType, ttl, ts, references, permissions);
  }

  public HandleValue withPermissions(int perms) {
    return new HandleValue(index, type, data, ttlType, ttl, timestamp, references, perms);
  }

  public boolean publicRead() {
    return (permissions & PUBLIC_READ) != 0;
  }

  public boolean adminRead() {
    return (permissions & ADMIN_READ) != 0;
  }

  /** Exact type match without ASCII case. */
  public boolean hasType(String t) {
    return type.equalsIgnoreCase(t);
  }

  public String typeUpper() {
    return type.toUpperCase(Locale.ROOT);
  }

  public String dataAsString() {
    return new String(data, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HandleValue v && index == v.index && type.equals(v.type) && Arrays.equals(data, v.data)
        && ttlType == v.ttlType && ttl == v.ttl && timestamp == v.timestamp && references.equals(v.references)
        && permissions == v.permissions;
  }

  @Override
  public int hashCode() {
    return 31 * (31 * index + type.hashCode()) + Arrays.hashCode(data);
  }

  @Override
  public String toString() {
    return index + ":" + type + "(" + data.length + " bytes)";
  }
}
