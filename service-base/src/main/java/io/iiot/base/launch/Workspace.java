package io.iiot.base.launch;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/** Local resources for launched processes: free loopback ports and scratch directories. */
public final class Workspace {
  private Workspace() {}

  /** Ports handed out by this JVM: a test that asks for seven ports gets seven different ones. */
  private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();
  /** Where the kernel's ephemeral range (outgoing connections' local ports) starts; 32768 on Linux by default. */
  private static final int EPHEMERAL_LOW = ephemeralLow();

  /**
   * A port free for TCP and for UDP now (services bind both kinds: CoAP and the Handle protocol listen on UDP).
   * Chosen below the kernel's ephemeral range where that leaves room: a port from inside it can be taken by any
   * outgoing connection between this call and the service's bind, which made a child service fail to start now and
   * then. Never the same port twice in this JVM. A later bind may still race with another process.
   */
  public static int freePort() {
    if (EPHEMERAL_LOW > 12_000) {
      int low = Math.max(10_000, EPHEMERAL_LOW - 12_000);
      for (int attempt = 0; attempt < 200; attempt++) {
        int port = ThreadLocalRandom.current().nextInt(low, EPHEMERAL_LOW);
        if (!HANDED_OUT.contains(port) && freeForTcpAndUdp(port) && HANDED_OUT.add(port)) {
          return port;
        }
      }
    }
    for (int attempt = 0; attempt < 200; attempt++) {
      int port;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        port = s.getLocalPort();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (freeForTcpAndUdp(port) && HANDED_OUT.add(port)) {
        return port;
      }
    }
    throw new IllegalStateException("no free port found");
  }

  private static boolean freeForTcpAndUdp(int port) {
    try (ServerSocket tcp = new ServerSocket()) {
      tcp.setReuseAddress(false);
      tcp.bind(new InetSocketAddress(port), 1);
      try (DatagramSocket udp = new DatagramSocket(port)) {
        return true;
      }
    } catch (IOException e) {
      return false;
    }
  }

  private static int ephemeralLow() {
    try {
      // readAllLines, not readString: /proc files report size 0, and readString then returned only the first byte
      String range = Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim();
      return Integer.parseInt(range.split("\\s+")[0]);
    } catch (IOException | RuntimeException e) {
      return 0; // unknown (not Linux): ports from the kernel's own choice, as before
    }
  }

  /** Deletes {@code dir} and everything below it; nothing if it does not exist. */
  public static void deleteTree(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (Stream<Path> walk = Files.walk(dir)) {
        for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }
}
