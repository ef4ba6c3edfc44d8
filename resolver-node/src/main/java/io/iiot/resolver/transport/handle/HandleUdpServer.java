package io.iiot.resolver.transport.handle;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Handle protocol over UDP (reference §1.8). Requests of up to 492 bytes of message arrive in one datagram;
 * longer ones in numbered slices with TC set, reassembled here (bounded: {@link #MAX_REASSEMBLIES} at once per
 * socket, each at most 262,144 bytes, dropped after 5 s). Answers longer than 492 bytes are split into numbered
 * datagrams of at most 512 bytes, all with TC set, as CNRI's server does; the client reassembles them.
 *
 * <p>Thread model: {@code sockets} UDP sockets bound to the same address with SO_REUSEPORT, each on its own Vert.x
 * event loop, so that the kernel spreads clients over them (by source address and port: all datagrams of one client
 * socket reach the same server socket, which keeps a reassembly table touched only from its loop). One socket on one
 * loop stalls every client whenever that loop is descheduled or paused (a young GC), and its receive buffer then
 * overflows; several loops drain their sockets in parallel afterwards. The sockets are plain Netty channels on
 * Vert.x's event loops, not Vert.x {@code DatagramSocket}s: Vert.x fixes the read buffer size to the receive buffer
 * size when the latter is set, and resolves the destination host string of every send; here an answer goes to the
 * sender's address as received, and writes of one read batch are flushed together.
 */
public final class HandleUdpServer {
  private static final Logger LOG = LoggerFactory.getLogger(HandleUdpServer.class);
  static final int MAX_REASSEMBLIES = 64;
  private static final long REASSEMBLY_MILLIS = 5_000;

  private final VertxInternal vertx;
  private final HandleRequestProcessor processor;
  private final int sockets;
  private final int receiveBuffer;
  private final List<Endpoint> endpoints = new ArrayList<>();
  private volatile int port = -1;

  private static final class Reassembly {
    final byte[] message;
    final boolean[] got;
    int missing;
    final long started = System.currentTimeMillis();

    Reassembly(int length) {
      message = new byte[length];
      got = new boolean[(length + Limits.MAX_UDP_DATA - 1) / Limits.MAX_UDP_DATA];
      missing = got.length;
    }
  }

  /**
   * @param sockets UDP sockets sharing the port (SO_REUSEPORT), each on its own event loop; 1 when the transport
   *     cannot share a port
   * @param receiveBuffer SO_RCVBUF of each socket in bytes (the kernel caps it at net.core.rmem_max); 0 = the
   *     system default
   */
  public HandleUdpServer(Vertx vertx, HandleRequestProcessor processor, int sockets, int receiveBuffer) {
    this.vertx = (VertxInternal) vertx;
    this.processor = processor;
    this.sockets = Math.max(1, sockets);
    this.receiveBuffer = receiveBuffer;
  }

  /** Binds the sockets: the first one picks the port (when {@code port} is 0), the others share it. */
  public Future<Void> listen(String host, int port) {
    InetAddress address;
    try {
      address = InetAddress.getByName(host);
    } catch (java.net.UnknownHostException e) {
      return Future.failedFuture(e);
    }
    InternetProtocolFamily family = address instanceof Inet6Address
        ? InternetProtocolFamily.IPv6 : InternetProtocolFamily.IPv4;
    if (sockets > 1 && port != 0) {
      // SO_REUSEPORT would let these sockets join those of another process of the same user on this port (a second
      // node started by mistake) instead of failing: a plain bind first proves the port free
      try (java.net.DatagramSocket probe = new java.net.DatagramSocket(new InetSocketAddress(address, port))) {
        probe.getLocalPort();
      } catch (java.net.SocketException e) {
        return Future.failedFuture(new java.net.BindException("UDP " + host + ":" + port + " is in use: "
            + e.getMessage()));
      }
    }
    Future<Void> f = bind(family, new InetSocketAddress(address, port), sockets > 1);
    for (int i = 1; i < sockets; i++) {
      f = f.compose(x -> bind(family, new InetSocketAddress(address, this.port), true));
    }
    return f.onSuccess(x -> LOG.info("Handle UDP on {}:{}: {} socket(s), receive buffer {} bytes each",
        host, this.port, endpoints.size(), endpoints.get(0).channel.config().getOption(ChannelOption.SO_RCVBUF)));
  }

  private Future<Void> bind(InternetProtocolFamily family, InetSocketAddress at, boolean sharePort) {
    ContextInternal context = vertx.createEventLoopContext();
    Endpoint endpoint = new Endpoint(context);
    Bootstrap b = new Bootstrap().group(context.nettyEventLoop())
        .channelFactory(() -> {
          DatagramChannel ch = vertx.transport().datagramChannel(family);
          if (sharePort && !reusePort(ch)) {
            ch.unsafe().closeForcibly();
            throw new IllegalStateException("this transport cannot share a UDP port (SO_REUSEPORT): set "
                + "handle.udp-sockets to 1");
          }
          return ch;
        })
        .handler(endpoint);
    if (receiveBuffer > 0) {
      b.option(ChannelOption.SO_RCVBUF, receiveBuffer);
    }
    Promise<Void> done = context.promise();
    ChannelFuture bound;
    try {
      bound = b.bind(at);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    bound.addListener(r -> {
      if (r.isSuccess()) {
        synchronized (endpoints) {
          endpoints.add(endpoint);
        }
        port = endpoint.channel.localAddress().getPort();
        endpoint.sweepTimer = vertx.setPeriodic(1000, t -> context.nettyEventLoop().execute(endpoint::sweep));
        done.complete();
      } else {
        done.fail(r.cause());
      }
    });
    return done.future();
  }

  /** Sets SO_REUSEPORT on a channel of the JDK transport (Java 9+ on Linux) or of Netty's native epoll. */
  private static boolean reusePort(DatagramChannel ch) {
    if (ch instanceof NioDatagramChannel) {
      return ch.config().setOption(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true);
    }
    String epoll = "io.netty.channel.epoll.EpollChannelOption#SO_REUSEPORT";
    return ChannelOption.exists(epoll) && ch.config().setOption(ChannelOption.valueOf(epoll), true);
  }

  public int port() {
    return port;
  }

  /** One server socket, its event loop's context, and its reassembly table (touched only from that loop). */
  private final class Endpoint extends ChannelInboundHandlerAdapter {
    final ContextInternal context;
    final Map<String, Reassembly> partial = new LinkedHashMap<>();
    /** The envelope of the datagram being read (one loop, one datagram at a time). */
    final byte[] envelope = new byte[Limits.ENVELOPE_SIZE];
    volatile DatagramChannel channel;
    long sweepTimer = -1;
    boolean unflushed;
    /** {@link #onPacket} as one handler object, not one per datagram. */
    private final io.vertx.core.Handler<DatagramPacket> onPacket = this::onPacket;

    Endpoint(ContextInternal context) {
      this.context = context;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
      channel = (DatagramChannel) ctx.channel(); // before the first read
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      DatagramPacket packet = (DatagramPacket) msg;
      try {
        // in the context of this loop, so that what the request starts (storage reads, worker tasks) belongs to it
        context.emit(packet, onPacket);
      } finally {
        packet.release();
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (unflushed) {
        unflushed = false;
        ctx.flush();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      LOG.debug("Handle UDP socket: {}", cause.toString());
    }

    private void onPacket(DatagramPacket packet) {
      ByteBuf data = packet.content();
      int n = data.readableBytes();
      if (n < Limits.ENVELOPE_SIZE || n > Limits.MAX_UDP_PACKET + 64) {
        return;
      }
      int at = data.readerIndex();
      Envelope env;
      try {
        data.getBytes(at, envelope);
        env = Envelope.decode(envelope, 0);
      } catch (HandleCodecException e) {
        return; // nothing to answer to
      }
      InetSocketAddress from = packet.sender();
      int slice = n - Limits.ENVELOPE_SIZE;
      byte[] message;
      if (!env.truncated() && env.messageId() == 0 && env.messageLength() <= slice) {
        // the common case, a request in one datagram: the message copied once, straight out of the datagram
        message = new byte[env.messageLength()];
        data.getBytes(at + Limits.ENVELOPE_SIZE, message);
      } else {
        message = reassemble(env, data, at, slice, from);
        if (message == null) {
          return;
        }
      }
      Message m;
      try {
        m = processor.decode(env, message);
      } catch (HandleCodecException e) {
        send(processor.undecodable(env, e), from, null);
        unflushed = true;
        return;
      }
      Future<List<HandleRequestProcessor.Encoded>> answer = processor.process(m, true);
      if (answer.succeeded()) {
        // answered at once (cache hits): written now, flushed with the rest of this read batch
        List<HandleRequestProcessor.Encoded> out = answer.result();
        // the first answer goes back in the request's own buffer: no allocation and release per datagram
        for (int i = 0; i < out.size(); i++) {
          send(out.get(i), from, i == 0 ? data : null);
        }
        unflushed = true;
      } else {
        answer.onSuccess(out -> {
          out.forEach(enc -> send(enc, from, null));
          channel.flush();
        });
      }
    }

    private byte[] reassemble(Envelope env, ByteBuf data, int at, int slice, InetSocketAddress from) {
      int length = env.messageLength();
      int count = (length + Limits.MAX_UDP_DATA - 1) / Limits.MAX_UDP_DATA;
      int id = env.messageId();
      if (length == 0 || id < 0 || id >= count || slice > Limits.MAX_UDP_DATA
          || (long) id * Limits.MAX_UDP_DATA + slice > length
          || (id < count - 1 && slice != Limits.MAX_UDP_DATA)) {
        return null;
      }
      String key = from.getAddress().getHostAddress() + ":" + from.getPort() + "#" + env.requestId();
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
        data.getBytes(at + Limits.ENVELOPE_SIZE, r.message, id * Limits.MAX_UDP_DATA, slice);
        r.got[id] = true;
        r.missing--;
      }
      if (r.missing == 0) {
        partial.remove(key);
        return r.message;
      }
      return null;
    }

    void sweep() {
      long now = System.currentTimeMillis();
      for (Iterator<Reassembly> it = partial.values().iterator(); it.hasNext(); ) {
        if (now - it.next().started > REASSEMBLY_MILLIS) {
          it.remove();
        }
      }
    }

    /**
     * Writes one message, split into ≤ 512-byte datagrams when it does not fit one; the caller flushes.
     *
     * @param request the buffer of the request datagram being answered, still held by the caller, to write a
     *     one-datagram answer into when only this read uses it and the answer fits (its bytes have been decoded
     *     into arrays of their own by then); {@code null}: a new buffer
     */
    private void send(HandleRequestProcessor.Encoded enc, InetSocketAddress to, ByteBuf request) {
      Channel ch = channel;
      if (enc.messageLength() <= Limits.MAX_UDP_DATA) {
        // the common case: the encoded bytes are the datagram, copied once into a pooled direct buffer (a heap
        // buffer would be copied into one by the channel anyway, in a second packet object)
        byte[] wire = enc.wire();
        ByteBuf out = request != null && request.refCnt() == 1 && request.isDirect()
            && request.maxCapacity() >= wire.length
            ? request.retain().clear().writeBytes(wire)
            : ch.alloc().directBuffer(wire.length).writeBytes(wire);
        ch.write(new DatagramPacket(out, to), ch.voidPromise());
        return;
      }
      for (Buffer b : datagrams(enc)) {
        ch.write(new DatagramPacket(b.getByteBuf(), to), ch.voidPromise());
      }
    }
  }

  /**
   * The datagrams of a message: one when it fits in 492 bytes, else numbered slices with TC set; EC (an answer
   * encrypted with the session key) is kept in every slice.
   */
  public static List<Buffer> datagrams(HandleRequestProcessor.Encoded enc) {
    int length = enc.messageLength();
    if (length <= Limits.MAX_UDP_DATA) {
      return List.of(Buffer.buffer(enc.wire()));
    }
    byte[] wire = enc.wire();
    int count = (length + Limits.MAX_UDP_DATA - 1) / Limits.MAX_UDP_DATA;
    int flags = (enc.envelope().flags() & Envelope.EC) | Envelope.TC;
    List<Buffer> out = new ArrayList<>(count);
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
    List<Future<Void>> closing = new ArrayList<>();
    synchronized (endpoints) {
      for (Endpoint e : endpoints) {
        vertx.cancelTimer(e.sweepTimer);
        Promise<Void> p = e.context.promise();
        e.channel.close().addListener(r -> p.complete());
        closing.add(p.future());
      }
      endpoints.clear();
    }
    return Future.all(closing).mapEmpty();
  }
}
