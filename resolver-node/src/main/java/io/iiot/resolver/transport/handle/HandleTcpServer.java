package io.iiot.resolver.transport.handle;

import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Handle protocol over TCP (reference §1.8): envelope, then the whole message; one request per connection unless
 * the request sets KA. Connections idle (no byte read or written) for the configured timeout are closed, which also
 * ends half-open ones. Requests on one connection are answered in order, one at a time.
 */
public final class HandleTcpServer {
  private final Vertx vertx;
  private final HandleRequestProcessor processor;
  private final Duration idleTimeout;
  private NetServer server;

  public HandleTcpServer(Vertx vertx, HandleRequestProcessor processor, Duration idleTimeout) {
    this.vertx = vertx;
    this.processor = processor;
    this.idleTimeout = idleTimeout;
  }

  public Future<NetServer> listen(String host, int port) {
    server = vertx.createNetServer(new NetServerOptions()
        .setHost(host).setPort(port).setTcpNoDelay(true)
        .setIdleTimeout((int) Math.max(1, idleTimeout.toMillis())).setIdleTimeoutUnit(TimeUnit.MILLISECONDS));
    server.connectHandler(this::onConnection);
    return server.listen();
  }

  public int port() {
    return server.actualPort();
  }

  /** Per-connection state: answers leave in request order; at most {@link #MAX_PIPELINED} requests in progress. */
  private static final int MAX_PIPELINED = 16;

  private void onConnection(NetSocket socket) {
    RecordParser parser = RecordParser.newFixed(Limits.ENVELOPE_SIZE);
    Envelope[] current = new Envelope[1];
    java.util.concurrent.atomic.AtomicInteger inProgress = new java.util.concurrent.atomic.AtomicInteger();
    boolean[] closing = new boolean[1];
    @SuppressWarnings("unchecked")
    Future<Void>[] tail = new Future[] {Future.succeededFuture()};
    parser.handler(buf -> {
      if (closing[0]) {
        return;
      }
      if (current[0] == null) {
        Envelope env;
        try {
          env = Envelope.decode(buf.getBytes(), 0);
        } catch (HandleCodecException e) {
          closing[0] = true;
          socket.close();
          return;
        }
        if (env.messageLength() < Limits.HEADER_SIZE) {
          closing[0] = true;
          enqueue(socket, tail, Future.succeededFuture(List.of(processor.protocolError(env, "message too short"))),
              false);
          return;
        }
        current[0] = env;
        parser.fixedSizeMode(env.messageLength());
        return;
      }
      Envelope env = current[0];
      current[0] = null;
      parser.fixedSizeMode(Limits.ENVELOPE_SIZE);
      Message m;
      try {
        m = processor.decode(env, buf.getBytes());
      } catch (HandleCodecException e) {
        closing[0] = true;
        enqueue(socket, tail, Future.succeededFuture(List.of(processor.undecodable(env, e))), false);
        return;
      }
      boolean keepAlive = m.flag(ResponseCodes.FLAG_KA);
      if (!keepAlive) {
        closing[0] = true;
      }
      Future<List<HandleRequestProcessor.Encoded>> answer = processor.process(m, false);
      if (answer.succeeded() && tail[0].isComplete()) {
        // answered at once and nothing earlier still pending: write now, in order, without a future chain
        Buffer b = wire(answer.result());
        if (keepAlive) {
          socket.write(b, null);
        } else {
          tail[0] = socket.end(b);
        }
        return;
      }
      if (inProgress.incrementAndGet() >= MAX_PIPELINED) {
        socket.pause();
      }
      enqueue(socket, tail, answer.andThen(x -> {
        if (inProgress.getAndDecrement() == MAX_PIPELINED) {
          socket.resume();
        }
      }), keepAlive);
    });
    socket.handler(parser);
    socket.exceptionHandler(err -> socket.close());
  }

  /** Writes {@code answer} after every earlier answer of the connection; ends the connection unless keep-alive. */
  private static void enqueue(NetSocket socket, Future<Void>[] tail,
      Future<List<HandleRequestProcessor.Encoded>> answer, boolean keepAlive) {
    tail[0] = tail[0].transform(prev -> answer).compose(out -> {
      Buffer b = wire(out);
      return keepAlive ? socket.write(b) : socket.end(b);
    }, err -> socket.close());
  }

  /** Envelope + message of each answer, back to back; one answer is wrapped without a copy. */
  private static Buffer wire(List<HandleRequestProcessor.Encoded> out) {
    if (out.size() == 1) {
      return Buffer.buffer(Unpooled.wrappedBuffer(out.get(0).wire()));
    }
    Buffer b = Buffer.buffer();
    for (HandleRequestProcessor.Encoded e : out) {
      b.appendBytes(e.wire());
    }
    return b;
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
