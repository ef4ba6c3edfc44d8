package io.iiot.resolver.storage;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.registration.Outcome;
import io.iiot.resolver.domain.registration.Registered;
import io.iiot.resolver.domain.registration.TemplateRef;
import io.iiot.resolver.domain.template.FieldType;
import io.iiot.resolver.domain.template.FieldViolation;
import io.iiot.resolver.domain.template.MetadataTemplate;
import io.iiot.resolver.domain.template.TemplateField;
import io.iiot.resolver.domain.template.TemplateValidatorTest;
import io.iiot.resolver.storage.IdentifierRegistry.Draft;
import io.vertx.core.Future;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Templates and registration against a real Cassandra node, through the same HandleStore the Handle protocol uses. */
@Tag("medium")
@ExtendWith(EmbeddedCassandraExtension.class)
class IdentifierRegistryTest {
  static final String KS = "iiot_resolver_reg";
  static CqlSession session;
  static HandleStore handles;
  static TemplateStore templates;
  static IdentifierRegistry registry;

  @BeforeAll
  static void open() throws Exception {
    EmbeddedCassandraExtension.session(KS, "db/resolver").close();
    session = EmbeddedCassandraExtension.session();
    handles = new HandleStore(session, KS, 100_000, Duration.ofMinutes(5));
    templates = new TemplateStore(session, KS);
    registry = new IdentifierRegistry(handles, templates, "88.101");
    assertThat(await(templates.insert(TemplateValidatorTest.CNC_TEMPLATE, Instant.now()))).isTrue();
  }

  @AfterAll
  static void close() {
    session.close();
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
  }

  static Draft cnc(String handle, String serial) {
    return new Draft(handle, "cnc-machining-centre", 0, Map.of("serial_no", serial, "power", "7.5"));
  }

  @Test
  void templateVersionsAreStoredOnceAndReadBack() throws Exception {
    MetadataTemplate v1 = new MetadataTemplate("sensor", 1, "甲烷传感器", "B", "06", List.of(
        TemplateField.of("range", FieldType.DECIMAL, true, "RANGE", 2).withUnit("%CH4")));
    assertThat(await(templates.insert(v1, Instant.now()))).isTrue();
    assertThat(await(templates.insert(v1, Instant.now()))).isFalse();
    MetadataTemplate v2 = new MetadataTemplate("sensor", 2, "甲烷传感器", "B", "06", List.of(
        TemplateField.of("range", FieldType.DECIMAL, true, "RANGE", 2).withUnit("%CH4"),
        TemplateField.of("state", FieldType.ENUM, false, "STATE", 3).withAllowed(List.of("on", "off"))));
    assertThat(await(templates.insert(v2, Instant.now()))).isTrue();
    assertThat(await(templates.latest("sensor")).orElseThrow().template()).isEqualTo(v2);
    assertThat(await(templates.get("sensor", 1)).orElseThrow().template()).isEqualTo(v1);
    assertThat(await(templates.get("cnc-machining-centre", 1)).orElseThrow().template())
        .isEqualTo(TemplateValidatorTest.CNC_TEMPLATE);
    assertThat(await(templates.versions("sensor"))).extracting(s -> s.template().version()).containsExactly(2, 1);
    assertThat(await(templates.ids("", 100))).contains("cnc-machining-centre", "sensor");
    assertThat(await(templates.ids("cnc-machining-centre", 100))).doesNotContain("cnc-machining-centre");
  }

  @Test
  void aRegisteredIdentifierIsAHandleTheResolverServesAtOnce() throws Exception {
    assertThat(await(handles.get("88.101.5/CNC-REG-1"))).isEmpty(); // cached negative answer
    assertThat(await(registry.register("88.101.5", cnc("88.101.5/CNC-REG-1", "SN-0001")))).isEqualTo(
        Outcome.ok("88.101.5/CNC-REG-1"));
    List<HandleValue> values = await(handles.get("88.101.5/cnc-reg-1")).orElseThrow().values();
    assertThat(values).extracting(v -> v.index() + ":" + v.type()).containsExactly("2:SERIAL_NO", "4:RATED_POWER",
        "100:HS_ADMIN", "1001:TEMPLATE");
    assertThat(values.get(3).dataAsString()).isEqualTo("cnc-machining-centre@1");

    Outcome again = await(registry.register("88.101.5", cnc("88.101.5/cnc-reg-1", "SN-0002")));
    assertThat(again.kind()).isEqualTo(Outcome.Kind.ALREADY_EXISTS);
    Registered r = await(registry.get("88.101.5/CNC-REG-1")).orElseThrow();
    assertThat(r.template()).isEqualTo(new TemplateRef("cnc-machining-centre", 1));
    assertThat(r.values()).containsEntry("serial_no", "SN-0001");

    Outcome bad = await(registry.register("88.101.5", new Draft("88.101.6/X", "cnc-machining-centre", 1,
        Map.of("serial_no", "x"))));
    assertThat(bad.violations()).extracting(FieldViolation::field, FieldViolation::rule).containsExactly(
        org.assertj.core.groups.Tuple.tuple("handle", "HANDLE"),
        org.assertj.core.groups.Tuple.tuple("values.serial_no", "MIN_LENGTH"),
        org.assertj.core.groups.Tuple.tuple("values.serial_no", "PATTERN"));
    assertThat(await(registry.register("88.101.5", new Draft("88.101.5/Y", "nope", 0, Map.of()))).kind())
        .isEqualTo(Outcome.Kind.TEMPLATE_NOT_FOUND);
  }

  @Test
  void updateChecksTheRecordedVersionAndDeleteRemovesTheHandle() throws Exception {
    await(registry.register("88.101.7", cnc("88.101.7/U-1", "SN-1")));
    assertThat(await(registry.update("88.101.7/U-1", "", 0, Map.of("serial_no", "SN-22"))).ok()).isTrue();
    assertThat(await(handles.get("88.101.7/U-1")).orElseThrow().values()).extracting(v -> v.index() + ":"
        + (v.index() == 100 ? "" : v.dataAsString()))
        .containsExactly("2:SN-22", "100:", "1001:cnc-machining-centre@1"); // power removed
    Outcome bad = await(registry.update("88.101.7/U-1", "", 0, Map.of("serial_no", "SN-1", "spindles", "99")));
    assertThat(bad.violations()).containsExactly(new FieldViolation("values.spindles", "ABOVE_MAXIMUM", "at most 8"));
    assertThat(await(registry.list("88.101.7", "", 10))).containsExactly("88.101.7/U-1");
    assertThat(await(registry.delete("88.101.7/U-1")).ok()).isTrue();
    assertThat(await(handles.get("88.101.7/U-1"))).isEmpty();
    assertThat(await(registry.delete("88.101.7/U-1")).kind()).isEqualTo(Outcome.Kind.NOT_FOUND);
  }

  @Test
  void aBatchOfTenThousandWithThreeBadItemsStoresTheOther9997() throws Exception {
    List<Draft> drafts = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      drafts.add(cnc("88.101.9/B-" + i, "SN-" + i));
    }
    drafts.set(17, new Draft("88.101.9/B-17", "cnc-machining-centre", 0, Map.of("serial_no", "sn-17")));
    drafts.set(5000, new Draft("88.101.9/B-5000", "cnc-machining-centre", 0, Map.of()));
    drafts.set(9999, new Draft("88.101.9/B-9999", "cnc-machining-centre", 0, Map.of("serial_no", "SN-9999",
        "power", "9000")));
    long t0 = System.nanoTime();
    List<Outcome> out = await(registry.registerBatch("88.101.9", drafts, false));
    System.out.printf("batch of 10,000 (3 bad): %d ms%n", (System.nanoTime() - t0) / 1_000_000);
    List<String> bad = out.stream().filter(o -> !o.ok())
        .map(o -> o.handle() + " " + (o.violations().isEmpty() ? o.kind() + " " + o.message()
            : o.violations().get(0).field() + " " + o.violations().get(0).rule())).toList();
    assertThat(bad).containsExactly("88.101.9/B-17 values.serial_no PATTERN", "88.101.9/B-5000 values.serial_no "
        + "REQUIRED", "88.101.9/B-9999 values.power ABOVE_MAXIMUM");
    assertThat(await(handles.list("88.101.9"))).hasSize(9_997);
    assertThat(await(handles.get("88.101.9/B-17"))).isEmpty();
  }

  @Test
  void anAllOrNothingBatchWithOneBadOrExistingItemWritesNothing() throws Exception {
    await(registry.register("88.101.11", cnc("88.101.11/A-0", "SN-0")));
    List<Draft> drafts = new ArrayList<>();
    for (int i = 1; i <= 50; i++) {
      drafts.add(cnc("88.101.11/A-" + i, "SN-" + i));
    }
    drafts.add(cnc("88.101.11/A-0", "SN-0"));
    List<Outcome> out = await(registry.registerBatch("88.101.11", drafts, true));
    assertThat(out.get(50).kind()).isEqualTo(Outcome.Kind.ALREADY_EXISTS);
    assertThat(out.subList(0, 50)).allMatch(o -> o.kind() == Outcome.Kind.ABORTED);
    assertThat(await(handles.list("88.101.11"))).containsExactly("88.101.11/A-0");

    List<Outcome> ok = await(registry.registerBatch("88.101.11", drafts.subList(0, 50), true));
    assertThat(ok).allMatch(Outcome::ok);
    assertThat(await(handles.list("88.101.11"))).hasSize(51);
  }
}
