package io.iiot.it.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HTTPGetAction;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.iiot.base.cassandra.CassandraSettings;
import io.iiot.base.config.ServiceConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The k8s/ manifests, built per overlay the way kustomize would, are valid Kubernetes objects, and what they tell the
 * services matches what the services really read: every probe, container port, config key and environment variable
 * is checked against the services' own YAML files ({@code <module>/src/main/resources/<module>.yaml}, read now, through
 * the services' own {@link ServiceConfig} rules) and the README's port table. No kubectl or cluster is involved.
 */
class KubernetesManifestsIT {
  static final List<String> SERVICES = List.of("resolver-node", "device-hub", "platform-api");
  static final List<String> OVERLAYS = List.of("single-node", "production", "production-external");
  /** Variables the pods set that are not service config keys. */
  static final Set<String> NON_CONFIG_ENV = Set.of("JAVA_TOOL_OPTIONS");
  /** The value assumed for a variable from a Secret the manifests do not hold. */
  static final String SECRET_STAND_IN = "stand-in-for-a-secret-kept-out-of-git-0123456789";

  @TempDir
  Path tmp;

  static Path home() {
    return Path.of(System.getProperty("iiot.home", "..")).toAbsolutePath().normalize();
  }

  static Path k8s() {
    return home().resolve("k8s");
  }

  static Stream<Arguments> overlaysAndServices() {
    return OVERLAYS.stream().flatMap(o -> SERVICES.stream().map(s -> Arguments.of(o, s)));
  }

  @Test
  void everyOverlayDirectoryIsCovered() throws IOException {
    try (Stream<Path> dirs = Files.list(k8s().resolve("overlays"))) {
      assertThat(dirs.map(p -> p.getFileName().toString())).containsExactlyInAnyOrderElementsOf(OVERLAYS);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"base", "overlays/single-node", "overlays/production", "overlays/production-external"})
  void buildsIntoStrictlyValidKubernetesObjects(String dir) throws IOException {
    List<HasMetadata> objects = KubernetesObjects.parse(Kustomization.build(k8s().resolve(dir)));
    for (String service : SERVICES) {
      assertThat(objects).as("objects of %s", dir)
          .anySatisfy(o -> assertThat(o).isInstanceOf(Deployment.class).extracting(x -> x.getMetadata().getName())
              .isEqualTo(service));
    }
    // Every object of every file is part of some build: no manifest lies around unused and unchecked.
    assertThat(objects).allSatisfy(o -> assertThat(o.getMetadata().getLabels())
        .containsEntry("app.kubernetes.io/part-of", "iiot"));
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("overlaysAndServices")
  void deploymentMatchesWhatTheServiceReads(String overlayName, String service) throws IOException {
    Overlay overlay = Overlay.build(overlayName);
    Deployment deployment = overlay.get(Deployment.class, service);
    PodTemplateSpec pod = deployment.getSpec().getTemplate();
    assertThat(pod.getSpec().getEnableServiceLinks()).as("enableServiceLinks of %s", service).isFalse();
    assertThat(pod.getSpec().getContainers()).hasSize(1);
    Container c = pod.getSpec().getContainers().get(0);
    assertThat(c.getImage()).startsWith("iiot/" + service + ":");

    ServiceConfig config = effectiveConfig(overlay, service, c);
    int httpPort = config.port("http.port");

    // Probes on the service's real HTTP port and paths.
    assertThat(probe(c, c.getLivenessProbe(), "liveness")).isEqualTo(new PathPort("/health/live", httpPort));
    assertThat(probe(c, c.getReadinessProbe(), "readiness")).isEqualTo(new PathPort("/health/ready", httpPort));
    if (c.getStartupProbe() != null) {
      assertThat(probe(c, c.getStartupProbe(), "startup")).isEqualTo(new PathPort("/health/live", httpPort));
    }
    // Prometheus scrapes /metrics on the same port.
    assertThat(pod.getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true")
        .containsEntry("prometheus.io/path", "/metrics")
        .containsEntry("prometheus.io/port", Integer.toString(httpPort));

    // Container ports: exactly the README's ports of this service (with their protocols), and every *port key the
    // service's effective config has (so a port key added to <service>.yaml must show up here).
    Set<String> containerPorts = new TreeSet<>();
    for (ContainerPort p : c.getPorts()) {
      containerPorts.add(p.getContainerPort() + "/" + protocol(p.getProtocol()));
    }
    Set<String> readmePorts = new TreeSet<>();
    for (PortTable.Entry e : PortTable.read(home().resolve("README.md")).of(service)) {
      readmePorts.add(e.port() + "/" + e.protocol());
    }
    assertThat(containerPorts).as("container ports of %s vs. the README port table", service)
        .isEqualTo(readmePorts);
    Set<Integer> containerNumbers = new TreeSet<>(c.getPorts().stream().map(ContainerPort::getContainerPort).toList());
    for (String key : config.keys()) {
      if (isPortKey(key)) {
        int port = config.integer(key, 0, 65535);
        if (port != 0) { // 0 switches a listener off
          assertThat(containerNumbers).as("container port for config key %s of %s", key, service).contains(port);
        }
      }
    }

    // Services: selector matches the pods, every targetPort is a container port with the same protocol, and
    // together they expose every container port.
    List<Service> services = overlay.all(Service.class).stream()
        .filter(s -> selects(s.getSpec().getSelector(), pod.getMetadata().getLabels())).toList();
    assertThat(services).as("Services selecting %s", service).isNotEmpty();
    Set<String> exposed = new TreeSet<>();
    for (Service s : services) {
      for (ServicePort sp : s.getSpec().getPorts()) {
        ContainerPort target = containerPort(c, sp.getTargetPort() == null ? new IntOrString(sp.getPort())
            : sp.getTargetPort(), protocol(sp.getProtocol()));
        assertThat(target).as("target of Service %s port %s", s.getMetadata().getName(), sp.getName()).isNotNull();
        exposed.add(target.getContainerPort() + "/" + protocol(target.getProtocol()));
      }
    }
    assertThat(exposed).as("ports exposed by Services of %s", service).isEqualTo(containerPorts);
    // Outside the cluster only the public surfaces: not the ops HTTP port (metrics) nor an internal gRPC API.
    Set<Integer> internal = new TreeSet<>();
    for (PortTable.Entry e : PortTable.read(home().resolve("README.md")).of(service)) {
      if (e.what().contains("internal") || e.what().contains("/health")) {
        internal.add(e.port());
      }
    }
    assertThat(internal).as("README rows of %s marked internal or ops", service).isNotEmpty();
    for (Service s : services) {
      if ("LoadBalancer".equals(s.getSpec().getType()) || "NodePort".equals(s.getSpec().getType())) {
        for (ServicePort sp : s.getSpec().getPorts()) {
          ContainerPort target = containerPort(c, sp.getTargetPort() == null ? new IntOrString(sp.getPort())
              : sp.getTargetPort(), protocol(sp.getProtocol()));
          assertThat(internal).as("Service %s exposes port %s outside the cluster", s.getMetadata().getName(),
              sp.getName()).doesNotContain(target.getContainerPort());
        }
      }
    }

    // Disruption budget that lets a node drain (minAvailable below replicas).
    List<PodDisruptionBudget> pdbs = overlay.all(PodDisruptionBudget.class).stream()
        .filter(p -> selects(p.getSpec().getSelector().getMatchLabels(), pod.getMetadata().getLabels())).toList();
    assertThat(pdbs).as("PodDisruptionBudgets of %s", service).hasSize(1);
    assertThat(pdbs.get(0).getSpec().getMinAvailable().getIntVal()).isLessThan(deployment.getSpec().getReplicas());

    // Requests and limits for CPU and memory, requests not above limits.
    Map<String, Quantity> requests = c.getResources().getRequests();
    Map<String, Quantity> limits = c.getResources().getLimits();
    for (String r : List.of("cpu", "memory")) {
      assertThat(requests).containsKey(r);
      assertThat(limits).containsKey(r);
      assertThat(Quantity.getAmountInBytes(requests.get(r)))
          .isLessThanOrEqualTo(Quantity.getAmountInBytes(limits.get(r)));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"single-node", "production", "production-external"})
  void cassandraConnectionMatchesTheCassandraTheOverlayRuns(String overlayName) throws IOException {
    Overlay overlay = Overlay.build(overlayName);
    Optional<StatefulSet> cassandra = overlay.find(StatefulSet.class, "cassandra");
    for (String service : SERVICES) {
      Container c = overlay.get(Deployment.class, service).getSpec().getTemplate().getSpec().getContainers().get(0);
      // The services' own parser: rejects a bad replication spec, consistency or contact point.
      CassandraSettings settings = CassandraSettings.from(effectiveConfig(overlay, service, c));
      Map<String, Integer> replication = replication(settings.replication());
      switch (overlayName) {
        case "single-node" -> {
          assertThat(cassandra).get().extracting(s -> s.getSpec().getReplicas()).isEqualTo(1);
          assertThat(replication).containsExactly(Map.entry("SimpleStrategy", 1));
        }
        case "production", "production-external" -> {
          assertThat(cassandra.isPresent()).isEqualTo(overlayName.equals("production"));
          assertThat(replication).as("replication of %s", service)
              .containsExactly(Map.entry(settings.localDatacenter(), 3));
          assertThat(settings.consistency()).isEqualTo("LOCAL_QUORUM");
          assertThat(settings.contactPoints()).hasSizeGreaterThanOrEqualTo(3);
        }
        default -> throw new AssertionError(overlayName);
      }
      if (cassandra.isPresent()) {
        checkAgainstStatefulSet(overlay, cassandra.get(), settings, replication);
      }
    }
  }

  private static void checkAgainstStatefulSet(Overlay overlay, StatefulSet sts, CassandraSettings settings,
      Map<String, Integer> replication) {
    PodTemplateSpec pod = sts.getSpec().getTemplate();
    assertThat(pod.getSpec().getEnableServiceLinks()).isFalse();
    Container c = pod.getSpec().getContainers().get(0);
    Map<String, String> env = new LinkedHashMap<>();
    c.getEnv().forEach(e -> env.put(e.getName(), e.getValue()));
    // The official image: SimpleSnitch unless told otherwise; CASSANDRA_DC counts only with a DC-aware snitch.
    String dc = "GossipingPropertyFileSnitch".equals(env.get("CASSANDRA_ENDPOINT_SNITCH"))
        ? env.get("CASSANDRA_DC") : "datacenter1";
    assertThat(settings.localDatacenter()).isEqualTo(dc);
    int nodes = sts.getSpec().getReplicas();
    replication.forEach((dcOrStrategy, rf) -> assertThat(rf).as("replication factor vs. nodes").isLessThanOrEqualTo(nodes));
    Service headless = overlay.get(Service.class, sts.getSpec().getServiceName());
    assertThat(headless.getSpec().getClusterIP()).isEqualTo("None");
    assertThat(selects(headless.getSpec().getSelector(), pod.getMetadata().getLabels())).isTrue();
    int cql = c.getPorts().stream().filter(p -> "cql".equals(p.getName())).findFirst().orElseThrow()
        .getContainerPort();
    Set<String> hosts = new HashSet<>();
    hosts.add(headless.getMetadata().getName());
    for (int i = 0; i < nodes; i++) {
      hosts.add(sts.getMetadata().getName() + "-" + i + "." + headless.getMetadata().getName());
    }
    for (InetSocketAddress p : settings.contactPoints()) {
      assertThat(hosts).as("contact point %s", p).contains(p.getHostString());
      assertThat(p.getPort()).isEqualTo(cql);
    }
    if (nodes > 1) {
      assertThat(overlay.all(PodDisruptionBudget.class)).anySatisfy(pdb -> {
        assertThat(selects(pdb.getSpec().getSelector().getMatchLabels(), pod.getMetadata().getLabels())).isTrue();
        assertThat(pdb.getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
      });
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"single-node", "production", "production-external"})
  void secretsTheManifestsDoNotDefineAreDocumented(String overlayName) throws IOException {
    Overlay overlay = Overlay.build(overlayName);
    String readme = Files.readString(k8s().resolve("README.md"));
    for (Deployment d : overlay.all(Deployment.class)) {
      for (Volume v : d.getSpec().getTemplate().getSpec().getVolumes()) {
        if (v.getSecret() != null && overlay.find(Secret.class, v.getSecret().getSecretName()).isEmpty()) {
          assertThat(readme).as("k8s/README.md explains the Secret %s", v.getSecret().getSecretName())
              .contains(v.getSecret().getSecretName());
          if (v.getSecret().getItems() != null) {
            v.getSecret().getItems().forEach(i -> assertThat(readme)
                .as("k8s/README.md names key %s of Secret %s", i.getKey(), v.getSecret().getSecretName())
                .contains(i.getKey()));
          }
        }
      }
      for (EnvVar e : d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
        var ref = e.getValueFrom() == null ? null : e.getValueFrom().getSecretKeyRef();
        if (ref != null && overlay.find(Secret.class, ref.getName()).isEmpty()) {
          assertThat(readme).as("k8s/README.md explains the Secret %s", ref.getName()).contains(ref.getName())
              .as("k8s/README.md names key %s of Secret %s", ref.getKey(), ref.getName()).contains(ref.getKey());
        }
      }
    }
  }

  /**
   * What a single process keeps to itself must be shared by all replicas, or two replicas disagree: platform-api's
   * page-token signing key (else a page token only works at the replica that issued it), resolver-node's server key
   * and admin secret (else each replica would publish its own HS_SITE key, replacing the other's at every start) and
   * its advertised address. Each must come from a Secret (or the ConfigMap) the replicas share, never from a value
   * generated per pod.
   */
  @ParameterizedTest
  @ValueSource(strings = {"single-node", "production", "production-external"})
  void replicasShareWhatASingleProcessWouldGenerate(String overlayName) throws IOException {
    Overlay overlay = Overlay.build(overlayName);

    Container api = overlay.get(Deployment.class, "platform-api").getSpec().getTemplate().getSpec().getContainers()
        .get(0);
    assertThat(requiredSecretRef(api, "platform-api", "api.page-token-key")).as("page-token key of platform-api")
        .isTrue();
    assertThat(effectiveConfig(overlay, "platform-api", api).optional("api.page-token-key"))
        .as("api.page-token-key").hasValueSatisfying(k -> assertThat(k).hasSizeGreaterThanOrEqualTo(32));

    Deployment resolverDeployment = overlay.get(Deployment.class, "resolver-node");
    Container resolver = resolverDeployment.getSpec().getTemplate().getSpec().getContainers().get(0);
    assertThat(requiredSecretRef(resolver, "resolver-node", "handle.admin-secret"))
        .as("admin secret of resolver-node").isTrue();
    ServiceConfig config = effectiveConfig(overlay, "resolver-node", resolver);
    Path keyFile = Path.of(config.optional("handle.server-key-file").orElseThrow(
        () -> new AssertionError("handle.server-key-file empty: every pod would generate its own server key")));
    VolumeMount mount = resolver.getVolumeMounts().stream()
        .filter(m -> Path.of(m.getMountPath()).equals(keyFile.getParent())).findFirst()
        .orElseThrow(() -> new AssertionError("no volume mounted where " + keyFile + " is"));
    Volume volume = resolverDeployment.getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
    assertThat(volume.getSecret()).as("the server key comes from a Secret").isNotNull();
    assertThat(volume.getSecret().getOptional()).as("the server key Secret is required").isNotEqualTo(Boolean.TRUE);
    assertThat(volume.getSecret().getItems()).as("items of the server key Secret")
        .anySatisfy(i -> assertThat(i.getPath()).isEqualTo(keyFile.getFileName().toString()));
    assertThat(java.net.InetAddress.getByName(config.string("handle.advertised-address")).isLoopbackAddress())
        .as("handle.advertised-address is where clients reach the node, not the pod's loopback").isFalse();
  }

  /** Whether the container sets {@code key} from a required (not optional) Secret key. */
  private static boolean requiredSecretRef(Container c, String service, String key) {
    Set<String> names = Set.of(ServiceConfig.envName(key), ServiceConfig.envName(service, key));
    return c.getEnv().stream().anyMatch(e -> names.contains(e.getName()) && e.getValueFrom() != null
        && e.getValueFrom().getSecretKeyRef() != null
        && !Boolean.TRUE.equals(e.getValueFrom().getSecretKeyRef().getOptional()));
  }

  @Test
  void strictParsingRejectsUnknownFieldsAndUnquotedStrings() throws IOException {
    Map<String, Object> typo = Kustomization.loadAll(k8s().resolve("base/platform-api.yaml")).stream()
        .filter(o -> "Deployment".equals(o.get("kind"))).findFirst().orElseThrow();
    Map<String, Object> container = container(typo);
    container.put("livenessProbes", container.remove("livenessProbe"));
    assertThatThrownBy(() -> KubernetesObjects.parse(typo)).hasMessageContaining("livenessProbes");

    Map<String, Object> unquoted = Kustomization.loadAll(k8s().resolve("base/platform-api.yaml")).stream()
        .filter(o -> "Deployment".equals(o.get("kind"))).findFirst().orElseThrow();
    podAnnotations(unquoted).put("prometheus.io/port", 8082);
    assertThatThrownBy(() -> KubernetesObjects.parse(unquoted)).hasMessageContaining("prometheus.io/port");

    Map<String, Object> unknownKind = new LinkedHashMap<>(Map.of("apiVersion", "v1", "kind", "Pod",
        "metadata", Map.of("name", "x")));
    assertThatThrownBy(() -> KubernetesObjects.parse(unknownKind)).hasMessageContaining("v1/Pod");
  }

  @Test
  void kustomizeSubsetRefusesWhatItDoesNotImplement() throws IOException {
    Files.writeString(tmp.resolve("kustomization.yaml"), "resources: []\nnamePrefix: x-\n");
    assertThatThrownBy(() -> Kustomization.build(tmp)).hasMessageContaining("namePrefix");
  }

  @Test
  void aConfigMapKeyTheServiceDoesNotHaveIsCaught() throws IOException {
    Overlay overlay = Overlay.build("single-node");
    ConfigMap cm = overlay.get(ConfigMap.class, "platform-api-config");
    cm.getData().put("platform-api.yaml", cm.getData().get("platform-api.yaml") + "mqtt:\n  port: 1883\n");
    Container c = overlay.get(Deployment.class, "platform-api").getSpec().getTemplate().getSpec().getContainers()
        .get(0);
    assertThatThrownBy(() -> effectiveConfig(overlay, "platform-api", c)).hasMessageContaining("mqtt.port");
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** One built overlay's typed objects. */
  record Overlay(String name, List<HasMetadata> objects) {
    static Overlay build(String name) throws IOException {
      return new Overlay(name, KubernetesObjects.parse(Kustomization.build(k8s().resolve("overlays").resolve(name))));
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
      return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> Optional<T> find(Class<T> type, String name) {
      return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst();
    }

    <T extends HasMetadata> T get(Class<T> type, String name) {
      return find(type, name).orElseThrow(() -> new AssertionError(
          "overlay " + this.name + " has no " + type.getSimpleName() + " " + name));
    }
  }

  record PathPort(String path, int port) {}

  /**
   * The configuration the service would run with in this pod: its bundled defaults read from the source tree, the
   * ConfigMap file named by CONFIG_FILE, and the pod's environment, through the services' own loader (which rejects a
   * file key the service does not have). Every variable the pod sets must be one of the service's config keys.
   */
  ServiceConfig effectiveConfig(Overlay overlay, String service, Container c) throws IOException {
    Map<String, String> env = new LinkedHashMap<>();
    for (EnvFromSource from : c.getEnvFrom()) {
      assertThat(from.getPrefix()).isNull();
      if (from.getConfigMapRef() != null) {
        env.putAll(overlay.get(ConfigMap.class, from.getConfigMapRef().getName()).getData());
      } else {
        env.putAll(secretData(overlay.get(Secret.class, from.getSecretRef().getName())));
      }
    }
    for (EnvVar e : c.getEnv()) {
      if (e.getValue() != null) {
        env.put(e.getName(), e.getValue());
      } else if (e.getValueFrom().getSecretKeyRef() != null) {
        var ref = e.getValueFrom().getSecretKeyRef();
        Optional<Secret> secret = overlay.find(Secret.class, ref.getName());
        if (secret.isEmpty()) {
          // A Secret kept out of git (secretsTheManifestsDoNotDefineAreDocumented): its value is only known in the
          // cluster, so the variable is checked with a stand-in of the size a real key has.
          if (!Boolean.TRUE.equals(ref.getOptional())) {
            env.put(e.getName(), SECRET_STAND_IN);
          }
          continue;
        }
        Map<String, String> data = secretData(secret.get());
        assertThat(data).as("Secret %s", ref.getName()).containsKey(ref.getKey());
        env.put(e.getName(), data.get(ref.getKey()));
      } else if (e.getValueFrom().getConfigMapKeyRef() != null) {
        var ref = e.getValueFrom().getConfigMapKeyRef();
        Map<String, String> data = overlay.get(ConfigMap.class, ref.getName()).getData();
        assertThat(data).as("ConfigMap %s", ref.getName()).containsKey(ref.getKey());
        env.put(e.getName(), data.get(ref.getKey()));
      } else {
        throw new AssertionError("unsupported valueFrom for " + e.getName());
      }
    }
    String configFile = env.get("CONFIG_FILE");
    assertThat(configFile).as("CONFIG_FILE of %s", service).isNotNull();
    Path mounted = Path.of(configFile);
    VolumeMount mount = c.getVolumeMounts().stream()
        .filter(m -> Path.of(m.getMountPath()).equals(mounted.getParent())).findFirst()
        .orElseThrow(() -> new AssertionError("no volume mounted where CONFIG_FILE " + configFile + " points"));
    Volume volume = overlay.get(Deployment.class, service).getSpec().getTemplate().getSpec().getVolumes().stream()
        .filter(v -> v.getName().equals(mount.getName())).findFirst().orElseThrow();
    assertThat(volume.getConfigMap()).as("volume %s", volume.getName()).isNotNull();
    assertThat(volume.getConfigMap().getItems()).isNullOrEmpty();
    Map<String, String> files = overlay.get(ConfigMap.class, volume.getConfigMap().getName()).getData();
    assertThat(files).as("ConfigMap %s", volume.getConfigMap().getName())
        .containsKey(mounted.getFileName().toString());
    Path file = tmp.resolve(overlay.name() + "-" + mounted.getFileName());
    Files.writeString(file, files.get(mounted.getFileName().toString()), StandardCharsets.UTF_8);
    env.put("CONFIG_FILE", file.toString());

    ServiceConfig config;
    try (URLClassLoader sources = new URLClassLoader(
        new URL[] {home().resolve(service).resolve("src/main/resources/").toUri().toURL()}, null)) {
      config = ServiceConfig.load(service, env, sources);
    }
    Set<String> known = new LinkedHashSet<>(List.of("CONFIG_FILE", ServiceConfig.envName(service, "config-file")));
    known.addAll(NON_CONFIG_ENV);
    for (String key : config.keys()) {
      known.add(ServiceConfig.envName(key));
      known.add(ServiceConfig.envName(service, key));
    }
    Set<String> unknown = new TreeSet<>(env.keySet());
    unknown.removeAll(known);
    assertThat(unknown).as("environment variables of %s that are none of its config keys", service).isEmpty();
    return config;
  }

  private static boolean isPortKey(String key) {
    String last = key.substring(key.lastIndexOf('.') + 1);
    return last.equals("port") || last.endsWith("-port");
  }

  private static Map<String, String> secretData(Secret s) {
    Map<String, String> out = new LinkedHashMap<>();
    if (s.getData() != null) {
      s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (s.getStringData() != null) {
      out.putAll(s.getStringData());
    }
    return out;
  }

  private static PathPort probe(Container c, Probe probe, String what) {
    assertThat(probe).as("%s probe of %s", what, c.getName()).isNotNull();
    HTTPGetAction get = probe.getHttpGet();
    assertThat(get).as("%s probe of %s is an HTTP GET", what, c.getName()).isNotNull();
    ContainerPort port = containerPort(c, get.getPort(), "TCP");
    assertThat(port).as("%s probe port %s of %s", what, get.getPort(), c.getName()).isNotNull();
    return new PathPort(get.getPath(), port.getContainerPort());
  }

  private static ContainerPort containerPort(Container c, IntOrString ref, String protocol) {
    for (ContainerPort p : c.getPorts()) {
      boolean match = ref.getStrVal() != null ? ref.getStrVal().equals(p.getName())
          : ref.getIntVal().equals(p.getContainerPort());
      if (match && protocol(p.getProtocol()).equals(protocol)) {
        return p;
      }
    }
    return null;
  }

  private static String protocol(String p) {
    return p == null ? "TCP" : p;
  }

  private static boolean selects(Map<String, String> selector, Map<String, String> labels) {
    return selector != null && !selector.isEmpty() && labels.entrySet().containsAll(selector.entrySet());
  }

  /** {@code {'class': 'NetworkTopologyStrategy', 'dc1': 3}} as dc1=3; SimpleStrategy as SimpleStrategy=rf. */
  private static Map<String, Integer> replication(String cql) {
    Map<String, Integer> out = new LinkedHashMap<>();
    Matcher simple = Pattern.compile("'SimpleStrategy', 'replication_factor': (\\d+)").matcher(cql);
    if (simple.find()) {
      out.put("SimpleStrategy", Integer.parseInt(simple.group(1)));
      return out;
    }
    Matcher dc = Pattern.compile("'([^']+)': (\\d+)").matcher(cql);
    while (dc.find()) {
      out.put(dc.group(1), Integer.parseInt(dc.group(2)));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> container(Map<String, Object> deployment) {
    Map<String, Object> template = (Map<String, Object>) ((Map<String, Object>) deployment.get("spec")).get("template");
    List<Object> containers = (List<Object>) ((Map<String, Object>) template.get("spec")).get("containers");
    return (Map<String, Object>) containers.get(0);
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> podAnnotations(Map<String, Object> deployment) {
    Map<String, Object> template = (Map<String, Object>) ((Map<String, Object>) deployment.get("spec")).get("template");
    return (Map<String, Object>) ((Map<String, Object>) template.get("metadata")).get("annotations");
  }

}
