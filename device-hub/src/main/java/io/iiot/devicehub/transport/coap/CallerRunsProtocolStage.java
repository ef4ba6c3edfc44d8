package io.iiot.devicehub.transport.coap;

import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Californium's protocol stage ("main" executor) run on the thread that hands it work; only timers (retransmissions,
 * exchange lifetimes) get a thread of their own.
 *
 * <p>Californium hands every received datagram from its UDP receiver thread to the protocol stage pool, and every
 * response produced elsewhere (here: on the Cassandra driver's thread that completes the durable write) back to it
 * through the exchange's serial executor: two thread hand-offs (queue, wake-up, context switch) per request besides
 * the UDP sender's. On two cores shared with the node they cost more than the CoAP work itself. Run in place, the
 * receiver thread parses, deduplicates and hands the rows to the writer, and the completing thread serializes the
 * 2.04. Nothing on these paths blocks: registry look-ups and writes are asynchronous, and an exchange's jobs still run
 * one at a time (Californium's per-exchange {@code SerialExecutor} holds its lock while a job runs in place).
 */
final class CallerRunsProtocolStage extends ScheduledThreadPoolExecutor {

  CallerRunsProtocolStage(String name) {
    super(1, timerThreads(name));
    setRemoveOnCancelPolicy(true);
  }

  @Override
  public void execute(Runnable command) {
    if (isShutdown()) {
      throw new RejectedExecutionException("CoAP protocol stage stopped");
    }
    command.run();
  }

  private static ThreadFactory timerThreads(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-timer-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
