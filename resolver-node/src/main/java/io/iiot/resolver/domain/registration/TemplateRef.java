package io.iiot.resolver.domain.registration;

import io.iiot.resolver.domain.template.MetadataTemplate;
import java.util.Optional;

/** A template version as recorded with an identifier: {@code <id>@<version>}. */
public record TemplateRef(String id, int version) {
  public static Optional<TemplateRef> parse(String text) {
    int at = text.lastIndexOf('@');
    if (at <= 0) {
      return Optional.empty();
    }
    String id = text.substring(0, at);
    try {
      int v = Integer.parseInt(text.substring(at + 1));
      return MetadataTemplate.isValidId(id) && v > 0 ? Optional.of(new TemplateRef(id, v)) : Optional.empty();
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  @Override
  public String toString() {
    return id + "@" + version;
  }
}
