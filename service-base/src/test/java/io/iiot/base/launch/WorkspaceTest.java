package io.iiot.base.launch;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class WorkspaceTest {

  @Test
  void freePortsAreDistinctBindableForTcpAndUdpAndOutsideTheEphemeralRange() throws Exception {
    Path range = Path.of("/proc/sys/net/ipv4/ip_local_port_range");
    int ephemeralLow = Files.exists(range)
        ? Integer.parseInt(Files.readAllLines(range).get(0).trim().split("\\s+")[0]) : Integer.MAX_VALUE;
    assertThat(ephemeralLow).as("the kernel's ephemeral range starts above the well-known ports").isGreaterThan(1024);
    Set<Integer> seen = new HashSet<>();
    for (int i = 0; i < 300; i++) {
      int port = Workspace.freePort();
      assertThat(seen.add(port)).as("port %d handed out twice", port).isTrue();
      if (ephemeralLow > 12_000) {
        assertThat(port).isLessThan(ephemeralLow);
      }
    }
    int port = Workspace.freePort();
    try (ServerSocket tcp = new ServerSocket(port, 1, InetAddress.getLoopbackAddress());
        DatagramSocket udp = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))) {
      assertThat(tcp.getLocalPort()).isEqualTo(udp.getLocalPort()).isEqualTo(port);
    }
  }

  @Test
  void aPortBoundForUdpIsNotHandedOut() throws Exception {
    Set<Integer> boundUdp = new HashSet<>();
    java.util.List<DatagramSocket> held = new java.util.ArrayList<>();
    try {
      // Hold 2,000 UDP ports of the range freePort draws from; none of them may come back.
      for (int p = 20_000; p < 22_000; p++) {
        try {
          held.add(new DatagramSocket(p));
          boundUdp.add(p);
        } catch (java.net.SocketException taken) {
          // already in use by someone else: fine, also not to be handed out
        }
      }
      for (int i = 0; i < 500; i++) {
        assertThat(boundUdp).doesNotContain(Workspace.freePort());
      }
    } finally {
      held.forEach(DatagramSocket::close);
    }
  }
}
