package io.iiot.resolver.transport.handle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.iiot.base.launch.Workspace;
import io.vertx.core.Vertx;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The UDP sockets of one node share its port (SO_REUSEPORT); another process's socket on that port, even one that
 * allows sharing, makes the node fail to start instead of silently splitting the port's traffic with it.
 */
class HandleUdpServerPortTest {
  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void severalSocketsShareTheConfiguredPort() throws Exception {
    int port = Workspace.freePort();
    HandleUdpServer server = new HandleUdpServer(vertx, null, 3, 1 << 20);
    server.listen("127.0.0.1", port).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(server.port()).isEqualTo(port);
    // the port is taken: a plain bind fails
    assertThatThrownBy(() -> new DatagramSocket(new InetSocketAddress("127.0.0.1", port)).close())
        .isInstanceOf(java.net.BindException.class);
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(bindsWithin(port, 5_000)).as("port free again after close").isTrue();
  }

  /**
   * A NIO channel registered with a selector releases its port only when its event loop next runs the selector
   * (the JDK defers the descriptor's close until the key is deregistered), so the port frees shortly after close
   * completes; on a loaded machine that took longer than an immediate re-bind.
   */
  private static boolean bindsWithin(int port, long millis) throws InterruptedException {
    long deadline = System.currentTimeMillis() + millis;
    while (true) {
      try {
        new DatagramSocket(new InetSocketAddress("127.0.0.1", port)).close();
        return true;
      } catch (java.net.SocketException e) {
        if (System.currentTimeMillis() > deadline) {
          return false;
        }
        Thread.sleep(20);
      }
    }
  }

  @Test
  void aPortHeldByAnotherSharingSocketIsRefused() throws Exception {
    int port = Workspace.freePort();
    try (java.nio.channels.DatagramChannel other = java.nio.channels.DatagramChannel.open()) {
      other.setOption(StandardSocketOptions.SO_REUSEPORT, true);
      other.bind(new InetSocketAddress("127.0.0.1", port));
      HandleUdpServer server = new HandleUdpServer(vertx, null, 2, 0);
      assertThatThrownBy(() -> server.listen("127.0.0.1", port).toCompletionStage().toCompletableFuture()
          .get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class).hasMessageContaining("in use");
    }
  }
}
