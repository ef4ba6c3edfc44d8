package io.iiot.resolver.transport.handle;

import io.netty.buffer.Unpooled;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.impl.ContextInternal;
import io.vertx.core.impl.VertxInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.NetSocketInternal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Handle protocol over TCP (reference §1.8): envelope, then the whole message; one request per connection unless
 * the request sets KA. Connections idle (no byte read or written) for the configured timeout are closed, which also
 * ends half-open ones. Requests on one connection are answered in order, one at a time.
 *
 * <p>Thread model: {@code eventLoops} Vert.x servers share the port, each listening from its own event loop's
 * context, and Vert.x hands accepted connections to them in turn; a connection stays on its loop. One loop for every
 * connection (a single NetServer) stalled them all whenever that one thread was descheduled or paused, as the UDP
 * server's single socket did; with the load of the other loops' connections carried on, only its share waits.
 */
public final class HandleTcpServer {
  private final VertxInternal vertx;
  private final HandleRequestProcessor processor;
  private final Duration idleTimeout;
  private final int eventLoops;
  private final List<NetServer> servers = new ArrayList<>();
  private volatile int port = -1;

  /** @param eventLoops servers sharing the port, each on its own event loop (at least 1) */
  public HandleTcpServer(Vertx vertx, HandleRequestProcessor processor, Duration idleTimeout, int eventLoops) {
    this.vertx = (VertxInternal) vertx;
    this.processor = processor;
    this.idleTimeout = idleTimeout;
    this.eventLoops = Math.max(1, eventLoops);
  }

  /** Distinct negative ports: each server's own "random port shared by its listeners" (port 0 given). */
  private static final java.util.concurrent.atomic.AtomicInteger RANDOM_PORT_IDS =
      new java.util.concurrent.atomic.AtomicInteger();

  /**
   * Listens on {@code port}; 0 = a random port. Vert.x shares a port among the servers of one Vert.x instance that
   * listen on the same positive port, or on the same negative one (a random port picked once); port 0 it never
   * shares, so port 0 becomes a negative port of this server's own.
   */
  public Future<Void> listen(String host, int port) {
    int at = port != 0 ? port : -1 - (RANDOM_PORT_IDS.getAndIncrement() & 0xFFFF);
    Future<Void> f = listenOn(host, at);
    for (int i = 1; i < eventLoops; i++) {
      f = f.compose(x -> listenOn(host, at));
    }
    return f;
  }

  /** One server, created and listening on a new event-loop context: its connections run on that context's loop. */
  private Future<Void> listenOn(String host, int at) {
    ContextInternal context = vertx.createEventLoopContext();
    Promise<Void> done = context.promise();
    context.runOnContext(v -> {
      NetServer server = vertx.createNetServer(new NetServerOptions()
          .setHost(host).setPort(at).setTcpNoDelay(true)
          .setIdleTimeout((int) Math.max(1, idleTimeout.toMillis())).setIdleTimeoutUnit(TimeUnit.MILLISECONDS));
      server.connectHandler(this::onConnection);
      server.listen().onComplete(ar -> {
        if (ar.succeeded()) {
          synchronized (servers) {
            servers.add(server);
          }
          port = server.actualPort();
          done.complete();
        } else {
          done.fail(ar.cause());
        }
      });
    });
    return done.future();
  }

  public int port() {
    return port;
  }

  /** Per-connection state: answers leave in request order; at most {@link #MAX_PIPELINED} requests in progress. */
  private static final int MAX_PIPELINED = 16;

  private void onConnection(NetSocket socket) {
    java.util.concurrent.atomic.AtomicInteger inProgress = new java.util.concurrent.atomic.AtomicInteger();
    @SuppressWarnings("unchecked")
    Future<Void>[] tail = new Future[] {Future.succeededFuture()};
    Frames frames = new Frames() {
      @Override
      void badEnvelope() {
        socket.close();
      }

      @Override
      void tooShort(Envelope env) {
        enqueue(socket, tail, Future.succeededFuture(List.of(processor.protocolError(env, "message too short"))),
            false);
      }

      @Override
      boolean message(Envelope env, byte[] message) {
        Message m;
        try {
          m = processor.decode(env, message);
        } catch (HandleCodecException e) {
          enqueue(socket, tail, Future.succeededFuture(List.of(processor.undecodable(env, e))), false);
          return false;
        }
        boolean keepAlive = m.flag(ResponseCodes.FLAG_KA);
        Future<List<HandleRequestProcessor.Encoded>> answer = processor.process(m, false);
        if (answer.succeeded() && tail[0].isComplete()) {
          // answered at once and nothing earlier still pending: write now, in order, without a future chain
          if (keepAlive) {
            // the bytes as they are: no Buffer, slice and write promise per answer as NetSocket.write makes
            ((NetSocketInternal) socket).writeMessage(wireBytes(answer.result()), null);
            if (socket.writeQueueFull()) {
              // a peer that sends requests without reading the answers: read no more until they have left
              socket.pause();
              socket.drainHandler(v -> socket.resume());
            }
          } else {
            tail[0] = socket.end(wire(answer.result()));
          }
          return keepAlive;
        }
        if (inProgress.incrementAndGet() >= MAX_PIPELINED) {
          socket.pause();
        }
        enqueue(socket, tail, answer.andThen(x -> {
          if (inProgress.getAndDecrement() == MAX_PIPELINED) {
            socket.resume();
          }
        }), keepAlive);
        return keepAlive;
      }
    };
    socket.handler(frames);
    socket.closeHandler(v -> frames.release());
    socket.exceptionHandler(err -> socket.close());
  }

  /**
   * Cuts a connection's byte stream into envelope + message, copying each message once out of the bytes read
   * (Vert.x's RecordParser copied every record three times: into its own buffer, into a record buffer, into an
   * array). Bytes of an incomplete frame wait in a buffer of their own, at most one frame's worth (the envelope's
   * length was checked against {@link Limits#MAX_MESSAGE_LENGTH} first). Once a frame ends the connection (no KA, a
   * bad envelope or message), later bytes are ignored.
   */
  abstract static class Frames implements io.vertx.core.Handler<Buffer> {
    private final byte[] envelope = new byte[Limits.ENVELOPE_SIZE];
    private Envelope current;
    /** The bytes of an incomplete frame (from its start, or from the message when {@link #current} is set). */
    private Buffer partial;
    private boolean closing;

    /** The envelope could not be decoded: close. */
    abstract void badEnvelope();

    /** The envelope announces a message shorter than a header: answer with a protocol error and close. */
    abstract void tooShort(Envelope env);

    /** A whole message arrived; returns whether the connection stays open for more. */
    abstract boolean message(Envelope env, byte[] message);

    @Override
    public void handle(Buffer data) {
      if (closing) {
        return;
      }
      Buffer in = data;
      if (partial != null) {
        partial.appendBuffer(data);
        in = partial;
      }
      int at = 0;
      int end = in.length();
      while (!closing) {
        if (current == null) {
          if (end - at < Limits.ENVELOPE_SIZE) {
            break;
          }
          in.getBytes(at, at + Limits.ENVELOPE_SIZE, envelope, 0);
          at += Limits.ENVELOPE_SIZE;
          Envelope env;
          try {
            env = Envelope.decode(envelope, 0);
          } catch (HandleCodecException e) {
            closing = true;
            badEnvelope();
            break;
          }
          if (env.messageLength() < Limits.HEADER_SIZE) {
            closing = true;
            tooShort(env);
            break;
          }
          current = env;
        }
        int length = current.messageLength();
        if (end - at < length) {
          break;
        }
        byte[] message = new byte[length];
        in.getBytes(at, at + length, message, 0);
        at += length;
        Envelope env = current;
        current = null;
        closing = !message(env, message);
      }
      if (closing || at == end) {
        partial = null;
      } else if (in != partial) {
        // sized to the bytes there, not to the length announced: a peer's claim is not a reason to allocate
        partial = Buffer.buffer(end - at).appendBuffer(in, at, end - at);
      } else if (at > 0) {
        partial = partial.getBuffer(at, end);
      }
    }

    void release() {
      partial = null;
    }
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
    return Buffer.buffer(wireBytes(out));
  }

  private static io.netty.buffer.ByteBuf wireBytes(List<HandleRequestProcessor.Encoded> out) {
    if (out.size() == 1) {
      return Unpooled.wrappedBuffer(out.get(0).wire());
    }
    byte[][] parts = new byte[out.size()][];
    for (int i = 0; i < parts.length; i++) {
      parts[i] = out.get(i).wire();
    }
    return Unpooled.wrappedBuffer(parts);
  }

  public Future<Void> close() {
    List<Future<Void>> closing = new ArrayList<>();
    synchronized (servers) {
      servers.forEach(s -> closing.add(s.close()));
      servers.clear();
    }
    return Future.all(closing).mapEmpty();
  }
}
