package io.iiot.platform.api;

import io.grpc.Channel;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.iiot.device.v1.QueryTelemetryRequest;
import io.iiot.device.v1.TelemetryQueryServiceGrpc;
import io.iiot.platform.domain.InvalidRequestException;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.v1.AggregateTelemetryRequest;
import io.iiot.platform.v1.AggregateTelemetryResponse;
import io.iiot.platform.v1.ListTelemetryRequest;
import io.iiot.platform.v1.ListTelemetryResponse;
import io.iiot.platform.v1.StreamTelemetryRequest;
import io.iiot.platform.v1.StreamTelemetryResponse;
import io.iiot.platform.v1.TelemetryAggregate;
import io.iiot.platform.v1.TelemetryPoint;
import io.iiot.platform.v1.TelemetryServiceGrpc.TelemetryServiceImplBase;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * {@code iiot.platform.v1.TelemetryService}: history and aggregates from device-hub (computed there, next to the
 * data), and the live stream relayed from every device-hub replica with bounded, flow-controlled buffering.
 */
public final class TelemetryApi extends TelemetryServiceImplBase {
  static final int DEFAULT_PAGE = 1000;
  static final int MAX_PAGE = 10_000;
  private final TelemetryQueryServiceGrpc.TelemetryQueryServiceFutureStub hub;
  private final List<TelemetryQueryServiceGrpc.TelemetryQueryServiceStub> replicas;
  private final PageTokens tokens;
  private final long deadlineMs;
  private final Executor streamExecutor;
  private final int streamBuffer;

  /**
   * @param deviceHub any replica, for history
   * @param replicas every replica, for the live stream (each only streams what it ingests itself)
   * @param streamBuffer points buffered per integrator stream before points are dropped (and counted)
   */
  public TelemetryApi(Channel deviceHub, List<Channel> replicas, PageTokens tokens, long deadlineMs,
      Executor streamExecutor, int streamBuffer) {
    this.hub = TelemetryQueryServiceGrpc.newFutureStub(deviceHub);
    this.replicas = replicas.stream().map(TelemetryQueryServiceGrpc::newStub).toList();
    this.tokens = tokens;
    this.deadlineMs = deadlineMs;
    this.streamExecutor = streamExecutor;
    this.streamBuffer = streamBuffer;
  }

  @Override
  public void listTelemetry(ListTelemetryRequest req, StreamObserver<ListTelemetryResponse> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      String[] device = ResourceNames.parseDevice(req.getDevice(), "device");
      PermissionDeniedException.check(p, device[0], req.getDevice());
      if (req.getPageSize() < 0) {
        throw new InvalidRequestException("page_size", "must not be negative");
      }
      int size = req.getPageSize() == 0 ? DEFAULT_PAGE : Math.min(req.getPageSize(), MAX_PAGE);
      Paging paging = new Paging(tokens, "ListTelemetry", p, req.getDevice() + "|" + req.getStartTime() + "|"
          + req.getEndTime() + "|" + String.join(",", req.getMetricsList()), size);
      String cursor = paging.cursor(req.getPageToken());
      return BackendErrors.call(hub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).queryTelemetry(
          QueryTelemetryRequest.newBuilder().setDevice(req.getDevice()).setStartTime(req.getStartTime())
              .setEndTime(req.getEndTime()).addAllMetrics(req.getMetricsList()).setPageSize(size)
              .setPageToken(cursor).build()), "device-hub", req.getDevice())
          .thenApply(r -> {
            ListTelemetryResponse.Builder b = ListTelemetryResponse.newBuilder()
                .setNextPageToken(paging.nextToken(r.getNextPageToken()));
            r.getPointsList().forEach(pt -> b.addPoints(point(pt)));
            return b.build();
          });
    });
  }

  @Override
  public void aggregateTelemetry(AggregateTelemetryRequest req, StreamObserver<AggregateTelemetryResponse> out) {
    Replies.unary(out, () -> {
      String[] device = ResourceNames.parseDevice(req.getDevice(), "device");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), device[0], req.getDevice());
      return BackendErrors.call(hub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).aggregateTelemetry(
          io.iiot.device.v1.AggregateTelemetryRequest.newBuilder().setDevice(req.getDevice())
              .setStartTime(req.getStartTime()).setEndTime(req.getEndTime()).setInterval(req.getInterval())
              .addAllMetrics(req.getMetricsList()).build()), "device-hub", req.getDevice())
          .thenApply(r -> {
            AggregateTelemetryResponse.Builder b = AggregateTelemetryResponse.newBuilder();
            r.getAggregatesList().forEach(a -> b.addAggregates(TelemetryAggregate.newBuilder()
                .setMetric(a.getMetric()).setStartTime(a.getStartTime()).setCount(a.getCount()).setMin(a.getMin())
                .setMax(a.getMax()).setAvg(a.getAvg()).setNumericCount(a.getNumericCount())));
            return b.build();
          });
    });
  }

  @Override
  public void streamTelemetry(StreamTelemetryRequest req, StreamObserver<StreamTelemetryResponse> out) {
    String tenant;
    try {
      tenant = ResourceNames.parseTenant(req.getParent(), "parent");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), tenant, req.getParent());
      for (int i = 0; i < req.getDevicesCount(); i++) {
        if (!ResourceNames.DEVICE_ID.matcher(req.getDevices(i)).matches()) {
          throw new InvalidRequestException("devices[" + i + "]", "not a device id: '" + req.getDevices(i) + "'");
        }
      }
    } catch (RuntimeException e) {
      out.onError(GrpcErrors.of(e));
      return;
    }
    new TelemetryStreamRelay((ServerCallStreamObserver<StreamTelemetryResponse>) out, streamExecutor, streamBuffer)
        .start(replicas, io.iiot.device.v1.StreamTelemetryRequest.newBuilder().setParent(req.getParent())
            .addAllDevices(req.getDevicesList()).addAllMetrics(req.getMetricsList()).build());
  }

  static TelemetryPoint point(io.iiot.device.v1.TelemetryPoint p) {
    TelemetryPoint.Builder b = TelemetryPoint.newBuilder().setDevice(p.getDevice()).setMetric(p.getMetric())
        .setTime(p.getTime());
    if (p.hasText()) {
      b.setText(p.getText());
    } else {
      b.setNumber(p.getNumber());
    }
    return b.build();
  }
}
