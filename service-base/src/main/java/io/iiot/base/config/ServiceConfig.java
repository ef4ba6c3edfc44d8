package io.iiot.base.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;

/**
 * One service's configuration: a YAML file with every key and its default, each key overridable by an
 * environment variable.
 *
 * <p>Lookup order for a key such as {@code cassandra.contact-points} of service {@code device-hub}:
 *
 * <ol>
 *   <li>the service-scoped variable {@code DEVICE_HUB_CASSANDRA_CONTACT_POINTS};
 *   <li>the plain variable {@code CASSANDRA_CONTACT_POINTS};
 *   <li>the YAML file named by {@code <SERVICE>_CONFIG_FILE} / {@code CONFIG_FILE}, if any;
 *   <li>the defaults file {@code <service>.yaml} bundled in the service's jar.
 * </ol>
 *
 * The variable name is the key upper-cased with every {@code .} and {@code -} replaced by {@code _}; the scoped
 * form is there because the platform launcher hands one environment to all three services. Lists are comma
 * separated in variables. Instances are immutable and safe to share.
 */
public final class ServiceConfig {
  private final String service;
  private final Map<String, Object> flat;
  private final Map<String, String> env;

  private ServiceConfig(String service, Map<String, Object> flat, Map<String, String> env) {
    this.service = service;
    this.flat = flat;
    this.env = env;
  }

  /** Loads the bundled {@code <service>.yaml}, then the optional file and the process environment. */
  public static ServiceConfig load(String service) {
    return load(service, System.getenv());
  }

  /** As {@link #load(String)} with an explicit environment (tests). */
  public static ServiceConfig load(String service, Map<String, String> env) {
    return load(service, env, ServiceConfig.class.getClassLoader());
  }

  /** As {@link #load(String, Map)}, reading the bundled defaults through {@code loader} (the platform launcher). */
  public static ServiceConfig load(String service, Map<String, String> env, ClassLoader loader) {
    Map<String, Object> flat = new LinkedHashMap<>();
    String resource = service + ".yaml";
    try (InputStream in = loader.getResourceAsStream(resource)) {
      if (in == null) {
        throw new ConfigException("Invalid configuration: bundled defaults " + resource + " not found on the classpath");
      }
      flatten("", parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), resource), flat);
    } catch (IOException e) {
      throw new ConfigException("Invalid configuration: cannot read " + resource + ": " + e.getMessage());
    }
    String file = firstNonBlank(env.get(envName(service, "config-file")), env.get("CONFIG_FILE"));
    if (file != null) {
      Path path = Path.of(file);
      try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
        Map<String, Object> fromFile = new LinkedHashMap<>();
        StringBuilder text = new StringBuilder();
        char[] buf = new char[8192];
        for (int n; (n = reader.read(buf)) > 0; ) {
          text.append(buf, 0, n);
        }
        flatten("", parse(text.toString(), file), fromFile);
        for (String key : fromFile.keySet()) {
          if (!flat.containsKey(key)) {
            throw new ConfigException("Invalid configuration: unknown key '" + key + "' in " + file);
          }
        }
        flat.putAll(fromFile);
      } catch (IOException e) {
        throw new ConfigException("Invalid configuration: cannot read config file " + file + ": " + e.getMessage());
      }
    }
    return new ServiceConfig(service, flat, Map.copyOf(env));
  }

  public String service() {
    return service;
  }

  /** The environment variable that overrides {@code key} for every service. */
  public static String envName(String key) {
    return key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  /** The environment variable that overrides {@code key} for {@code service} only. */
  public static String envName(String service, String key) {
    return envName(service) + "_" + envName(key);
  }

  /** Every key of the defaults file, in file order. */
  public java.util.Set<String> keys() {
    return java.util.Collections.unmodifiableSet(flat.keySet());
  }

  /** Whether {@code key} is defined (in the defaults file). */
  public boolean has(String key) {
    return flat.containsKey(key);
  }

  /** A string value; blank strings are returned as they are. */
  public String string(String key) {
    return raw(key).value();
  }

  /** A string value that may be left empty: empty means "not set". */
  public Optional<String> optional(String key) {
    String v = raw(key).value();
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
  }

  public int integer(String key, int min, int max) {
    Source s = raw(key);
    try {
      int v = Integer.parseInt(s.value().trim());
      if (v < min || v > max) {
        throw invalid(key, s, "an integer from " + min + " to " + max);
      }
      return v;
    } catch (NumberFormatException e) {
      throw invalid(key, s, "an integer from " + min + " to " + max);
    }
  }

  public int port(String key) {
    return integer(key, 1, 65535);
  }

  public boolean bool(String key) {
    Source s = raw(key);
    String v = s.value().trim().toLowerCase(Locale.ROOT);
    if (v.equals("true") || v.equals("false")) {
      return Boolean.parseBoolean(v);
    }
    throw invalid(key, s, "true or false");
  }

  /** A duration written as {@code 500ms}, {@code 10s}, {@code 5m} or {@code 2h}. */
  public Duration duration(String key) {
    Source s = raw(key);
    String v = s.value().trim().toLowerCase(Locale.ROOT);
    try {
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      } else if (v.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)));
      } else if (v.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1)));
      } else if (v.endsWith("h")) {
        return Duration.ofHours(Long.parseLong(v.substring(0, v.length() - 1)));
      }
    } catch (NumberFormatException e) {
      // falls through to the error below
    }
    throw invalid(key, s, "a duration such as 500ms, 10s, 5m or 2h");
  }

  /** A list: a YAML sequence, or a comma-separated string (the form variables use). Blank items are dropped. */
  public List<String> list(String key) {
    Source s = raw(key);
    List<String> out = new ArrayList<>();
    for (String item : s.value().split(",")) {
      if (!item.isBlank()) {
        out.add(item.trim());
      }
    }
    return List.copyOf(out);
  }

  /** One of the given words, compared without case; returns the word as written in {@code allowed}. */
  public String oneOf(String key, String... allowed) {
    Source s = raw(key);
    for (String a : allowed) {
      if (a.equalsIgnoreCase(s.value().trim())) {
        return a;
      }
    }
    throw invalid(key, s, "one of " + Arrays.toString(allowed));
  }

  private ConfigException invalid(String key, Source s, String expected) {
    return new ConfigException(
        "Invalid configuration: " + key + " = '" + s.value() + "' (from " + s.origin() + "): expected " + expected);
  }

  private record Source(String value, String origin) {}

  private Source raw(String key) {
    for (String name : List.of(envName(service, key), envName(key))) {
      String v = env.get(name);
      if (v != null) {
        return new Source(v, "environment variable " + name);
      }
    }
    if (!flat.containsKey(key)) {
      // A programming error, but still reported as a configuration problem rather than an NPE.
      throw new ConfigException("Invalid configuration: key '" + key + "' is not defined in " + service + ".yaml");
    }
    Object v = flat.get(key);
    return new Source(v == null ? "" : v instanceof List<?> l ? String.join(",", toStrings(l)) : v.toString(),
        service + ".yaml");
  }

  private static List<String> toStrings(List<?> l) {
    List<String> out = new ArrayList<>();
    for (Object o : l) {
      out.add(String.valueOf(o));
    }
    return out;
  }

  private static Object parse(String text, String origin) {
    try {
      LoaderOptions options = new LoaderOptions();
      options.setAllowDuplicateKeys(false);
      return new Yaml(new SafeConstructor(options)).load(text);
    } catch (YAMLException e) {
      throw new ConfigException("Invalid configuration: " + origin + " is not valid YAML: " + e.getMessage());
    }
  }

  private static void flatten(String prefix, Object node, Map<String, Object> out) {
    if (node instanceof Map<?, ?> map) {
      for (Map.Entry<?, ?> e : map.entrySet()) {
        flatten(prefix.isEmpty() ? String.valueOf(e.getKey()) : prefix + "." + e.getKey(), e.getValue(), out);
      }
    } else if (!prefix.isEmpty()) {
      out.put(prefix, node);
    }
  }

  private static String firstNonBlank(String a, String b) {
    if (a != null && !a.isBlank()) {
      return a;
    }
    return b != null && !b.isBlank() ? b : null;
  }
}
