package io.iiot.devicehub.query;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.DriverException;
import com.google.protobuf.Timestamp;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.iiot.devicehub.domain.Device;
import io.iiot.devicehub.domain.TelemetryRow;
import io.iiot.device.v1.AggregateTelemetryRequest;
import io.iiot.device.v1.AggregateTelemetryResponse;
import io.iiot.device.v1.QueryTelemetryRequest;
import io.iiot.device.v1.QueryTelemetryResponse;
import io.iiot.device.v1.StreamGap;
import io.iiot.device.v1.StreamTelemetryEvent;
import io.iiot.device.v1.StreamTelemetryRequest;
import io.iiot.device.v1.TelemetryAggregate;
import io.iiot.device.v1.TelemetryPoint;
import io.iiot.device.v1.TelemetryQueryServiceGrpc;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/**
 * {@code iiot.device.v1.TelemetryQueryService} (see telemetry.proto). History and aggregates read Cassandra on gRPC's
 * executor threads (blocking there, never on an event loop); aggregation happens here, next to the data, so only the
 * buckets travel to platform-api. The live stream takes points from {@link LiveTelemetry} and writes them only while
 * the call is ready (HTTP/2 flow control); a {@link StreamPump} per call serialises the writes.
 */
public final class TelemetryQueryGrpcService extends TelemetryQueryServiceGrpc.TelemetryQueryServiceImplBase {
  static final int DEFAULT_PAGE = 1000;
  static final int MAX_PAGE = 10_000;
  static final int MAX_BUCKETS = 10_000;
  static final Duration MAX_RANGE = Duration.ofDays(366);

  private final TelemetryStore store;
  private final LiveTelemetry live;
  private final int streamBuffer;
  private final Executor pumpExecutor;

  /**
   * @param streamBuffer points queued per live stream before new ones are dropped for it
   * @param pumpExecutor runs stream writes; each call's writes are serialised on it
   */
  public TelemetryQueryGrpcService(CqlSession session, String keyspace, LiveTelemetry live, int streamBuffer,
      Executor pumpExecutor) {
    this.store = new TelemetryStore(session, keyspace, 5000);
    this.live = live;
    this.streamBuffer = streamBuffer;
    this.pumpExecutor = pumpExecutor;
  }

  @Override
  public void queryTelemetry(QueryTelemetryRequest req, StreamObserver<QueryTelemetryResponse> out) {
    respond(out, () -> {
      String[] device = QueryErrors.device("device", req.getDevice());
      Instant start = time(req.getStartTime(), "start_time");
      Instant end = time(req.getEndTime(), "end_time");
      checkRange(start, end);
      int size = req.getPageSize() < 0 ? -1 : req.getPageSize() == 0 ? DEFAULT_PAGE
          : Math.min(req.getPageSize(), MAX_PAGE);
      if (size < 0) {
        throw QueryErrors.invalid("page_size", "must not be negative");
      }
      String binding = binding(req.getDevice(), start, end, req.getMetricsList());
      Instant from = req.getPageToken().isEmpty() ? start : afterToken(req.getPageToken(), binding);
      Set<String> metrics = Set.copyOf(req.getMetricsList());
      List<TelemetryRow> page = new ArrayList<>();
      boolean[] more = {false};
      store.scan(device[0], device[1], from, end, m -> metrics.isEmpty() || metrics.contains(m), row -> {
        if (page.size() < size) {
          page.add(row);
          return true;
        }
        more[0] = true;
        // Pages end on a whole timestamp, so the next page can start strictly after the last one.
        int keep = page.size();
        while (keep > 0 && page.get(keep - 1).ts().equals(row.ts())) {
          keep--;
        }
        if (keep == 0) { // one timestamp with more metrics than page_size: that page holds all of it
          page.add(row);
          return true;
        }
        page.subList(keep, page.size()).clear();
        return false;
      });
      QueryTelemetryResponse.Builder b = QueryTelemetryResponse.newBuilder();
      page.forEach(r -> b.addPoints(point(r)));
      if (more[0] && !page.isEmpty()) {
        b.setNextPageToken(token(page.get(page.size() - 1).ts(), binding));
      }
      return b.build();
    });
  }

  @Override
  public void aggregateTelemetry(AggregateTelemetryRequest req, StreamObserver<AggregateTelemetryResponse> out) {
    respond(out, () -> {
      String[] device = QueryErrors.device("device", req.getDevice());
      Instant start = time(req.getStartTime(), "start_time");
      Instant end = time(req.getEndTime(), "end_time");
      checkRange(start, end);
      Duration interval = Duration.ofSeconds(req.getInterval().getSeconds(), req.getInterval().getNanos());
      if (interval.compareTo(Duration.ofSeconds(1)) < 0) {
        throw QueryErrors.invalid("interval", "must be at least 1s");
      }
      long buckets = (Duration.between(start, end).toMillis() + interval.toMillis() - 1) / interval.toMillis();
      if (buckets > MAX_BUCKETS) {
        throw QueryErrors.invalid("interval", "the range holds " + buckets + " intervals; at most " + MAX_BUCKETS);
      }
      Set<String> metrics = Set.copyOf(req.getMetricsList());
      Aggregation agg = new Aggregation(start, interval);
      long scanned = store.scan(device[0], device[1], start, end, m -> metrics.isEmpty() || metrics.contains(m),
          row -> {
            agg.add(row.ts(), row.metric(), row.number());
            return true;
          });
      AggregateTelemetryResponse.Builder b = AggregateTelemetryResponse.newBuilder().setRowsScanned(scanned);
      for (Aggregation.Result r : agg.results()) {
        b.addAggregates(TelemetryAggregate.newBuilder().setMetric(r.metric()).setStartTime(ts(r.start()))
            .setCount(r.count()).setMin(r.min()).setMax(r.max()).setAvg(r.avg()).setNumericCount(r.numericCount()));
      }
      return b.build();
    });
  }

  @Override
  public void streamTelemetry(StreamTelemetryRequest req, StreamObserver<StreamTelemetryEvent> out) {
    ServerCallStreamObserver<StreamTelemetryEvent> call = (ServerCallStreamObserver<StreamTelemetryEvent>) out;
    String tenant;
    try {
      tenant = QueryErrors.tenant("parent", req.getParent());
      for (int i = 0; i < req.getDevicesCount(); i++) {
        if (!Device.ID.matcher(req.getDevices(i)).matches()) {
          throw QueryErrors.invalid("devices[" + i + "]", "not a device id: '" + req.getDevices(i) + "'");
        }
      }
    } catch (StatusRuntimeException e) {
      out.onError(e);
      return;
    }
    StreamPump pump = new StreamPump(call, pumpExecutor);
    var sub = live.subscribe(tenant, Set.copyOf(req.getDevicesList()), Set.copyOf(req.getMetricsList()),
        streamBuffer, pump::signal);
    if (sub.isEmpty()) {
      out.onError(Status.RESOURCE_EXHAUSTED.withDescription("too many live telemetry streams on this device-hub"
          + " replica (query.stream-max-subscribers)").asRuntimeException());
      return;
    }
    call.setOnCancelHandler(sub.get()::close);
    call.setOnCloseHandler(sub.get()::close);
    pump.start(sub.get());
  }

  static TelemetryPoint point(TelemetryRow r) {
    TelemetryPoint.Builder p = TelemetryPoint.newBuilder()
        .setDevice("tenants/" + r.tenant() + "/devices/" + r.deviceId()).setMetric(r.metric()).setTime(ts(r.ts()));
    if (r.number() != null) {
      p.setNumber(r.number());
    } else {
      p.setText(r.text());
    }
    return p.build();
  }

  static StreamTelemetryEvent event(LiveTelemetry.Event e) {
    if (e instanceof LiveTelemetry.Point p) {
      return StreamTelemetryEvent.newBuilder().setPoint(point(p.row())).build();
    }
    return StreamTelemetryEvent.newBuilder()
        .setGap(StreamGap.newBuilder().setDroppedPoints(((LiveTelemetry.Gap) e).droppedPoints())).build();
  }

  private static Timestamp ts(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  private static Instant time(Timestamp t, String field) {
    if (t.getSeconds() <= 0 && t.getNanos() == 0) {
      throw QueryErrors.invalid(field, "required");
    }
    if (t.getNanos() < 0 || t.getNanos() > 999_999_999) {
      throw QueryErrors.invalid(field, "nanos out of range");
    }
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  private static void checkRange(Instant start, Instant end) {
    if (!end.isAfter(start)) {
      throw QueryErrors.invalid("end_time", "must be after start_time");
    }
    if (Duration.between(start, end).compareTo(MAX_RANGE) > 0) {
      throw QueryErrors.invalid("end_time", "at most 366 days after start_time");
    }
  }

  private static String binding(String device, Instant start, Instant end, List<String> metrics) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest((device + "|" + start + "|" + end + "|"
          + String.join(",", metrics)).getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** "{last timestamp millis}.{binding}", base64url: the next page starts after that timestamp. */
  private static String token(Instant last, String binding) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString((last.toEpochMilli() + "." + binding)
        .getBytes(StandardCharsets.UTF_8));
  }

  private static Instant afterToken(String token, String binding) {
    try {
      String[] s = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split("\\.", 2);
      if (s.length == 2 && s[1].equals(binding)) {
        return Instant.ofEpochMilli(Long.parseLong(s[0]) + 1);
      }
    } catch (IllegalArgumentException e) {
      // falls through to the error below
    }
    throw QueryErrors.invalid("page_token", "not a token of this query (device, range and metrics must not change)");
  }

  private static <T> void respond(StreamObserver<T> out, Supplier<T> call) {
    T result;
    try {
      result = call.get();
    } catch (StatusRuntimeException e) {
      out.onError(e);
      return;
    } catch (DriverException e) {
      out.onError(Status.UNAVAILABLE.withDescription("Cassandra did not answer: " + e.getMessage())
          .asRuntimeException());
      return;
    } catch (RuntimeException e) {
      out.onError(Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
      return;
    }
    out.onNext(result);
    out.onCompleted();
  }
}
