package io.iiot.devicehub.ingest;

import io.iiot.base.async.Failures;
import io.iiot.devicehub.domain.AddressException;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.DeviceRef;
import io.iiot.devicehub.domain.Endpoint;
import io.iiot.devicehub.domain.PayloadException;
import io.iiot.devicehub.domain.PayloadMapper;
import io.iiot.devicehub.domain.PublishAddress;
import io.iiot.devicehub.domain.TelemetryRow;
import io.iiot.devicehub.domain.TelemetrySchema;
import io.iiot.devicehub.domain.Tenant;
import io.iiot.devicehub.storage.TelemetryWriter;
import io.iiot.devicehub.storage.WriterOverloadedException;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The transport-independent path of one message, shared by MQTT and CoAP:
 *
 * <pre>
 * address → target device (tenant check) → registry (device, gateway via, tenant TTL, schema; cached)
 *   → payload mapped and validated through the schema → TelemetryWriter → stage completes after the durable write
 * </pre>
 *
 * The returned stage fails with an {@link IngestException} saying why nothing was stored; it may complete on a driver
 * thread.
 */
public final class TelemetryIngest {
  private final RegistryCache cache;
  private final PayloadMapper mapper;
  private final TelemetryWriter writer;
  private final Clock clock;

  public TelemetryIngest(RegistryCache cache, PayloadMapper mapper, TelemetryWriter writer, Clock clock) {
    this.cache = cache;
    this.mapper = mapper;
    this.writer = writer;
    this.clock = clock;
  }

  public TelemetryWriter writer() {
    return writer;
  }

  /**
   * Stores one message.
   *
   * @param sender the authenticated device (a gateway when the address names another device)
   * @param qos 0 (at most once) or 1 (at least once); events need 1
   * @param contentType from the transport (MQTT 5 property, CoAP option); the address's property bag wins over it
   */
  public CompletionStage<Void> publish(DeviceRef sender, PublishAddress address, int qos, byte[] payload,
      String contentType) {
    DeviceRef target;
    try {
      target = address.target(sender);
    } catch (AddressException e) {
      return failed(IngestException.Kind.FORBIDDEN, e.getMessage());
    }
    if (address.endpoint() == Endpoint.EVENT && qos < 1) {
      return failed(IngestException.Kind.QOS_NOT_ALLOWED, "events must be sent at least once (QoS 1 / CON)");
    }
    if (payload.length > mapper.maxPayloadBytes()) {
      return failed(IngestException.Kind.TOO_LARGE,
          "payload of " + payload.length + " bytes exceeds the limit of " + mapper.maxPayloadBytes());
    }
    String type = address.contentType() != null ? address.contentType() : contentType;
    java.time.Instant receivedAt = clock.instant();
    CompletableFuture<Optional<Tenant>> tenant = cache.tenant(target.tenant());
    CompletableFuture<Optional<Device>> device = cache.device(target.tenant(), target.deviceId());
    if (cached(tenant) && cached(device)) {
      // The usual case, every look-up cached: checked and mapped right here, no chain of stages per message. A schema
      // not cached yet takes the stage path below (which finds the device's look-up done and shares the schema's).
      try {
        Device d = enabledDevice(device.join(), sender, target);
        CompletableFuture<Optional<TelemetrySchema>> schema = cache.schema(target.tenant(), d.profileId());
        if (cached(schema)) {
          return write(prepare(schema.join(), tenant.join(), d, payload, type, target, receivedAt));
        }
      } catch (RuntimeException e) {
        return CompletableFuture.failedFuture(classify(e));
      }
    }
    return device
        .thenCompose(dev -> {
          Device d = enabledDevice(dev, sender, target);
          return cache.schema(target.tenant(), d.profileId()).thenCombine(tenant,
              (schema, t) -> prepare(schema, t, d, payload, type, target, receivedAt));
        })
        .thenCompose(this::write)
        .exceptionally(err -> {
          throw classify(err);
        });
  }

  /** Completed with a value (a failed look-up takes the stage path, which classifies its error). */
  private static boolean cached(CompletableFuture<?> f) {
    return f.isDone() && !f.isCompletedExceptionally();
  }

  private static Device enabledDevice(Optional<Device> device, DeviceRef sender, DeviceRef target) {
    Device d = device.filter(Device::enabled).orElseThrow(() -> new IngestException(
        IngestException.Kind.NOT_FOUND, "device " + target + " is unknown or disabled"));
    if (!target.equals(sender) && !d.acceptsGateway(sender.deviceId())) {
      throw new IngestException(IngestException.Kind.FORBIDDEN,
          "gateway " + sender + " may not act for device " + target);
    }
    return d;
  }

  private Prepared prepare(Optional<TelemetrySchema> schema, Optional<Tenant> t, Device d, byte[] payload,
      String type, DeviceRef target, java.time.Instant receivedAt) {
    Tenant tn = t.filter(Tenant::enabled).orElseThrow(() -> new IngestException(
        IngestException.Kind.NOT_FOUND, "tenant " + target.tenant() + " is unknown or disabled"));
    TelemetrySchema s = schema.orElseThrow(() -> new IngestException(IngestException.Kind.NOT_FOUND,
        "device profile " + d.profileId() + " of " + target + " has no telemetry schema"));
    return new Prepared(rows(payload, type, s, target, receivedAt), tn);
  }

  /** The durable write of prepared rows; its failure classified. */
  private CompletionStage<Void> write(Prepared p) {
    return writer.write(p.rows(), p.tenant().telemetryTtl()).exceptionally(err -> {
      throw classify(err);
    });
  }

  private record Prepared(List<TelemetryRow> rows, Tenant tenant) {}

  private List<TelemetryRow> rows(byte[] payload, String type, TelemetrySchema schema, DeviceRef target,
      java.time.Instant receivedAt) {
    try {
      return mapper.map(payload, type, schema, target.tenant(), target.deviceId(), receivedAt);
    } catch (PayloadException e) {
      throw new IngestException(e.reason() == PayloadException.Reason.TOO_LARGE
          ? IngestException.Kind.TOO_LARGE : IngestException.Kind.BAD_PAYLOAD, e.getMessage());
    }
  }

  private static IngestException classify(Throwable err) {
    Throwable e = Failures.cause(err);
    if (e instanceof IngestException ie) {
      return ie;
    }
    if (e instanceof WriterOverloadedException) {
      return new IngestException(IngestException.Kind.OVERLOADED, e.getMessage());
    }
    return new IngestException(IngestException.Kind.UNAVAILABLE, "storage did not acknowledge: " + e.getMessage());
  }

  private static CompletionStage<Void> failed(IngestException.Kind kind, String message) {
    return CompletableFuture.failedFuture(new IngestException(kind, message));
  }
}
