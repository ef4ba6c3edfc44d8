package io.iiot.platform.domain;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses and formats the resource names of the API (AIP-122). */
public final class ResourceNames {
  /** {tenant}: 3..40 characters, lower-case letters, digits and '-', starting with a letter. */
  public static final Pattern TENANT_ID = Pattern.compile("[a-z][a-z0-9-]{2,39}");
  /** {template}: 3..63 characters, lower-case letters, digits and '-', starting with a letter. */
  public static final Pattern TEMPLATE_ID = Pattern.compile("[a-z][a-z0-9-]{2,62}");
  /** {key}: the id part of an API key. */
  public static final Pattern KEY_ID = Pattern.compile("[a-z0-9]{16}");

  private static final Pattern TENANT = Pattern.compile("tenants/([^/]+)");
  private static final Pattern CATALOG_TEMPLATE = Pattern.compile("templates/([^/]+)");
  private static final Pattern TENANT_TEMPLATE = Pattern.compile("tenants/([^/]+)/templates/([^/]+)");
  private static final Pattern API_KEY = Pattern.compile("tenants/([^/]+)/apiKeys/([^/]+)");
  private static final Pattern DEVICE = Pattern.compile("tenants/([^/]+)/devices/([^/]+)");
  private static final Pattern COMMAND = Pattern.compile("tenants/([^/]+)/devices/([^/]+)/commands/([0-9a-f]{1,64})");
  private static final Pattern IDENTIFIER = Pattern.compile("tenants/([^/]+)/identifiers/([^/]+)");
  /** {device}: as device-hub (and onboarding's machine ids) allow. */
  public static final Pattern DEVICE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}");

  private ResourceNames() {}

  /** A template's place: {@code tenant} is empty for the shipped catalogue. */
  public record TemplateName(Optional<String> tenant, String templateId) {
    public String format() {
      return tenant.map(t -> "tenants/" + t + "/templates/" + templateId).orElse("templates/" + templateId);
    }
  }

  public record ApiKeyName(String tenant, String keyId) {
    public String format() {
      return "tenants/" + tenant + "/apiKeys/" + keyId;
    }
  }

  public static String tenant(String tenantId) {
    return "tenants/" + tenantId;
  }

  /** The {tenant} of "tenants/{tenant}", or INVALID_ARGUMENT on {@code field}. */
  public static String parseTenant(String name, String field) {
    Matcher m = TENANT.matcher(name);
    if (!m.matches() || !TENANT_ID.matcher(m.group(1)).matches()) {
      throw new InvalidRequestException(field, "must be tenants/{tenant} with {tenant} matching "
          + TENANT_ID.pattern() + ", was '" + name + "'");
    }
    return m.group(1);
  }

  public static TemplateName parseTemplate(String name, String field) {
    Matcher m = TENANT_TEMPLATE.matcher(name);
    if (m.matches() && TENANT_ID.matcher(m.group(1)).matches() && TEMPLATE_ID.matcher(m.group(2)).matches()) {
      return new TemplateName(Optional.of(m.group(1)), m.group(2));
    }
    m = CATALOG_TEMPLATE.matcher(name);
    if (m.matches() && TEMPLATE_ID.matcher(m.group(1)).matches()) {
      return new TemplateName(Optional.empty(), m.group(1));
    }
    throw new InvalidRequestException(field, "must be templates/{template} or tenants/{tenant}/templates/{template}"
        + " with {template} matching " + TEMPLATE_ID.pattern() + ", was '" + name + "'");
  }

  /** {tenant, device} of "tenants/{tenant}/devices/{device}", or INVALID_ARGUMENT on {@code field}. */
  public static String[] parseDevice(String name, String field) {
    Matcher m = DEVICE.matcher(name);
    if (!m.matches() || !TENANT_ID.matcher(m.group(1)).matches() || !DEVICE_ID.matcher(m.group(2)).matches()) {
      throw new InvalidRequestException(field, "must be tenants/{tenant}/devices/{device}, was '" + name + "'");
    }
    return new String[] {m.group(1), m.group(2)};
  }

  /** {tenant, device, command id} of "tenants/{tenant}/devices/{device}/commands/{command}". */
  public static String[] parseCommand(String name, String field) {
    Matcher m = COMMAND.matcher(name);
    if (!m.matches() || !TENANT_ID.matcher(m.group(1)).matches() || !DEVICE_ID.matcher(m.group(2)).matches()) {
      throw new InvalidRequestException(field, "must be tenants/{tenant}/devices/{device}/commands/{command}, was '"
          + name + "'");
    }
    return new String[] {m.group(1), m.group(2), m.group(3)};
  }

  /** {tenant, encoded suffix} of "tenants/{tenant}/identifiers/{suffix}", or INVALID_ARGUMENT on {@code field}. */
  public static String[] parseIdentifier(String name, String field) {
    Matcher m = IDENTIFIER.matcher(name);
    if (!m.matches() || !TENANT_ID.matcher(m.group(1)).matches()) {
      throw new InvalidRequestException(field, "must be tenants/{tenant}/identifiers/{suffix} (suffix"
          + " percent-encoded), was '" + name + "'");
    }
    return new String[] {m.group(1), m.group(2)};
  }

  public static ApiKeyName parseApiKey(String name, String field) {
    Matcher m = API_KEY.matcher(name);
    if (!m.matches() || !TENANT_ID.matcher(m.group(1)).matches() || !KEY_ID.matcher(m.group(2)).matches()) {
      throw new InvalidRequestException(field, "must be tenants/{tenant}/apiKeys/{key}, was '" + name + "'");
    }
    return new ApiKeyName(m.group(1), m.group(2));
  }
}
