package io.iiot.platform.domain;

import io.iiot.platform.v1.Tenant;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** What a tenant needs: a name people can read and the Handle prefix its enterprise filed (e.g. 88.101.5). */
public final class TenantRules {
  /** A Handle prefix of the Industrial Internet identifier system: dot-separated numeric segments. */
  public static final Pattern HANDLE_PREFIX = Pattern.compile("\\d{1,10}(\\.\\d{1,10}){1,7}");

  private TenantRules() {}

  public static List<FieldViolation> check(Tenant t, String prefix) {
    List<FieldViolation> out = new ArrayList<>();
    if (t.getDisplayName().isBlank() || t.getDisplayName().length() > 200) {
      out.add(new FieldViolation(prefix + ".display_name", "display_name is required, at most 200 characters"));
    }
    if (!HANDLE_PREFIX.matcher(t.getHandlePrefix()).matches()) {
      out.add(new FieldViolation(prefix + ".handle_prefix", "handle_prefix must be a filed prefix such as 88.101.5,"
          + " was '" + t.getHandlePrefix() + "'"));
    }
    return out;
  }
}
