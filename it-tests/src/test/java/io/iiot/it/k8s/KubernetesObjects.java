package io.iiot.it.k8s;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns manifest YAML trees into fabric8 Kubernetes model objects, strictly: an unknown {@code apiVersion}/{@code kind},
 * a field the Kubernetes API does not have (fabric8 would keep it in {@code additionalProperties}, the API server
 * would reject or drop it), or a number or boolean where the API wants a string (an unquoted annotation value, which
 * the API server rejects) are errors naming the object and the field.
 */
final class KubernetesObjects {
  private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
      "v1/ConfigMap", ConfigMap.class,
      "v1/Secret", Secret.class,
      "v1/Service", Service.class,
      "apps/v1/Deployment", Deployment.class,
      "apps/v1/StatefulSet", StatefulSet.class,
      "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class);

  private static final ObjectMapper MAPPER = strictMapper();

  private KubernetesObjects() {}

  private static ObjectMapper strictMapper() {
    ObjectMapper mapper = new ObjectMapper();
    mapper.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    mapper.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    for (CoercionInputShape shape : List.of(CoercionInputShape.Integer, CoercionInputShape.Float,
        CoercionInputShape.Boolean)) {
      mapper.coercionConfigFor(LogicalType.Textual).setCoercion(shape, CoercionAction.Fail);
    }
    return mapper;
  }

  static List<HasMetadata> parse(List<Map<String, Object>> trees) {
    List<HasMetadata> out = new ArrayList<>();
    for (Map<String, Object> tree : trees) {
      out.add(parse(tree));
    }
    return out;
  }

  static HasMetadata parse(Map<String, Object> tree) {
    String type = tree.get("apiVersion") + "/" + tree.get("kind");
    Class<? extends HasMetadata> cls = KINDS.get(type);
    if (cls == null) {
      throw new IllegalArgumentException("Unknown or unexpected object type " + type + " (known: " + KINDS.keySet()
          + ")");
    }
    HasMetadata object;
    try {
      object = MAPPER.convertValue(tree, cls);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(type + " " + Kustomization.id(tree) + " is not a valid " + cls.getSimpleName()
          + ": " + e.getMessage(), e);
    }
    List<String> unknown = new ArrayList<>();
    unknownFields(object, cls.getSimpleName(), unknown, java.util.Collections.newSetFromMap(new IdentityHashMap<>()));
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException(Kustomization.id(tree) + " has fields the Kubernetes API does not know: "
          + unknown);
    }
    return object;
  }

  /** Every non-empty {@code additionalProperties} in the object graph, by path. */
  private static void unknownFields(Object o, String path, List<String> out, Set<Object> seen) {
    if (o == null || !o.getClass().getName().startsWith("io.fabric8.") || !seen.add(o)) {
      return;
    }
    for (Method m : o.getClass().getMethods()) {
      if (m.getParameterCount() != 0 || Modifier.isStatic(m.getModifiers()) || !m.getName().startsWith("get")
          || m.getDeclaringClass() == Object.class) {
        continue;
      }
      Object value;
      try {
        value = m.invoke(o);
      } catch (ReflectiveOperationException e) {
        continue;
      }
      String field = path + "." + Character.toLowerCase(m.getName().charAt(3)) + m.getName().substring(4);
      if (m.getName().equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          out.add(path + " " + extra.keySet());
        }
      } else if (value instanceof Collection<?> c) {
        int i = 0;
        for (Object item : c) {
          unknownFields(item, field + "[" + i++ + "]", out, seen);
        }
      } else if (value instanceof Map<?, ?> map) {
        for (Map.Entry<?, ?> e : map.entrySet()) {
          unknownFields(e.getValue(), field + "[" + e.getKey() + "]", out, seen);
        }
      } else {
        unknownFields(value, field, out, seen);
      }
    }
  }
}
