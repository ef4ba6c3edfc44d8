package io.iiot.it.bench;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;

/**
 * The benchmark's CoAP load: {@code devices} simulated devices, each keeping one CON PUT to
 * {@code /t/<tenant>/dev<d>} outstanding, sent as hand-encoded RFC 7252 datagrams from a few non-blocking UDP sockets on
 * one thread. A full CoAP stack per simulated device (Californium's client: exchange store, deduplicator, executors)
 * costs as much CPU as the server it loads; this keeps the generator's share of the shared cores small. It still
 * behaves as a CoAP client must: a request is retransmitted (same message id) if nothing came back within the ACK
 * timeout, an empty ACK means the response follows separately, and a separate CON response is acknowledged.
 */
public final class RawCoapDevices {
  private static final int ACK_TIMEOUT_MS = 2000;
  private static final int MAX_RETRANSMIT = 4;
  private static final byte PUT = 0x03;
  private static final int CHANGED = 0x44; // 2.04
  private static final int TYPE_CON = 0;
  private static final int TYPE_ACK = 2;
  private static final int JSON = 50;

  /** Outcome of one run: rate, ack latencies (ns, unsorted, {@code recorded} of them), failures. */
  public record Run(double rate, long[] latencies, int recorded, long failures, long retransmissions) {}

  private final int devices;
  private final DatagramChannel[] channels;
  private final Selector selector;
  /**
   * Next message id per socket, from run to run: a server deduplicates CON requests by endpoint and message id for
   * the exchange lifetime (247 s), so ids must not restart while the sockets live.
   */
  private final int[] nextMid;

  public RawCoapDevices(InetSocketAddress server, int devices, int sockets) throws IOException {
    this.devices = devices;
    this.selector = Selector.open();
    this.channels = new DatagramChannel[sockets];
    this.nextMid = new int[sockets];
    for (int s = 0; s < sockets; s++) {
      DatagramChannel ch = DatagramChannel.open();
      // A thousand answers may arrive at once; the default buffer (~200 KiB) would drop some.
      ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
      ch.bind(new InetSocketAddress("127.0.0.1", 0));
      ch.connect(server);
      ch.configureBlocking(false);
      ch.register(selector, SelectionKey.OP_READ, s);
      channels[s] = ch;
    }
  }

  /** Message i goes to device i % devices with ts = base + i / devices, as in {@link DeviceIngestBenchmark#row}. */
  public Run run(String tenant, long base, int n) throws IOException {
    return run(tenant, n, i -> TelemetryShape.oneMetric().json(base, devices, i));
  }

  /** Message i goes to device i % devices carrying {@code payload(i)}. */
  public Run run(String tenant, int n, IntFunction<byte[]> json) throws IOException {
    int perDevice = n / devices;
    byte[][] payloads = DevicePayloads.encode(perDevice * devices, json);
    IntFunction<byte[]> payload = i -> payloads[i];
    Device[] state = new Device[devices];
    long[] latencies = new long[perDevice * devices];
    int recorded = 0;
    long failures = 0;
    long retransmissions = 0;
    int finished = 0;
    ArrayDeque<Device> unsent = new ArrayDeque<>();
    for (int d = 0; d < devices; d++) {
      state[d] = new Device(d, d % channels.length);
    }
    long start = System.nanoTime();
    for (Device dev : state) {
      dev.prepare(tenant, payload, nextMid);
      unsent.add(dev);
    }
    ByteBuffer in = ByteBuffer.allocate(2048);
    ByteBuffer ack = ByteBuffer.allocate(4);
    long lastScan = System.nanoTime();
    while (finished < devices) {
      while (!unsent.isEmpty()) {
        Device dev = unsent.peek();
        if (channels[dev.channel].write(ByteBuffer.wrap(dev.datagram)) == 0) {
          break; // socket buffer full: try again after the next select
        }
        unsent.poll();
        dev.sentAt = System.nanoTime();
        if (dev.firstSentAt == 0) {
          dev.firstSentAt = dev.sentAt;
        }
      }
      selector.select(unsent.isEmpty() ? 50 : 1);
      for (SelectionKey key : selector.selectedKeys()) {
        DatagramChannel ch = (DatagramChannel) key.channel();
        while (true) {
          in.clear();
          if (ch.receive(in) == null) {
            break;
          }
          in.flip();
          if (in.remaining() < 4) {
            continue;
          }
          int b0 = in.get(0) & 0xff;
          int type = (b0 >> 4) & 3;
          int tkl = b0 & 0x0f;
          int code = in.get(1) & 0xff;
          int mid = ((in.get(2) & 0xff) << 8) | (in.get(3) & 0xff);
          if (type == TYPE_CON) {
            // A separate response: acknowledge it (empty ACK, same message id) whatever it is.
            ack.clear();
            ack.put((byte) (0x40 | (TYPE_ACK << 4))).put((byte) 0).put((byte) (mid >> 8)).put((byte) mid).flip();
            ch.write(ack);
          }
          if (code == 0 || tkl != 4 || in.remaining() < 8) {
            // Empty ACK: the server took the request; its response comes separately.
            if (code == 0 && type == TYPE_ACK) {
              for (Device dev : state) {
                if (dev.channel == (int) key.attachment() && dev.mid == mid) {
                  dev.accepted = true;
                }
              }
            }
            continue;
          }
          int token = in.getInt(4);
          int device = token % devices;
          if (device < 0 || device >= devices) {
            continue;
          }
          Device dev = state[device];
          if (dev.index != token || dev.done) {
            continue; // a duplicate answer to a retransmission
          }
          if (code == CHANGED) {
            latencies[recorded++] = System.nanoTime() - dev.firstSentAt;
          } else {
            failures++;
          }
          if (dev.next(tenant, payload, perDevice, nextMid)) {
            unsent.add(dev);
          } else {
            finished++;
          }
        }
      }
      selector.selectedKeys().clear();
      long now = System.nanoTime();
      if (now - lastScan > 100_000_000L) {
        lastScan = now;
        for (Device dev : state) {
          if (!dev.done && !dev.accepted && dev.sentAt != 0 && now - dev.sentAt > ACK_TIMEOUT_MS * 1_000_000L
              * (1L << Math.min(dev.retransmits, 4))) {
            if (++dev.retransmits > MAX_RETRANSMIT) {
              failures++;
              if (dev.next(tenant, payload, perDevice, nextMid)) {
                unsent.add(dev);
              } else {
                finished++;
              }
            } else {
              retransmissions++;
              dev.sentAt = 0;
              unsent.add(dev);
            }
          }
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new Run(perDevice * devices / seconds, latencies, recorded, failures, retransmissions);
  }

  public void close() throws IOException {
    selector.close();
    for (DatagramChannel ch : channels) {
      ch.close();
    }
  }

  /** One simulated device's single outstanding request. */
  private final class Device {
    final int id;
    final int channel;
    int k;
    int index;
    int mid;
    byte[] datagram;
    long sentAt;
    long firstSentAt;
    int retransmits;
    boolean accepted;
    boolean done;

    Device(int id, int channel) {
      this.id = id;
      this.channel = channel;
    }

    void prepare(String tenant, IntFunction<byte[]> payload, int[] nextMid) {
      index = k * devices + id;
      mid = nextMid[channel];
      nextMid[channel] = (mid + 1) & 0xffff;
      datagram = encodePut(mid, index, List.of("t", tenant, "dev" + id), payload.apply(index));
      sentAt = 0;
      firstSentAt = 0;
      retransmits = 0;
      accepted = false;
    }

    /** Moves to the next message; false when this device has sent all of its messages. */
    boolean next(String tenant, IntFunction<byte[]> payload, int perDevice, int[] nextMid) {
      if (++k >= perDevice) {
        done = true;
        return false;
      }
      prepare(tenant, payload, nextMid);
      return true;
    }
  }

  /** A CON PUT with a 4-byte token, Uri-Path options, Content-Format application/json and the payload. */
  static byte[] encodePut(int mid, int token, List<String> path, byte[] payload) {
    ByteBuffer b = ByteBuffer.allocate(64 + payload.length + path.stream().mapToInt(String::length).sum());
    b.put((byte) (0x40 | (TYPE_CON << 4) | 4)).put(PUT).put((byte) (mid >> 8)).put((byte) mid).putInt(token);
    int last = 0;
    for (String segment : path) {
      last = option(b, 11, last, segment.getBytes(StandardCharsets.UTF_8));
    }
    option(b, 12, last, new byte[] {(byte) JSON});
    b.put((byte) 0xff).put(payload);
    return Arrays.copyOf(b.array(), b.position());
  }

  private static int option(ByteBuffer b, int number, int previous, byte[] value) {
    int delta = number - previous;
    int len = value.length;
    int head = b.position();
    b.put((byte) 0);
    int dn = nibble(b, delta);
    int ln = nibble(b, len);
    b.put(head, (byte) ((dn << 4) | ln));
    b.put(value);
    return number;
  }

  /** Writes the extended bytes of an option delta or length (written in order: delta's, then length's). */
  private static int nibble(ByteBuffer b, int v) {
    if (v < 13) {
      return v;
    }
    if (v < 269) {
      b.put((byte) (v - 13));
      return 13;
    }
    b.putShort((short) (v - 269));
    return 14;
  }
}
