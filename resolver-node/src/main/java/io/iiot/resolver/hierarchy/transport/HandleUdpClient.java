package io.iiot.resolver.hierarchy.transport;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.hierarchy.Endpoint;
import io.iiot.resolver.hierarchy.HandleExchange;
import io.iiot.resolver.transport.handle.BufReader;
import io.iiot.resolver.transport.handle.BufWriter;
import io.iiot.resolver.transport.handle.Envelope;
import io.iiot.resolver.transport.handle.HandleCodecException;
import io.iiot.resolver.transport.handle.Limits;
import io.iiot.resolver.transport.handle.Message;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.iiot.resolver.transport.handle.ValueCodec;
import io.iiot.resolver.transport.handle.Version;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.datagram.DatagramPacket;
import io.vertx.core.datagram.DatagramSocket;
import io.vertx.core.datagram.DatagramSocketOptions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A non-blocking Handle client over UDP on the node's own codec: one socket, requests matched to answers by
 * RequestId and sender, multi-datagram answers reassembled (CNRI's layout: 492-byte slices numbered by messageId),
 * each request resent after 1/4 and 1/2 of its timeout (a lost datagram), at most {@code maxInFlight} at once.
 */
public final class HandleUdpClient implements HandleExchange {
  private static final Version VERSION = Version.HIGHEST;
  private final Vertx vertx;
  private final long timeoutMillis;
  private final int maxInFlight;
  private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private DatagramSocket socket;

  private static final class Pending {
    final Promise<Message> promise = Promise.promise();
    final String host;
    final int port;
    final Buffer datagram;
    byte[] message;
    boolean[] got;
    int missing;
    long timer = -1;

    Pending(String host, int port, Buffer datagram) {
      this.host = host;
      this.port = port;
      this.datagram = datagram;
    }
  }

  public HandleUdpClient(Vertx vertx, long timeoutMillis, int maxInFlight) {
    this.vertx = vertx;
    this.timeoutMillis = timeoutMillis;
    this.maxInFlight = maxInFlight;
  }

  public Future<Void> start() {
    socket = vertx.createDatagramSocket(new DatagramSocketOptions());
    socket.handler(this::onPacket);
    return socket.listen(0, "0.0.0.0").mapEmpty();
  }

  public Future<Void> close() {
    pending.values().forEach(p -> p.promise.tryFail("client closed"));
    return socket == null ? Future.succeededFuture() : socket.close();
  }

  @Override
  public Future<Reply> resolve(Endpoint to, Request r) {
    if (to.port() <= 0) {
      return Future.failedFuture(new NoInterface(to + " has no UDP query interface"));
    }
    return exchange(to.host(), to.port(), ResponseCodes.OC_RESOLUTION, r.opFlags(), r.recursionCount(),
        resolutionBody(r)).map(HandleUdpClient::reply);
  }

  @Override
  public Future<SiteRecord> siteInfo(String host, int port) {
    return exchange(host, port, ResponseCodes.OC_GET_SITE_INFO, 0, 0, siteInfoBody())
        .compose(m -> siteRecord(m, host, port));
  }

  /** The server has no interface for this transport: try the next one. */
  static final class NoInterface extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NoInterface(String message) {
      super(message, null, false, false);
    }
  }

  static byte[] resolutionBody(Request r) {
    BufWriter body = new BufWriter(64 + r.handle().length() * 3).utf8(r.handle()).int4(r.indexes().length);
    for (int i : r.indexes()) {
      body.int4(i);
    }
    body.int4(r.types().size());
    r.types().forEach(body::utf8);
    return body.toByteArray();
  }

  static byte[] siteInfoBody() {
    return new BufWriter(8).utf8("/").toByteArray();
  }

  /** Header + body + empty credential of a request (no envelope). */
  static byte[] message(int opCode, int flags, int recursionCount, byte[] body) {
    int expiration = (int) (System.currentTimeMillis() / 1000) + 12 * 3600;
    return new BufWriter(Limits.HEADER_SIZE + body.length + 4).int4(opCode).int4(0).int4(flags)
        .u16(0xFFFF).u8(Math.min(255, recursionCount)).u8(0).int4(expiration).int4(body.length).raw(body).int4(0)
        .toByteArray();
  }

  static Future<SiteRecord> siteRecord(Message m, String host, int port) {
    if (m.responseCode() != ResponseCodes.RC_SUCCESS) {
      return Future.failedFuture("GET_SITEINFO at " + host + ":" + port + " answered " + m.responseCode());
    }
    try {
      BufReader b = m.body();
      skipDigest(m, b);
      return Future.succeededFuture(SiteRecord.decode(b.raw(b.remaining())));
    } catch (HandleCodecException e) {
      return Future.failedFuture(e);
    }
  }

  private Future<Message> exchange(String host, int port, int opCode, int flags, int recursionCount, byte[] body) {
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      return Future.failedFuture(new Busy());
    }
    byte[] m = message(opCode, flags, recursionCount, body);
    int requestId;
    Pending p;
    do {
      requestId = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
      byte[] dg = new byte[Limits.ENVELOPE_SIZE + m.length];
      new Envelope(VERSION.major(), VERSION.minor(), 0, VERSION.major(), VERSION.minor(), 0, requestId, 0, m.length)
          .encode(dg, 0);
      System.arraycopy(m, 0, dg, Limits.ENVELOPE_SIZE, m.length);
      p = new Pending(host, port, Buffer.buffer(dg));
    } while (pending.putIfAbsent(requestId, p) != null);
    int id = requestId;
    Pending sent = p;
    send(sent, id, 0);
    return sent.promise.future().andThen(x -> {
      pending.remove(id, sent);
      inFlight.decrementAndGet();
      if (sent.timer >= 0) {
        vertx.cancelTimer(sent.timer);
      }
    });
  }

  /** Sends (again); after 1/4, 1/4 and 1/2 of the timeout: resend, resend, give up. */
  private void send(Pending p, int id, int attempt) {
    if (p.promise.future().isComplete()) {
      return;
    }
    if (attempt == 3) {
      p.promise.tryFail(new TimeoutException("no answer from " + p.host + ":" + p.port + " in " + timeoutMillis
          + " ms"));
      return;
    }
    socket.send(p.datagram, p.port, p.host);
    long wait = Math.max(1, attempt == 2 ? timeoutMillis / 2 : timeoutMillis / 4);
    p.timer = vertx.setTimer(wait, t -> send(p, id, attempt + 1));
  }

  private void onPacket(DatagramPacket packet) {
    Buffer data = packet.data();
    int n = data.length();
    if (n < Limits.ENVELOPE_SIZE || n > Limits.MAX_UDP_PACKET) {
      return;
    }
    byte[] bytes = data.getBytes();
    Envelope env;
    try {
      env = Envelope.decode(bytes, 0);
    } catch (HandleCodecException e) {
      return;
    }
    Pending p = pending.get(env.requestId());
    if (p == null || p.port != packet.sender().port() || p.promise.future().isComplete()) {
      return; // stale, or not from the server asked
    }
    int slice = n - Limits.ENVELOPE_SIZE;
    int length = env.messageLength();
    byte[] message;
    if (env.messageId() == 0 && length <= slice) {
      message = new byte[length];
      System.arraycopy(bytes, Limits.ENVELOPE_SIZE, message, 0, length);
    } else {
      int count = (length + Limits.MAX_UDP_DATA - 1) / Limits.MAX_UDP_DATA;
      int mid = env.messageId();
      if (length == 0 || mid < 0 || mid >= count || (long) mid * Limits.MAX_UDP_DATA + slice > length
          || (mid < count - 1 && slice != Limits.MAX_UDP_DATA)) {
        return;
      }
      synchronized (p) {
        if (p.message == null || p.message.length != length) {
          p.message = new byte[length];
          p.got = new boolean[count];
          p.missing = count;
        }
        if (!p.got[mid]) {
          System.arraycopy(bytes, Limits.ENVELOPE_SIZE, p.message, mid * Limits.MAX_UDP_DATA, slice);
          p.got[mid] = true;
          p.missing--;
        }
        if (p.missing > 0) {
          return;
        }
        message = p.message;
      }
    }
    try {
      Envelope whole = env.withMessage(0, length, env.flags() & ~Envelope.TC);
      p.promise.tryComplete(Message.decode(whole, message));
    } catch (HandleCodecException e) {
      p.promise.tryFail(e);
    }
  }

  /** Skips a request digest at the start of a body (RD set): hash code, then a digest of the code's length. */
  static void skipDigest(Message m, BufReader b) throws HandleCodecException {
    if (!m.flag(ResponseCodes.FLAG_RD)) {
      return;
    }
    int code = b.u8();
    switch (code) {
      case 1 -> b.skip(16);
      case 2 -> b.skip(20);
      case 3 -> b.skip(32);
      default -> throw HandleCodecException.protocol("unknown digest code " + code);
    }
  }

  static Reply reply(Message m) {
    try {
      BufReader b = m.body();
      skipDigest(m, b);
      int rc = m.responseCode();
      if (rc == ResponseCodes.RC_SUCCESS || rc == 302 || rc == 303) {
        String handle = b.utf8(Limits.MAX_HANDLE_LENGTH, ResponseCodes.RC_PROTOCOL_ERROR);
        List<HandleValue> values = b.remaining() >= 4 ? ValueCodec.decodeList(b) : List.of();
        return new Reply(rc, handle, values, "");
      }
      String msg = b.remaining() >= 4 ? b.utf8(Limits.MAX_MESSAGE_LENGTH, ResponseCodes.RC_PROTOCOL_ERROR) : "";
      return new Reply(rc, "", List.of(), msg);
    } catch (HandleCodecException e) {
      return new Reply(ResponseCodes.RC_PROTOCOL_ERROR, "", List.of(), "undecodable answer: " + e.getMessage());
    }
  }
}
