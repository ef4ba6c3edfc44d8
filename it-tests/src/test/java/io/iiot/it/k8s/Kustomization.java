package io.iiot.it.k8s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * Builds a kustomization directory the way {@code kustomize build} does, for the subset of kustomize that k8s/ uses:
 * {@code resources} (files and directories holding a kustomization) and {@code patches} given by {@code path} (strategic
 * merge patches whose target is the object of the same kind and name). Any other kustomization field, or a patch form
 * this class does not implement, fails loudly instead of being ignored, so the test never checks something that
 * differs from what kustomize would produce. No kustomize implementation for the JVM is on Maven Central.
 *
 * <p>Strategic merge as implemented: maps merge key by key, a {@code null} value deletes the key; lists named in
 * {@link #MERGE_KEYS} merge item by item on their merge key (as Kubernetes' patchMergeKey), all other lists are
 * replaced whole. Patching {@code ports} is refused because its merge key depends on the object (container ports
 * vs. Service ports).
 */
final class Kustomization {
  private static final Set<String> SUPPORTED_FIELDS = Set.of("apiVersion", "kind", "resources", "patches");
  static final Map<String, String> MERGE_KEYS = Map.of(
      "containers", "name",
      "initContainers", "name",
      "env", "name",
      "volumes", "name",
      "volumeMounts", "mountPath",
      "imagePullSecrets", "name");

  private Kustomization() {}

  /** The objects {@code kustomize build dir} would print, as plain YAML trees. */
  static List<Map<String, Object>> build(Path dir) throws IOException {
    Path file = dir.resolve("kustomization.yaml");
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException(dir + " has no kustomization.yaml");
    }
    Map<String, Object> k = map(loadAll(file).get(0), file.toString());
    for (String field : k.keySet()) {
      if (!SUPPORTED_FIELDS.contains(field)) {
        throw new IllegalArgumentException(file + ": kustomization field '" + field
            + "' is not implemented by this test's kustomize subset");
      }
    }
    List<Map<String, Object>> objects = new ArrayList<>();
    for (Object r : list(k.getOrDefault("resources", List.of()), file + " resources")) {
      Path p = dir.resolve(String.valueOf(r)).normalize();
      objects.addAll(Files.isDirectory(p) ? build(p) : loadAll(p));
    }
    for (Object item : list(k.getOrDefault("patches", List.of()), file + " patches")) {
      Map<String, Object> patchRef = map(item, file + " patches item");
      if (!patchRef.keySet().equals(Set.of("path"))) {
        throw new IllegalArgumentException(file + ": only 'patches: - path: <file>' is implemented, not " + patchRef);
      }
      Path p = dir.resolve(String.valueOf(patchRef.get("path")));
      for (Map<String, Object> patch : loadAll(p)) {
        Map<String, Object> target = target(objects, patch, p);
        merge(target, patch, p.toString());
      }
    }
    Set<String> seen = new java.util.HashSet<>();
    for (Map<String, Object> o : objects) {
      if (!seen.add(id(o))) {
        throw new IllegalArgumentException(dir + ": two objects with id " + id(o) + " (kustomize refuses this)");
      }
    }
    return objects;
  }

  /** Every YAML document of a file, as maps. */
  static List<Map<String, Object>> loadAll(Path file) throws IOException {
    LoaderOptions options = new LoaderOptions();
    options.setAllowDuplicateKeys(false);
    List<Map<String, Object>> docs = new ArrayList<>();
    for (Object doc : new Yaml(new SafeConstructor(options)).loadAll(Files.readString(file))) {
      if (doc != null) {
        docs.add(map(doc, file.toString()));
      }
    }
    return docs;
  }

  static String id(Map<String, Object> o) {
    Map<String, Object> meta = map(o.get("metadata"), "metadata of " + o.get("kind"));
    return o.get("apiVersion") + "/" + o.get("kind") + "/" + meta.get("name");
  }

  private static Map<String, Object> target(List<Map<String, Object>> objects, Map<String, Object> patch, Path p) {
    List<Map<String, Object>> matches = objects.stream().filter(o -> id(o).equals(id(patch))).toList();
    if (matches.size() != 1) {
      throw new IllegalArgumentException(p + ": patch " + id(patch) + " matches " + matches.size()
          + " objects; expected exactly one");
    }
    return matches.get(0);
  }

  @SuppressWarnings("unchecked")
  private static void merge(Map<String, Object> target, Map<String, Object> patch, String where) {
    for (Map.Entry<String, Object> e : patch.entrySet()) {
      String key = e.getKey();
      Object value = e.getValue();
      if (key.startsWith("$")) {
        throw new IllegalArgumentException(where + ": patch directive " + key + " is not implemented");
      }
      if (value == null) {
        target.remove(key);
      } else if (value instanceof Map<?, ?> pm && target.get(key) instanceof Map<?, ?> tm) {
        merge((Map<String, Object>) tm, (Map<String, Object>) pm, where + "." + key);
      } else if (value instanceof List<?> pl && MERGE_KEYS.containsKey(key) && target.get(key) instanceof List<?> tl) {
        target.put(key, mergeList((List<Object>) tl, (List<Object>) pl, MERGE_KEYS.get(key), where + "." + key));
      } else if (key.equals("ports")) {
        throw new IllegalArgumentException(where + ": patching 'ports' is not implemented");
      } else {
        target.put(key, value instanceof Map<?, ?> m ? new LinkedHashMap<>((Map<String, Object>) m) : value);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static List<Object> mergeList(List<Object> target, List<Object> patch, String mergeKey, String where) {
    List<Object> out = new ArrayList<>(target);
    for (Object p : patch) {
      Map<String, Object> pm = map(p, where);
      Object key = Objects.requireNonNull(pm.get(mergeKey), where + ": item without " + mergeKey);
      Map<String, Object> existing = null;
      for (Object t : out) {
        if (key.equals(map(t, where).get(mergeKey))) {
          existing = (Map<String, Object>) t;
        }
      }
      if (existing == null) {
        out.add(new LinkedHashMap<>(pm));
      } else {
        merge(existing, pm, where + "[" + key + "]");
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o, String where) {
    if (!(o instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(where + ": expected a mapping, got " + o);
    }
    return (Map<String, Object>) m;
  }

  private static List<?> list(Object o, String where) {
    if (!(o instanceof List<?> l)) {
      throw new IllegalArgumentException(where + ": expected a list, got " + o);
    }
    return l;
  }
}
