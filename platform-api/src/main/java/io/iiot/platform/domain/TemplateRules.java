package io.iiot.platform.domain;

import io.iiot.platform.v1.CredentialPolicy;
import io.iiot.platform.v1.IdentifierItem;
import io.iiot.platform.v1.Metric;
import io.iiot.platform.v1.OnboardingTemplate;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What makes an onboarding template usable: a GB/T 4754 industry code, identifier items the resolver-node can store,
 * a telemetry schema device-hub can enforce (same rules as device-hub's {@code MetricSpec}), and a credential policy.
 * Collects every violation instead of stopping at the first.
 */
public final class TemplateRules {
  /** GB/T 4754-2017: section letter A..T, then an optional 2-, 3- or 4-digit division/group/class code. */
  public static final Pattern INDUSTRY_CODE = Pattern.compile("[A-T](\\d{2}|\\d{3}|\\d{4})?");
  private static final Pattern ITEM_TYPE = Pattern.compile("[A-Z][A-Z0-9_]{0,63}");
  private static final Pattern METRIC_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_.-]{0,63}");
  private static final Pattern PROFILE = Pattern.compile("[a-z][a-z0-9-]{2,63}");
  public static final int MAX_ITEMS = 64;
  public static final int MAX_METRICS = 256;

  private TemplateRules() {}

  /** Every rule {@code t} breaks, with field paths under {@code prefix} (e.g. "onboarding_template"). */
  public static List<FieldViolation> check(OnboardingTemplate t, String prefix) {
    List<FieldViolation> out = new ArrayList<>();
    String p = prefix + ".";
    if (t.getDisplayName().isBlank() || t.getDisplayName().length() > 200) {
      out.add(new FieldViolation(p + "display_name", "display_name is required, at most 200 characters"));
    }
    if (t.getDescription().length() > 2000) {
      out.add(new FieldViolation(p + "description", "description may have at most 2000 characters"));
    }
    if (!INDUSTRY_CODE.matcher(t.getIndustryCode()).matches()) {
      out.add(new FieldViolation(p + "industry_code", "industry_code must be a GB/T 4754 code: a section letter"
          + " A..T optionally followed by a 2-, 3- or 4-digit code (e.g. B0610, C3421), was '"
          + t.getIndustryCode() + "'"));
    }
    if (t.getVersion().length() > 32) {
      out.add(new FieldViolation(p + "version", "version may have at most 32 characters"));
    }
    checkItems(t.getIdentifierTemplate().getItemsList(), p + "identifier_template.items", out);
    checkProfile(t, p + "device_profile", out);
    checkCredentials(t.getCredentialPolicy(), p + "credential_policy", out);
    return out;
  }

  private static void checkItems(List<IdentifierItem> items, String path, List<FieldViolation> out) {
    if (items.size() > MAX_ITEMS) {
      out.add(new FieldViolation(path, "at most " + MAX_ITEMS + " identifier items"));
      return;
    }
    Set<Integer> indexes = new HashSet<>();
    Set<String> types = new HashSet<>();
    for (int i = 0; i < items.size(); i++) {
      IdentifierItem it = items.get(i);
      String at = path + "[" + i + "]";
      if (it.getIndex() < 2000 || !indexes.add(it.getIndex())) {
        out.add(new FieldViolation(at + ".index", "index must be unique and >= 2000 (lower indexes are reserved"
            + " for URL, HS_ADMIN and other Handle system values), was " + it.getIndex()));
      }
      if (!ITEM_TYPE.matcher(it.getType()).matches() || !types.add(it.getType())) {
        out.add(new FieldViolation(at + ".type", "type must be unique and match " + ITEM_TYPE.pattern()
            + ", was '" + it.getType() + "'"));
      }
      if (it.getMaxLength() < 1 || it.getMaxLength() > 1024) {
        out.add(new FieldViolation(at + ".max_length", "max_length must be 1..1024, was " + it.getMaxLength()));
      }
    }
  }

  private static void checkProfile(OnboardingTemplate t, String path, List<FieldViolation> out) {
    if (!PROFILE.matcher(t.getDeviceProfile().getProfile()).matches()) {
      out.add(new FieldViolation(path + ".profile", "profile must match " + PROFILE.pattern() + ", was '"
          + t.getDeviceProfile().getProfile() + "'"));
    }
    List<Metric> metrics = t.getDeviceProfile().getMetricsList();
    if (metrics.isEmpty() || metrics.size() > MAX_METRICS) {
      out.add(new FieldViolation(path + ".metrics", "a telemetry schema needs 1.." + MAX_METRICS + " metrics"));
    }
    Set<Integer> ids = new HashSet<>();
    Set<String> names = new HashSet<>();
    for (int i = 0; i < metrics.size(); i++) {
      Metric m = metrics.get(i);
      String at = path + ".metrics[" + i + "]";
      if (m.getId() < 0 || m.getId() > 255 || !ids.add(m.getId())) {
        out.add(new FieldViolation(at + ".id", "id must be unique and 0..255, was " + m.getId()));
      }
      if (!METRIC_NAME.matcher(m.getName()).matches() || m.getName().equals("ts") || !names.add(m.getName())) {
        out.add(new FieldViolation(at + ".name", "name must be unique, match " + METRIC_NAME.pattern()
            + " and not be 'ts', was '" + m.getName() + "'"));
      }
      switch (m.getType()) {
        case NUMBER -> {
          if (!(Double.isFinite(m.getMin()) && Double.isFinite(m.getMax()) && m.getMin() <= m.getMax())) {
            out.add(new FieldViolation(at + ".max", "a NUMBER metric needs a finite range with min <= max"));
          }
        }
        case TEXT -> {
          if (m.getMaxLength() < 1 || m.getMaxLength() > 4096) {
            out.add(new FieldViolation(at + ".max_length", "a TEXT metric needs max_length 1..4096"));
          }
        }
        case BOOLEAN -> { }
        default -> out.add(new FieldViolation(at + ".type", "type must be NUMBER, BOOLEAN or TEXT"));
      }
      if (m.getUnit().length() > 32) {
        out.add(new FieldViolation(at + ".unit", "unit may have at most 32 characters"));
      }
    }
  }

  private static void checkCredentials(CredentialPolicy c, String path, List<FieldViolation> out) {
    if (c.getType() == CredentialPolicy.Type.TYPE_UNSPECIFIED || c.getType() == CredentialPolicy.Type.UNRECOGNIZED) {
      out.add(new FieldViolation(path + ".type", "type must be PASSWORD, DTLS_PSK or X509_CERTIFICATE"));
    }
    if (c.getSecretBytes() < 16 || c.getSecretBytes() > 64) {
      out.add(new FieldViolation(path + ".secret_bytes", "secret_bytes must be 16..64, was " + c.getSecretBytes()));
    }
    if (c.getType() == CredentialPolicy.Type.X509_CERTIFICATE && c.getAllowSuppliedSecret()) {
      out.add(new FieldViolation(path + ".allow_supplied_secret", "X509_CERTIFICATE takes no supplied secret"));
    }
  }
}
