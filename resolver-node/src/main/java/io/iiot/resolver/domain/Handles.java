package io.iiot.resolver.domain;

import java.util.Locale;

/** Handle syntax rules (RFC 3651 §2, CNRI's case folding of ASCII only). */
public final class Handles {
  private Handles() {}

  public static final String ZERO_NA = "0.NA";

  /** The storage key: ASCII upper-cased (no Unicode folding), as Handle.Net's {@code case_sensitive = no}. */
  public static String fold(String handle) {
    StringBuilder sb = null;
    for (int i = 0; i < handle.length(); i++) {
      char c = handle.charAt(i);
      if (c >= 'a' && c <= 'z') {
        if (sb == null) {
          sb = new StringBuilder(handle);
        }
        sb.setCharAt(i, (char) (c - 32));
      }
    }
    return sb == null ? handle : sb.toString();
  }

  /** A handle without a slash is read as the prefix handle {@code 0.NA/<handle>}. */
  public static String normalize(String handle) {
    return handle.indexOf('/') < 0 ? ZERO_NA + "/" + handle : handle;
  }

  /** The prefix (before the first slash), or the whole string without one. */
  public static String prefix(String handle) {
    int slash = handle.indexOf('/');
    return slash < 0 ? handle : handle.substring(0, slash);
  }

  public static String localName(String handle) {
    int slash = handle.indexOf('/');
    return slash < 0 ? "" : handle.substring(slash + 1);
  }

  public static boolean isPrefixHandle(String handle) {
    return fold(prefix(handle)).equals(ZERO_NA);
  }

  /** {@code 0.NA/<prefix>}, upper-cased as CNRI's {@code Util.getZeroNAHandle}. */
  public static String prefixHandleOf(String prefix) {
    return ZERO_NA + "/" + prefix.toUpperCase(Locale.ROOT);
  }

  /** {@code 0.NA/88.101.5} → {@code 0.NA/88.101}; {@code null} when there is no parent. */
  public static String parentPrefixHandle(String prefixHandle) {
    String p = localName(prefixHandle);
    int dot = p.lastIndexOf('.');
    return dot <= 0 ? null : ZERO_NA + "/" + p.substring(0, dot);
  }

  /** Whether {@code prefix} equals {@code base} or is derived from it ({@code base.x...}), without ASCII case. */
  public static boolean isUnder(String prefix, String base) {
    String p = fold(prefix);
    String b = fold(base);
    return p.equals(b) || p.startsWith(b + ".");
  }

  /** Syntax check: non-empty prefix and local name, no control characters. */
  public static boolean isValid(String handle) {
    int slash = handle.indexOf('/');
    if (slash <= 0 || slash == handle.length() - 1) {
      return false;
    }
    for (int i = 0; i < handle.length(); i++) {
      char c = handle.charAt(i);
      if (c < 0x20 || c == 0x7F) {
        return false;
      }
    }
    return true;
  }
}
