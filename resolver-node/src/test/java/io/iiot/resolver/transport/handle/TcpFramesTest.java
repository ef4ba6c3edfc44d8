package io.iiot.resolver.transport.handle;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link HandleTcpServer.Frames}: a TCP byte stream cut into envelope + message, however the reads fall. */
class TcpFramesTest {
  /** What the frames handed on, in order. */
  static final class Recorder extends HandleTcpServer.Frames {
    final List<String> events = new ArrayList<>();
    boolean keepAlive = true;

    @Override
    void badEnvelope() {
      events.add("bad");
    }

    @Override
    void tooShort(Envelope env) {
      events.add("short " + env.requestId());
    }

    @Override
    boolean message(Envelope env, byte[] message) {
      events.add(env.requestId() + ":" + message.length + ":" + message[0] + ":" + message[message.length - 1]);
      return keepAlive;
    }
  }

  static byte[] frame(int requestId, int length) {
    byte[] f = new byte[Envelope.SIZE + length];
    new Envelope(2, 3, 0, 2, 11, 0, requestId, 0, length).encode(f, 0);
    f[Envelope.SIZE] = (byte) requestId;
    f[f.length - 1] = (byte) (requestId + 1);
    return f;
  }

  static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] all = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, all, at, p.length);
      at += p.length;
    }
    return all;
  }

  @Test
  void everySplitOfThreeFramesGivesTheSameThreeMessages() {
    byte[] stream = concat(frame(1, 24), frame(2, 300), frame(3, 60));
    List<String> expected = List.of("1:24:1:2", "2:300:2:3", "3:60:3:4");
    for (int a = 0; a <= stream.length; a++) {
      for (int b = a; b <= stream.length; b += 7) {
        Recorder r = new Recorder();
        r.handle(Buffer.buffer(Arrays.copyOfRange(stream, 0, a)));
        r.handle(Buffer.buffer(Arrays.copyOfRange(stream, a, b)));
        r.handle(Buffer.buffer(Arrays.copyOfRange(stream, b, stream.length)));
        assertThat(r.events).as("split at %d and %d", a, b).isEqualTo(expected);
      }
    }
  }

  @Test
  void byteByByte() {
    byte[] stream = concat(frame(7, 1000), frame(8, 24));
    Recorder r = new Recorder();
    for (byte x : stream) {
      r.handle(Buffer.buffer(new byte[] {x}));
    }
    assertThat(r.events).containsExactly("7:1000:7:8", "8:24:8:9");
  }

  @Test
  void nothingAfterAFrameThatEndsTheConnection() {
    Recorder r = new Recorder();
    r.keepAlive = false;
    r.handle(Buffer.buffer(concat(frame(1, 24), frame(2, 24))));
    r.handle(Buffer.buffer(frame(3, 24)));
    assertThat(r.events).containsExactly("1:24:1:2");
  }

  @Test
  void aLyingLengthIsRefusedBeforeAnythingIsAllocatedForIt() {
    byte[] f = frame(1, 24);
    Envelope.putInt(f, 16, Limits.MAX_MESSAGE_LENGTH + 1);
    Recorder r = new Recorder();
    r.handle(Buffer.buffer(f));
    r.handle(Buffer.buffer(frame(2, 24)));
    assertThat(r.events).containsExactly("bad");
  }

  @Test
  void aMessageShorterThanAHeaderIsAnsweredAndEndsTheConnection() {
    Recorder r = new Recorder();
    r.handle(Buffer.buffer(concat(frame(5, 23), frame(6, 24))));
    assertThat(r.events).containsExactly("short 5");
  }
}
