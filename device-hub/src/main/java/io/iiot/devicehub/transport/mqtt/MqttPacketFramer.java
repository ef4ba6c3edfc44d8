package io.iiot.devicehub.transport.mqtt;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.impl.NetSocketInternal;
import java.util.List;

/**
 * Hands Netty's {@code MqttDecoder} whole MQTT packets only. Netty 4.1.133's decoder (the version under Vert.x 4.5.27)
 * treats a PUBLISH whose variable header (topic, packet id) is cut by a TCP read as larger than
 * {@code mqtt.max-message-bytes}: on a replay it compares the replaying buffer's {@code readableBytes()}, which is
 * {@code Integer.MAX_VALUE - readerIndex} while the buffer is incomplete, with the limit, and throws
 * {@code TooLongFrameException("message length exceeds 65536: 223")}, which ends the connection. Reads cut packets
 * whenever a client has several in flight (10 unacknowledged 290-byte snapshots are more than one read, and after small
 * reads Netty's adaptive read buffer shrinks to 64 bytes): 195 of 1,000 benchmark connections with 10 unacknowledged
 * each were closed so, after 0 PUBACKs. Put in front of the decoder, this reads the fixed header's remaining length
 * and passes a packet on once all of it is there, so the decoder never replays.
 *
 * <p>A packet above the limit, or a malformed remaining length, is not this class's business: it steps out of the
 * pipeline and hands everything it holds to the decoder, which fails it with its own error as before (counted as
 * {@code too_large} / {@code malformed}).
 */
final class MqttPacketFramer extends ByteToMessageDecoder {
  private static final String DECODER = "mqttDecoder";
  private final int maxBytes;

  private MqttPacketFramer(int maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** Puts a framer in front of the MQTT decoder Vert.x installed on {@code socket}; a no-op if there is none. */
  static void insert(NetSocket socket, int maxBytes) {
    if (socket instanceof NetSocketInternal internal) {
      ChannelPipeline pipeline = internal.channelHandlerContext().pipeline();
      if (pipeline.get(DECODER) != null) {
        pipeline.addBefore(DECODER, "mqttPacketFramer", new MqttPacketFramer(maxBytes));
      }
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    int start = in.readerIndex();
    int remaining = 0;
    int multiplier = 1;
    int headerBytes = 0;
    for (int i = 0; i < 4; i++) {
      if (in.writerIndex() <= start + 1 + i) {
        return; // the remaining length is not complete yet
      }
      byte b = in.getByte(start + 1 + i);
      remaining += (b & 0x7f) * multiplier;
      multiplier *= 128;
      if ((b & 0x80) == 0) {
        headerBytes = 2 + i;
        break;
      }
    }
    if (headerBytes == 0 || remaining > maxBytes) {
      // Malformed or too large: the decoder says so (handlerRemoved passes on what is buffered).
      ctx.pipeline().remove(this);
      return;
    }
    if (in.readableBytes() < headerBytes + remaining) {
      return;
    }
    out.add(in.readRetainedSlice(headerBytes + remaining));
  }
}
