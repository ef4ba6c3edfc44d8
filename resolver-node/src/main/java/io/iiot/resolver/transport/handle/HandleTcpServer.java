package io.iiot.resolver.transport.handle;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.parsetools.RecordParser;
import java.time.Duration;
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

  private void onConnection(NetSocket socket) {
    RecordParser parser = RecordParser.newFixed(Limits.ENVELOPE_SIZE);
    Envelope[] current = new Envelope[1];
    parser.handler(buf -> {
      if (current[0] == null) {
        Envelope env;
        try {
          env = Envelope.decode(buf.getBytes(), 0);
        } catch (HandleCodecException e) {
          socket.close();
          return;
        }
        if (env.messageLength() < Limits.HEADER_SIZE) {
          socket.pause();
          write(socket, java.util.List.of(processor.protocolError(env, "message too short")), false);
          return;
        }
        current[0] = env;
        parser.fixedSizeMode(env.messageLength());
      } else {
        Envelope env = current[0];
        current[0] = null;
        parser.fixedSizeMode(Limits.ENVELOPE_SIZE);
        Message m;
        try {
          m = processor.decode(env, buf.getBytes());
        } catch (HandleCodecException e) {
          socket.pause();
          write(socket, java.util.List.of(processor.undecodable(env, e)), false);
          return;
        }
        boolean keepAlive = m.flag(ResponseCodes.FLAG_KA);
        socket.pause();
        processor.process(m, false).onComplete(ar -> {
          if (ar.succeeded()) {
            write(socket, ar.result(), keepAlive);
          } else {
            socket.close();
          }
        });
      }
    });
    socket.handler(parser);
    socket.exceptionHandler(err -> socket.close());
  }

  private void write(NetSocket socket, java.util.List<HandleRequestProcessor.Encoded> out, boolean keepAlive) {
    Buffer b = Buffer.buffer();
    for (HandleRequestProcessor.Encoded e : out) {
      b.appendBytes(e.envelope().encode()).appendBytes(e.message());
    }
    if (keepAlive) {
      socket.write(b);
      socket.resume();
    } else {
      socket.end(b);
    }
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }
}
