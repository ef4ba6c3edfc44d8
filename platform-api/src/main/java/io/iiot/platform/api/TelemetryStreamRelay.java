package io.iiot.platform.api;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.ServerCallStreamObserver;
import io.iiot.device.v1.StreamTelemetryEvent;
import io.iiot.device.v1.StreamTelemetryRequest;
import io.iiot.device.v1.TelemetryQueryServiceGrpc;
import io.iiot.platform.domain.DroppingQueue;
import io.iiot.platform.v1.StreamTelemetryResponse;
import io.iiot.platform.v1.TelemetryGap;
import io.iiot.platform.v1.TelemetryPoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One integrator's live stream: subscribes to StreamTelemetry on every device-hub replica, merges their events into a
 * bounded {@link DroppingQueue} and writes to the client only while its call is ready (HTTP/2 flow control). A client
 * that reads slower than telemetry arrives loses points (counted, sent as a TelemetryGap), never makes this process
 * buffer more than the queue's capacity. Points of different replicas are merged in arrival order.
 *
 * <p>If a replica's stream fails, the client's stream ends with UNAVAILABLE (the client subscribes again): a silently
 * partial stream would look like quiet devices.
 */
final class TelemetryStreamRelay {
  private final ServerCallStreamObserver<StreamTelemetryResponse> client;
  private final Executor executor;
  private final DroppingQueue<TelemetryPoint> queue;
  private final AtomicInteger wip = new AtomicInteger();
  private final AtomicBoolean ended = new AtomicBoolean();
  private final List<ClientCallStreamObserver<StreamTelemetryRequest>> upstreams = new ArrayList<>();

  TelemetryStreamRelay(ServerCallStreamObserver<StreamTelemetryResponse> client, Executor executor, int capacity) {
    this.client = client;
    this.executor = executor;
    this.queue = new DroppingQueue<>(capacity);
  }

  void start(List<TelemetryQueryServiceGrpc.TelemetryQueryServiceStub> replicas, StreamTelemetryRequest request) {
    client.setOnCancelHandler(this::cancelUpstreams);
    client.setOnReadyHandler(this::signal);
    for (TelemetryQueryServiceGrpc.TelemetryQueryServiceStub replica : replicas) {
      replica.streamTelemetry(request, new ClientResponseObserver<StreamTelemetryRequest, StreamTelemetryEvent>() {
        @Override
        public void beforeStart(ClientCallStreamObserver<StreamTelemetryRequest> call) {
          synchronized (upstreams) {
            upstreams.add(call);
          }
        }

        @Override
        public void onNext(StreamTelemetryEvent e) {
          boolean wasEmpty = e.hasGap() ? queue.dropped(e.getGap().getDroppedPoints()) : queue.offer(TelemetryApi.point(e.getPoint()));
          if (wasEmpty) {
            signal();
          }
        }

        @Override
        public void onError(Throwable t) {
          end(Status.fromThrowable(t).getCode() == Status.Code.RESOURCE_EXHAUSTED
              ? Status.RESOURCE_EXHAUSTED.withDescription("device-hub has too many live streams; retry later")
              : Status.UNAVAILABLE.withDescription("a device-hub replica's stream ended (" + Status.fromThrowable(t)
                  .getCode() + "); subscribe again"));
        }

        @Override
        public void onCompleted() {
          end(Status.UNAVAILABLE.withDescription("a device-hub replica closed its stream; subscribe again"));
        }
      });
    }
  }

  private void end(Status status) {
    if (ended.compareAndSet(false, true)) {
      cancelUpstreams();
      executor.execute(() -> {
        synchronized (this) { // never concurrently with a drain's onNext
          try {
            client.onError(status.asRuntimeException());
          } catch (RuntimeException ignored) {
            // the client is gone already
          }
        }
      });
    }
  }

  private void cancelUpstreams() {
    ended.set(true);
    synchronized (upstreams) {
      for (ClientCallStreamObserver<StreamTelemetryRequest> u : upstreams) {
        u.cancel("integrator stream ended", null);
      }
    }
  }

  private void signal() {
    if (wip.getAndIncrement() == 0) {
      executor.execute(this::drain);
    }
  }

  /** One drain at a time (work-in-progress counter); a signal during a drain makes it loop again. */
  private void drain() {
    int missed = 1;
    do {
      synchronized (this) {
        try {
          while (!ended.get() && !client.isCancelled() && client.isReady()) {
            DroppingQueue.Entry<TelemetryPoint> e = queue.poll();
            if (e == null) {
              break;
            }
            client.onNext(e instanceof DroppingQueue.Item<TelemetryPoint> item
                ? StreamTelemetryResponse.newBuilder().setPoint(item.value()).build()
                : StreamTelemetryResponse.newBuilder().setGap(TelemetryGap.newBuilder()
                    .setDroppedPoints(((DroppingQueue.Gap<TelemetryPoint>) e).dropped())).build());
          }
        } catch (RuntimeException e) {
          cancelUpstreams();
        }
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }
}
