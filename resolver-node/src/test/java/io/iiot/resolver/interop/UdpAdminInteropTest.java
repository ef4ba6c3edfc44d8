package io.iiot.resolver.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import java.net.InetAddress;
import java.util.Map;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.CreateHandleRequest;
import net.handle.hdllib.DeleteHandleRequest;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.Interface;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.SecretKeyAuthenticationInfo;
import net.handle.hdllib.SiteInfo;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Administration over UDP: with {@code handle.udp-admin = true} the site record offers UDP for admin requests, and
 * CNRI's client (UDP first in its preferred protocols) sends session setup, the create (split into several datagrams
 * when it is longer than 492 bytes), the challenge answer and the delete over UDP only.
 */
@Tag("large")
@ExtendWith(EmbeddedCassandraExtension.class)
class UdpAdminInteropTest {

  @Test
  void adminRequestsOverUdpOnly() throws Exception {
    try (ResolverNodeHarness node = ResolverNodeHarness.start("iiot_resolver_udpadmin",
        Map.of("HANDLE_UDP_ADMIN", "true"))) {
      SiteInfo site = node.useAsPrivateRoot();
      HandleResolver resolver = new HandleResolver();
      resolver.setPreferredProtocols(new int[] {Interface.SP_HDL_UDP});
      SecretKeyAuthenticationInfo auth = new SecretKeyAuthenticationInfo(Util.encodeString("0.NA/88.101"), 300,
          ResolverNodeHarness.SECRET.getBytes());
      HandleValue[] values = new HandleValue[30];
      for (int i = 0; i < values.length; i++) {
        values[i] = new HandleValue(i + 1, "URL", "https://factory.example/udp/admin/long/path/" + i);
      }
      CreateHandleRequest create = new CreateHandleRequest(Util.encodeString("88.101.5/UDP-ADMIN"), values, auth);
      AbstractResponse r = resolver.sendRequestToSite(create, site);
      assertThat(r.responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
      assertThat(create.getEncodedMessage().length).isGreaterThan(492);

      ResolutionResponse rr = (ResolutionResponse) new HandleResolver().sendHdlUdpRequest(
          new ResolutionRequest(Util.encodeString("88.101.5/UDP-ADMIN"), null, null, null),
          InetAddress.getByName("127.0.0.1"), node.handlePort);
      assertThat(rr.getHandleValues()).hasSize(30);

      assertThat(resolver.sendRequestToSite(new DeleteHandleRequest(Util.encodeString("88.101.5/UDP-ADMIN"), auth),
          site).responseCode).isEqualTo(AbstractMessage.RC_SUCCESS);
    }
  }
}
