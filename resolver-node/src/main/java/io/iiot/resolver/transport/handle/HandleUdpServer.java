package io.iiot.resolver.transport.handle;

import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.SocketAddress;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The Handle protocol over UDP (reference §1.8). Requests of up to 492 bytes of message arrive in one datagram;
 * longer ones in numbered slices with TC set, reassembled here (bounded: {@link #MAX_REASSEMBLIES} at once, each at
 * most 262,144 bytes, dropped after 5 s). Answers longer than 492 bytes are split into numbered datagrams of at most
 * 512 bytes, all with TC set, as CNRI's server does; the client reassembles them.
 *
 * <p>Thread model: one socket on one event loop; the reassembly table is touched only from that loop.
 */
public final class HandleUdpServer {
  static final int MAX_REASSEMBLIES = 64;
  private static final long REASSEMBLY_MILLIS = 5_000;

  private final Vertx vertx;
  private final HandleRequestProcessor processor;
  private final Map<String, Reassembly> partial = new LinkedHashMap<>();
  private DatagramSocket socket;
  private long sweepTimer = -1;

  private static final class Reassembly {
    final byte[] message;
    final boolean[] got;
    int missing;
    final long started = System.currentTimeMillis();
    Envelope first;

    Reassembly(int length) {
      message = new byte[length];
      got = new boolean[(length + Limits.MAX_UDP_DATA - 1) / Limits.MAX_UDP_DATA];
      missing = got.length;
    }
  }

  public HandleUdpServer(Vertx vertx, HandleRequestProcessor processor) {
    this.vertx = vertx;
    this.processor = processor;
  }

  public Future<DatagramSocket> listen(String host, int port) {
    // No receive-buffer size here: Vert.x would also make it the size of the buffer allocated for every datagram
    // read (a fixed allocator), which cost 10x in throughput at 4 MiB.
    socket = vertx.createDatagramSocket(new DatagramSocketOptions());
    socket.handler(this::onPacket);
    sweepTimer = vertx.setPeriodic(1000, t -> sweep());
    return socket.listen(port, host);
  }

  public int port() {
    return socket.localAddress().port();
  }

  private void onPacket(DatagramPacket packet) {
    Buffer data = packet.data();
    int n = data.length();
    if (n < Limits.ENVELOPE_SIZE || n > Limits.MAX_UDP_PACKET + 64) {
      return;
    }
    Envelope env;
    try {
      env = Envelope.decode(data.getBytes(0, Limits.ENVELOPE_SIZE), 0);
    } catch (HandleCodecException e) {
      return; // nothing to answer to
    }
    SocketAddress from = packet.sender();
    int slice = n - Limits.ENVELOPE_SIZE;
    byte[] message;
    if (!env.truncated() && env.messageId() == 0 && env.messageLength() <= slice) {
      // the common case, a request in one datagram: the message copied once, straight out of the datagram
      message = data.getBytes(Limits.ENVELOPE_SIZE, Limits.ENVELOPE_SIZE + env.messageLength());
    } else {
      message = reassemble(env, data.getBytes(), slice, from);
      if (message == null) {
        return;
      }
    }
    Message m;
    try {
      m = processor.decode(env, message);
    } catch (HandleCodecException e) {
      send(processor.undecodable(env, e), from);
      return;
    }
    processor.process(m, true).onSuccess(out -> out.forEach(enc -> send(enc, from)));
  }

  private byte[] reassemble(Envelope env, byte[] bytes, int slice, SocketAddress from) {
    int length = env.messageLength();
    int count = (length + Limits.MAX_UDP_DATA - 1) / Limits.MAX_UDP_DATA;
    int id = env.messageId();
    if (length == 0 || id < 0 || id >= count || slice > Limits.MAX_UDP_DATA
        || (long) id * Limits.MAX_UDP_DATA + slice > length
        || (id < count - 1 && slice != Limits.MAX_UDP_DATA)) {
      return null;
    }
    String key = from.host() + ":" + from.port() + "#" + env.requestId();
    Reassembly r = partial.get(key);
    if (r == null) {
      if (partial.size() >= MAX_REASSEMBLIES) {
        sweep();
        if (partial.size() >= MAX_REASSEMBLIES) {
          return null;
        }
      }
      r = new Reassembly(length);
      partial.put(key, r);
    }
    if (r.message.length != length) {
      partial.remove(key);
      return null;
    }
    if (!r.got[id]) {
      System.arraycopy(bytes, Limits.ENVELOPE_SIZE, r.message, id * Limits.MAX_UDP_DATA, slice);
      r.got[id] = true;
      r.missing--;
      if (id == 0) {
        r.first = env;
      }
    }
    if (r.missing == 0) {
      partial.remove(key);
      return r.message;
    }
    return null;
  }

  private void sweep() {
    long now = System.currentTimeMillis();
    for (Iterator<Reassembly> it = partial.values().iterator(); it.hasNext(); ) {
      if (now - it.next().started > REASSEMBLY_MILLIS) {
        it.remove();
      }
    }
  }

  /** Sends one message, split into ≤ 512-byte datagrams when it does not fit one. */
  private void send(HandleRequestProcessor.Encoded enc, SocketAddress to) {
    if (enc.messageLength() <= Limits.MAX_UDP_DATA) {
      // the common case: the encoded bytes are the datagram, wrapped without a copy
      socket.send(Buffer.buffer(Unpooled.wrappedBuffer(enc.wire())), to.port(), to.host());
      return;
    }
    for (Buffer b : datagrams(enc)) {
      socket.send(b, to.port(), to.host());
    }
  }

  /**
   * The datagrams of a message: one when it fits in 492 bytes, else numbered slices with TC set; EC (an answer
   * encrypted with the session key) is kept in every slice.
   */
  public static java.util.List<Buffer> datagrams(HandleRequestProcessor.Encoded enc) {
    int length = enc.messageLength();
    if (length <= Limits.MAX_UDP_DATA) {
      return java.util.List.of(Buffer.buffer(enc.wire()));
    }
    byte[] wire = enc.wire();
    int count = (length + Limits.MAX_UDP_DATA - 1) / Limits.MAX_UDP_DATA;
    int flags = (enc.envelope().flags() & Envelope.EC) | Envelope.TC;
    java.util.List<Buffer> out = new java.util.ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int off = i * Limits.MAX_UDP_DATA;
      int len = Math.min(Limits.MAX_UDP_DATA, length - off);
      byte[] pkt = new byte[Limits.ENVELOPE_SIZE + len];
      enc.envelope().withMessage(i, length, flags).encode(pkt, 0);
      System.arraycopy(wire, Envelope.SIZE + off, pkt, Limits.ENVELOPE_SIZE, len);
      out.add(Buffer.buffer(pkt));
    }
    return out;
  }

  public Future<Void> close() {
    if (sweepTimer >= 0) {
      vertx.cancelTimer(sweepTimer);
    }
    return socket == null ? Future.succeededFuture() : socket.close();
  }
}
