package io.iiot.it.device;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Many MQTT 3.1.1 connections that stay idle, held by one thread and one selector with a few bytes of state each, so a
 * single test JVM can hold 10,000 of them: raw CONNECT packets (username and password), CONNACKs counted by return
 * code, then only PINGREQs at the keep-alive pace, their PINGRESPs counted. Connections are spread over several
 * loopback source addresses so ephemeral ports never run short.
 */
final class IdleMqttClients implements AutoCloseable {
  /** What happened to the connections. */
  record Stats(int accepted, int refused, int failed, int closedByServer, long pingsSent, long pongs, double seconds) {}

  private static final class Conn {
    final int index;
    final SocketChannel channel;
    final ByteBuffer in = ByteBuffer.allocate(16);
    long openedAt;
    boolean accepted;
    boolean done;
    long nextPingAt;

    Conn(int index, SocketChannel channel) {
      this.index = index;
      this.channel = channel;
    }
  }

  private final InetSocketAddress server;
  private final List<String> sourceAddresses;
  private final int keepAliveSeconds;
  private final Selector selector;
  private final List<Conn> conns = new ArrayList<>();
  private int accepted;
  private int refused;
  private int failed;
  private int closedByServer;
  private long pingsSent;
  private long pongs;

  IdleMqttClients(InetSocketAddress server, List<String> sourceAddresses, int keepAliveSeconds) throws IOException {
    this.server = server;
    this.sourceAddresses = sourceAddresses;
    this.keepAliveSeconds = keepAliveSeconds;
    this.selector = Selector.open();
  }

  static byte[] connectPacket(String clientId, String username, String password, int keepAliveSeconds) {
    ByteBuffer body = ByteBuffer.allocate(512);
    body.put(utf8("MQTT")).put((byte) 4).put((byte) 0xC2).putShort((short) keepAliveSeconds);
    body.put(utf8(clientId)).put(utf8(username)).put(utf8(password));
    body.flip();
    ByteBuffer packet = ByteBuffer.allocate(body.remaining() + 5);
    packet.put((byte) 0x10);
    int len = body.remaining();
    do {
      int digit = len % 128;
      len /= 128;
      packet.put((byte) (len > 0 ? digit | 0x80 : digit));
    } while (len > 0);
    packet.put(body).flip();
    byte[] out = new byte[packet.remaining()];
    packet.get(out);
    return out;
  }

  private static byte[] utf8(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    ByteBuffer out = ByteBuffer.allocate(b.length + 2).putShort((short) b.length).put(b);
    return out.array();
  }

  /**
   * Opens {@code count} connections, at most {@code maxPending} waiting for their CONNACK at a time (device-hub checks
   * passwords on a bounded queue), and returns once each is accepted, refused or failed.
   */
  Stats connectAll(int count, int maxPending, IntFunction<byte[]> connectPacket, Duration timeout) throws IOException {
    long t0 = System.nanoTime();
    long deadline = t0 + timeout.toNanos();
    int opened = 0;
    int pending = 0;
    while ((opened < count || pending > 0) && System.nanoTime() < deadline) {
      while (opened < count && pending < maxPending) {
        SocketChannel ch = SocketChannel.open();
        ch.configureBlocking(false);
        ch.bind(new InetSocketAddress(sourceAddresses.get(opened % sourceAddresses.size()), 0));
        Conn c = new Conn(opened, ch);
        c.openedAt = System.nanoTime();
        conns.add(c);
        if (ch.connect(server)) {
          ch.register(selector, SelectionKey.OP_READ, c);
          write(c, connectPacket.apply(opened));
        } else {
          ch.register(selector, SelectionKey.OP_CONNECT, c);
        }
        opened++;
        pending++;
      }
      selector.select(10);
      for (SelectionKey key : selector.selectedKeys()) {
        Conn c = (Conn) key.attachment();
        try {
          if (key.isConnectable()) {
            c.channel.finishConnect();
            key.interestOps(SelectionKey.OP_READ);
            write(c, connectPacket.apply(c.index));
          } else if (key.isReadable()) {
            boolean wasAccepted = c.accepted;
            boolean wasDone = c.done;
            read(c, key);
            if (!wasDone && c.done) {
              pending--;
            } else if (!wasAccepted && c.accepted) {
              pending--;
            }
          }
        } catch (IOException e) {
          if (!c.done && !c.accepted) {
            pending--;
            failed++;
          }
          c.done = true;
          key.cancel();
          c.channel.close();
        }
      }
      selector.selectedKeys().clear();
    }
    return stats(t0);
  }

  /** Keeps the accepted connections open for {@code duration}, each sending a PINGREQ every half keep-alive. */
  Stats hold(Duration duration) throws IOException {
    long t0 = System.nanoTime();
    long end = t0 + duration.toNanos();
    long interval = keepAliveSeconds * 1_000_000_000L / 2;
    for (Conn c : conns) {
      if (c.nextPingAt == 0) {
        c.nextPingAt = t0 + interval * c.index / Math.max(1, conns.size()); // spread over the interval
      }
    }
    while (System.nanoTime() < end) {
      long now = System.nanoTime();
      for (Conn c : conns) {
        if (c.accepted && !c.done && now >= c.nextPingAt) {
          try {
            write(c, new byte[] {(byte) 0xC0, 0});
            pingsSent++;
          } catch (IOException e) {
            closedByServer++;
            c.done = true;
            c.channel.close();
          }
          c.nextPingAt = now + interval;
        }
      }
      selector.select(50);
      for (SelectionKey key : selector.selectedKeys()) {
        Conn c = (Conn) key.attachment();
        try {
          read(c, key);
        } catch (IOException e) {
          if (!c.done) {
            closedByServer++;
          }
          c.done = true;
          key.cancel();
          c.channel.close();
        }
      }
      selector.selectedKeys().clear();
    }
    return stats(t0);
  }

  /** Connections accepted and still open. */
  int open() {
    int n = 0;
    for (Conn c : conns) {
      if (c.accepted && !c.done) {
        n++;
      }
    }
    return n;
  }

  private Stats stats(long t0) {
    return new Stats(accepted, refused, failed, closedByServer, pingsSent, pongs, (System.nanoTime() - t0) / 1e9);
  }

  private static void write(Conn c, byte[] bytes) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(bytes);
    int spins = 0;
    while (b.hasRemaining()) {
      if (c.channel.write(b) == 0 && ++spins > 1000) {
        throw new IOException("send buffer full");
      }
    }
  }

  /** Reads CONNACK (4 bytes) and PINGRESP (2 bytes) packets; a closed stream ends the connection. */
  private void read(Conn c, SelectionKey key) throws IOException {
    int n = c.channel.read(c.in);
    if (n < 0) {
      if (c.accepted && !c.done) {
        closedByServer++;
      } else if (!c.accepted && !c.done) {
        failed++;
      }
      c.done = true;
      key.cancel();
      c.channel.close();
      return;
    }
    c.in.flip();
    while (c.in.remaining() >= 2) {
      int type = c.in.get(c.in.position()) & 0xF0;
      int len = c.in.get(c.in.position() + 1);
      if (c.in.remaining() < 2 + len) {
        break;
      }
      if (type == 0x20 && len == 2) {
        int rc = c.in.get(c.in.position() + 3);
        if (rc == 0) {
          c.accepted = true;
          accepted++;
        } else {
          refused++;
          c.done = true;
        }
      } else if (type == 0xD0) {
        pongs++;
      }
      c.in.position(c.in.position() + 2 + len);
    }
    c.in.compact();
    if (c.done) {
      key.cancel();
      c.channel.close();
    }
  }

  @Override
  public void close() throws IOException {
    for (Conn c : conns) {
      c.channel.close();
    }
    selector.close();
  }
}
