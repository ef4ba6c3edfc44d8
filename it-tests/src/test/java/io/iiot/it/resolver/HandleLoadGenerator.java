package io.iiot.it.resolver;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * A non-blocking Handle load generator: one thread, one selector, pre-encoded requests (only the RequestId is patched
 * per send), many requests in flight. Closed loop (each channel keeps {@code window} requests outstanding) or open
 * loop at a fixed rate. Latency is measured to the complete answer, in a 1 µs histogram: closed loop from the send,
 * open loop from the time the schedule meant the request to be sent, so that a request sent late (the generator
 * descheduled or paused, or no slot or connection free) is charged its lateness, for echo and server alike (no
 * coordinated omission).
 *
 * <p>UDP: answers are matched by RequestId; an answer split over several datagrams counts when its last datagram
 * arrives. TCP: persistent connections (KA set in the requests), one request outstanding per connection.
 */
final class HandleLoadGenerator {
  /**
   * Result of one run.
   *
   * @param loopCpuNanos CPU time the Vert.x event-loop threads of this JVM used in the measured window (the server
   *     measured works there, and nothing else does during a row), or -1 where the JVM cannot tell
   * @param waitedForConnection TCP open loop: requests whose scheduled send found every connection busy (they
   *     waited in the generator, charged to their latency); 0 otherwise
   * @param connections sockets used (TCP: at the end of the run)
   * @param gcCpuNanos CPU time of the JVM's garbage-collector threads (pauses, concurrent marking, remembered-set
   *     refinement: /proc/self/task) in the measured window, or -1 where there is no /proc
   */
  record Result(long answers, long lost, double seconds, double p50Ms, double p99Ms, long loopCpuNanos,
      long waitedForConnection, int connections, long gcCpuNanos) {
    double rps() {
      return answers / seconds;
    }

    /** GC threads' CPU per answer in µs (NaN when not measured). */
    double gcCpuMicrosPerAnswer() {
      return gcCpuNanos < 0 || answers == 0 ? Double.NaN : gcCpuNanos / 1e3 / answers;
    }

    /** Event-loop CPU per answer in µs (NaN when not measured). */
    double loopCpuMicrosPerAnswer() {
      return loopCpuNanos < 0 || answers == 0 ? Double.NaN : loopCpuNanos / 1e3 / answers;
    }
  }

  private static final java.lang.management.ThreadMXBean THREADS =
      java.lang.management.ManagementFactory.getThreadMXBean();

  /**
   * The ids of the threads named vert.x-eventloop-thread-* (taken before a run's warm-up: listing threads stops the
   * JVM at a safepoint), or null when the JVM does not measure thread CPU time.
   */
  static long[] loopThreads() {
    if (!THREADS.isThreadCpuTimeSupported() || !THREADS.isThreadCpuTimeEnabled()) {
      return null;
    }
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith("vert.x-eventloop-thread-")).mapToLong(Thread::getId).toArray();
  }

  /**
   * CPU time so far of the JVM's own GC threads (named "GC Thread#n", "G1 Conc#n", "G1 Main Marker", "G1 Refine#n",
   * "G1 Service"), from /proc/self/task in clock ticks (10 ms), or -1 without /proc.
   */
  static long gcCpuNanos() {
    java.io.File[] tasks = new java.io.File("/proc/self/task").listFiles();
    if (tasks == null) {
      return -1;
    }
    long ticks = 0;
    for (java.io.File t : tasks) {
      try {
        String comm = java.nio.file.Files.readString(t.toPath().resolve("comm")).trim();
        if (comm.startsWith("GC Thread") || comm.startsWith("G1 ")) {
          String stat = java.nio.file.Files.readString(t.toPath().resolve("stat"));
          String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
          ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
        }
      } catch (IOException | RuntimeException e) {
        // a thread that ended meanwhile
      }
    }
    return ticks * 10_000_000L;
  }

  /** CPU time so far of {@code threads} ({@link #loopThreads}), or -1 when not measured. */
  static long cpuNanos(long[] threads) {
    if (threads == null) {
      return -1;
    }
    long sum = 0;
    for (long id : threads) {
      sum += Math.max(0, THREADS.getThreadCpuTime(id));
    }
    return sum;
  }

  private static final int HIST = 200_000; // µs buckets up to 200 ms

  private final InetSocketAddress target;
  private final byte[][] requests;
  private final SplittableRandom random = new SplittableRandom(42);

  HandleLoadGenerator(InetSocketAddress target, byte[][] requests) {
    this.target = target;
    this.requests = requests;
  }

  private static final class Stats {
    final long[] hist = new long[HIST + 1];
    long answers;
    long lost;
    boolean measuring;

    void record(long nanos) {
      if (measuring) {
        hist[(int) Math.min(HIST, nanos / 1000)]++;
        answers++;
      }
    }

    double percentile(double p) {
      long total = 0;
      for (long c : hist) {
        total += c;
      }
      long rank = (long) Math.ceil(total * p);
      long seen = 0;
      for (int i = 0; i <= HIST; i++) {
        seen += hist[i];
        if (seen >= rank && rank > 0) {
          return (i + 0.5) / 1000.0;
        }
      }
      return Double.NaN;
    }
  }

  /**
   * One buffer for every request sent: a channel's write copies it (UDP: the whole datagram; TCP: written until
   * empty), so it is free again at once. The generator shares the JVM with the servers it measures: its garbage
   * would bring them young GCs (pauses) of its own making.
   */
  private final ByteBuffer out = ByteBuffer.allocate(64 * 1024);

  private ByteBuffer next(int requestId) {
    byte[] t = requests[random.nextInt(requests.length)];
    out.clear();
    out.put(t).putInt(8, requestId).flip();
    return out;
  }

  /**
   * Waits for answers; returns the number of channels with something to read. The caller skips the selected-key set
   * when nothing is ready: iterating even an empty set allocates an iterator. Closed loop: blocks until an answer
   * comes (at most 1 ms). Open loop: never spins. The generator shares the machine's 2 cores with the server it
   * measures; polling the selector a million times a second took a whole core from it, and part of the tail
   * measured was the generator's own doing (for echo and server alike, but the server, which needs more CPU per
   * request, lost more). So when nothing is ready it parks until the next request is due ({@code nextSend}; Linux
   * wakes it some 50 µs late, timer slack, and a late send is charged to the request as always), and when a request
   * is already due but could not be sent (every slot or connection busy, {@code canOpen} false: no new connection
   * may be opened for it either) it blocks until an answer frees one.
   */
  private static int await(Selector sel, boolean openLoop, double nextSend, boolean canOpen) throws IOException {
    if (!openLoop) {
      return sel.select(1);
    }
    int ready = sel.selectNow();
    if (ready > 0) {
      return ready;
    }
    long untilDue = (long) nextSend - System.nanoTime();
    if (untilDue <= 0) {
      return canOpen ? 0 : sel.select(1);
    }
    java.util.concurrent.locks.LockSupport.parkNanos(untilDue);
    return sel.selectNow();
  }

  /**
   * UDP, closed loop ({@code rate} ≤ 0: every socket keeps {@code window} requests outstanding) or open loop at
   * {@code rate} requests/s. A request without an answer after 250 ms counts as lost and its slot is reused.
   */
  Result udp(int channels, int window, double warmupS, double measureS, double rate) throws IOException {
    Stats st = new Stats();
    int w = Math.max(1, rate > 0 ? 64 : window);
    int[][] slotId = new int[channels][w];
    long[][] slotAt = new long[channels][w]; // latency counts from here: the send, or its scheduled time
    long[][] slotSent = new long[channels][w]; // the loss timeout counts from here: the send
    int[][] slotLeft = new int[channels][w];
    try (Selector sel = Selector.open()) {
      List<DatagramChannel> chans = new ArrayList<>();
      for (int i = 0; i < channels; i++) {
        DatagramChannel ch = DatagramChannel.open();
        ch.configureBlocking(false);
        ch.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 1 << 20);
        ch.connect(target);
        ch.register(sel, SelectionKey.OP_READ, i);
        chans.add(ch);
      }
      int nextId = 1;
      ByteBuffer in = ByteBuffer.allocate(2048);
      long start = System.nanoTime();
      long warmEnd = start + (long) (warmupS * 1e9);
      long end = warmEnd + (long) (measureS * 1e9);
      long measureStart = warmEnd;
      long[] loops = loopThreads();
      long cpuStart = 0;
      long gcStart = 0;
      double interval = rate > 0 ? 1e9 / rate : 0;
      double nextSend = start;
      int rr = 0;
      while (true) {
        long now = System.nanoTime();
        if (now >= end) {
          break;
        }
        if (!st.measuring && now >= warmEnd) {
          st.measuring = true;
          measureStart = now;
          cpuStart = cpuNanos(loops);
          gcStart = gcCpuNanos();
        }
        int budget = rate > 0 ? (int) Math.min(256, Math.max(0, (now - nextSend) / interval + 1)) : Integer.MAX_VALUE;
        for (int c = 0; c < channels && budget > 0; c++) {
          int i = rate > 0 ? rr++ % channels : c;
          for (int k = 0; k < w && budget > 0; k++) {
            if (slotId[i][k] != 0 && now - slotSent[i][k] > 250_000_000L) {
              if (st.measuring) {
                st.lost++;
              }
              slotId[i][k] = 0;
            }
            if (slotId[i][k] == 0) {
              int id = nextId++ & 0x7FFFFFFF;
              if (id == 0) {
                id = nextId++;
              }
              slotId[i][k] = id;
              slotSent[i][k] = System.nanoTime();
              slotAt[i][k] = rate > 0 ? (long) nextSend : slotSent[i][k];
              slotLeft[i][k] = -1;
              chans.get(i).write(next(id));
              if (rate > 0) {
                budget--;
                nextSend += interval;
                break;
              }
            }
          }
        }
        if (await(sel, rate > 0, nextSend, false) == 0) {
          continue;
        }
        for (SelectionKey key : sel.selectedKeys()) {
          DatagramChannel ch = (DatagramChannel) key.channel();
          int i = (Integer) key.attachment();
          while (true) {
            in.clear();
            if (ch.read(in) <= 0) {
              break;
            }
            int id = in.getInt(8);
            int len = in.getInt(16);
            for (int k = 0; k < w; k++) {
              if (slotId[i][k] == id) {
                if (slotLeft[i][k] == -1) {
                  slotLeft[i][k] = Math.max(1, (len + 491) / 492);
                }
                if (--slotLeft[i][k] == 0) {
                  st.record(System.nanoTime() - slotAt[i][k]);
                  slotId[i][k] = 0;
                }
                break;
              }
            }
          }
        }
        sel.selectedKeys().clear();
      }
      double secs = (System.nanoTime() - measureStart) / 1e9;
      long cpu = cpuStart < 0 ? -1 : cpuNanos(loops) - cpuStart;
      long gc = gcStart < 0 ? -1 : gcCpuNanos() - gcStart;
      for (DatagramChannel ch : chans) {
        ch.close();
      }
      return new Result(st.answers, st.lost, secs, st.percentile(0.50), st.percentile(0.99), cpu, 0, channels, gc);
    }
  }

  /** TCP over {@code connections} persistent connections, one request outstanding per connection. */
  Result tcp(int connections, double warmupS, double measureS, double rate) throws IOException {
    return tcp(connections, connections, warmupS, measureS, rate);
  }

  /**
   * TCP over persistent connections, one request outstanding per connection: {@code connections} at first; in the
   * open loop, a request due while every connection is busy gets a new one (its connect counted in its latency),
   * up to {@code maxConnections}, as CNRI's client opens a connection per request, so that concurrent requests never
   * queue behind each other's answers in the client. Beyond {@code maxConnections} a due request waits for a free
   * connection (counted in {@link Result#waitedForConnection}).
   */
  Result tcp(int connections, int maxConnections, double warmupS, double measureS, double rate)
      throws IOException {
    Stats st = new Stats();
    int max = Math.max(connections, maxConnections);
    try (Selector sel = Selector.open()) {
      List<SocketChannel> chans = new ArrayList<>();
      ByteBuffer[] bufs = new ByteBuffer[max];
      long[] sentAt = new long[max];
      boolean[] busy = new boolean[max];
      for (int i = 0; i < connections; i++) {
        bufs[i] = connect(sel, chans);
      }
      int nextId = 1;
      long start = System.nanoTime();
      long warmEnd = start + (long) (warmupS * 1e9);
      long end = warmEnd + (long) (measureS * 1e9);
      long measureStart = warmEnd;
      long[] loops = loopThreads();
      long cpuStart = 0;
      long gcStart = 0;
      long waited = 0;
      boolean starved = false; // a due request found every connection busy, and is still waiting
      double interval = rate > 0 ? 1e9 / rate : 0;
      double nextSend = start;
      while (true) {
        long now = System.nanoTime();
        if (now >= end) {
          break;
        }
        if (!st.measuring && now >= warmEnd) {
          st.measuring = true;
          measureStart = now;
          cpuStart = cpuNanos(loops);
          gcStart = gcCpuNanos();
        }
        if (rate > 0 && nextSend <= now && chans.size() < max && allBusy(busy, chans.size())) {
          bufs[chans.size()] = connect(sel, chans);
        }
        for (int i = 0; i < chans.size(); i++) {
          if (busy[i]) {
            continue;
          }
          long intended = (long) nextSend;
          if (rate > 0) {
            if (nextSend > now) {
              starved = false;
              break;
            }
            nextSend += interval;
            if (starved && st.measuring) {
              waited++;
            }
          }
          ByteBuffer b = next(nextId++ & 0x7FFFFFFF);
          sentAt[i] = rate > 0 ? intended : System.nanoTime();
          while (b.hasRemaining()) {
            chans.get(i).write(b);
          }
          busy[i] = true;
        }
        if (rate > 0 && nextSend <= now && chans.size() >= max) {
          starved = true;
        }
        if (await(sel, rate > 0, nextSend, chans.size() < max) == 0) {
          continue;
        }
        for (SelectionKey k : sel.selectedKeys()) {
          int i = (Integer) k.attachment();
          ByteBuffer b = bufs[i];
          int n = ((SocketChannel) k.channel()).read(b);
          if (n < 0) {
            throw new IOException("server closed connection " + i);
          }
          while (b.position() >= 20) {
            int len = b.getInt(16);
            if (b.position() < 20 + len) {
              break;
            }
            st.record(System.nanoTime() - sentAt[i]);
            busy[i] = false;
            int consumed = 20 + len;
            b.flip();
            b.position(consumed);
            b.compact();
          }
        }
        sel.selectedKeys().clear();
      }
      double secs = (System.nanoTime() - measureStart) / 1e9;
      long cpu = cpuStart < 0 ? -1 : cpuNanos(loops) - cpuStart;
      long gc = gcStart < 0 ? -1 : gcCpuNanos() - gcStart;
      for (SocketChannel ch : chans) {
        ch.close();
      }
      return new Result(st.answers, st.lost, secs, st.percentile(0.50), st.percentile(0.99), cpu, waited,
          chans.size(), gc);
    }
  }

  /** A new persistent connection, registered for reads with its index; returns its read buffer. */
  private ByteBuffer connect(Selector sel, List<SocketChannel> chans) throws IOException {
    SocketChannel ch = SocketChannel.open(target);
    ch.setOption(java.net.StandardSocketOptions.TCP_NODELAY, true);
    ch.configureBlocking(false);
    ch.register(sel, SelectionKey.OP_READ, chans.size());
    chans.add(ch);
    return ByteBuffer.allocate(16 * 1024);
  }

  private static boolean allBusy(boolean[] busy, int n) {
    for (int i = 0; i < n; i++) {
      if (!busy[i]) {
        return false;
      }
    }
    return true;
  }
}
