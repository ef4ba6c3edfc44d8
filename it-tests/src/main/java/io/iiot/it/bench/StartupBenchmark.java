package io.iiot.it.bench;

import io.iiot.base.launch.EmbeddedCassandra;
import io.iiot.base.launch.PlatformLauncher;
import io.iiot.base.launch.Workspace;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Platform start-up time (run command to all services ready) and resident memory of each process after start, next
 * to Cassandra alone started by the same launcher (the baseline), in the same run.
 *
 * <p>Run: {@code mvn -B -q -DskipTests package && mvn -B -Pbench -pl it-tests verify -DskipITs}
 */
public final class StartupBenchmark {
  private static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
  private static final Duration SETTLE = Duration.ofSeconds(10);
  private static final HttpClient HTTP = HttpClient.newHttpClient();

  public static void main(String[] args) throws Exception {
    Path work = BenchmarkReport.home().resolve("it-tests/target/bench-startup");
    List<Long> cassStart = new ArrayList<>();
    List<Long> cassRss = new ArrayList<>();
    List<Long> platStart = new ArrayList<>();
    Map<String, List<Long>> rss = new LinkedHashMap<>();
    for (int round = 1; round <= ROUNDS; round++) {
      // Baseline: the embedded node alone, empty data directory.
      Path dir = work.resolve("alone-" + round);
      Workspace.deleteTree(dir);
      EmbeddedCassandra node = new EmbeddedCassandra(EmbeddedCassandra.Settings.of(dir, Workspace.freePort(), Workspace.freePort()));
      long t0 = System.nanoTime();
      node.start();
      cassStart.add((System.nanoTime() - t0) / 1_000_000);
      Thread.sleep(SETTLE.toMillis());
      cassRss.add(BenchmarkReport.rssMiB(node.pid()));
      node.stop();

      // The run command, empty data directory.
      Path pdir = work.resolve("platform-" + round);
      Workspace.deleteTree(pdir);
      ProcessBuilder pb = new ProcessBuilder(BenchmarkReport.home().resolve("scripts/run-platform.sh").toString(),
          "--no-build").directory(BenchmarkReport.home().toFile()).redirectErrorStream(true)
          .redirectOutput(work.resolve("platform-" + round + ".log").toFile());
      pb.environment().put("CASSANDRA_EMBEDDED_DATA_DIR", pdir.toString());
      t0 = System.nanoTime();
      Process p = pb.start();
      for (int port : new int[] {8000, 8081, 8082}) {
        awaitReady(port, p);
      }
      platStart.add((System.nanoTime() - t0) / 1_000_000);
      Thread.sleep(SETTLE.toMillis());
      rss.computeIfAbsent("launcher", k -> new ArrayList<>()).add(BenchmarkReport.rssMiB(p.pid()));
      p.toHandle().descendants().forEach(h -> {
        String cmd = h.info().commandLine().orElse("");
        String name = cmd.contains("-Dcassandra.config=") ? "cassandra"
            : PlatformLauncher.MAINS.entrySet().stream().filter(e -> cmd.contains(e.getValue())).map(Map.Entry::getKey)
                .findFirst().orElse(null);
        if (name != null) {
          rss.computeIfAbsent(name, k -> new ArrayList<>()).add(BenchmarkReport.rssMiB(h.pid()));
        }
      });
      List<ProcessHandle> tree = new ArrayList<>(p.toHandle().descendants().toList());
      p.destroy();
      p.waitFor();
      for (ProcessHandle h : tree) {
        h.onExit().join();
      }
      System.out.printf("round %d: cassandra alone %d ms / %d MiB; platform %d ms%n", round,
          cassStart.get(round - 1), cassRss.get(round - 1), platStart.get(round - 1));
    }

    double cs = BenchmarkReport.median(cassStart);
    double cr = BenchmarkReport.median(cassRss);
    StringBuilder md = new StringBuilder();
    md.append("Both start from an empty data directory (first start: keyspaces and migrations are created). ")
        .append("Medians of ").append(ROUNDS).append(" rounds; RSS read from /proc 10 s after ready.\n\n");
    md.append("| what | baseline: Cassandra alone (same launcher) | platform (run command) | ratio |\n");
    md.append("| --- | --- | --- | --- |\n");
    md.append(String.format("| start-up to ready | %.0f ms | %.0f ms | %.2f× |%n", cs,
        BenchmarkReport.median(platStart), BenchmarkReport.median(platStart) / cs));
    long total = 0;
    for (Map.Entry<String, List<Long>> e : rss.entrySet()) {
      double m = BenchmarkReport.median(e.getValue());
      total += (long) m;
      md.append(String.format("| RSS %s | %.0f MiB | %.0f MiB | %.2f× |%n", e.getKey(), cr, m, m / cr));
    }
    md.append(String.format("| RSS all processes | %.0f MiB | %d MiB | %.2f× |%n", cr, total, total / cr));
    md.append("\nRaw rounds: Cassandra alone start ").append(cassStart).append(" ms, RSS ").append(cassRss)
        .append(" MiB; platform start ").append(platStart).append(" ms; RSS per process ").append(rss).append(".\n");
    BenchmarkReport.writeSection("startup", "Platform start-up and memory",
        "mvn -B -q -DskipTests package && mvn -B -Pbench -pl it-tests verify -DskipITs", md.toString());
    System.out.println(md);
  }

  private static void awaitReady(int port, Process p) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(180).toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        throw new IllegalStateException("run command exited with " + p.exitValue());
      }
      try {
        HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
            + "/health/ready")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException ignored) {
        // not up yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("port " + port + " not ready");
  }

}
