package io.iiot.platform.domain;

import com.google.rpc.Code;
import io.iiot.base.async.Failures;
import io.iiot.platform.v1.CredentialPolicy;
import io.iiot.platform.v1.Credentials;
import io.iiot.platform.v1.Machine;
import io.iiot.platform.v1.MachineResult;
import io.iiot.platform.v1.OnboardDevicesResponse;
import io.iiot.platform.v1.OnboardingTemplate;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One-call onboarding of a batch of machines from a template, in two steps per machine: identifier (resolver-node),
 * then device with credentials (device-hub). Machines go in chunks of {@value #CHUNK}, pipelined: one chunk's devices
 * are created while later chunks' identifiers are registered.
 *
 * <p>Policy on partial failure: <b>compensate</b>. A machine whose device cannot be created has its identifier deleted
 * again, so every machine ends either fully onboarded or not at all. The rows are validated together first; one bad
 * row rejects the whole call before anything is written.
 */
public final class Onboarder {
  private static final SecureRandom RANDOM = new SecureRandom();
  /** 128 bits: below this a generated secret is hashed as slowly as a supplied password. */
  private static final int MIN_RANDOM_SECRET_BYTES = 16;
  /** Machines per pipelined chunk: one BatchRegisterIdentifiers, then that chunk's device batches. */
  static final int CHUNK = 1000;
  /** Identifier registrations running at once (resolver-node spreads each over its own writers). */
  static final int REGISTRATIONS_IN_FLIGHT = 2;
  private final IdentifierRegistry identifiers;
  private final DeviceDirectory devices;
  private final String mqttUri;
  private final String coapUri;

  /** {@code mqttUri} and {@code coapUri} are what devices should connect to, e.g. {@code mqtts://hub:8883}. */
  public Onboarder(IdentifierRegistry identifiers, DeviceDirectory devices, String mqttUri, String coapUri) {
    this.identifiers = identifiers;
    this.devices = devices;
    this.mqttUri = mqttUri;
    this.coapUri = coapUri;
  }

  public CompletionStage<OnboardDevicesResponse> onboard(String tenant, String handlePrefix,
      OnboardingTemplate template, List<Machine> machines) {
    List<FieldViolation> bad = new ArrayList<>(MachineRows.check(template, machines));
    if (template.getCredentialPolicy().getType() == CredentialPolicy.Type.X509_CERTIFICATE) {
      // Certificates need issuance from a CA (CSR per device); generating a password would silently change the policy.
      bad.add(new FieldViolation("template", "templates with X509_CERTIFICATE credentials cannot be onboarded yet:"
          + " certificate issuance is not available; use a PASSWORD or DTLS_PSK template"));
    }
    if (!bad.isEmpty()) {
      return CompletableFuture.failedFuture(new InvalidRequestException(bad));
    }
    List<IdentifierRegistry.NewIdentifier> ids = new ArrayList<>(machines.size());
    for (Machine m : machines) {
      ids.add(new IdentifierRegistry.NewIdentifier(handlePrefix + "/" + m.getMachineId(), m.getIdentifierValuesMap()));
    }
    // Pipelined chunks: while device-hub creates one chunk's devices, resolver-node registers the next chunks'
    // identifiers, so the call takes about as long as the slower back end rather than both one after the other.
    // Within a chunk the order stays identifier first, then device, and compensation is per chunk.
    MachineResult[] results = new MachineResult[machines.size()];
    List<CompletableFuture<Void>> registered = new ArrayList<>();
    List<CompletableFuture<Void>> finished = new ArrayList<>();
    for (int from = 0; from < machines.size(); from += CHUNK) {
      int start = from;
      int end = Math.min(machines.size(), from + CHUNK);
      CompletableFuture<Void> gate = registered.size() < REGISTRATIONS_IN_FLIGHT
          ? CompletableFuture.completedFuture(null) : registered.get(registered.size() - REGISTRATIONS_IN_FLIGHT);
      CompletableFuture<List<RowOutcome>> idOutcomes = gate.thenCompose(v -> identifiers.register(template,
          ids.subList(start, end)).toCompletableFuture());
      registered.add(idOutcomes.handle((v, e) -> null));
      finished.add(idOutcomes.handle((outcomes, err) -> onboardChunk(tenant, handlePrefix, template,
          machines.subList(start, end), ids.subList(start, end), outcomes, err)).thenCompose(f -> f)
          .thenAccept(chunk -> System.arraycopy(chunk, 0, results, start, chunk.length)));
    }
    return CompletableFuture.allOf(finished.toArray(CompletableFuture[]::new)).thenApply(v -> response(results));
  }

  /** Devices of one chunk whose identifiers were registered (or failed with {@code err}); results in row order. */
  private CompletionStage<MachineResult[]> onboardChunk(String tenant, String handlePrefix,
      OnboardingTemplate template, List<Machine> machines, List<IdentifierRegistry.NewIdentifier> ids,
      List<RowOutcome> idOutcomes, Throwable err) {
    if (err != null) {
      // Unknown how far the registry got: remove every identifier of the chunk (deleting a missing one is a no-op).
      List<String> allHandles = ids.stream().map(IdentifierRegistry.NewIdentifier::handle).toList();
      List<Integer> everyRow = java.util.stream.IntStream.range(0, machines.size()).boxed().toList();
      return compensate(allHandles, everyRow, machines,
          allFailed(machines, "identifier registration failed: " + cause(err)));
    }
    return createDevices(tenant, handlePrefix, template, machines, ids, idOutcomes);
  }

  private CompletionStage<MachineResult[]> createDevices(String tenant, String handlePrefix,
      OnboardingTemplate template, List<Machine> machines, List<IdentifierRegistry.NewIdentifier> ids,
      List<RowOutcome> idOutcomes) {
    List<Integer> withId = new ArrayList<>();
    List<DeviceDirectory.NewDevice> toCreate = new ArrayList<>();
    for (int i = 0; i < machines.size(); i++) {
      if (idOutcomes.get(i).ok()) {
        withId.add(i);
        toCreate.add(newDevice(tenant, template.getCredentialPolicy(), machines.get(i)));
      }
    }
    CompletionStage<List<RowOutcome>> created = toCreate.isEmpty()
        ? CompletableFuture.completedFuture(List.of())
        : devices.createDevices(tenant, template.getDeviceProfile(), toCreate);
    return created.handle((devOutcomes, err) -> {
      MachineResult[] results = new MachineResult[machines.size()];
      List<String> orphans = new ArrayList<>();
      List<Integer> orphanRows = new ArrayList<>();
      for (int i = 0; i < machines.size(); i++) {
        if (!idOutcomes.get(i).ok()) {
          results[i] = failed(machines.get(i), Code.ABORTED,
              "identifier not registered: " + idOutcomes.get(i).failure().get());
        }
      }
      for (int k = 0; k < withId.size(); k++) {
        int i = withId.get(k);
        Machine m = machines.get(i);
        if (err == null && devOutcomes.get(k).ok()) {
          results[i] = onboarded(tenant, handlePrefix, template, m, toCreate.get(k));
        } else {
          orphans.add(ids.get(i).handle());
          orphanRows.add(i);
          String why = err == null ? devOutcomes.get(k).failure().get() : "device-hub failed: " + cause(err);
          results[i] = failed(m, err == null ? Code.ABORTED : Code.UNAVAILABLE, "device not created: " + why);
        }
      }
      if (err != null) {
        // Some devices may exist although the call failed: remove them too.
        List<String> deviceIds = toCreate.stream().map(DeviceDirectory.NewDevice::deviceId).toList();
        return devices.deleteDevices(tenant, deviceIds).handle((v, e) -> e).thenCompose(e -> {
          if (e == null) {
            return compensate(orphans, orphanRows, machines, results);
          }
          // Whether the devices exist is unknown, so the identifiers stay and each row says so.
          for (int i : orphanRows) {
            results[i] = failed(machines.get(i), Code.INTERNAL, results[i].getStatus().getMessage()
                + "; outcome unknown: the device may exist and could not be removed (" + cause(e)
                + "); identifier " + ids.get(i).handle() + " kept");
          }
          return CompletableFuture.completedFuture(results);
        });
      }
      return compensate(orphans, orphanRows, machines, results);
    }).thenCompose(f -> f);
  }

  /**
   * Removes the identifiers of machines that failed, then answers. If removal itself fails, those rows say so:
   * their identifier may remain without a device.
   */
  private CompletionStage<MachineResult[]> compensate(List<String> handles, List<Integer> rows,
      List<Machine> machines, MachineResult[] results) {
    if (handles.isEmpty()) {
      return CompletableFuture.completedFuture(results);
    }
    return identifiers.delete(handles).handle((v, err) -> {
      for (int i : rows) {
        MachineResult r = results[i];
        results[i] = err == null
            ? failed(machines.get(i), Code.forNumber(r.getStatus().getCode()),
                r.getStatus().getMessage() + "; its identifier was removed again")
            : failed(machines.get(i), Code.INTERNAL, r.getStatus().getMessage()
                + "; removing its identifier failed too (" + cause(err) + "), so it may remain registered");
      }
      return results;
    });
  }

  private static MachineResult[] allFailed(List<Machine> machines, String why) {
    MachineResult[] out = new MachineResult[machines.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = failed(machines.get(i), Code.UNAVAILABLE, why);
    }
    return out;
  }

  private static String cause(Throwable err) {
    Throwable e = Failures.cause(err);
    return String.valueOf(e.getMessage());
  }

  private DeviceDirectory.NewDevice newDevice(String tenant, CredentialPolicy policy, Machine m) {
    boolean generated = m.getSuppliedSecret().isEmpty();
    String secret = generated ? generateSecret(policy.getSecretBytes()) : m.getSuppliedSecret();
    return new DeviceDirectory.NewDevice(m.getMachineId(), m.getDisplayName(), m.getLabelsMap(), policy.getType(),
        m.getMachineId() + "@" + tenant, secret, generated && policy.getSecretBytes() >= MIN_RANDOM_SECRET_BYTES);
  }

  static String generateSecret(int bytes) {
    byte[] b = new byte[bytes];
    RANDOM.nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private MachineResult onboarded(String tenant, String prefix, OnboardingTemplate template, Machine m,
      DeviceDirectory.NewDevice d) {
    return MachineResult.newBuilder()
        .setMachineId(m.getMachineId())
        .setStatus(com.google.rpc.Status.newBuilder().setCode(Code.OK_VALUE))
        .setIdentifier(prefix + "/" + m.getMachineId())
        .setDevice("tenants/" + tenant + "/devices/" + m.getMachineId())
        .setCredentials(Credentials.newBuilder().setType(credentialType(template.getCredentialPolicy().getType()))
            .setAuthId(d.authId()).setSecret(d.secret()))
        .setMqttUri(mqttUri)
        .setCoapUri(coapUri)
        .build();
  }

  /** Longest per-machine failure message: 10,000 results must stay well under gRPC's default 4 MiB. */
  static final int MAX_MESSAGE = 300;

  private static MachineResult failed(Machine m, Code code, String why) {
    String message = why.length() <= MAX_MESSAGE ? why : why.substring(0, MAX_MESSAGE - 1) + "…";
    return MachineResult.newBuilder().setMachineId(m.getMachineId())
        .setStatus(com.google.rpc.Status.newBuilder().setCode(code.getNumber()).setMessage(message)).build();
  }

  private static OnboardDevicesResponse response(MachineResult[] results) {
    OnboardDevicesResponse.Builder b = OnboardDevicesResponse.newBuilder();
    int ok = 0;
    for (MachineResult r : results) {
      b.addResults(r);
      if (r.getStatus().getCode() == Code.OK_VALUE) {
        ok++;
      }
    }
    return b.setOnboardedCount(ok).setFailedCount(results.length - ok).build();
  }

  static String credentialType(CredentialPolicy.Type t) {
    return switch (t) {
      case PASSWORD -> "password";
      case DTLS_PSK -> "dtls-psk";
      case X509_CERTIFICATE -> "x509";
      default -> throw new IllegalArgumentException("credential type " + t);
    };
  }
}
