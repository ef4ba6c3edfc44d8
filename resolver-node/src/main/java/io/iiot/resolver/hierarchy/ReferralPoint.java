package io.iiot.resolver.hierarchy;

import io.vertx.core.Future;
import java.util.List;

/**
 * The decision point the Handle request dispatch consults before answering a resolution from storage: answer here,
 * refer the client elsewhere, or resolve elsewhere on its behalf.
 */
public interface ReferralPoint {

  /**
   * A resolution request as it arrived.
   *
   * @param handle normalised handle (slash-less read as {@code 0.NA/…})
   * @param asked the handle as the client spelled it (answers carry this spelling)
   * @param opFlags the request's OpFlag bits
   * @param recursionCount hops the request has already taken
   */
  record Query(String handle, String asked, int[] indexes, List<String> types, int opFlags, int recursionCount) {}

  /**
   * What to answer. {@link #LOCAL}: resolve from this node's storage; otherwise answer with {@code responseCode}
   * and {@code body} (the body after any request digest: a resolution answer, a referral, or an error message).
   */
  record Decision(boolean local, int responseCode, byte[] body) {}

  Decision LOCAL = new Decision(true, 0, new byte[0]);

  Future<Decision> route(Query query);
}
