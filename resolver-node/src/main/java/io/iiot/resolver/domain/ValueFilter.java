package io.iiot.resolver.domain;

import java.util.ArrayList;
import java.util.List;

/** Resolution filters (reference §1.4): union of index and type matches; a type ending in '.' matches subtypes. */
public final class ValueFilter {
  private ValueFilter() {}

  public static List<HandleValue> select(List<HandleValue> values, int[] indexes, List<String> types) {
    if (indexes.length == 0 && types.isEmpty()) {
      return values;
    }
    List<HandleValue> out = new ArrayList<>();
    for (HandleValue v : values) {
      if (indexMatches(v, indexes) || typeMatches(v.type(), types)) {
        out.add(v);
      }
    }
    return out;
  }

  private static boolean indexMatches(HandleValue v, int[] indexes) {
    for (int i : indexes) {
      if (v.index() == i) {
        return true;
      }
    }
    return false;
  }

  public static boolean typeMatches(String type, List<String> types) {
    for (String t : types) {
      if (t.endsWith(".")) {
        String bare = t.substring(0, t.length() - 1);
        if (type.equalsIgnoreCase(bare)
            || (type.length() >= t.length() && type.regionMatches(true, 0, t, 0, t.length()))) {
          return true;
        }
      } else if (type.equalsIgnoreCase(t)) {
        return true;
      }
    }
    return false;
  }
}
