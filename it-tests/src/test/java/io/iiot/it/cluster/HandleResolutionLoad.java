package io.iiot.it.cluster;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntFunction;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.HandleValue;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.Util;

/**
 * A steady Handle resolution load with CNRI's client (handle-client 9.3.1, over UDP, one request at a time per
 * thread) on each of several resolver-node replicas, for handles whose values are known. Every answer is compared
 * with the known value: another value, or "handle not found" for a handle that exists, is a wrong answer; an error
 * code or no answer in time is a failure (the client sees an error, not a lie). Counted per replica and second.
 */
final class HandleResolutionLoad implements AutoCloseable {
  private final List<InetSocketAddress> replicas;
  private final int handles;
  private final IntFunction<String> handle;
  private final IntFunction<String> expectedUrl;
  private final long startNanos;
  private final List<Thread> threads = new ArrayList<>();
  private final AtomicLongArray[] correct;
  private final AtomicLongArray[] wrong;
  private final AtomicLongArray[] failed;
  private final Map<String, Integer> failureKinds = new ConcurrentHashMap<>();
  private volatile boolean running = true;
  private volatile String firstWrong;

  /**
   * {@code threadsPerReplica} threads per replica resolve random handles among {@code handle(0..handles-1)}, whose
   * URL value (index 1) must be {@code expectedUrl(i)}. Seconds are counted from {@code startNanos}.
   */
  HandleResolutionLoad(List<InetSocketAddress> replicas, int threadsPerReplica, int handles, IntFunction<String> handle,
      IntFunction<String> expectedUrl, long startNanos) {
    this.replicas = replicas;
    this.handles = handles;
    this.handle = handle;
    this.expectedUrl = expectedUrl;
    this.startNanos = startNanos;
    correct = new AtomicLongArray[replicas.size()];
    wrong = new AtomicLongArray[replicas.size()];
    failed = new AtomicLongArray[replicas.size()];
    for (int r = 0; r < replicas.size(); r++) {
      correct[r] = new AtomicLongArray(3600);
      wrong[r] = new AtomicLongArray(3600);
      failed[r] = new AtomicLongArray(3600);
      for (int t = 0; t < threadsPerReplica; t++) {
        int replica = r;
        long seed = 31L * r + t;
        threads.add(new Thread(() -> run(replica, seed), "handle-load-" + r + "-" + t));
      }
    }
  }

  HandleResolutionLoad start() {
    threads.forEach(Thread::start);
    return this;
  }

  private void run(int replica, long seed) {
    HandleResolver resolver = new HandleResolver();
    // one try with a 2 s wait: a lost answer is a failure the caller sees, counted, not hidden by retries
    resolver.setUdpRetryScheme(new int[] {2000});
    SplittableRandom random = new SplittableRandom(seed);
    InetAddress address = replicas.get(replica).getAddress();
    int port = replicas.get(replica).getPort();
    while (running) {
      int i = random.nextInt(handles);
      String outcome;
      try {
        AbstractResponse r = resolver.sendHdlUdpRequest(
            new ResolutionRequest(Util.encodeString(handle.apply(i)), null, null, null), address, port);
        outcome = judge(i, r);
      } catch (Exception e) {
        outcome = "failed:" + e.getClass().getSimpleName();
      }
      int second = (int) Math.min(3599, (System.nanoTime() - startNanos) / 1_000_000_000L);
      if (outcome == null) {
        correct[replica].incrementAndGet(second);
      } else if (outcome.startsWith("failed:")) {
        failed[replica].incrementAndGet(second);
        failureKinds.merge(outcome.substring(7), 1, Integer::sum);
      } else {
        wrong[replica].incrementAndGet(second);
        if (firstWrong == null) {
          firstWrong = "replica " + replica + ", " + handle.apply(i) + ": " + outcome;
        }
      }
    }
  }

  /** null when the answer is right; "failed:..." for an error answer; else what was wrong. */
  private String judge(int i, AbstractResponse r) throws Exception {
    if (r.responseCode == AbstractMessage.RC_HANDLE_NOT_FOUND) {
      return "handle not found";
    }
    if (!(r instanceof ResolutionResponse rr) || r.responseCode != AbstractMessage.RC_SUCCESS) {
      return "failed:response code " + r.responseCode;
    }
    for (HandleValue v : rr.getHandleValues()) {
      if (v.getIndex() == 1) {
        String url = new String(v.getData(), StandardCharsets.UTF_8);
        return v.getTypeAsString().equals("URL") && url.equals(expectedUrl.apply(i)) ? null
            : "index 1 is " + v.getTypeAsString() + " " + url;
      }
    }
    return "no value at index 1";
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    for (Thread t : threads) {
      t.join(10_000);
    }
  }

  long correct(int from, int to) {
    return sum(correct, from, to);
  }

  long wrong(int from, int to) {
    return sum(wrong, from, to);
  }

  long failed(int from, int to) {
    return sum(failed, from, to);
  }

  /** Right answers of one replica over the whole run. */
  long correctOf(int replica) {
    return sum(new AtomicLongArray[] {correct[replica]}, 0, 3600);
  }

  String firstWrong() {
    return firstWrong;
  }

  Map<String, Integer> failureKinds() {
    return new TreeMap<>(failureKinds);
  }

  private static long sum(AtomicLongArray[] arrays, int from, int to) {
    long s = 0;
    for (AtomicLongArray a : arrays) {
      for (int i = Math.max(0, from); i < Math.min(a.length(), to); i++) {
        s += a.get(i);
      }
    }
    return s;
  }
}
