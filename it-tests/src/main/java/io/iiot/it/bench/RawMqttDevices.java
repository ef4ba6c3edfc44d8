package io.iiot.it.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The benchmark's MQTT load: one MQTT 3.1.1 connection per simulated device (its own user name and password), each
 * keeping {@code window} QoS 1 PUBLISHes unacknowledged and sending the next one on each PUBACK. All connections live
 * on one thread and one selector and write hand-encoded packets, so the generator's share of the shared cores stays
 * small next to the server it loads (a Vert.x or Paho client per device costs about as much per message as the
 * server's own decoding). PUBACKs are checked to come back in order with the right packet ids.
 */
public final class RawMqttDevices implements AutoCloseable {
  /** Outcome of one run: rate, ack latencies (ns, unsorted), failures (connections lost, wrong PUBACKs). */
  public record Run(double rate, long[] latencies, int recorded, long failures) {}

  private static final byte[] TOPIC = "telemetry".getBytes(StandardCharsets.UTF_8);

  private final Selector selector;
  private final List<Conn> conns = new ArrayList<>();

  private static final class Conn {
    final int device;
    final SocketChannel channel;
    final ByteBuffer in = ByteBuffer.allocate(4096);
    final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
    final ArrayDeque<long[]> unacked = new ArrayDeque<>(); // {packet id, sent at}
    int nextId = 1;
    int sent;
    int acked;

    Conn(int device, SocketChannel channel) {
      this.device = device;
      this.channel = channel;
    }
  }

  /**
   * Connects {@code devices} clients as {@code dev<d>@<tenant>} (client id {@code <tenant>-dev<d>}), all CONNECTs
   * first, then the CONNACKs; fails unless every one is accepted.
   */
  public RawMqttDevices(InetSocketAddress server, String tenant, int devices, String password) throws IOException {
    selector = Selector.open();
    for (int d = 0; d < devices; d++) {
      SocketChannel ch = SocketChannel.open(server);
      ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ch.write(ByteBuffer.wrap(connect(tenant + "-dev" + d, "dev" + d + "@" + tenant, password)));
      conns.add(new Conn(d, ch));
    }
    for (Conn c : conns) {
      ByteBuffer connack = ByteBuffer.allocate(4);
      while (connack.hasRemaining()) {
        if (c.channel.read(connack) < 0) {
          throw new IOException("device " + c.device + ": connection closed before CONNACK");
        }
      }
      if (connack.get(0) != 0x20 || connack.get(3) != 0) {
        throw new IOException("device " + c.device + ": CONNACK return code " + connack.get(3));
      }
      c.channel.configureBlocking(false);
      c.channel.register(selector, SelectionKey.OP_READ, c);
    }
  }

  /**
   * Sends {@code n / devices} messages per device, message i (device i % devices) carrying ts = base + i / devices and
   * temperature i, as in {@link DeviceIngestBenchmark#row}; returns when every message is acknowledged.
   */
  public Run run(long base, int n, int window) throws IOException {
    return run(n, window, i -> TelemetryShape.oneMetric().json(base, conns.size(), i));
  }

  /**
   * Sends {@code n / devices} messages per device, message i (device i % devices) carrying {@code payload(i)};
   * returns when every message is acknowledged.
   */
  public Run run(int n, int window, IntFunction<byte[]> payload) throws IOException {
    int devices = conns.size();
    int perDevice = n / devices;
    byte[][] payloads = DevicePayloads.encode(perDevice * devices, payload);
    long[] latencies = new long[perDevice * devices];
    int recorded = 0;
    long failures = 0;
    int finished = 0;
    for (Conn c : conns) {
      c.sent = 0;
      c.acked = 0;
      c.unacked.clear();
    }
    long start = System.nanoTime();
    for (Conn c : conns) {
      for (int k = 0; k < window && c.sent < perDevice; k++) {
        send(c, devices, payloads);
      }
      flush(c);
    }
    while (finished < devices) {
      selector.select(1000);
      for (SelectionKey key : selector.selectedKeys()) {
        Conn c = (Conn) key.attachment();
        if (!key.isValid()) {
          continue;
        }
        if (key.isWritable()) {
          flush(c);
        }
        if (!key.isReadable()) {
          continue;
        }
        int read = c.channel.read(c.in);
        if (read < 0) {
          throw new IOException("device " + c.device + ": connection closed by the server after " + c.acked
              + " PUBACKs");
        }
        c.in.flip();
        long now = System.nanoTime();
        while (c.in.remaining() >= 4) {
          int type = c.in.get() & 0xff;
          int len = c.in.get() & 0xff;
          int id = c.in.getShort() & 0xffff;
          long[] head = c.unacked.poll();
          if (type != 0x40 || len != 2 || head == null || head[0] != id) {
            failures++;
            continue;
          }
          latencies[recorded++] = now - head[1];
          c.acked++;
          if (c.sent < perDevice) {
            send(c, devices, payloads);
          } else if (c.acked == perDevice) {
            finished++;
          }
        }
        c.in.compact();
        flush(c);
      }
      selector.selectedKeys().clear();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Run(perDevice * devices / seconds, latencies, recorded, failures);
  }

  private void send(Conn c, int devices, byte[][] payloads) {
    int i = c.sent++ * devices + c.device;
    int id = c.nextId;
    c.nextId = id == 65535 ? 1 : id + 1;
    byte[] json = payloads[i];
    int remaining = 2 + TOPIC.length + 2 + json.length;
    ByteBuffer p = ByteBuffer.allocate(remaining + 5);
    p.put((byte) 0x32); // PUBLISH, QoS 1
    remainingLength(p, remaining);
    p.putShort((short) TOPIC.length).put(TOPIC).putShort((short) id).put(json).flip();
    c.out.add(p);
    c.unacked.add(new long[] {id, System.nanoTime()});
  }

  /** Writes what is queued; what the socket does not take waits for OP_WRITE. */
  private void flush(Conn c) throws IOException {
    while (!c.out.isEmpty()) {
      ByteBuffer head = c.out.peek();
      c.channel.write(head);
      if (head.hasRemaining()) {
        c.channel.keyFor(selector).interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        return;
      }
      c.out.poll();
    }
    SelectionKey key = c.channel.keyFor(selector);
    if (key != null && (key.interestOps() & SelectionKey.OP_WRITE) != 0) {
      key.interestOps(SelectionKey.OP_READ);
    }
  }

  /** An MQTT 3.1.1 CONNECT with clean session, user name, password and no keep-alive. */
  static byte[] connect(String clientId, String username, String password) {
    ByteBuffer body = ByteBuffer.allocate(512);
    body.put(utf8("MQTT")).put((byte) 4).put((byte) 0xC2).putShort((short) 0);
    body.put(utf8(clientId)).put(utf8(username)).put(utf8(password)).flip();
    ByteBuffer packet = ByteBuffer.allocate(body.remaining() + 5);
    packet.put((byte) 0x10);
    remainingLength(packet, body.remaining());
    packet.put(body).flip();
    byte[] out = new byte[packet.remaining()];
    packet.get(out);
    return out;
  }

  private static void remainingLength(ByteBuffer b, int len) {
    do {
      int digit = len % 128;
      len /= 128;
      b.put((byte) (len > 0 ? digit | 0x80 : digit));
    } while (len > 0);
  }

  private static byte[] utf8(String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(b.length + 2).putShort((short) b.length).put(b).array();
  }

  /** Sends DISCONNECT on every connection and closes it. */
  @Override
  public void close() throws IOException {
    selector.close();
    for (Conn c : conns) {
      try {
        c.channel.write(ByteBuffer.wrap(new byte[] {(byte) 0xe0, 0}));
      } catch (IOException | RuntimeException ignored) {
        // the server went first
      }
      c.channel.close();
    }
  }
}
