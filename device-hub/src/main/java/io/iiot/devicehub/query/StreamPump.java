package io.iiot.devicehub.query;

import io.grpc.stub.ServerCallStreamObserver;
import io.iiot.device.v1.StreamTelemetryEvent;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Moves one subscription's events to its gRPC call while the call is ready. Signals (new points, call ready again)
 * may come from any thread at any time; a work-in-progress counter makes exactly one drain run at a time, so
 * {@code onNext} is never called concurrently, and a signal during a drain makes it loop once more instead of being
 * lost. When the call is not ready, events stay in the subscription's bounded queue.
 */
final class StreamPump {
  private final ServerCallStreamObserver<StreamTelemetryEvent> call;
  private final Executor executor;
  private final AtomicInteger wip = new AtomicInteger();
  private volatile LiveTelemetry.Subscription subscription;

  StreamPump(ServerCallStreamObserver<StreamTelemetryEvent> call, Executor executor) {
    this.call = call;
    this.executor = executor;
  }

  void start(LiveTelemetry.Subscription sub) {
    subscription = sub;
    call.setOnReadyHandler(this::signal);
    signal();
  }

  void signal() {
    if (wip.getAndIncrement() == 0) {
      executor.execute(this::drain);
    }
  }

  private void drain() {
    int missed = 1;
    do {
      LiveTelemetry.Subscription sub = subscription;
      if (sub != null) {
        try {
          while (!call.isCancelled() && call.isReady()) {
            LiveTelemetry.Event e = sub.poll();
            if (e == null) {
              break;
            }
            call.onNext(TelemetryQueryGrpcService.event(e));
          }
        } catch (RuntimeException e) {
          sub.close(); // the call is gone (cancelled between isReady and onNext)
        }
      }
      missed = wip.addAndGet(-missed);
    } while (missed != 0);
  }
}
