package io.iiot.it.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;

/**
 * Writes one benchmark's section of {@code docs/BENCHMARKS.md}, replacing that section's previous figures and leaving
 * the other benchmarks' sections alone. Each section records machine, command and date with its figures.
 */
public final class BenchmarkReport {
  private static final String HEADER = """
      # Benchmarks

      Figures measured on this project's shared 2-core machines. Each figure sits next to a baseline measured in the
      same run (a ratio), because the machines are noisy. Each section says how to re-run it.

      """;

  private BenchmarkReport() {}

  /** The repository root ({@code -Diiot.home}). */
  public static Path home() {
    return Path.of(System.getProperty("iiot.home", "..")).toAbsolutePath().normalize();
  }

  /** Replaces (or appends) the section {@code id} of docs/BENCHMARKS.md with {@code markdown}. */
  public static void writeSection(String id, String title, String command, String markdown) throws IOException {
    Path file = home().resolve("docs/BENCHMARKS.md");
    Files.createDirectories(file.getParent());
    String text = Files.exists(file) ? Files.readString(file) : HEADER;
    String begin = "<!-- begin:" + id + " -->";
    String end = "<!-- end:" + id + " -->";
    String section = begin + "\n## " + title + "\n\n"
        + "- Date: " + ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME).substring(0, 16)
        + " UTC\n- Machine: " + machine() + "\n- Command: `" + command + "`\n\n" + markdown.strip() + "\n" + end;
    int b = text.indexOf(begin);
    int e = text.indexOf(end);
    if (b >= 0 && e > b) {
      text = text.substring(0, b) + section + text.substring(e + end.length());
    } else {
      text = text.stripTrailing() + "\n\n" + section + "\n";
    }
    Files.writeString(file, text, StandardCharsets.UTF_8);
  }

  /** Cores, memory, CPU model and JVM of this machine. */
  /** The 1-minute load average now, or "?" where /proc is absent (other processes on the shared machine move figures). */
  public static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException e) {
      return "?";
    }
  }

  public static String machine() {
    String cpu = "unknown CPU";
    String mem = "";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse(cpu);
      mem = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
          .findFirst().map(l -> Long.parseLong(l.replaceAll("\\D", "")) / 1024 / 1024 + " GiB").orElse("");
    } catch (IOException ignored) {
      // not Linux: leave unknown
    }
    return Runtime.getRuntime().availableProcessors() + " cores, " + mem + ", " + cpu + ", Java "
        + Runtime.version();
  }

  /** Resident set size of a process in MiB, from /proc; -1 when gone. */
  public static long rssMiB(long pid) {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"));
      for (String l : lines) {
        if (l.startsWith("VmRSS:")) {
          return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
        }
      }
    } catch (IOException ignored) {
      // process gone
    }
    return -1;
  }

  /**
   * CPU time (user and system) a process has used so far, in nanoseconds, from /proc (clock ticks of 10 ms); -1 when
   * gone or where /proc is absent. Over a pass it shows another process's cost per message, e.g. the node's.
   */
  public static long cpuNanos(long pid) {
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14.
      String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  public static double median(List<Long> values) {
    List<Long> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2.0;
  }
}
