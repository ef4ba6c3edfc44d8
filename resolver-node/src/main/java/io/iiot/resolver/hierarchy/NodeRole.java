package io.iiot.resolver.hierarchy;

import java.util.Locale;

/**
 * Where a node sits in the identifier resolution hierarchy (reference §7.1). The role does not change how a
 * resolution is routed (that follows the prefix handles a node holds, §2.3); it says which duties the node has:
 * a top-level node accepts filings from secondary nodes and is the root of the tree (no upstream); a secondary node
 * reports filings upstream and delegates enterprise prefixes; an enterprise node hosts one enterprise's prefixes.
 */
public enum NodeRole {
  TOP_LEVEL("top-level"),
  SECONDARY("secondary"),
  ENTERPRISE("enterprise");

  private final String configName;

  NodeRole(String configName) {
    this.configName = configName;
  }

  /** The word used in {@code node.role}. */
  public String configName() {
    return configName;
  }

  public static NodeRole parse(String s) {
    String v = s.trim().toLowerCase(Locale.ROOT);
    for (NodeRole r : values()) {
      if (r.configName.equals(v)) {
        return r;
      }
    }
    throw new IllegalArgumentException(s);
  }
}
