package io.iiot.it.support;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A pool of simulated devices, one thread each, sending numbered messages in order, one at a time, the way a device
 * with one message in flight does: a message counts as acknowledged only when its protocol's acknowledgement came
 * back (QoS 1 PUBACK, CoAP 2.04); otherwise the device drops its connection and sends the same message again. The
 * sequence numbers each device had acknowledged are kept for the read-back ({@link StoredSequence}), and
 * acknowledgements and failures are counted per second for throughput figures.
 */
public final class AckedSenders implements AutoCloseable {
  /** One device's connection to the service, made lazily by {@link #send}. */
  public interface Device {
    /** Sends message {@code seq}; true when acknowledged, false (or an exception) when not stored for sure. */
    boolean send(int seq) throws Exception;

    /** After a failure: drops the connection, so the next send starts a new one (possibly to another replica). */
    void drop();
  }

  /** Makes the device with index {@code c}. */
  public interface DeviceFactory {
    Device create(int c);
  }

  public interface Action {
    void run() throws Exception;
  }

  private final List<Set<Integer>> acked = new ArrayList<>();
  private final List<AtomicLong> lastAckNanos = new ArrayList<>();
  private final AtomicInteger total = new AtomicInteger();
  private final AtomicInteger retries = new AtomicInteger();
  private final AtomicLongArray ackedPerSecond = new AtomicLongArray(3600);
  private final AtomicLongArray failedPerSecond = new AtomicLongArray(3600);
  private final Map<String, Integer> failureKinds = new ConcurrentHashMap<>();
  private final ExecutorService pool;
  private final List<Future<?>> done = new ArrayList<>();
  private final long startNanos = System.nanoTime();
  private volatile boolean stopped;

  private AckedSenders(int devices, int perDevice, Duration giveUpAfter, DeviceFactory factory) {
    pool = Executors.newFixedThreadPool(devices);
    long deadline = startNanos + giveUpAfter.toNanos();
    for (int c = 0; c < devices; c++) {
      Set<Integer> mine = ConcurrentHashMap.newKeySet();
      acked.add(mine);
      AtomicLong last = new AtomicLong(Long.MIN_VALUE);
      lastAckNanos.add(last);
      Device device = factory.create(c);
      done.add(pool.submit(() -> sendAll(device, mine, last, perDevice, deadline)));
    }
  }

  /** Starts {@code devices} senders of {@code perDevice} messages each (or until {@link #stop()}). */
  public static AckedSenders start(int devices, int perDevice, Duration giveUpAfter, DeviceFactory factory) {
    return new AckedSenders(devices, perDevice, giveUpAfter, factory);
  }

  /**
   * The crash test: sends {@code perDevice} messages from each device, runs {@code crash} once 40 % of all are
   * acknowledged, and returns when every device has had all its messages acknowledged (or gave up after 8 minutes).
   */
  public static AckedSenders sendThrough(int devices, int perDevice, DeviceFactory factory, Action crash)
      throws Exception {
    AckedSenders s = start(devices, perDevice, Duration.ofMinutes(8), factory);
    s.awaitAcked(devices * perDevice * 4 / 10, Duration.ofMinutes(5));
    crash.run();
    s.awaitDone(Duration.ofMinutes(10));
    return s;
  }

  private void sendAll(Device device, Set<Integer> mine, AtomicLong last, int perDevice, long deadline) {
    int i = 0;
    try {
      while (i < perDevice && !stopped && System.nanoTime() < deadline) {
        boolean ok;
        try {
          ok = device.send(i);
          if (!ok) {
            failureKinds.merge("not acknowledged", 1, Integer::sum);
          }
        } catch (Exception e) {
          ok = false;
          failureKinds.merge(e.getClass().getSimpleName(), 1, Integer::sum);
        }
        if (ok) {
          mine.add(i);
          last.set(System.nanoTime());
          total.incrementAndGet();
          ackedPerSecond.incrementAndGet(second());
          i++;
        } else {
          // Not acknowledged: the same message goes again, on a new connection (a connection that timed out waiting
          // for an acknowledgement may still hold the client's in-flight slots).
          failedPerSecond.incrementAndGet(second());
          retries.incrementAndGet();
          device.drop();
          sleep(200);
        }
      }
    } finally {
      device.drop();
    }
  }

  private int second() {
    return (int) Math.min(ackedPerSecond.length() - 1, (System.nanoTime() - startNanos) / 1_000_000_000L);
  }

  /** {@link System#nanoTime()} when the senders started: second 0 of the per-second counts. */
  public long startNanos() {
    return startNanos;
  }

  /** {@link System#nanoTime()} of device {@code c}'s latest acknowledgement ({@link Long#MIN_VALUE}: none yet). */
  public long lastAckNanos(int c) {
    return lastAckNanos.get(c).get();
  }

  /** Seconds since the senders started. */
  public double elapsedSeconds() {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** Waits until {@code n} messages in all have been acknowledged. */
  public void awaitAcked(int n, Duration timeout) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (total.get() < n) {
      if (System.nanoTime() > end) {
        throw new AssertionError("only " + total.get() + " of " + n + " messages acknowledged after " + timeout
            + "; failures: " + failureKinds());
      }
      Thread.sleep(20);
    }
  }

  /** Waits until every device has finished (all sent, stopped, or given up). */
  public void awaitDone(Duration timeout) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    for (Future<?> f : done) {
      f.get(Math.max(1, end - System.nanoTime()), TimeUnit.NANOSECONDS);
    }
    pool.shutdown();
  }

  /** Devices finish the message they are sending (acknowledged or not) and stop. */
  public void stop() {
    stopped = true;
  }

  @Override
  public void close() throws Exception {
    stop();
    awaitDone(Duration.ofMinutes(2));
  }

  /** Sequence numbers of device {@code c} that were acknowledged. */
  public Set<Integer> acked(int c) {
    return acked.get(c);
  }

  public int devices() {
    return acked.size();
  }

  public int totalAcked() {
    return total.get();
  }

  /** Sends that were not acknowledged (and were sent again on a new connection). */
  public int retries() {
    return retries.get();
  }

  /** Failed sends by kind (exception class, or "not acknowledged"). */
  public Map<String, Integer> failureKinds() {
    return new TreeMap<>(failureKinds);
  }

  /** Acknowledged messages in whole seconds [from, to) since the start. */
  public long acked(int fromSecond, int toSecond) {
    return sum(ackedPerSecond, fromSecond, toSecond);
  }

  /** Failed sends in whole seconds [from, to) since the start. */
  public long failed(int fromSecond, int toSecond) {
    return sum(failedPerSecond, fromSecond, toSecond);
  }

  private static long sum(AtomicLongArray a, int from, int to) {
    long s = 0;
    for (int i = Math.max(0, from); i < Math.min(a.length(), to); i++) {
      s += a.get(i);
    }
    return s;
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
