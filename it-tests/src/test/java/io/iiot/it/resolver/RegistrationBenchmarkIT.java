package io.iiot.it.resolver;

import static org.assertj.core.api.Assertions.assertThat;

import com.datastax.oss.driver.api.core.CqlSession;
import com.datastax.oss.driver.api.core.cql.BatchStatement;
import com.datastax.oss.driver.api.core.cql.BatchStatementBuilder;
import com.datastax.oss.driver.api.core.cql.BatchType;
import com.datastax.oss.driver.api.core.cql.PreparedStatement;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.iiot.base.config.ServiceConfig;
import io.iiot.base.ops.Metrics;
import io.iiot.base.ops.OpsHttpServer;
import io.iiot.base.runtime.ServiceContext;
import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.it.bench.BenchmarkReport;
import io.iiot.resolver.ResolverNodeModule;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.v1.ApprovePrefixApplicationRequest;
import io.iiot.resolver.v1.BatchRegisterIdentifiersRequest;
import io.iiot.resolver.v1.BatchRegisterIdentifiersResponse;
import io.iiot.resolver.v1.CreateEnterpriseRequest;
import io.iiot.resolver.v1.CreatePrefixApplicationRequest;
import io.iiot.resolver.v1.CreateTemplateRequest;
import io.iiot.resolver.v1.Enterprise;
import io.iiot.resolver.v1.EnterpriseRecords;
import io.iiot.resolver.v1.EnterpriseServiceGrpc;
import io.iiot.resolver.v1.FieldType;
import io.iiot.resolver.v1.Identifier;
import io.iiot.resolver.v1.IdentifierServiceGrpc;
import io.iiot.resolver.v1.MetadataTemplate;
import io.iiot.resolver.v1.PrefixApplication;
import io.iiot.resolver.v1.PrefixApplicationServiceGrpc;
import io.iiot.resolver.v1.RegisterIdentifierRequest;
import io.iiot.resolver.v1.TemplateField;
import io.iiot.resolver.v1.TemplateServiceGrpc;
import io.vertx.core.Vertx;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Batch registration rate of resolver-node: {@code BatchRegisterIdentifiers} of 10,000 identifiers over gRPC (service
 * credential, one template, an approved prefix), next to raw driver inserts of the same rows (each handle's partition
 * as one unlogged batch plus its prefix-index row, 256 in flight, no existence check, no validation) and next to the
 * old path, one lightweight transaction per identifier (HandleStore.create, 128 in flight), all in the same run on the
 * same embedded Cassandra node.
 *
 * <p>Run: {@code mvn -q -B -o -pl resolver-node install -DskipTests && mvn -B verify -pl it-tests
 * -Dit.test=RegistrationBenchmarkIT -Diiot.bench=registration -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false};
 * writes the "resolver-registration" section of docs/BENCHMARKS.md.
 */
@EnabledIfSystemProperty(named = "iiot.bench", matches = ".*registration.*")
@ExtendWith(EmbeddedCassandraExtension.class)
class RegistrationBenchmarkIT {
  static final int ITEMS = 10_000;
  static final int RUNS = 3;
  static final int LWT_ITEMS = 2_000;
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
      Metadata.ASCII_STRING_MARSHALLER);

  static <S extends AbstractStub<S>> S as(S stub, String token) {
    Metadata md = new Metadata();
    md.put(AUTHORIZATION, "Bearer " + token);
    return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).withDeadlineAfter(10,
        TimeUnit.MINUTES);
  }

  static final String ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  static final int[] WEIGHTS = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};

  static String creditCode(String body9) {
    String first = "91350100" + body9;
    int sum = 0;
    for (int i = 0; i < 17; i++) {
      sum += ALPHABET.indexOf(first.charAt(i)) * WEIGHTS[i];
    }
    int c = 31 - sum % 31;
    return first + ALPHABET.charAt(c == 31 ? 0 : c);
  }

  static Identifier item(String prefix, int i) {
    String suffix = String.format(Locale.ROOT, "M-%06d", i);
    return Identifier.newBuilder().setHandle(prefix + "/" + suffix).setTemplate("templates/machine")
        .putValues("serial_no", suffix).putValues("power", "7.5").build();
  }

  static BatchRegisterIdentifiersRequest batch(String prefix, int n) {
    BatchRegisterIdentifiersRequest.Builder b = BatchRegisterIdentifiersRequest.newBuilder()
        .setParent("prefixes/" + prefix);
    for (int i = 0; i < n; i++) {
      b.addRequests(RegisterIdentifierRequest.newBuilder().setIdentifier(item(prefix, i)));
    }
    return b.build();
  }

  @Test
  void benchmark() throws Exception {
    String keyspace = "iiot_resolver_regbench";
    EmbeddedCassandraExtension.session(keyspace, "db/resolver").close();
    CqlSession session = EmbeddedCassandraExtension.session();
    Vertx vertx = Vertx.vertx();
    Path data = Files.createTempDirectory(Path.of("target").toAbsolutePath(), "regbench");
    int grpcPort = EmbeddedCassandraExtension.freePort();
    Map<String, String> env = new HashMap<>();
    env.put("HANDLE_HOST", "127.0.0.1");
    env.put("HANDLE_PORT", String.valueOf(EmbeddedCassandraExtension.freePort()));
    env.put("HTTP_PORT", String.valueOf(EmbeddedCassandraExtension.freePort()));
    env.put("GRPC_HOST", "127.0.0.1");
    env.put("GRPC_PORT", String.valueOf(grpcPort));
    env.put("HANDLE_DATA_DIR", data.toString());
    env.put("HANDLE_ADMIN_SECRET", "bench-secret");
    env.put("AUTH_OPERATOR_TOKEN_FILE", data.resolve("operator.token").toString());
    env.put("AUTH_SERVICE_TOKEN_FILE", data.resolve("service.token").toString());
    env.put("CASSANDRA_KEYSPACE", keyspace);
    ServiceConfig config = ServiceConfig.load("resolver-node", env);
    var registry = Metrics.newRegistry("resolver-node");
    OpsHttpServer ops = new OpsHttpServer(vertx, registry);
    ops.listen("127.0.0.1", config.port("http.port")).toCompletionStage().toCompletableFuture().get(10,
        TimeUnit.SECONDS);
    ResolverNodeModule module = new ResolverNodeModule(config);
    vertx.executeBlocking(() -> module.start(new ServiceContext(vertx, config, session, registry, ops)), false)
        .compose(f -> f).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext()
        .maxInboundMessageSize(64 << 20).build();
    String operator = Files.readString(data.resolve("operator.token")).trim();
    String service = Files.readString(data.resolve("service.token")).trim();

    as(TemplateServiceGrpc.newBlockingStub(ch), operator).createTemplate(CreateTemplateRequest.newBuilder()
        .setTemplateId("machine").setTemplate(MetadataTemplate.newBuilder().setDisplayName("数控加工中心")
            .setIndustryCategory("C").setIndustryCode("3421")
            .addFields(TemplateField.newBuilder().setName("serial_no").setType(FieldType.STRING).setRequired(true)
                .setValueType("SERIAL_NO").setIndex(2).setMaxLength(32))
            .addFields(TemplateField.newBuilder().setName("power").setType(FieldType.DECIMAL).setValueType("POWER")
                .setIndex(3).setUnit("kW").setMin("0").setMax("1000"))).build());
    // one approved prefix per run, plus one for warm-up
    List<String> prefixes = new ArrayList<>();
    var apps = as(PrefixApplicationServiceGrpc.newBlockingStub(ch), operator);
    for (int r = 0; r <= RUNS; r++) {
      var e = as(EnterpriseServiceGrpc.newBlockingStub(ch), operator).createEnterprise(CreateEnterpriseRequest
          .newBuilder().setEnterprise(Enterprise.newBuilder().setDisplayName("Bench " + r)
              .setCreditCode(creditCode(String.format("MA%07d", r)))).build());
      PrefixApplication a = apps.createPrefixApplication(CreatePrefixApplicationRequest.newBuilder()
          .setParent(e.getEnterprise().getName()).setApplication(PrefixApplication.newBuilder().setRecords(
              EnterpriseRecords.newBuilder().setName("Bench " + r).setCreditCode(creditCode(String.format("MA%07d",
                  r))).setAddress("bench").setContact("bench").setIndustryCategory("C").setIndustryCode("3421")))
          .build());
      prefixes.add(apps.approvePrefixApplication(ApprovePrefixApplicationRequest.newBuilder()
          .setName(a.getName()).build()).getPrefix());
    }
    var ids = as(IdentifierServiceGrpc.newBlockingStub(ch), service);
    // warm-up: JIT of the gRPC, validation and write paths
    assertThat(ids.batchRegisterIdentifiers(batch(prefixes.get(0), 2_000)).getRegisteredCount()).isEqualTo(2_000);

    String ks = com.datastax.oss.driver.api.core.CqlIdentifier.fromInternal(keyspace).asCql(true) + ".";
    PreparedStatement spelling = session.prepare("INSERT INTO " + ks + "handles (handle, spelling) VALUES (?, ?)");
    PreparedStatement value = session.prepare("INSERT INTO " + ks + "handles (handle, idx, type, data, ttl_type, "
        + "ttl, ts, refs, admin_read, admin_write, pub_read, pub_write) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    PreparedStatement index = session.prepare("INSERT INTO " + ks + "handles_by_prefix (prefix, handle, spelling) "
        + "VALUES (?,?,?)");

    List<Double> batchRates = new ArrayList<>();
    List<Double> rawRates = new ArrayList<>();
    List<String> loads = new ArrayList<>();
    for (int r = 1; r <= RUNS; r++) {
      String prefix = prefixes.get(r);
      BatchRegisterIdentifiersRequest req = batch(prefix, ITEMS);
      loads.add(BenchmarkReport.loadAverage());
      long t0 = System.nanoTime();
      BatchRegisterIdentifiersResponse resp = ids.batchRegisterIdentifiers(req);
      double s = (System.nanoTime() - t0) / 1e9;
      assertThat(resp.getRegisteredCount()).isEqualTo(ITEMS);
      batchRates.add(ITEMS / s);

      // raw driver: the same rows (as the registry builds them) under a prefix of their own
      String rawPrefix = "88.101.9" + r;
      List<List<HandleValue>> rows = new ArrayList<>();
      for (int i = 0; i < ITEMS; i++) {
        Identifier it = item(prefix, i);
        rows.add(valuesOf(it));
      }
      loads.add(BenchmarkReport.loadAverage());
      Semaphore inFlight = new Semaphore(256);
      AtomicReference<Throwable> failed = new AtomicReference<>();
      long t1 = System.nanoTime();
      for (int i = 0; i < ITEMS; i++) {
        String h = rawPrefix + "/" + String.format(Locale.ROOT, "M-%06d", i);
        String key = Handles.fold(h);
        BatchStatementBuilder b = BatchStatement.builder(BatchType.UNLOGGED).addStatement(spelling.bind(key, h));
        for (HandleValue v : rows.get(i)) {
          b.addStatement(value.bind(key, v.index(), v.type(), ByteBuffer.wrap(v.data()), (byte) v.ttlType(),
              v.ttl(), Instant.ofEpochSecond(v.timestamp()), List.of(), true, true, true, false));
        }
        inFlight.acquire();
        session.executeAsync(b.build()).thenCompose(x -> session.executeAsync(index.bind(rawPrefix, key, h)))
            .whenComplete((x, e) -> {
              if (e != null) {
                failed.compareAndSet(null, e);
              }
              inFlight.release();
            });
      }
      inFlight.acquire(256);
      inFlight.release(256);
      double raw = (System.nanoTime() - t1) / 1e9;
      assertThat(failed.get()).isNull();
      rawRates.add(ITEMS / raw);
      System.out.printf(Locale.ROOT, "run %d: batch %.0f/s, raw %.0f/s%n", r, ITEMS / s, ITEMS / raw);
    }

    // the old path: one lightweight transaction per identifier
    String lwtPrefix = "88.101.99";
    Semaphore inFlight = new Semaphore(128);
    loads.add(BenchmarkReport.loadAverage());
    long t2 = System.nanoTime();
    for (int i = 0; i < LWT_ITEMS; i++) {
      String h = lwtPrefix + "/" + String.format(Locale.ROOT, "M-%06d", i);
      inFlight.acquire();
      module.store().create(h, valuesOf(item(lwtPrefix, i))).onComplete(ar -> inFlight.release());
    }
    inFlight.acquire(128);
    inFlight.release(128);
    double lwtRate = LWT_ITEMS / ((System.nanoTime() - t2) / 1e9);

    double batch = BenchmarkReport.median(batchRates.stream().map(d -> (long) (double) d).toList());
    double raw = BenchmarkReport.median(rawRates.stream().map(d -> (long) (double) d).toList());
    StringBuilder md = new StringBuilder();
    md.append("resolver-node in-process, real Cassandra 5.0 node on the same machine (commit log synced in batch "
        + "mode, as every test node here). `BatchRegisterIdentifiers` of ").append(String.format(Locale.ROOT,
            "%,d", ITEMS)).append(" identifiers (template with a 32-character string and a decimal with unit; "
            + "service credential; an approved prefix) over gRPC on loopback, ").append(RUNS).append(" runs, "
            + "each into a fresh prefix, after a 2,000-item warm-up. Raw driver = the same rows written by the Java "
            + "driver directly (one unlogged batch per handle partition, then its prefix-index row; 256 in flight; "
            + "no existence check, no validation, no gRPC). One LWT per item = HandleStore.create (the path batches "
            + "used before), ").append(String.format(Locale.ROOT, "%,d", LWT_ITEMS)).append(" items, 128 in flight. "
            + "Client and server share the 2 cores.\n\n");
    md.append("| path | identifiers/s (median of runs) | runs | vs. raw driver |\n|---|---|---|---|\n");
    md.append(String.format(Locale.ROOT, "| BatchRegisterIdentifiers (gRPC, validated, existence-checked) | %.0f | "
        + "%s | %.2f |%n", batch, rates(batchRates), batch / raw));
    md.append(String.format(Locale.ROOT, "| raw driver inserts, same rows | %.0f | %s | 1.00 |%n", raw,
        rates(rawRates)));
    md.append(String.format(Locale.ROOT, "| one LWT per identifier (previous batch path) | %.0f | 1 | %.2f |%n",
        lwtRate, lwtRate / raw));
    md.append(String.format(Locale.ROOT, "%n10,000 identifiers in one call: %.1f s (median). 1-min load average "
        + "before each measurement: %s.%n", ITEMS / batch, String.join(", ", loads)));
    System.out.println(md);
    BenchmarkReport.writeSection("resolver-registration", "resolver-node: batch registration rate",
        "mvn -q -B -o -pl resolver-node install -DskipTests && mvn -B verify -pl it-tests "
            + "-Dit.test=RegistrationBenchmarkIT -Diiot.bench=registration -Dtest=none "
            + "-Dsurefire.failIfNoSpecifiedTests=false", md.toString());

    ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    module.stop().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    ops.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    session.close();
  }


  static String rates(List<Double> r) {
    return String.join(" / ", r.stream().map(d -> String.format(Locale.ROOT, "%.0f", d)).toList());
  }

  /** The Handle values the registry writes for an item (template fields, HS_ADMIN at 100, TEMPLATE at 1001). */
  static List<HandleValue> valuesOf(Identifier it) {
    int now = (int) (System.currentTimeMillis() / 1000);
    String prefixHandle = Handles.prefixHandleOf(Handles.prefix(it.getHandle()));
    return List.of(HandleValue.of(2, "SERIAL_NO", it.getValuesOrThrow("serial_no")).withTimestamp(now),
        HandleValue.of(3, "POWER", it.getValuesOrThrow("power")).withTimestamp(now),
        HandleValue.of(100, "HS_ADMIN", new io.iiot.resolver.domain.AdminRecord(0x07F2, prefixHandle, 300).encode())
            .withTimestamp(now),
        HandleValue.of(1001, "TEMPLATE", "machine@1").withTimestamp(now));
  }
}
