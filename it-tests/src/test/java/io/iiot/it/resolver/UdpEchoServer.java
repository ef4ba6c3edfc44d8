package io.iiot.it.resolver;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.DatagramPacket;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.nio.NioChannelOption;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.vertx.core.Vertx;
import io.vertx.core.impl.VertxInternal;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.util.ArrayList;
import java.util.List;

/**
 * The UDP baseline of {@link ResolverBenchmarkIT}: a bare echo with resolver-node's socket arrangement, so that the
 * ratio measures the Handle server's work and nothing else. Like {@code HandleUdpServer}, it binds {@code sockets}
 * Netty datagram channels to one port with SO_REUSEPORT, each on its own Vert.x event loop, with the same receive
 * buffer, answers to the sender's address as received and flushes once per read batch; it returns the datagram it
 * got without copying it. (A single Vert.x {@code DatagramSocket}, the earlier baseline, stalls whole whenever its
 * one loop is descheduled, and resolves the destination host string on every send: a weaker baseline than the
 * server it is compared with.)
 */
final class UdpEchoServer implements AutoCloseable {
  private final List<Channel> channels = new ArrayList<>();
  private final int port;

  UdpEchoServer(Vertx vertx, String host, int sockets, int receiveBuffer) throws InterruptedException {
    VertxInternal v = (VertxInternal) vertx;
    int bound = 0;
    for (int i = 0; i < Math.max(1, sockets); i++) {
      Bootstrap b = new Bootstrap().group(v.createEventLoopContext().nettyEventLoop())
          .channelFactory(() -> {
            NioDatagramChannel ch = (NioDatagramChannel) v.transport().datagramChannel(InternetProtocolFamily.IPv4);
            ch.config().setOption(NioChannelOption.of(StandardSocketOptions.SO_REUSEPORT), true);
            return ch;
          })
          .handler(new Echo());
      if (receiveBuffer > 0) {
        b.option(ChannelOption.SO_RCVBUF, receiveBuffer);
      }
      Channel ch = b.bind(new InetSocketAddress(host, bound)).sync().channel();
      bound = ((InetSocketAddress) ch.localAddress()).getPort();
      channels.add(ch);
    }
    port = bound;
  }

  int port() {
    return port;
  }

  int sockets() {
    return channels.size();
  }

  @Override
  public void close() throws InterruptedException {
    for (Channel ch : channels) {
      ch.close().sync();
    }
  }

  private static final class Echo extends ChannelInboundHandlerAdapter {
    private boolean unflushed;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      DatagramPacket in = (DatagramPacket) msg;
      ctx.write(new DatagramPacket(in.content(), in.sender()), ctx.voidPromise());
      unflushed = true;
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (unflushed) {
        unflushed = false;
        ctx.flush();
      }
    }
  }
}
