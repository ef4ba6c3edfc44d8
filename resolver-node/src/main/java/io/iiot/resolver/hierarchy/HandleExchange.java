package io.iiot.resolver.hierarchy;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.Future;
import java.util.List;

/** Sends Handle requests to other nodes (implemented over the node's own codec in {@code hierarchy.transport}). */
public interface HandleExchange {

  /** A resolution request to send. */
  record Request(String handle, int[] indexes, List<String> types, int opFlags, int recursionCount) {}

  /**
   * A decoded answer.
   *
   * @param handle the handle in a success or referral body
   * @param values the values of a success or referral body (empty otherwise)
   * @param message the message of an error body
   */
  record Reply(int responseCode, String handle, List<HandleValue> values, String message) {}

  /** Resolves at {@code to}; fails on timeout, overload ({@link Busy}) or an undecodable answer. */
  Future<Reply> resolve(Endpoint to, Request request);

  /** GET_SITEINFO at {@code host:port}. */
  Future<SiteRecord> siteInfo(String host, int port);

  /** Too many requests in flight. */
  final class Busy extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Busy() {
      super("too many upstream requests in flight", null, false, false);
    }
  }
}
