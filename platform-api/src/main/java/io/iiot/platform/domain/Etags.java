package io.iiot.platform.domain;

import java.util.UUID;

/** Strong etags (RFC 7232 quoting), new for every write. */
public final class Etags {
  private Etags() {}

  public static String next() {
    return "\"" + UUID.randomUUID().toString().replace("-", "").substring(0, 16) + "\"";
  }
}
