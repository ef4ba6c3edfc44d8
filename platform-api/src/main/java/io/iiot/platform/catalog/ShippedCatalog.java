package io.iiot.platform.catalog;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.iiot.platform.domain.FieldViolation;
import io.iiot.platform.domain.TemplateRules;
import io.iiot.platform.v1.OnboardingTemplate;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The onboarding templates shipped in this jar ({@code catalog/catalog.list}, one {@code <id>.json} per template in
 * proto JSON). A broken file fails the start with the file and field named, rather than shipping a template that
 * device-hub or resolver-node would later reject.
 */
public final class ShippedCatalog {
  private static final String DIR = "catalog/";

  private ShippedCatalog() {}

  public static List<OnboardingTemplate> load() {
    List<OnboardingTemplate> out = new ArrayList<>();
    for (String id : read(DIR + "catalog.list").lines().map(String::trim)
        .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList()) {
      OnboardingTemplate.Builder b = OnboardingTemplate.newBuilder();
      try {
        JsonFormat.parser().merge(read(DIR + id + ".json"), b);
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("catalogue template " + id + ".json: " + e.getMessage(), e);
      }
      OnboardingTemplate t = b.setName("templates/" + id).setCatalog(true).build();
      List<FieldViolation> bad = TemplateRules.check(t, id);
      if (!bad.isEmpty()) {
        throw new IllegalStateException("catalogue template " + id + ".json is invalid: " + bad);
      }
      out.add(t);
    }
    return List.copyOf(out);
  }

  private static String read(String resource) {
    try (InputStream in = ShippedCatalog.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("catalogue resource " + resource + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
