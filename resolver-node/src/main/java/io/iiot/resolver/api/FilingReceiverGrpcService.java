package io.iiot.resolver.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.stub.StreamObserver;
import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.storage.HandleStore;
import io.iiot.resolver.storage.ReceivedFilings;
import io.iiot.resolver.v1.FilingReceiverGrpc;
import io.iiot.resolver.v1.FilingReport;
import io.iiot.resolver.v1.ListReceivedFilingsRequest;
import io.iiot.resolver.v1.ListReceivedFilingsResponse;
import io.iiot.resolver.v1.ReceivedFiling;
import io.iiot.resolver.v1.ReportFilingRequest;
import io.iiot.resolver.v1.ReportFilingResponse;
import io.vertx.core.Future;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Top-level mode ({@code node.role: top-level}): {@code iiot.resolver.v1.FilingReceiver}. Each report id is stored
 * once; a new report creates the prefix handle {@code 0.NA/<prefix>} here with HS_SITE (index 1) = the reporting
 * node's site record, so resolution of the prefix is pointed to that node, and HS_ADMIN (100) naming this node's
 * admin {@code 300:0.NA/<node prefix>}. A resend of a stored report is acknowledged as a duplicate and changes
 * nothing but making sure the prefix handle exists.
 */
public final class FilingReceiverGrpcService extends FilingReceiverGrpc.FilingReceiverImplBase {
  private final ReceivedFilings received;
  private final HandleStore handles;
  private final String nodePrefix;

  public FilingReceiverGrpcService(ReceivedFilings received, HandleStore handles, String nodePrefix) {
    this.received = received;
    this.handles = handles;
    this.nodePrefix = nodePrefix;
  }

  @Override
  public void reportFiling(ReportFilingRequest req, StreamObserver<ReportFilingResponse> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      if (!p.privileged()) {
        throw GrpcErrors.denied("NODE_CREDENTIAL_REQUIRED", "filings are reported with a node credential");
      }
      FilingReport r = req.getReport();
      if (r.getReportId().isEmpty() || r.getReportId().length() > 128) {
        throw GrpcErrors.badField("report.report_id", "REQUIRED", "1-128 characters");
      }
      if (r.getPrefix().isEmpty() || !Handles.isValid(Handles.prefixHandleOf(r.getPrefix()))
          || r.getPrefix().contains("/")) {
        throw GrpcErrors.badField("report.prefix", "INVALID_PREFIX", "a prefix such as 88.101.5");
      }
      if (r.getSiteRecord().isEmpty()) {
        throw GrpcErrors.badField("report.site_record", "REQUIRED", "the reporting node's site record");
      }
      Instant now = Instant.now();
      String prefixHandle = Handles.prefixHandleOf(r.getPrefix());
      return received.storeOnce(new ReceivedFilings.Received(r.getReportId(), r.getPrefix(), r.toByteArray(),
          p.auditName(), now)).compose(first -> {
            List<HandleValue> values = delegation(r);
            Future<?> h = first.isEmpty() ? handles.create(prefixHandle, values).compose(created -> created
                ? Future.succeededFuture() : handles.putValues(prefixHandle, values.subList(0, 1)))
                : handles.getFresh(prefixHandle).compose(rec -> rec.isPresent() ? Future.succeededFuture()
                    : handles.create(prefixHandle, values));
            return h.map(x -> ReportFilingResponse.newBuilder().setDuplicate(first.isPresent())
                .setReceiveTime(Calls.ts(first.map(ReceivedFilings.Received::receiveTime).orElse(now))).build());
          });
    }, out);
  }

  private List<HandleValue> delegation(FilingReport r) {
    int now = (int) (System.currentTimeMillis() / 1000);
    return List.of(HandleValue.of(1, "HS_SITE", r.getSiteRecord().toByteArray()).withTimestamp(now),
        HandleValue.of(100, "HS_ADMIN", new AdminRecord(AdminRecord.ALL, Handles.prefixHandleOf(nodePrefix), 300)
            .encode()).withTimestamp(now));
  }

  @Override
  public void listReceivedFilings(ListReceivedFilingsRequest req, StreamObserver<ListReceivedFilingsResponse> out) {
    Principal p = AuthInterceptor.principal();
    Calls.run(() -> {
      if (!p.privileged()) {
        throw GrpcErrors.denied("OPERATOR_OR_SERVICE_ONLY", "only the operator lists received filings");
      }
      String after = Calls.after(req.getPageToken()).orElseThrow(() -> GrpcErrors.badField("page_token",
          "INVALID_PAGE_TOKEN", "not a token this service returned"));
      int size = Calls.pageSize(req.getPageSize());
      return received.ids(after, size).compose(ids -> {
        List<Future<Optional<ReceivedFilings.Received>>> reads = ids.stream().map(received::get).toList();
        return Future.all(reads).map(x -> {
          ListReceivedFilingsResponse.Builder b = ListReceivedFilingsResponse.newBuilder();
          for (var f : reads) {
            f.result().ifPresent(r -> {
              try {
                b.addFilings(ReceivedFiling.newBuilder().setReport(FilingReport.parseFrom(r.report()))
                    .setReceiveTime(Calls.ts(r.receiveTime())).setReporter(r.reporter()));
              } catch (InvalidProtocolBufferException e) {
                // stored by this code from a parsed message: cannot happen short of corruption
              }
            });
          }
          if (ids.size() == size) {
            b.setNextPageToken(Calls.token(ids.get(size - 1)));
          }
          return b.build();
        });
      });
    }, out);
  }
}
