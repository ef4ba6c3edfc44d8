package io.iiot.resolver.hierarchy;

import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.transport.handle.SiteRecord;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * One server's Handle query interfaces, as a site record names them: UDP first, TCP when a UDP answer cannot be
 * used (CNRI's resolver order).
 *
 * @param port the UDP query port, -1 when the server has none
 * @param publicKey the server's key from the site record (empty when it has none)
 * @param tcpPort the TCP query port, -1 when the server has none
 */
public record Endpoint(String host, int port, byte[] publicKey, int tcpPort) {

  /** A UDP-only endpoint. */
  public Endpoint(String host, int port, byte[] publicKey) {
    this(host, port, publicKey, -1);
  }

  /** {@code host:port} (the UDP port, else the TCP one): the identity used for loop detection. */
  public String key() {
    return host + ":" + (port > 0 ? port : tcpPort);
  }

  @Override
  public String toString() {
    return key();
  }

  /**
   * The server of {@code site} responsible for {@code handle} (CNRI's {@code SiteInfo.determineServerNum}: MD5 of the
   * upper-cased hash part, last 4 bytes, absolute value, modulo the server count) and its UDP query interface.
   */
  public static Optional<Endpoint> of(SiteRecord site, String handle) {
    List<SiteRecord.Server> servers = site.servers();
    if (servers.isEmpty()) {
      return Optional.empty();
    }
    SiteRecord.Server s = servers.get(servers.size() == 1 ? 0 : serverNumber(site, handle));
    int udp = -1;
    int tcp = -1;
    for (SiteRecord.Interface i : s.interfaces()) {
      boolean query = i.type() == SiteRecord.QUERY || i.type() == SiteRecord.ADMIN_AND_QUERY;
      if (query && i.protocol() == SiteRecord.UDP && udp < 0) {
        udp = i.port();
      } else if (query && i.protocol() == SiteRecord.TCP && tcp < 0) {
        tcp = i.port();
      }
    }
    if (udp < 0 && tcp < 0) {
      return Optional.empty();
    }
    int u = udp;
    int t = tcp;
    return address(s.address()).map(h -> new Endpoint(h, u, s.publicKey(), t));
  }

  /** The Handle interfaces (UDP, TCP) of every server of {@code site}, as {@code host:port/udp} or {@code /tcp}. */
  public static List<String> interfaces(SiteRecord site) {
    List<String> out = new java.util.ArrayList<>();
    for (SiteRecord.Server s : site.servers()) {
      Optional<String> host = address(s.address());
      for (SiteRecord.Interface i : s.interfaces()) {
        if (host.isPresent() && i.type() != SiteRecord.OUT_OF_SERVICE
            && (i.protocol() == SiteRecord.UDP || i.protocol() == SiteRecord.TCP)) {
          out.add(host.get() + ":" + i.port() + (i.protocol() == SiteRecord.UDP ? "/udp" : "/tcp"));
        }
      }
    }
    return out;
  }

  /** Whether two site records name a common server: same public key, or same address and port (a node's own site). */
  public static boolean sameServer(SiteRecord a, SiteRecord b) {
    for (SiteRecord.Server x : a.servers()) {
      for (SiteRecord.Server y : b.servers()) {
        if (x.publicKey().length > 0 && Arrays.equals(x.publicKey(), y.publicKey())) {
          return true;
        }
        if (Arrays.equals(pad16(x.address()), pad16(y.address())) && sharePort(x, y)) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean sharePort(SiteRecord.Server x, SiteRecord.Server y) {
    for (SiteRecord.Interface i : x.interfaces()) {
      for (SiteRecord.Interface j : y.interfaces()) {
        if (i.protocol() == j.protocol() && i.port() == j.port()) {
          return true;
        }
      }
    }
    return false;
  }

  private static byte[] pad16(byte[] a) {
    byte[] out = new byte[16];
    System.arraycopy(a, 0, out, 16 - Math.min(16, a.length), Math.min(16, a.length));
    return out;
  }

  private static int serverNumber(SiteRecord site, String handle) {
    String part = switch (site.hashOption()) {
      case 0 -> Handles.prefix(handle);
      case 1 -> Handles.localName(handle);
      default -> handle;
    };
    try {
      byte[] d = MessageDigest.getInstance("MD5").digest(Handles.fold(part).getBytes(StandardCharsets.UTF_8));
      int v = ((d[d.length - 4] & 0xFF) << 24) | ((d[d.length - 3] & 0xFF) << 16) | ((d[d.length - 2] & 0xFF) << 8)
          | (d[d.length - 1] & 0xFF);
      return Math.abs(v % site.servers().size());
    } catch (NoSuchAlgorithmException e) {
      return 0;
    }
  }

  /** A 16-byte site-record address as text: IPv4 when the first 12 bytes are zero (CNRI's form). */
  static Optional<String> address(byte[] a) {
    try {
      byte[] b = a;
      if (a.length == 16) {
        boolean v4 = true;
        for (int i = 0; i < 12; i++) {
          v4 &= a[i] == 0;
        }
        if (v4) {
          b = Arrays.copyOfRange(a, 12, 16);
        }
      }
      return Optional.of(InetAddress.getByAddress(b).getHostAddress());
    } catch (UnknownHostException e) {
      return Optional.empty();
    }
  }
}
