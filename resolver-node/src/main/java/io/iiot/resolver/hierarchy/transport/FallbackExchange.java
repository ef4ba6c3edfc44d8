package io.iiot.resolver.hierarchy.transport;

import io.iiot.resolver.hierarchy.Endpoint;
import io.iiot.resolver.hierarchy.HandleExchange;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.Future;

/**
 * UDP first, then TCP, as CNRI's resolver tries its preferred protocols: TCP is used when the server has no UDP
 * query interface, when UDP brought no answer in time, or when the UDP answer could not be decoded. Overload
 * ({@link HandleExchange.Busy}) is not retried.
 */
public final class FallbackExchange implements HandleExchange {
  private final HandleExchange udp;
  private final HandleExchange tcp;

  public FallbackExchange(HandleExchange udp, HandleExchange tcp) {
    this.udp = udp;
    this.tcp = tcp;
  }

  @Override
  public Future<Reply> resolve(Endpoint to, Request request) {
    if (to.port() <= 0) {
      return tcp.resolve(to, request);
    }
    return udp.resolve(to, request).compose(reply -> {
      boolean unusable = reply.responseCode() == ResponseCodes.RC_PROTOCOL_ERROR
          && reply.message().startsWith("undecodable answer") && to.tcpPort() > 0;
      return unusable ? tcp.resolve(to, request).recover(err -> Future.succeededFuture(reply))
          : Future.succeededFuture(reply);
    }, err -> err instanceof Busy || to.tcpPort() <= 0 ? Future.failedFuture(err) : tcp.resolve(to, request)
        .recover(tcpErr -> Future.failedFuture(new IllegalStateException("UDP: " + err.getMessage() + "; TCP: "
            + tcpErr.getMessage()))));
  }

  /** GET_SITEINFO over UDP, then TCP on the same port (a configured upstream address names one port for both). */
  @Override
  public Future<SiteRecord> siteInfo(String host, int port) {
    return udp.siteInfo(host, port).recover(err -> err instanceof Busy ? Future.failedFuture(err)
        : tcp.siteInfo(host, port));
  }
}
