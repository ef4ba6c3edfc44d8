package io.iiot.it.k8s;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The "## Ports" table of the repository README: which port numbers and protocols each service serves. A row such as
 * {@code | device-hub CoAP / CoAP over DTLS (UDP) | 5683 / 5684 |} gives UDP ports; "TCP and UDP" both; else TCP.
 */
record PortTable(List<Entry> entries) {
  record Entry(String service, String what, int port, String protocol) {}

  static PortTable read(Path readme) throws IOException {
    List<String> lines = Files.readAllLines(readme);
    int start = lines.indexOf("## Ports");
    if (start < 0) {
      throw new IllegalStateException(readme + " has no '## Ports' section");
    }
    List<Entry> entries = new ArrayList<>();
    Pattern number = Pattern.compile("\\b\\d{2,5}\\b");
    for (String line : lines.subList(start + 1, lines.size())) {
      if (line.startsWith("## ")) {
        break;
      }
      String[] cells = line.split("\\|");
      if (cells.length < 3 || cells[1].isBlank() || cells[1].trim().startsWith("---")) {
        continue;
      }
      String what = cells[1].trim();
      String service = what.split(" ")[0];
      List<String> protocols = what.contains("TCP and UDP") ? List.of("TCP", "UDP")
          : what.contains("(UDP)") ? List.of("UDP") : List.of("TCP");
      Matcher m = number.matcher(cells[2]);
      while (m.find()) {
        for (String protocol : protocols) {
          entries.add(new Entry(service, what, Integer.parseInt(m.group()), protocol));
        }
      }
    }
    if (entries.isEmpty()) {
      throw new IllegalStateException(readme + ": no rows in the port table");
    }
    return new PortTable(List.copyOf(entries));
  }

  List<Entry> of(String service) {
    return entries.stream().filter(e -> e.service().equals(service)).toList();
  }
}
