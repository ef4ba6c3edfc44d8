package io.iiot.resolver.hierarchy;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * What the hierarchy part of one node did: counters, and the most recent routing decisions (bounded) so an operator
 * (or a test) can see which node answered what along a referral path.
 */
public final class HierarchyStats {
  /** Decisions remembered in {@link #recent()}. */
  public static final int RECENT = 256;

  public final LongAdder local = new LongAdder();
  public final LongAdder serviceReferrals = new LongAdder();
  public final LongAdder prefixReferrals = new LongAdder();
  public final LongAdder upstreamReferrals = new LongAdder();
  public final LongAdder notResponsible = new LongAdder();
  public final LongAdder recursions = new LongAdder();
  public final LongAdder cacheHits = new LongAdder();
  public final LongAdder hopsSent = new LongAdder();
  public final LongAdder loopsRefused = new LongAdder();
  public final LongAdder depthRefused = new LongAdder();
  public final LongAdder upstreamFailures = new LongAdder();

  /**
   * One routing decision.
   *
   * @param action LOCAL, REFER-302, REFER-303, REFER-UPSTREAM, NOT-RESPONSIBLE, RECURSE, RECURSE-CACHED, LOOP, DEPTH,
   *     NO-ANSWER
   * @param target where it was referred or sent ({@code host:port}), or empty
   * @param responseCode the code answered
   * @param seq increasing number of the decision on this node
   */
  public record Decision(long seq, String handle, String action, String target, int responseCode) {}

  /** A ring written without locks (every resolution records here): slot = sequence number modulo its size. */
  private final AtomicReferenceArray<Decision> ring = new AtomicReferenceArray<>(RECENT);
  private final AtomicLong seq = new AtomicLong();

  void record(String handle, String action, String target, int rc) {
    long n = seq.incrementAndGet();
    ring.set((int) (n % RECENT), new Decision(n, handle, action, target, rc));
  }

  /** The last {@value #RECENT} decisions, oldest first. */
  public List<Decision> recent() {
    List<Decision> out = new ArrayList<>(RECENT);
    for (int i = 0; i < RECENT; i++) {
      Decision d = ring.get(i);
      if (d != null) {
        out.add(d);
      }
    }
    out.sort(Comparator.comparingLong(Decision::seq));
    return out;
  }

  /** The number of the last decision so far (see {@link #since}). */
  public long mark() {
    return seq.get();
  }

  /** The recent decisions taken after {@code mark}. */
  public List<Decision> since(long mark) {
    return recent().stream().filter(d -> d.seq() > mark).toList();
  }

  /** The recent decisions about {@code handle} (compared without ASCII case). */
  public List<Decision> about(String handle) {
    return recent().stream().filter(d -> d.handle().equalsIgnoreCase(handle)).toList();
  }
}
