package io.iiot.resolver.hierarchy;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.transport.handle.BufReader;
import io.iiot.resolver.transport.handle.HandleCodecException;
import io.iiot.resolver.transport.handle.Limits;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.iiot.resolver.transport.handle.ValueCodec;
import java.util.List;

/**
 * A {@link ReferralPoint.Decision} read back for the node's other interfaces (gRPC, HTTP JSON), which answer the same
 * thing as the Handle protocol in their own form: a success or referral body is a handle and values, any other body
 * an error message.
 */
public record DecisionBody(int responseCode, String handle, List<HandleValue> values, String message) {

  public static DecisionBody of(ReferralPoint.Decision d) {
    int rc = d.responseCode();
    try {
      BufReader b = new BufReader(d.body());
      if (rc == ResponseCodes.RC_SUCCESS || rc == HierarchyService.RC_SERVICE_REFERRAL
          || rc == HierarchyService.RC_PREFIX_REFERRAL) {
        String handle = b.utf8(Limits.MAX_HANDLE_LENGTH, ResponseCodes.RC_PROTOCOL_ERROR);
        List<HandleValue> values = b.remaining() >= 4 ? ValueCodec.decodeList(b) : List.of();
        return new DecisionBody(rc, handle, values, "");
      }
      String msg = b.remaining() >= 4 ? b.utf8(Limits.MAX_MESSAGE_LENGTH, ResponseCodes.RC_PROTOCOL_ERROR) : "";
      return new DecisionBody(rc, "", List.of(), msg);
    } catch (HandleCodecException e) {
      return new DecisionBody(ResponseCodes.RC_ERROR, "", List.of(), "undecodable answer: " + e.getMessage());
    }
  }

  /** Whether this is a referral (302 service, 303 prefix). */
  public boolean referral() {
    return responseCode == HierarchyService.RC_SERVICE_REFERRAL || responseCode == HierarchyService.RC_PREFIX_REFERRAL;
  }

  /** The Handle interfaces of the servers in the referral's site records, {@code host:port/udp|tcp}. */
  public List<String> servers() {
    return Delegation.sites(values).stream().flatMap(s -> Endpoint.interfaces(s).stream()).distinct().toList();
  }
}
