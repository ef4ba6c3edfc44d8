package io.iiot.resolver.api;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.iiot.resolver.domain.filing.PrefixApplication.AuditEntry;
import io.iiot.resolver.storage.FilingQueue;
import io.iiot.resolver.storage.FilingStore;
import io.iiot.resolver.v1.FilingReceiverGrpc;
import io.iiot.resolver.v1.FilingReport;
import io.iiot.resolver.v1.ReportFilingRequest;
import io.iiot.resolver.v1.ReportFilingResponse;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends queued filing reports to the upstream top-level node's {@code FilingReceiver} ({@code
 * filing.upstream.grpc-target}; empty = none: reports stay QUEUED and visible). Every {@code poll-interval} (and at
 * once when a report is queued) one pass runs on a worker thread: for each due report, lease it (LWT, so another
 * replica does not send it at the same time), send it, and record the acknowledgement, or the error with the next
 * attempt after an exponential backoff ({@code retry-initial} doubling up to {@code retry-max}).
 */
public final class UpstreamFilingSender {
  private static final Logger LOG = LoggerFactory.getLogger(UpstreamFilingSender.class);
  private static final int BATCH = 100;

  /** How the sender is configured. */
  public record Settings(String target, Optional<String> token, Duration pollInterval, Duration retryInitial,
      Duration retryMax, Duration lease, Duration callTimeout) {}

  private final Vertx vertx;
  private final FilingQueue queue;
  private final FilingStore filings;
  private final Settings settings;
  private final String owner = "sender-" + UUID.randomUUID();
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicBoolean again = new AtomicBoolean();
  private ManagedChannel channel;
  private FilingReceiverGrpc.FilingReceiverBlockingStub stub;
  private long timer = -1;

  public UpstreamFilingSender(Vertx vertx, FilingQueue queue, FilingStore filings, Settings settings) {
    this.vertx = vertx;
    this.queue = queue;
    this.filings = filings;
    this.settings = settings;
  }

  public void start() {
    if (settings.target().isBlank()) {
      LOG.info("No filing.upstream.grpc-target: filing reports stay queued");
      return;
    }
    channel = NettyChannelBuilder.forTarget(settings.target()).usePlaintext().build();
    Metadata md = new Metadata();
    settings.token().ifPresent(t -> md.put(AuthInterceptor.AUTHORIZATION, "Bearer " + t));
    stub = FilingReceiverGrpc.newBlockingStub(channel).withInterceptors(
        MetadataUtils.newAttachHeadersInterceptor(md));
    timer = vertx.setPeriodic(settings.pollInterval().toMillis(), t -> kick());
    LOG.info("Filing reports go to {}", settings.target());
  }

  /** Runs a pass now (or right after the running one). */
  public void kick() {
    if (stub == null) {
      return;
    }
    if (!running.compareAndSet(false, true)) {
      again.set(true);
      return;
    }
    vertx.executeBlocking(() -> {
      sendDue();
      return null;
    }, false).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("Filing pass failed: {}", ar.cause().toString());
      }
      running.set(false);
      if (again.getAndSet(false)) {
        kick();
      }
    });
  }

  private void sendDue() throws Exception {
    List<String> ids = await(queue.pending(BATCH));
    for (String id : ids) {
      Optional<FilingQueue.Report> r = await(queue.get(id));
      Instant now = Instant.now();
      if (r.isEmpty() || r.get().state() == FilingQueue.State.ACKNOWLEDGED
          || r.get().nextAttempt() != null && r.get().nextAttempt().isAfter(now)
          || r.get().leaseUntil() != null && r.get().leaseUntil().isAfter(now)) {
        continue;
      }
      if (!await(queue.lease(r.get(), owner, now, now.plus(settings.lease())))) {
        continue; // another replica has it
      }
      send(r.get(), r.get().attempts() + 1);
    }
  }

  private void send(FilingQueue.Report r, int attempt) throws Exception {
    try {
      ReportFilingResponse resp = stub.withDeadlineAfter(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS)
          .reportFiling(ReportFilingRequest.newBuilder().setReport(FilingReport.parseFrom(r.report())).build());
      Instant now = Instant.now();
      await(queue.acknowledged(r.reportId(), now));
      await(filings.audit("applications/" + r.applicationId(), new AuditEntry(now, "node", "FILING_ACKNOWLEDGED",
          null, null, "acknowledged by " + settings.target() + " after " + attempt + " attempt(s)"
              + (resp.getDuplicate() ? " (it had the report already)" : ""))));
      LOG.info("Filing {} acknowledged by {} (attempt {})", r.reportId(), settings.target(), attempt);
    } catch (StatusRuntimeException e) {
      Duration wait = backoff(attempt);
      String error = e.getStatus().getCode() + (e.getStatus().getDescription() == null ? ""
          : ": " + e.getStatus().getDescription());
      await(queue.failed(r.reportId(), owner, error, Instant.now().plus(wait)));
      LOG.info("Filing {} not delivered (attempt {}): {}; next try in {}", r.reportId(), attempt, error, wait);
    }
  }

  Duration backoff(int attempt) {
    long ms = settings.retryInitial().toMillis() << Math.min(20, Math.max(0, attempt - 1));
    return Duration.ofMillis(Math.min(ms, settings.retryMax().toMillis()));
  }

  private static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  public Future<Void> stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    return Future.succeededFuture();
  }
}
