package io.iiot.resolver.hierarchy;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.resolver.hierarchy.transport.HandleUdpClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.DatagramSocket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The hierarchy's UDP client when nobody answers: bounded in time and in requests in flight. */
class HandleUdpClientTest {
  final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }

  @Test
  void aSilentServerEndsInATimeoutAndTheSlotIsFreedAgain() throws Exception {
    try (DatagramSocket silent = new DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
      HandleUdpClient client = new HandleUdpClient(vertx, 400, 1);
      client.start().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
      Endpoint to = new Endpoint("127.0.0.1", silent.getLocalPort(), new byte[0]);
      HandleExchange.Request req = new HandleExchange.Request("88.101.5/X", new int[0], List.of(), 0, 1);
      long t0 = System.nanoTime();
      Future<HandleExchange.Reply> first = client.resolve(to, req);
      // one in flight allowed: the next is refused at once, not queued
      Future<HandleExchange.Reply> second = client.resolve(to, req);
      assertThat(second.failed()).isTrue();
      assertThat(second.cause()).isInstanceOf(HandleExchange.Busy.class);
      Throwable err = first.toCompletionStage().toCompletableFuture().handle((r, e) -> e).get(5, TimeUnit.SECONDS);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(err).isInstanceOf(TimeoutException.class).hasMessageContaining("no answer from 127.0.0.1:");
      assertThat(ms).isBetween(350L, 3_000L);
      // the request was sent three times (first send and two resends) before giving up
      silent.setSoTimeout(100);
      int datagrams = 0;
      try {
        while (true) {
          silent.receive(new java.net.DatagramPacket(new byte[1024], 1024));
          datagrams++;
        }
      } catch (java.net.SocketTimeoutException done) {
        // all read
      }
      assertThat(datagrams).isEqualTo(3);
      Throwable again = client.resolve(to, req).toCompletionStage().toCompletableFuture().handle((r, e) -> e)
          .get(5, TimeUnit.SECONDS);
      assertThat(again).isInstanceOf(TimeoutException.class);
      client.close();
    }
  }
}
