package io.iiot.resolver.hierarchy.transport;

import io.iiot.resolver.hierarchy.Endpoint;
import io.iiot.resolver.hierarchy.HandleExchange;
import io.iiot.resolver.transport.handle.Envelope;
import io.iiot.resolver.transport.handle.HandleCodecException;
import io.iiot.resolver.transport.handle.Limits;
import io.iiot.resolver.transport.handle.Message;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.iiot.resolver.transport.handle.Version;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A non-blocking Handle client over TCP, for answers UDP could not bring (no UDP interface, no answer in time, an
 * undecodable datagram): one connection per request as CNRI's client does (envelope + message out, envelope +
 * message back, then closed), at most {@code maxInFlight} at once.
 */
public final class HandleTcpClient implements HandleExchange {
  private static final Version VERSION = Version.HIGHEST;
  private final Vertx vertx;
  private final long timeoutMillis;
  private final int maxInFlight;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final NetClient client;

  public HandleTcpClient(Vertx vertx, long timeoutMillis, int maxInFlight) {
    this.vertx = vertx;
    this.timeoutMillis = timeoutMillis;
    this.maxInFlight = maxInFlight;
    this.client = vertx.createNetClient(new NetClientOptions().setConnectTimeout((int) Math.max(1, timeoutMillis)));
  }

  public Future<Void> close() {
    return client.close();
  }

  @Override
  public Future<Reply> resolve(Endpoint to, Request r) {
    if (to.tcpPort() <= 0) {
      return Future.failedFuture(new HandleUdpClient.NoInterface(to + " has no TCP query interface"));
    }
    return exchange(to.host(), to.tcpPort(), HandleUdpClient.message(ResponseCodes.OC_RESOLUTION, r.opFlags(),
        r.recursionCount(), HandleUdpClient.resolutionBody(r))).map(HandleUdpClient::reply);
  }

  @Override
  public Future<SiteRecord> siteInfo(String host, int port) {
    return exchange(host, port, HandleUdpClient.message(ResponseCodes.OC_GET_SITE_INFO, 0, 0,
        HandleUdpClient.siteInfoBody())).compose(m -> HandleUdpClient.siteRecord(m, host, port));
  }

  private Future<Message> exchange(String host, int port, byte[] message) {
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      return Future.failedFuture(new Busy());
    }
    Promise<Message> answer = Promise.promise();
    int requestId = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
    byte[] envelope = new Envelope(VERSION.major(), VERSION.minor(), 0, VERSION.major(), VERSION.minor(), 0,
        requestId, 0, message.length).encode();
    long timer = vertx.setTimer(Math.max(1, timeoutMillis), t -> answer.tryFail(new TimeoutException(
        "no answer over TCP from " + host + ":" + port + " in " + timeoutMillis + " ms")));
    client.connect(port, host).onFailure(answer::tryFail).onSuccess(socket -> {
      answer.future().onComplete(x -> socket.close());
      read(socket, requestId, answer);
      socket.write(Buffer.buffer(envelope).appendBytes(message)).onFailure(answer::tryFail);
    });
    return answer.future().andThen(x -> {
      vertx.cancelTimer(timer);
      inFlight.decrementAndGet();
    });
  }

  /** Envelope (20 bytes), then MessageLength bytes of message; answers to another RequestId fail the exchange. */
  private static void read(NetSocket socket, int requestId, Promise<Message> answer) {
    RecordParser parser = RecordParser.newFixed(Limits.ENVELOPE_SIZE);
    Envelope[] envelope = new Envelope[1];
    parser.handler(buf -> {
      try {
        if (envelope[0] == null) {
          Envelope e = Envelope.decode(buf.getBytes(), 0);
          if (e.requestId() != requestId || e.messageLength() < Limits.HEADER_SIZE
              || e.messageLength() > Limits.MAX_MESSAGE_LENGTH) {
            answer.tryFail(new HandleCodecException(ResponseCodes.RC_PROTOCOL_ERROR, "unexpected envelope " + e));
            return;
          }
          envelope[0] = e;
          parser.fixedSizeMode(e.messageLength());
        } else {
          answer.tryComplete(Message.decode(envelope[0], buf.getBytes()));
        }
      } catch (HandleCodecException e) {
        answer.tryFail(e);
      }
    });
    socket.handler(parser);
    socket.exceptionHandler(answer::tryFail);
    socket.closeHandler(v -> answer.tryFail("connection closed before the answer"));
  }
}
