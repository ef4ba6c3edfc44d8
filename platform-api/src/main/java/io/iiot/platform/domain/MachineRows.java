package io.iiot.platform.domain;

import io.iiot.platform.v1.IdentifierItem;
import io.iiot.platform.v1.Machine;
import io.iiot.platform.v1.OnboardingTemplate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Checks the machine rows of one OnboardDevices call against the template, all rows at once, so an SME fixes its
 * spreadsheet in one round: every violation names its row ({@code machines[12].identifier_values[SERIAL_NO]}).
 */
public final class MachineRows {
  public static final int MAX_MACHINES = 10_000;
  /** Device id and identifier suffix: safe in a Handle, an MQTT username and a resource name segment. */
  public static final Pattern MACHINE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
  private static final int MAX_LABELS = 32;

  private MachineRows() {}

  public static List<FieldViolation> check(OnboardingTemplate template, List<Machine> machines) {
    List<FieldViolation> out = new ArrayList<>();
    if (machines.isEmpty() || machines.size() > MAX_MACHINES) {
      out.add(new FieldViolation("machines", "between 1 and " + MAX_MACHINES + " machines per call, was "
          + machines.size()));
      return out;
    }
    Map<String, IdentifierItem> items = new HashMap<>();
    for (IdentifierItem it : template.getIdentifierTemplate().getItemsList()) {
      items.put(it.getType(), it);
    }
    Set<String> seen = new HashSet<>();
    int secretBytes = template.getCredentialPolicy().getSecretBytes();
    for (int i = 0; i < machines.size(); i++) {
      Machine m = machines.get(i);
      String row = "machines[" + i + "]";
      if (!MACHINE_ID.matcher(m.getMachineId()).matches()) {
        out.add(new FieldViolation(row + ".machine_id", "machine_id must be 1..64 of letters, digits, '.', '_', '-'"
            + " starting with a letter or digit, was '" + m.getMachineId() + "'"));
      } else if (!seen.add(m.getMachineId().toLowerCase(java.util.Locale.ROOT))) {
        // Handles are case-insensitive, so CNC-1 and cnc-1 would be the same identifier.
        out.add(new FieldViolation(row + ".machine_id", "machine_id '" + m.getMachineId()
            + "' appears more than once in this request (compared without case)"));
      }
      if (m.getDisplayName().length() > 200) {
        out.add(new FieldViolation(row + ".display_name", "display_name may have at most 200 characters"));
      }
      for (IdentifierItem it : items.values()) {
        if (it.getRequired() && m.getIdentifierValuesOrDefault(it.getType(), "").isBlank()) {
          out.add(new FieldViolation(row + ".identifier_values[" + it.getType() + "]", it.getType() + " ("
              + it.getDisplayName() + ") is required by the template"));
        }
      }
      for (Map.Entry<String, String> v : m.getIdentifierValuesMap().entrySet()) {
        IdentifierItem it = items.get(v.getKey());
        String at = row + ".identifier_values[" + v.getKey() + "]";
        if (it == null) {
          out.add(new FieldViolation(at, "the template has no identifier item '" + v.getKey() + "'; known: "
              + new java.util.TreeSet<>(items.keySet())));
        } else if (v.getValue().length() > it.getMaxLength()) {
          out.add(new FieldViolation(at, v.getKey() + " may have at most " + it.getMaxLength() + " characters, was "
              + v.getValue().length()));
        }
      }
      if (m.getLabelsCount() > MAX_LABELS) {
        out.add(new FieldViolation(row + ".labels", "at most " + MAX_LABELS + " labels"));
      }
      if (!m.getSuppliedSecret().isEmpty()) {
        if (!template.getCredentialPolicy().getAllowSuppliedSecret()) {
          out.add(new FieldViolation(row + ".supplied_secret", "the template's credential policy does not accept"
              + " supplied secrets; leave it empty and one is generated"));
        } else if (m.getSuppliedSecret().length() < secretBytes || m.getSuppliedSecret().length() > 256) {
          out.add(new FieldViolation(row + ".supplied_secret", "supplied_secret must have " + secretBytes
              + "..256 characters"));
        }
      }
    }
    return out;
  }
}
