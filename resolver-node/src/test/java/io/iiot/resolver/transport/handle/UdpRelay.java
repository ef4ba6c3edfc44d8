package io.iiot.resolver.transport.handle;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.UnaryOperator;

/**
 * A UDP man in the middle for tests: forwards every datagram a client sends to the server, and every answer back to
 * that client, after passing it through {@code onAnswer} (to tamper with it) and recording what the server sent (to
 * look at what travels on the wire). One upstream socket per client address. Close it.
 */
final class UdpRelay implements AutoCloseable {
  private final DatagramSocket front;
  private final InetSocketAddress server;
  private final UnaryOperator<byte[]> onAnswer;
  private final Map upstreams = new Map();
  final List<byte[]> answers = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  private static final class Map extends ConcurrentHashMap<SocketAddress, DatagramSocket> {}

  UdpRelay(int serverPort, UnaryOperator<byte[]> onAnswer) throws SocketException {
    this.front = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    this.server = new InetSocketAddress(InetAddress.getLoopbackAddress(), serverPort);
    this.onAnswer = onAnswer;
    Thread t = new Thread(this::clientSide, "udp-relay");
    t.setDaemon(true);
    t.start();
  }

  int port() {
    return front.getLocalPort();
  }

  private void clientSide() {
    byte[] buf = new byte[65_536];
    while (!closed) {
      try {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        front.receive(p);
        SocketAddress client = p.getSocketAddress();
        DatagramSocket up = upstreams.computeIfAbsent(client, c -> upstream(c));
        up.send(new DatagramPacket(p.getData(), p.getOffset(), p.getLength(), server));
      } catch (IOException e) {
        if (!closed) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  private DatagramSocket upstream(SocketAddress client) {
    try {
      DatagramSocket up = new DatagramSocket(0, InetAddress.getLoopbackAddress());
      Thread t = new Thread(() -> {
        byte[] buf = new byte[65_536];
        while (!closed) {
          try {
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            up.receive(p);
            byte[] answer = java.util.Arrays.copyOfRange(p.getData(), p.getOffset(), p.getOffset() + p.getLength());
            answers.add(answer.clone());
            byte[] out = onAnswer.apply(answer);
            front.send(new DatagramPacket(out, out.length, client));
          } catch (IOException e) {
            return;
          }
        }
      }, "udp-relay-up");
      t.setDaemon(true);
      t.start();
      return up;
    } catch (SocketException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    closed = true;
    front.close();
    upstreams.values().forEach(DatagramSocket::close);
  }
}
