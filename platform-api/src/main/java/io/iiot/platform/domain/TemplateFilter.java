package io.iiot.platform.domain;

import io.iiot.platform.v1.OnboardingTemplate;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The AIP-160 subset ListOnboardingTemplates understands: empty, {@code industry_code = "B0610"} (exact) or
 * {@code industry_code = "B*"} (prefix, e.g. a whole GB/T 4754 section or division).
 */
public final class TemplateFilter {
  private static final Pattern EXPR = Pattern.compile("\\s*industry_code\\s*=\\s*\"([A-Z0-9]{1,5})(\\*?)\"\\s*");

  private TemplateFilter() {}

  public static Predicate<OnboardingTemplate> parse(String filter) {
    if (filter.isBlank()) {
      return t -> true;
    }
    Matcher m = EXPR.matcher(filter);
    if (!m.matches()) {
      throw new InvalidRequestException("filter", "filter supports only industry_code = \"<code>\" or"
          + " industry_code = \"<prefix>*\", was '" + filter + "'");
    }
    String code = m.group(1);
    return m.group(2).isEmpty() ? t -> t.getIndustryCode().equals(code) : t -> t.getIndustryCode().startsWith(code);
  }
}
