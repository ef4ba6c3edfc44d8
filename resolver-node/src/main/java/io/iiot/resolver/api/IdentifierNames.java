package io.iiot.resolver.api;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * AIP-122 names of identifiers, {@code prefixes/{prefix}/identifiers/{suffix}}: the suffix may contain '/', so it is
 * percent-encoded (RFC 3986 unreserved characters kept).
 */
final class IdentifierNames {
  private IdentifierNames() {}

  static String name(String handle) {
    int slash = handle.indexOf('/');
    return "prefixes/" + handle.substring(0, slash) + "/identifiers/" + encode(handle.substring(slash + 1));
  }

  /** The prefix of {@code prefixes/{prefix}}, or empty. */
  static Optional<String> prefixOfParent(String parent) {
    if (parent == null || !parent.startsWith("prefixes/") || parent.length() == 9
        || parent.indexOf('/', 9) >= 0) {
      return Optional.empty();
    }
    return Optional.of(parent.substring(9));
  }

  /** The handle named by {@code prefixes/{prefix}/identifiers/{suffix}}, or empty when malformed. */
  static Optional<String> handle(String name) {
    if (name == null || !name.startsWith("prefixes/")) {
      return Optional.empty();
    }
    int mark = name.indexOf("/identifiers/", 9);
    if (mark <= 9 || mark + 13 >= name.length()) {
      return Optional.empty();
    }
    String prefix = name.substring(9, mark);
    String suffix = decode(name.substring(mark + 13));
    return suffix == null || prefix.contains("/") ? Optional.empty() : Optional.of(prefix + "/" + suffix);
  }

  static String encode(String s) {
    StringBuilder sb = new StringBuilder();
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xFF;
      if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_'
          || c == '~') {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
      }
    }
    return sb.toString();
  }

  /** Percent-decoding; null when an escape is malformed or the bytes are not UTF-8. */
  static String decode(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '%') {
        if (i + 2 >= s.length()) {
          return null;
        }
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) {
          return null;
        }
        out.write(hi << 4 | lo);
        i += 2;
      } else if (c > 0x7F) {
        int cp = s.codePointAt(i);
        byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
        i += Character.charCount(cp) - 1;
      } else {
        out.write(c);
      }
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(out.toByteArray())).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return null;
    }
  }
}
