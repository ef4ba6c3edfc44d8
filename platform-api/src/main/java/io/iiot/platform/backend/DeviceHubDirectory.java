package io.iiot.platform.backend;

import com.google.protobuf.ByteString;
import com.google.rpc.BadRequest;
import com.google.rpc.ResourceInfo;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.iiot.device.v1.BatchCreateDevicesRequest;
import io.iiot.device.v1.BatchDeleteDevicesRequest;
import io.iiot.device.v1.CreateDeviceRequest;
import io.iiot.device.v1.Credential;
import io.iiot.device.v1.Device;
import io.iiot.device.v1.DeviceServiceGrpc;
import io.iiot.device.v1.Metric;
import io.iiot.device.v1.PutDeviceProfileRequest;
import io.iiot.device.v1.PutTenantRequest;
import io.iiot.device.v1.Tenant;
import io.iiot.platform.domain.DeviceDirectory;
import io.iiot.platform.domain.RowOutcome;
import io.iiot.platform.v1.CredentialPolicy;
import io.iiot.platform.v1.DeviceProfile;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@link DeviceDirectory} over device-hub's {@code iiot.device.v1.DeviceService}.
 *
 * <p>device-hub's BatchCreateDevices is all-or-nothing after validation (at most 1000 devices). Onboarding needs
 * per-row outcomes, so a rejected batch is narrowed down: rows named by a BadRequest violation or an ALREADY_EXISTS
 * ResourceInfo fail, the rest is sent again. Blocking stub calls with deadlines run on {@code executor}, whose thread
 * count bounds how many batches are in flight.
 */
public final class DeviceHubDirectory implements DeviceDirectory {
  static final int MAX_BATCH = 1000;
  /** device-hub's longest DTLS pre-shared key. */
  static final int MAX_PSK_BYTES = 64;
  private static final Pattern ROW = Pattern.compile("requests\\[(\\d+)]");
  private final DeviceServiceGrpc.DeviceServiceBlockingStub stub;
  private final Executor executor;
  private final long deadlineMs;
  private final int parallelism;

  public DeviceHubDirectory(Channel channel, Executor executor, long deadlineMs) {
    this(channel, executor, deadlineMs, 1);
  }

  /** {@code parallelism}: the executor's thread count; a call is split in at least that many batches (of >= 25). */
  public DeviceHubDirectory(Channel channel, Executor executor, long deadlineMs, int parallelism) {
    this.stub = DeviceServiceGrpc.newBlockingStub(channel);
    this.executor = executor;
    this.deadlineMs = deadlineMs;
    this.parallelism = parallelism;
  }

  @Override
  public CompletionStage<List<RowOutcome>> createDevices(String tenant, DeviceProfile profile,
      List<NewDevice> devices) {
    // Chunks run in parallel on the executor (its thread count bounds how many batches are in flight). device-hub
    // hashes on a pool of its own and claims a call's ids in one Paxos round per claim partition, so fewer and
    // larger calls cost it less (device-hub.batch-concurrency).
    return CompletableFuture.runAsync(() -> putProfile(tenant, profile), executor).thenCompose(v -> {
      List<CompletableFuture<List<RowOutcome>>> chunks = new ArrayList<>();
      int size = Math.min(MAX_BATCH, Math.max(25, (devices.size() + parallelism - 1) / parallelism));
      for (int from = 0; from < devices.size(); from += size) {
        List<NewDevice> chunk = devices.subList(from, Math.min(devices.size(), from + size));
        chunks.add(CompletableFuture.supplyAsync(() -> createChunk(tenant, profile.getProfile(), chunk), executor));
      }
      return CompletableFuture.allOf(chunks.toArray(CompletableFuture[]::new)).thenApply(x -> {
        List<RowOutcome> out = new ArrayList<>(devices.size());
        chunks.forEach(c -> out.addAll(c.join()));
        return out;
      });
    });
  }

  @Override
  public CompletionStage<Void> deleteDevices(String tenant, List<String> deviceIds) {
    // BatchDeleteDevices skips missing devices and removes each one's credentials with it; a repeat is harmless.
    List<CompletableFuture<Void>> batches = new ArrayList<>();
    for (int from = 0; from < deviceIds.size(); from += MAX_BATCH) {
      List<String> ids = deviceIds.subList(from, Math.min(deviceIds.size(), from + MAX_BATCH));
      batches.add(CompletableFuture.runAsync(() -> stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS)
          .batchDeleteDevices(BatchDeleteDevicesRequest.newBuilder().setParent("tenants/" + tenant)
              .addAllDeviceIds(ids).build()), executor));
    }
    return CompletableFuture.allOf(batches.toArray(CompletableFuture[]::new));
  }

  private List<RowOutcome> createChunk(String tenant, String profile, List<NewDevice> chunk) {
    Map<Integer, RowOutcome> outcome = new LinkedHashMap<>();
    List<Integer> pending = new ArrayList<>();
    for (int i = 0; i < chunk.size(); i++) {
      pending.add(i);
    }
    while (!pending.isEmpty()) {
      BatchCreateDevicesRequest.Builder batch = BatchCreateDevicesRequest.newBuilder().setParent("tenants/" + tenant);
      for (int i : pending) {
        batch.addRequests(request(profile, chunk.get(i)));
      }
      try {
        stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).batchCreateDevices(batch.build());
        pending.forEach(i -> outcome.put(i, RowOutcome.OK));
        pending.clear();
      } catch (StatusRuntimeException e) {
        List<Integer> rejected = rejectedRows(e, pending, chunk);
        if (rejected.isEmpty()) {
          if (e.getStatus().getCode() == Status.Code.UNAVAILABLE
              || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED) {
            // Outcome unknown (device-hub may have written part of the batch): remove the batch's devices again.
            resolveUnknown(tenant, chunk, pending, outcome, e);
            pending.clear();
            continue;
          }
          throw e; // not attributable to rows: the whole call fails and the saga compensates
        }
        for (int i : rejected) {
          outcome.put(i, RowOutcome.failed(e.getStatus().getCode() + ": " + describe(e, pending.indexOf(i))));
        }
        pending.removeAll(rejected);
      }
    }
    List<RowOutcome> ordered = new ArrayList<>();
    for (int i = 0; i < chunk.size(); i++) {
      ordered.add(outcome.get(i));
    }
    return ordered;
  }

  /**
   * After an unknown outcome, removes the batch's devices again and fails their rows: device-hub writes a device's
   * credentials after the device, so one found to exist may lack them. Removal skips missing devices; if it fails
   * too, the outcome stays unknown and the whole call fails.
   */
  private void resolveUnknown(String tenant, List<NewDevice> chunk, List<Integer> pending,
      Map<Integer, RowOutcome> outcome, StatusRuntimeException cause) {
    try {
      stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).batchDeleteDevices(BatchDeleteDevicesRequest
          .newBuilder().setParent("tenants/" + tenant).addAllDeviceIds(pending.stream()
              .map(i -> chunk.get(i).deviceId()).toList()).build());
    } catch (StatusRuntimeException e) {
      throw cause; // still unknown: the whole call fails
    }
    for (int i : pending) {
      outcome.put(i, RowOutcome.failed("device-hub did not answer (" + cause.getStatus().getCode()
          + "); the device was removed again"));
    }
  }

  /** Chunk rows a rejection names; empty when it names none. */
  private static List<Integer> rejectedRows(StatusRuntimeException e, List<Integer> pending, List<NewDevice> chunk) {
    com.google.rpc.Status st = StatusProto.fromThrowable(e);
    List<Integer> rows = new ArrayList<>();
    if (st == null) {
      return rows;
    }
    for (com.google.protobuf.Any any : st.getDetailsList()) {
      try {
        if (e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT && any.is(BadRequest.class)) {
          for (BadRequest.FieldViolation v : any.unpack(BadRequest.class).getFieldViolationsList()) {
            Matcher m = ROW.matcher(v.getField());
            if (m.lookingAt() && Integer.parseInt(m.group(1)) < pending.size()) {
              Integer row = pending.get(Integer.parseInt(m.group(1)));
              if (!rows.contains(row)) {
                rows.add(row);
              }
            }
          }
        } else if (e.getStatus().getCode() == Status.Code.ALREADY_EXISTS && any.is(ResourceInfo.class)) {
          String name = any.unpack(ResourceInfo.class).getResourceName();
          for (int i : pending) {
            NewDevice d = chunk.get(i);
            if (name.endsWith("/devices/" + d.deviceId()) || name.startsWith(d.authId() + "@")
                || name.equals(d.authId())) {
              rows.add(i);
            }
          }
        }
      } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
        // a detail we cannot read names no row
      }
    }
    return rows;
  }

  private static String describe(StatusRuntimeException e, int batchIndex) {
    com.google.rpc.Status st = StatusProto.fromThrowable(e);
    if (st != null) {
      for (com.google.protobuf.Any any : st.getDetailsList()) {
        if (any.is(BadRequest.class)) {
          try {
            for (BadRequest.FieldViolation v : any.unpack(BadRequest.class).getFieldViolationsList()) {
              if (v.getField().startsWith("requests[" + batchIndex + "]")) {
                return v.getField().substring(v.getField().indexOf(']') + 1) + " " + v.getDescription();
              }
            }
          } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
            // fall back to the status message
          }
        }
      }
    }
    return String.valueOf(e.getStatus().getDescription());
  }

  private static CreateDeviceRequest request(String profile, NewDevice d) {
    int at = d.authId().lastIndexOf('@');
    Credential.Builder c = Credential.newBuilder().setAuthId(at > 0 ? d.authId().substring(0, at) : d.authId());
    CreateDeviceRequest.Builder r = CreateDeviceRequest.newBuilder().setDeviceId(d.deviceId())
        .setDevice(Device.newBuilder().setProfile(profile).setEnabled(true));
    ByteString psk = ByteString.copyFrom(d.secret(), StandardCharsets.UTF_8);
    if (d.credential() == CredentialPolicy.Type.DTLS_PSK) {
      r.addCredentials(c.setPsk(psk));
    } else {
      r.addCredentials(c.clone().setPassword(d.secret()).setGeneratedPassword(d.generatedSecret()));
      if (psk.size() <= MAX_PSK_BYTES) {
        // PASSWORD templates promise CoAP over DTLS with the same identity and secret as PSK.
        r.addCredentials(c.setPsk(psk));
      }
    }
    return r.build();
  }

  /**
   * Writes the template's telemetry schema as the tenant's device profile. The tenant is created (enabled, telemetry
   * kept forever) only if device-hub does not know it, so an existing tenant's settings are never replaced.
   */
  private void putProfile(String tenant, DeviceProfile profile) {
    io.iiot.device.v1.DeviceProfile.Builder p = io.iiot.device.v1.DeviceProfile.newBuilder()
        .setName("tenants/" + tenant + "/profiles/" + profile.getProfile());
    for (io.iiot.platform.v1.Metric m : profile.getMetricsList()) {
      p.addMetrics(Metric.newBuilder().setId(m.getId()).setName(m.getName())
          .setType(Metric.Type.forNumber(m.getTypeValue())).setUnit(m.getUnit()).setMin(m.getMin()).setMax(m.getMax())
          .setMaxLength(m.getMaxLength()));
    }
    PutDeviceProfileRequest req = PutDeviceProfileRequest.newBuilder().setProfile(p).build();
    try {
      stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).putDeviceProfile(req);
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
        throw e;
      }
      stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).putTenant(PutTenantRequest.newBuilder()
          .setTenant(Tenant.newBuilder().setName("tenants/" + tenant).setEnabled(true)).build());
      stub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).putDeviceProfile(req);
    }
  }
}
