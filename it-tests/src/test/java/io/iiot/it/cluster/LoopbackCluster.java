package io.iiot.it.cluster;

import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.launch.EmbeddedCassandra.Topology;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real Cassandra nodes started by the project's launcher on 127.0.0.1, 127.0.0.2, ... of this machine, forming one
 * cluster with one data centre. All nodes share one native and one storage port (Cassandra wants one storage port
 * cluster-wide); each has its own address and directories. Node 1 is the seed.
 */
final class LoopbackCluster implements AutoCloseable {
  private static final java.time.Duration START_TIMEOUT = java.time.Duration.ofMinutes(5);
  private final List<EmbeddedCassandra> nodes = new ArrayList<>();
  private final int nativePort;

  private LoopbackCluster(int nativePort) {
    this.nativePort = nativePort;
  }

  /** Starts {@code size} fresh nodes one after the other (a node joins only once the previous one answers). */
  static LoopbackCluster start(Path dir, int size, String clusterName, String datacenter, String heap)
      throws IOException, InterruptedException {
    EmbeddedCassandraExtension.deleteTree(dir);
    int nativePort = portFreeOnAll(size);
    int storagePort = portFreeOnAll(size);
    LoopbackCluster cluster = new LoopbackCluster(nativePort);
    try {
      for (int i = 0; i < size; i++) {
        Topology topology = new Topology(address(i), List.of(address(0) + ":" + storagePort), clusterName,
            datacenter, "rack1", evenToken(i, size));
        EmbeddedCassandra.Settings s = EmbeddedCassandra.Settings
            .of(dir.resolve("node" + (i + 1)), nativePort, storagePort).withHeap(heap).withTopology(topology);
        // Three nodes, the services and their load share two cores with other builds: a restart after kill -9 took
        // over the default two minutes at a load average of 50.
        EmbeddedCassandra node = new EmbeddedCassandra(new EmbeddedCassandra.Settings(s.dataDir(), s.nativePort(),
            s.storagePort(), s.heap(), s.serverDir(), s.javaHome(), START_TIMEOUT, s.topology()));
        cluster.nodes.add(node);
        node.start();
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  static String address(int index) {
    return "127.0.0." + (index + 1);
  }

  /** Murmur3 tokens spread evenly over the ring, so each node owns a third of it. */
  static String evenToken(int index, int size) {
    BigInteger ring = BigInteger.TWO.pow(64);
    return ring.multiply(BigInteger.valueOf(index)).divide(BigInteger.valueOf(size))
        .add(BigInteger.valueOf(Long.MIN_VALUE)).toString();
  }

  EmbeddedCassandra node(int index) {
    return nodes.get(index);
  }

  int nativePort() {
    return nativePort;
  }

  /** {@code CASSANDRA_CONTACT_POINTS} for the whole cluster. */
  String contactPoints() {
    List<String> points = new ArrayList<>();
    for (int i = 0; i < nodes.size(); i++) {
      points.add(address(i) + ":" + nativePort);
    }
    return String.join(",", points);
  }

  @Override
  public void close() throws InterruptedException {
    for (EmbeddedCassandra node : nodes) {
      node.kill();
    }
  }

  /** A port nobody listens on at any of the first {@code size} loopback addresses. */
  private static int portFreeOnAll(int size) throws IOException {
    for (int attempt = 0; attempt < 50; attempt++) {
      int candidate = EmbeddedCassandraExtension.freePort();
      if (freeOnAll(candidate, size)) {
        return candidate;
      }
    }
    throw new IllegalStateException("No port free on all of 127.0.0.1-" + size);
  }

  private static boolean freeOnAll(int port, int size) {
    for (int i = 0; i < size; i++) {
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new InetSocketAddress(InetAddress.getByName(address(i)), port));
      } catch (IOException e) {
        return false;
      }
    }
    return true;
  }
}
