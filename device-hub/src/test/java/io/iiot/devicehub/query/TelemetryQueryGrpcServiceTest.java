package io.iiot.devicehub.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Timestamp;
import com.google.rpc.BadRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.iiot.base.grpc.GrpcServer;
import io.iiot.base.ops.Metrics;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.device.v1.AggregateTelemetryRequest;
import io.iiot.device.v1.AggregateTelemetryResponse;
import io.iiot.device.v1.QueryTelemetryRequest;
import io.iiot.device.v1.QueryTelemetryResponse;
import io.iiot.device.v1.StreamTelemetryEvent;
import io.iiot.device.v1.StreamTelemetryRequest;
import io.iiot.device.v1.TelemetryAggregate;
import io.iiot.device.v1.TelemetryPoint;
import io.iiot.device.v1.TelemetryQueryServiceGrpc;
import io.iiot.devicehub.domain.TelemetryRow;
import io.iiot.devicehub.storage.CassandraTelemetryWriter;
import io.iiot.devicehub.storage.TestKeyspace;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * TelemetryQueryService on a real gRPC port over the embedded Cassandra node: rows go in through the same writer chain
 * ingest uses (Cassandra writer wrapped by the publishing hook), and come back as pages, aggregates and a live stream.
 */
@ExtendWith(EmbeddedCassandraExtension.class)
class TelemetryQueryGrpcServiceTest {
  private static final int BUFFER = 64;
  private static MeterRegistry registry;
  private static LiveTelemetry live;
  private static PublishingTelemetryWriter writer;
  private static GrpcServer server;
  private static ManagedChannel channel;
  private static TelemetryQueryServiceGrpc.TelemetryQueryServiceBlockingStub api;
  private final String tenant = "q" + UUID.randomUUID().toString().substring(0, 8);

  @BeforeAll
  static void start() {
    registry = Metrics.newRegistry("device-hub");
    live = new LiveTelemetry(4, registry);
    writer = new PublishingTelemetryWriter(new CassandraTelemetryWriter(TestKeyspace.session(), TestKeyspace.NAME,
        registry, 16, 100_000, 100), live);
    server = new GrpcServer("127.0.0.1", EmbeddedCassandraExtension.freePort(), registry, List.of(
        new TelemetryQueryGrpcService(TestKeyspace.session(), TestKeyspace.NAME, live, BUFFER,
            Executors.newFixedThreadPool(2)))).start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    api = TelemetryQueryServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    channel.shutdownNow();
    server.shutdown(1000);
  }

  /** Two metrics per second from {@code from}, {@code seconds} long. */
  private List<TelemetryRow> samples(String device, Instant from, int seconds) {
    List<TelemetryRow> rows = new ArrayList<>();
    for (int i = 0; i < seconds; i++) {
      Instant t = from.plusSeconds(i);
      rows.add(new TelemetryRow(tenant, device, t, "belt_speed", (double) i, null));
      rows.add(new TelemetryRow(tenant, device, t, "status", null, "run-" + i));
    }
    return rows;
  }

  private static Timestamp ts(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  @Test
  void pagesCrossDayPartitionsInTimeOrderAndEndOnWholeTimestamps() throws Exception {
    Instant midnight = Instant.parse("2026-11-24T00:00:00Z");
    Instant from = midnight.minusSeconds(5);
    writer.write(samples("belt-1", from, 10), Duration.ZERO).toCompletableFuture().get(30, TimeUnit.SECONDS);

    List<TelemetryPoint> all = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      QueryTelemetryResponse page = api.queryTelemetry(QueryTelemetryRequest.newBuilder()
          .setDevice("tenants/" + tenant + "/devices/belt-1").setStartTime(ts(from.minusSeconds(60)))
          .setEndTime(ts(from.plusSeconds(60))).setPageSize(3).setPageToken(token).build());
      assertThat(page.getPointsCount()).as("3 points would split a timestamp: the page stops before it").isEqualTo(2);
      all.addAll(page.getPointsList());
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertThat(pages).isEqualTo(10);
    assertThat(all).hasSize(20);
    for (int i = 0; i < 10; i++) {
      assertThat(all.get(2 * i).getTime()).isEqualTo(ts(from.plusSeconds(i)));
      assertThat(all.get(2 * i).getMetric()).isEqualTo("status");
      assertThat(all.get(2 * i).getText()).isEqualTo("run-" + i);
      assertThat(all.get(2 * i + 1).getNumber()).isEqualTo(i);
    }

    QueryTelemetryResponse speeds = api.queryTelemetry(QueryTelemetryRequest.newBuilder()
        .setDevice("tenants/" + tenant + "/devices/belt-1").setStartTime(ts(from.plusSeconds(2)))
        .setEndTime(ts(from.plusSeconds(7))).addMetrics("belt_speed").build());
    assertThat(speeds.getPointsList()).extracting(TelemetryPoint::getNumber).containsExactly(2.0, 3.0, 4.0, 5.0, 6.0);
    assertThat(speeds.getNextPageToken()).isEmpty();
  }

  @Test
  void aggregatesPerIntervalAndMetric() throws Exception {
    Instant from = Instant.parse("2026-11-23T10:00:00Z");
    writer.write(samples("belt-2", from, 10), Duration.ZERO).toCompletableFuture().get(30, TimeUnit.SECONDS);
    AggregateTelemetryResponse r = api.aggregateTelemetry(AggregateTelemetryRequest.newBuilder()
        .setDevice("tenants/" + tenant + "/devices/belt-2").setStartTime(ts(from)).setEndTime(ts(from.plusSeconds(10)))
        .setInterval(com.google.protobuf.Duration.newBuilder().setSeconds(4)).build());
    assertThat(r.getRowsScanned()).isEqualTo(20);
    List<TelemetryAggregate> speed = r.getAggregatesList().stream().filter(a -> a.getMetric().equals("belt_speed"))
        .toList();
    assertThat(speed).hasSize(3);
    assertThat(speed.get(0).getStartTime()).isEqualTo(ts(from));
    assertThat(speed.get(0)).extracting(TelemetryAggregate::getCount, TelemetryAggregate::getMin,
        TelemetryAggregate::getMax, TelemetryAggregate::getAvg).containsExactly(4L, 0.0, 3.0, 1.5);
    assertThat(speed.get(2)).extracting(TelemetryAggregate::getCount, TelemetryAggregate::getAvg)
        .containsExactly(2L, 8.5);
    TelemetryAggregate status = r.getAggregatesList().stream().filter(a -> a.getMetric().equals("status"))
        .findFirst().orElseThrow();
    assertThat(status.getCount()).isEqualTo(4);
    assertThat(status.getNumericCount()).isZero();
  }

  @Test
  void badRequestsNameTheField() {
    StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> api.aggregateTelemetry(
        AggregateTelemetryRequest.newBuilder().setDevice("tenants/" + tenant + "/devices/x")
            .setStartTime(ts(Instant.parse("2026-01-01T00:00:00Z"))).setEndTime(ts(Instant.parse("2026-02-01T00:00:00Z")))
            .setInterval(com.google.protobuf.Duration.newBuilder().setSeconds(1)).build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(violations(e)).containsExactly("interval");
    e = catchThrowableOfType(StatusRuntimeException.class, () -> api.queryTelemetry(QueryTelemetryRequest
        .newBuilder().setDevice("devices/x").build()));
    assertThat(violations(e)).containsExactly("device");
    e = catchThrowableOfType(StatusRuntimeException.class, () -> api.queryTelemetry(QueryTelemetryRequest
        .newBuilder().setDevice("tenants/" + tenant + "/devices/x").setStartTime(ts(Instant.parse("2026-01-01T00:00:00Z")))
        .setEndTime(ts(Instant.parse("2026-01-02T00:00:00Z"))).setPageToken("bm90LWEtdG9rZW4").build()));
    assertThat(violations(e)).containsExactly("page_token");
  }

  private static List<String> violations(StatusRuntimeException e) throws RuntimeException {
    try {
      return StatusProto.fromThrowable(e).getDetails(0).unpack(BadRequest.class).getFieldViolationsList().stream()
          .map(BadRequest.FieldViolation::getField).toList();
    } catch (com.google.protobuf.InvalidProtocolBufferException x) {
      throw new IllegalStateException(x);
    }
  }

  @Test
  void liveStreamDeliversStoredRowsAndASlowReaderGetsABoundedBufferAndAGapMarker() throws Exception {
    // A fast subscriber of one device, and a stalled one that requests nothing until the flood is over.
    BlockingQueue<StreamTelemetryEvent> fast = new LinkedBlockingQueue<>();
    TelemetryQueryServiceGrpc.newStub(channel).streamTelemetry(StreamTelemetryRequest.newBuilder()
        .setParent("tenants/" + tenant).addDevices("belt-3").build(), observer(fast, null, true));
    AtomicReference<ClientCallStreamObserver<StreamTelemetryRequest>> stalledCall = new AtomicReference<>();
    BlockingQueue<StreamTelemetryEvent> stalled = new LinkedBlockingQueue<>();
    TelemetryQueryServiceGrpc.newStub(channel).streamTelemetry(StreamTelemetryRequest.newBuilder()
        .setParent("tenants/" + tenant).build(), observer(stalled, stalledCall, false));
    awaitSubscribers(2);

    Instant from = Instant.parse("2026-11-22T08:00:00Z");
    writer.write(samples("belt-3", from, 3), Duration.ZERO).toCompletableFuture().get(30, TimeUnit.SECONDS);
    List<StreamTelemetryEvent> got = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      StreamTelemetryEvent e = fast.poll(10, TimeUnit.SECONDS);
      assertThat(e).as("live point " + i).isNotNull();
      got.add(e);
    }
    assertThat(got.get(0).getPoint().getDevice()).isEqualTo("tenants/" + tenant + "/devices/belt-3");
    assertThat(got).extracting(e -> e.getPoint().getTime()).contains(ts(from), ts(from.plusSeconds(2)));

    // 10,000 rows of another device while the second subscriber reads nothing.
    int flood = 5_000;
    for (int k = 0; k < 10; k++) {
      writer.write(samples("belt-4", from.plusSeconds(100 + k * (flood / 10)), flood / 10), Duration.ZERO)
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    assertThat(fast.poll(300, TimeUnit.MILLISECONDS)).as("other devices are filtered out").isNull();
    stalledCall.get().request(Integer.MAX_VALUE);
    long points = 0;
    long dropped = 0;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (points + dropped < 2L * flood + 6 && System.nanoTime() < deadline) {
      StreamTelemetryEvent e = stalled.poll(1, TimeUnit.SECONDS);
      if (e != null) {
        if (e.hasGap()) {
          dropped += e.getGap().getDroppedPoints();
        } else {
          points++;
        }
      }
    }
    assertThat(points + dropped).as("every point is delivered or counted in a gap").isEqualTo(2L * flood + 6);
    assertThat(dropped).as("the stalled stream dropped points instead of buffering them all").isPositive();
    // What reached the client: the server-side queue (BUFFER) plus what HTTP/2 flow control let through before the
    // client stopped reading, never the whole flood.
    assertThat(points).isLessThan(2L * flood / 2);
    assertThat(registry.find("devicehub.telemetry.stream.dropped").counter().count()).isEqualTo(dropped);
  }

  private static void awaitSubscribers(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (registry.find("devicehub.telemetry.stream.subscribers").gauge().value() < n) {
      assertThat(System.nanoTime()).as("subscribed").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private static ClientResponseObserver<StreamTelemetryRequest, StreamTelemetryEvent> observer(
      BlockingQueue<StreamTelemetryEvent> into, AtomicReference<ClientCallStreamObserver<StreamTelemetryRequest>> call,
      boolean autoRequest) {
    CountDownLatch unused = new CountDownLatch(0);
    return new ClientResponseObserver<>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<StreamTelemetryRequest> requestStream) {
        if (!autoRequest) {
          requestStream.disableAutoRequestWithInitial(0);
          call.set(requestStream);
        }
      }

      @Override
      public void onNext(StreamTelemetryEvent value) {
        into.add(value);
      }

      @Override
      public void onError(Throwable t) {
        unused.countDown();
      }

      @Override
      public void onCompleted() {
        unused.countDown();
      }
    };
  }
}
