package io.iiot.resolver.storage;

import io.iiot.resolver.domain.HandleRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.registration.EnterprisePrefix;
import io.iiot.resolver.domain.registration.IdentifierValues;
import io.iiot.resolver.domain.registration.Outcome;
import io.iiot.resolver.domain.registration.Registered;
import io.iiot.resolver.domain.registration.TemplateRef;
import io.iiot.resolver.domain.template.FieldViolation;
import io.iiot.resolver.domain.template.MetadataTemplate;
import io.iiot.resolver.domain.template.TemplateValidator;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Registration of identifiers against templates, written through the node's {@link HandleStore}: the Handle protocol
 * and HTTP API resolve what is registered here at once (the store invalidates its cache on every write), and
 * registration reads what they wrote.
 */
public final class IdentifierRegistry {
  /** Reads/creates in flight at once in a batch: enough to keep Cassandra busy, well under the driver's limit. */
  static final int BATCH_IN_FLIGHT = 128;
  /** Batch items read and written together: one existence read and one prefix-index write per chunk. */
  static final int CHUNK = 200;
  /** Chunks in flight at once (each writes up to {@link #CHUNK} partitions at once). */
  static final int CHUNKS_IN_FLIGHT = 4;
  public static final int MAX_BATCH = 10_000;

  private final HandleStore handles;
  private final TemplateStore templates;
  private final String nodePrefix;

  public IdentifierRegistry(HandleStore handles, TemplateStore templates, String nodePrefix) {
    this.handles = handles;
    this.templates = templates;
    this.nodePrefix = nodePrefix;
  }

  /** One identifier to register. {@code templateVersion} 0 means the latest version. */
  public record Draft(String handle, String templateId, int templateVersion, Map<String, String> values) {}

  /** The template version a draft names (latest when 0). */
  public Future<Optional<TemplateValidator>> template(String id, int version) {
    if (!MetadataTemplate.isValidId(id)) {
      return Future.succeededFuture(Optional.empty());
    }
    if (version > 0) {
      return templates.validator(id, version);
    }
    return templates.latest(id).compose(s -> s.isEmpty() ? Future.succeededFuture(Optional.empty())
        : templates.validator(id, s.get().template().version()));
  }

  /** Checks a draft without writing: prefix, handle syntax, template, values. */
  public Future<Outcome> check(String prefix, Draft d, TemplateValidator v) {
    List<FieldViolation> out = new ArrayList<>();
    EnterprisePrefix.problem(prefix, nodePrefix).ifPresent(p -> out.add(new FieldViolation("parent", "PREFIX", p)));
    EnterprisePrefix.handleProblem(d.handle(), prefix)
        .ifPresent(p -> out.add(new FieldViolation("handle", "HANDLE", p)));
    if (v == null) {
      return Future.succeededFuture(out.isEmpty()
          ? Outcome.of(d.handle(), Outcome.Kind.TEMPLATE_NOT_FOUND, "no template " + d.templateId()
              + (d.templateVersion() > 0 ? "@" + d.templateVersion() : ""))
          : Outcome.invalid(d.handle(), out));
    }
    for (FieldViolation f : v.validate(d.values())) {
      out.add(new FieldViolation("values." + f.field(), f.rule(), f.description()));
    }
    return Future.succeededFuture(out.isEmpty() ? Outcome.ok(d.handle()) : Outcome.invalid(d.handle(), out));
  }

  /** Registers one identifier; ALREADY_EXISTS (nothing written) when the handle exists. */
  public Future<Outcome> register(String prefix, Draft d) {
    return template(d.templateId(), d.templateVersion())
        .compose(v -> check(prefix, d, v.orElse(null)).compose(c -> c.ok() ? create(d, v.get()) : Future
            .succeededFuture(c)));
  }

  private Future<Outcome> create(Draft d, TemplateValidator v) {
    List<HandleValue> values = IdentifierValues.toHandleValues(d.handle(), v.template(), d.values(), now());
    return handles.create(d.handle(), values).map(created -> created ? Outcome.ok(d.handle())
        : Outcome.of(d.handle(), Outcome.Kind.ALREADY_EXISTS, d.handle() + " already exists"))
        .recover(e -> Future.succeededFuture(Outcome.of(d.handle(), Outcome.Kind.FAILED, "storage: " + e)));
  }

  /**
   * Registers a batch. Each draft is checked first; with {@code atomic}, one bad or already existing draft means none
   * is written (outcomes say which drafts were bad, the others ABORTED), and should a concurrent writer create one
   * of the handles between the check and the write, the handles this call created are deleted again.
   */
  public Future<List<Outcome>> registerBatch(String prefix, List<Draft> drafts, boolean atomic) {
    Outcome[] results = new Outcome[drafts.size()];
    TemplateValidator[] validators = new TemplateValidator[drafts.size()];
    // Each distinct template reference is looked up once per batch (10,000 items usually name one or two).
    Map<String, Future<Optional<TemplateValidator>>> byRef = new java.util.HashMap<>();
    for (Draft d : drafts) {
      byRef.computeIfAbsent(d.templateId() + "@" + d.templateVersion(), k -> template(d.templateId(),
          d.templateVersion()));
    }
    return Future.all(new ArrayList<>(byRef.values())).compose(t -> {
      for (int i = 0; i < drafts.size(); i++) {
        Draft d = drafts.get(i);
        validators[i] = byRef.get(d.templateId() + "@" + d.templateVersion()).result().orElse(null);
        results[i] = check(prefix, d, validators[i]).result();
      }
      return Future.succeededFuture();
    }).compose(x -> {
          if (!atomic) {
            markRepeats(drafts, results);
            int chunks = (drafts.size() + CHUNK - 1) / CHUNK;
            return each(chunks, c -> createChunk(prefix, drafts, validators, results, c * CHUNK,
                Math.min(drafts.size(), (c + 1) * CHUNK)), CHUNKS_IN_FLIGHT).map(y -> Arrays.asList(results));
          }
          return atomicBatch(drafts, validators, results);
        });
  }

  private Future<List<Outcome>> atomicBatch(List<Draft> drafts, TemplateValidator[] validators, Outcome[] results) {
    // Existing handles make the batch fail before anything is written.
    return each(drafts.size(), i -> !results[i].ok() ? Future.succeededFuture()
        : handles.getFresh(drafts.get(i).handle()).map(r -> {
          if (r.isPresent()) {
            results[i] = Outcome.of(drafts.get(i).handle(), Outcome.Kind.ALREADY_EXISTS,
                drafts.get(i).handle() + " already exists");
          }
          return null;
        })).compose(x -> {
          if (Arrays.stream(results).anyMatch(o -> !o.ok())) {
            return Future.succeededFuture(abortRest(results, "not written: another item of this all-or-nothing "
                + "batch failed"));
          }
          return each(drafts.size(), i -> create(drafts.get(i), validators[i]).map(o -> results[i] = o).mapEmpty())
              .compose(y -> {
                if (Arrays.stream(results).allMatch(Outcome::ok)) {
                  return Future.succeededFuture(Arrays.asList(results));
                }
                List<Integer> created = new ArrayList<>();
                for (int i = 0; i < results.length; i++) {
                  if (results[i].ok()) {
                    created.add(i);
                  }
                }
                return each(created.size(), k -> handles.delete(drafts.get(created.get(k)).handle()))
                    .map(z -> abortRest(results, "rolled back: another item of this all-or-nothing batch failed"));
              });
        });
  }

  /** A handle named twice in one batch: the second and later items are ALREADY_EXISTS. */
  private static void markRepeats(List<Draft> drafts, Outcome[] results) {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < drafts.size(); i++) {
      if (results[i].ok() && !seen.add(Handles.fold(drafts.get(i).handle()))) {
        results[i] = Outcome.of(drafts.get(i).handle(), Outcome.Kind.ALREADY_EXISTS, drafts.get(i).handle()
            + " appears more than once in this batch");
      }
    }
  }

  /**
   * The batch path, per chunk of {@link #CHUNK} items: one read of which of the chunk's handles exist, then plain
   * idempotent writes of the absent ones (each handle's partition, then the chunk's prefix-index rows in one batch).
   * No lightweight transaction: with the node's durable (batch-synced) commit log one LWT per item caps a batch at
   * ~150 items/s, while plain writes share their fsyncs. An identifier that exists when the chunk is read is never
   * overwritten (ALREADY_EXISTS), and a replayed batch is answered from its request id. What this gives up against
   * {@link #register}'s LWT: a handle created through another path (Handle protocol, a single RegisterIdentifier)
   * between this read and this write, milliseconds later, is overwritten by the batch item.
   */
  private Future<Void> createChunk(String prefix, List<Draft> drafts, TemplateValidator[] validators,
      Outcome[] results, int from, int to) {
    List<String> asked = new ArrayList<>();
    for (int i = from; i < to; i++) {
      if (results[i].ok()) {
        asked.add(drafts.get(i).handle());
      }
    }
    if (asked.isEmpty()) {
      return Future.succeededFuture();
    }
    return handles.existing(asked).compose(exists -> {
      Map<String, List<HandleValue>> write = new java.util.LinkedHashMap<>();
      int ts = now();
      for (int i = from; i < to; i++) {
        Draft d = drafts.get(i);
        if (!results[i].ok()) {
          continue;
        }
        if (exists.contains(Handles.fold(d.handle()))) {
          results[i] = Outcome.of(d.handle(), Outcome.Kind.ALREADY_EXISTS, d.handle() + " already exists");
        } else {
          write.put(d.handle(), IdentifierValues.toHandleValues(d.handle(), validators[i].template(), d.values(),
              ts));
        }
      }
      return handles.importHandles(prefix, write);
    }).recover(e -> {
      for (int i = from; i < to; i++) {
        if (results[i].ok()) {
          results[i] = Outcome.of(drafts.get(i).handle(), Outcome.Kind.FAILED, "storage: " + e);
        }
      }
      return Future.succeededFuture();
    });
  }

  private static List<Outcome> abortRest(Outcome[] results, String why) {
    for (int i = 0; i < results.length; i++) {
      if (results[i].ok()) {
        results[i] = Outcome.of(results[i].handle(), Outcome.Kind.ABORTED, why);
      }
    }
    return Arrays.asList(results);
  }

  /** A registered identifier, or empty when the handle does not exist or was not made by registration. */
  public Future<Optional<Registered>> get(String handle) {
    return handles.get(handle).compose(rec -> {
      Optional<TemplateRef> ref = rec.flatMap(IdentifierValues::templateOf);
      if (ref.isEmpty()) {
        return Future.succeededFuture(Optional.empty());
      }
      return templates.validator(ref.get().id(), ref.get().version()).map(v -> v.map(
          tv -> new Registered(rec.get().handle(), ref.get(), IdentifierValues.fieldValues(tv.template(), rec.get()),
              rec.get())));
    });
  }

  /**
   * Replaces the identifier's field values with {@code values} (fields left out are removed), checked against
   * template version {@code version} (0: keep the one it was registered with; a newer one moves it).
   */
  public Future<Outcome> update(String handle, String templateId, int version, Map<String, String> values) {
    return handles.getFresh(handle).compose(rec -> {
      Optional<TemplateRef> ref = rec.flatMap(IdentifierValues::templateOf);
      if (ref.isEmpty()) {
        return Future.succeededFuture(Outcome.of(handle, Outcome.Kind.NOT_FOUND, "no registered identifier "
            + handle));
      }
      String id = templateId == null || templateId.isEmpty() ? ref.get().id() : templateId;
      int ver = version > 0 ? version : id.equals(ref.get().id()) ? ref.get().version() : 0;
      Draft d = new Draft(rec.get().handle(), id, ver, values);
      return template(id, ver).compose(v -> check(Handles.prefix(rec.get().handle()), d, v.orElse(null))
          .compose(c -> c.ok() ? write(rec.get(), ref.get(), v.get(), values) : Future.succeededFuture(c)));
    });
  }

  private Future<Outcome> write(HandleRecord rec, TemplateRef old, TemplateValidator v, Map<String, String> values) {
    List<HandleValue> now = IdentifierValues.toHandleValues(rec.handle(), v.template(), values, now());
    List<HandleValue> put = now.stream().filter(h -> h.index() != IdentifierValues.ADMIN_INDEX).toList();
    // Clear indexes of fields of the old and new version that the new values do not fill.
    Future<Optional<TemplateValidator>> oldT = templates.validator(old.id(), old.version());
    return oldT.compose(ot -> {
      List<Integer> clear = new ArrayList<>();
      for (int i : IdentifierValues.absentFieldIndexes(v.template(), values)) {
        clear.add(i);
      }
      ot.ifPresent(o -> o.template().fields().stream().filter(f -> put.stream().noneMatch(p -> p.index() == f.index()))
          .forEach(f -> clear.add(f.index())));
      int[] idx = clear.stream().distinct().mapToInt(Integer::intValue).toArray();
      return (idx.length == 0 ? Future.<Void>succeededFuture() : handles.removeValues(rec.handle(), idx))
          .compose(x -> handles.putValues(rec.handle(), put)).map(x -> Outcome.ok(rec.handle()));
    });
  }

  /** Deletes a registered identifier; NOT_FOUND when there is none (a plain handle is not touched). */
  public Future<Outcome> delete(String handle) {
    return handles.getFresh(handle).compose(rec -> {
      if (rec.flatMap(IdentifierValues::templateOf).isEmpty()) {
        return Future.succeededFuture(Outcome.of(handle, Outcome.Kind.NOT_FOUND, "no registered identifier "
            + handle));
      }
      return handles.delete(rec.get().handle()).map(x -> Outcome.ok(handle));
    });
  }

  /**
   * Handles under an enterprise prefix after {@code after} (folded order; "" from the start), at most {@code limit}.
   * Reads the whole prefix index partition: fine for the thousands of identifiers per prefix of a first version,
   * not for millions (then: paging state in the page token).
   */
  public Future<List<String>> list(String prefix, String after, int limit) {
    String from = Handles.fold(after);
    return handles.list(prefix).map(all -> all.stream().filter(h -> Handles.fold(h).compareTo(from) > 0)
        .limit(limit).toList());
  }

  private static int now() {
    return (int) (System.currentTimeMillis() / 1000);
  }

  /**
   * Runs {@code task(0..n-1)} with at most {@link #BATCH_IN_FLIGHT} running at once: a sliding window (a new task
   * starts as soon as one completes), so one slow write does not hold up the others. Completes when all have,
   * failed if any failed. Task completion may happen on any thread; starting the next is a lock-free counter step.
   */
  static Future<Void> each(int n, java.util.function.IntFunction<Future<?>> task) {
    return each(n, task, BATCH_IN_FLIGHT);
  }

  static Future<Void> each(int n, java.util.function.IntFunction<Future<?>> task, int inFlight) {
    if (n == 0) {
      return Future.succeededFuture();
    }
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger remaining = new java.util.concurrent.atomic.AtomicInteger(n);
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    Runnable[] start = new Runnable[1];
    start[0] = () -> {
      // loop instead of recursing when tasks complete synchronously (cache hits), so the stack stays flat
      int i;
      while ((i = next.getAndIncrement()) < n) {
        Future<?> f;
        try {
          f = task.apply(i);
        } catch (RuntimeException e) {
          f = Future.failedFuture(e);
        }
        boolean[] sync = {true};
        boolean[] completedSync = {false};
        f.onComplete(ar -> {
          if (ar.failed()) {
            failure.compareAndSet(null, ar.cause());
          }
          if (remaining.decrementAndGet() == 0) {
            if (failure.get() == null) {
              done.complete();
            } else {
              done.fail(failure.get());
            }
          } else if (sync[0]) {
            completedSync[0] = true;
          } else {
            start[0].run();
          }
        });
        sync[0] = false;
        if (!completedSync[0]) {
          return;
        }
      }
    };
    for (int k = 0; k < Math.min(n, inFlight); k++) {
      start[0].run();
    }
    return done.future();
  }
}
