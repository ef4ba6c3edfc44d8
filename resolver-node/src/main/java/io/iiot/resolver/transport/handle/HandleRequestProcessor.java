package io.iiot.resolver.transport.handle;

import static io.iiot.resolver.transport.handle.ResponseCodes.*;

import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.Authorizer;
import io.iiot.resolver.domain.Authorizer.Requirement;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.Handles;
import io.iiot.resolver.domain.ValueFilter;
import io.iiot.resolver.domain.ValueReference;
import io.iiot.resolver.storage.HandleStore;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.interfaces.DHPublicKey;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers decoded Handle requests, whatever interface they came in on:
 *
 * <pre>
 * resolution (1), GET_SITEINFO (2)                         → answered from storage / the node's site record
 * create/delete/add/remove/modify/list (100–105)           → authenticated, authorised by HS_ADMIN, then executed
 *   in an authenticated session (HS_MAC verified)          → executed at once
 *   otherwise                                              → challenge (402), kept in {@link AuthState}
 * challenge answer (200)                                   → verify HS_SECKEY / HS_PUBKEY answer, execute the
 *                                                            original operation, answer with its opcode
 * session setup (400, Diffie-Hellman), terminate (401)     → {@link AuthState} sessions
 * anything else                                            → RC_OPERATION_NOT_SUPPORTED
 * </pre>
 *
 * <p>Thread model: {@link #process} may be called from any thread and never blocks; CPU-heavy work (PBKDF2, DH, RSA
 * signatures) runs on Vert.x worker threads. The returned future completes with the messages to send, in order.
 */
public final class HandleRequestProcessor {
  private static final Logger LOG = LoggerFactory.getLogger(HandleRequestProcessor.class);
  private static final int RECURSION_LIMIT = 10;
  private static final int HANDLES_PER_LIST_MESSAGE = 50;
  private static final String NOT_HERE = "That prefix doesn't live here";

  private final Vertx vertx;
  private final HandleStore store;
  private final Authorizer authorizer;
  private final AuthState auth;
  private final ServerKeys keys;
  private final String nodePrefix;
  private final int maxInFlight;
  private final AtomicInteger inFlight = new AtomicInteger();
  /** Unauthenticated peers can ask for DH key pairs and PBKDF2 checks: at most this many run at once. */
  private static final int MAX_CRYPTO = 8;
  private final AtomicInteger crypto = new AtomicInteger();
  /**
   * Answers to challenge answers, by challenge id and RequestId, kept for a while: a UDP client resends the same
   * answer when the first reply is slow (PBKDF2), and the resend must get the same reply, not "no such challenge".
   */
  private final java.util.Map<Long, Recent> recentAnswers = new java.util.concurrent.ConcurrentHashMap<>();

  private record Recent(Future<List<Response>> answer, long at) {}
  private final SecureRandom random = new SecureRandom();
  private volatile SiteRecord site;

  /**
   * A message to send: its envelope (message id 0) and the wire bytes, that envelope followed by the message, in one
   * array that TCP writes as it is and UDP sends as one datagram when the message fits.
   */
  public record Encoded(Envelope envelope, byte[] wire) {
    static Encoded of(Response r, byte[] wire, int envFlags) {
      Envelope env = r.envelope(0, wire.length - Envelope.SIZE, envFlags);
      env.encode(wire, 0);
      return new Encoded(env, wire);
    }

    public int messageLength() {
      return wire.length - Envelope.SIZE;
    }

    /** The message without its envelope (a copy). */
    public byte[] message() {
      return java.util.Arrays.copyOfRange(wire, Envelope.SIZE, wire.length);
    }
  }

  public HandleRequestProcessor(Vertx vertx, HandleStore store, AuthState auth, ServerKeys keys, String nodePrefix,
      SiteRecord site, int maxInFlight) {
    this.vertx = vertx;
    this.store = store;
    this.auth = auth;
    this.keys = keys;
    this.nodePrefix = nodePrefix;
    this.site = site;
    this.maxInFlight = maxInFlight;
    this.authorizer = new Authorizer(store::getFresh, nodePrefix);
    store.keepForm(WIRE_RECORD);
  }

  public SiteRecord site() {
    return site;
  }

  /** Told of every handle a resolution answer is produced for (statistics); must neither block nor fail. */
  private volatile java.util.function.Consumer<String> resolutionListener = h -> {};

  public void onResolution(java.util.function.Consumer<String> listener) {
    resolutionListener = listener;
  }

  /** A resolution answer was produced for {@code handle} (Handle protocol here; HTTP and gRPC call it too). */
  public void resolved(String handle) {
    resolutionListener.accept(handle);
  }

  /** Per-request state: the request and the version its answer is encoded at. */
  private record Ctx(Message m, Version version) {
    int digestCode() {
      return Digests.codeFor(version);
    }
  }

  /** An operation that needs an authenticated identity. */
  private record AdminOp(int opCode, int flags, Object body) {}

  /** Answers a request that could not even be decoded past its envelope. */
  public Encoded protocolError(Envelope env, String why) {
    Version v = Version.negotiate(env);
    Response r = new Response(v, 0, env.requestId(), 0, RC_PROTOCOL_ERROR, 0, site.serial(), null,
        Response.errorBody(why), false);
    return Encoded.of(r, r.encodeWire(null), 0);
  }

  /**
   * Decodes a request message; a message encrypted with a session key (EC set; CNRI's client encrypts creates and
   * adds that carry non-public values such as HS_SECKEY, and every request of a session set up with encryption) is
   * decrypted first ({@link SessionCipher}).
   */
  public Message decode(Envelope env, byte[] message) throws HandleCodecException {
    if (!env.encrypted()) {
      return Message.decode(env, message);
    }
    AuthState.Session s = auth.session(env.sessionId());
    if (s == null) {
      throw new HandleCodecException(RC_SESSION_TIMEOUT, "encrypted message outside a known session");
    }
    byte[] plain = SessionCipher.decrypt(s.key, new Version(env.major(), env.minor()), message);
    Envelope clear = new Envelope(env.major(), env.minor(), env.flags() & ~Envelope.EC, env.suggestMajor(),
        env.suggestMinor(), env.sessionId(), env.requestId(), env.messageId(), plain.length);
    return Message.decode(clear, plain);
  }

  /** Answers a message that could not be decoded, with the code of the failure. */
  public Encoded undecodable(Envelope env, HandleCodecException e) {
    Version v = Version.negotiate(env);
    int rc = ResponseCodes.isKnown(e.responseCode()) ? e.responseCode() : RC_PROTOCOL_ERROR;
    Response r = new Response(v, 0, env.requestId(), 0, rc, 0, site.serial(), null,
        Response.errorBody(String.valueOf(e.getMessage())), false);
    return Encoded.of(r, r.encodeWire(null), 0);
  }

  /** Processes one request message. */
  public Future<List<Encoded>> process(Message m, boolean udp) {
    Ctx ctx = new Ctx(m, Version.negotiate(m.envelope()));
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      return encode(List.of(error(ctx, m.opCode(), RC_SERVER_TOO_BUSY, "server too busy")), null);
    }
    Future<List<Response>> f;
    try {
      f = dispatch(ctx, udp);
    } catch (HandleCodecException e) {
      f = Future.succeededFuture(List.of(error(ctx, m.opCode(), e.responseCode(), e.getMessage())));
    } catch (RuntimeException e) {
      LOG.warn("Handle request opcode {} failed", m.opCode(), e);
      f = Future.succeededFuture(List.of(error(ctx, m.opCode(), RC_ERROR, "internal error")));
    }
    if (f.succeeded()) {
      // answered at once (cache hits, errors): no future chain per request
      List<Response> rs = f.result();
      byte[] key = sessionKeyToEncryptFor(m);
      if (key == null && !signs(rs)) {
        List<Encoded> out = encodeNow(rs, null);
        inFlight.decrementAndGet();
        return Future.succeededFuture(out);
      }
    }
    return f.recover(err -> {
      if (err instanceof HandleCodecException hce) {
        return Future.succeededFuture(List.of(error(ctx, m.opCode(), hce.responseCode(), hce.getMessage())));
      }
      LOG.warn("Handle request opcode {} failed: {}", m.opCode(), err.toString());
      return Future.succeededFuture(List.of(error(ctx, m.opCode(), RC_ERROR, "storage unavailable")));
    }).compose(rs -> encode(rs, sessionKeyToEncryptFor(m))).andThen(x -> inFlight.decrementAndGet());
  }

  /**
   * The session key to encrypt the answers to {@code m} with: a request with ENC set (CNRI's client sets it on every
   * request of a session set up with {@code SessionSetupInfo.encrypted}) inside a live session gets its answers
   * encrypted, EC set in their envelopes. {@code null}: answer in clear (no ENC, or no session to take a key from;
   * the client never asks for ENC outside a session).
   */
  private byte[] sessionKeyToEncryptFor(Message m) {
    if (!m.flag(FLAG_ENC) || m.envelope().sessionId() == 0 || m.opCode() == OC_SESSION_SETUP) {
      return null;
    }
    AuthState.Session s = auth.session(m.envelope().sessionId());
    return s == null ? null : s.key;
  }

  private Future<List<Response>> dispatch(Ctx ctx, boolean udp) throws HandleCodecException {
    Message m = ctx.m();
    if (m.responseCode() != 0) {
      return one(error(ctx, m.opCode(), RC_PROTOCOL_ERROR, "a response is not a request"));
    }
    if (m.envelope().compressed()) {
      return one(error(ctx, m.opCode(), RC_OPERATION_NOT_SUPPORTED, "compressed requests"));
    }
    if (m.recursionCount() > RECURSION_LIMIT) {
      return one(error(ctx, m.opCode(), RC_RECURSION_COUNT_TOO_HIGH, "recursion count too high"));
    }
    return switch (m.opCode()) {
      case OC_RESOLUTION -> resolve(ctx, Bodies.resolution(m.body()));
      case OC_GET_SITE_INFO -> one(reply(ctx, OC_GET_SITE_INFO, RC_SUCCESS, site.encode()));
      case OC_CREATE_HANDLE, OC_ADD_VALUE, OC_MODIFY_VALUE -> admin(ctx, new AdminOp(m.opCode(), m.opFlags(),
          Bodies.values(m.body())));
      case OC_DELETE_HANDLE -> admin(ctx, new AdminOp(m.opCode(), m.opFlags(), Bodies.handleOnly(m.body())));
      case OC_REMOVE_VALUE -> admin(ctx, new AdminOp(m.opCode(), m.opFlags(), Bodies.remove(m.body())));
      case OC_LIST_HANDLES -> udp
          ? one(error(ctx, m.opCode(), RC_OPERATION_NOT_SUPPORTED, "list handles needs TCP"))
          : admin(ctx, new AdminOp(m.opCode(), m.opFlags(), Bodies.handleOnly(m.body())));
      case OC_RESPONSE_TO_CHALLENGE -> answer(ctx, Bodies.challengeAnswer(m.body()));
      case OC_VERIFY_CHALLENGE -> verifySecretKeyAnswer(ctx, Bodies.verifyAuth(m.body()));
      case OC_SESSION_SETUP -> sessionSetup(ctx, Bodies.sessionSetup(m.body()));
      case OC_SESSION_TERMINATE -> {
        auth.closeSession(m.envelope().sessionId());
        yield one(reply(ctx, OC_SESSION_TERMINATE, RC_SUCCESS, new byte[0]));
      }
      default -> one(error(ctx, m.opCode(), RC_OPERATION_NOT_SUPPORTED, "operation not supported"));
    };
  }

  // ---------------------------------------------------------------- resolution

  private Future<List<Response>> resolve(Ctx ctx, Bodies.Resolution req) {
    String handle = Handles.normalize(req.handle());
    if (!Handles.isValid(handle)) {
      return one(error(ctx, OC_RESOLUTION, RC_INVALID_HANDLE, "invalid handle"));
    }
    // The hierarchy decides first: answer here, refer (302/303), or resolve elsewhere for the client (REC).
    io.iiot.resolver.hierarchy.ReferralPoint rp = referralPoint;
    if (rp != null) {
      Future<io.iiot.resolver.hierarchy.ReferralPoint.Decision> route = rp.route(
          new io.iiot.resolver.hierarchy.ReferralPoint.Query(handle, req.handle(), req.indexes(), req.types(),
              ctx.m().opFlags(), ctx.m().recursionCount()));
      // a kept routing decision is there at once: no future chain per resolution
      return route.succeeded() ? routed(ctx, req, handle, route.result())
          : route.compose(d -> routed(ctx, req, handle, d));
    }
    return resolveLocally(ctx, req, handle);
  }

  private Future<List<Response>> routed(Ctx ctx, Bodies.Resolution req, String handle,
      io.iiot.resolver.hierarchy.ReferralPoint.Decision d) {
    if (d.local()) {
      return answerFromStorage(ctx, req, handle); // the hierarchy's LOCAL implies the prefix is homed here
    }
    if (d.responseCode() == RC_SUCCESS) {
      resolved(req.handle()); // answered by recursion: a resolution served by this node
    }
    return one(reply(ctx, OC_RESOLUTION, d.responseCode(), d.body()));
  }

  private Future<List<Response>> resolveLocally(Ctx ctx, Bodies.Resolution req, String handle) {
    if (!homed(handle)) {
      return one(error(ctx, OC_RESOLUTION, RC_SERVER_NOT_RESP, NOT_HERE));
    }
    return answerFromStorage(ctx, req, handle);
  }

  /**
   * A cached record with its values' wire encoding, made once per cache entry ({@link HandleStore#keepForm}):
   * a hot resolution of the whole record then copies one array instead of walking and encoding every value.
   *
   * @param publicValues {@link ValueCodec#encodeList} of all the values when there are some and every one is
   *     public-read (what an unfiltered resolution answers); {@code null} otherwise (answered the general way)
   */
  private record WireRecord(java.util.Optional<io.iiot.resolver.domain.HandleRecord> record, byte[] publicValues) {}

  private static final java.util.function.Function<java.util.Optional<io.iiot.resolver.domain.HandleRecord>,
      WireRecord> WIRE_RECORD = rec -> {
        if (rec.isEmpty() || rec.get().values().isEmpty()) {
          return new WireRecord(rec, null);
        }
        List<HandleValue> values = rec.get().values();
        for (int i = 0; i < values.size(); i++) {
          if (!values.get(i).publicRead()) {
            return new WireRecord(rec, null);
          }
        }
        BufWriter w = new BufWriter(ValueCodec.listSize(values));
        ValueCodec.encodeList(w, values);
        return new WireRecord(rec, w.finish());
      };

  private Future<List<Response>> answerFromStorage(Ctx ctx, Bodies.Resolution req, String handle) {
    if (req.indexes().length == 0 && req.types().isEmpty()) {
      if (store.getCachedForm(handle) instanceof WireRecord hot) {
        if (hot.publicValues() == null) {
          return answer(ctx, req, hot.record());
        }
        resolved(req.handle());
        return one(reply(ctx, OC_RESOLUTION, RC_SUCCESS, null,
            Bodies.resolutionAnswerWriter(req.handle(), hot.publicValues()), FLAG_AT));
      }
    }
    Future<java.util.Optional<io.iiot.resolver.domain.HandleRecord>> read = store.get(handle);
    // a cache hit is there at once: answered without a future chain
    return read.succeeded() ? answer(ctx, req, read.result()) : read.compose(rec -> answer(ctx, req, rec));
  }

  private Future<List<Response>> answer(Ctx ctx, Bodies.Resolution req,
      java.util.Optional<io.iiot.resolver.domain.HandleRecord> rec) {
    if (rec.isEmpty()) {
      return one(error(ctx, OC_RESOLUTION, RC_HANDLE_NOT_FOUND, ""));
    }
    List<HandleValue> selected = ValueFilter.select(rec.get().values(), req.indexes(), req.types());
    boolean restricted = false;
    for (int i = 0; i < selected.size() && !restricted; i++) {
      restricted = !selected.get(i).publicRead();
    }
    // the common case, every value public: answered with the selected list itself (no copy per resolution)
    List<HandleValue> visible = restricted ? new ArrayList<>(selected.size()) : selected;
    if (restricted) {
      for (int i = 0; i < selected.size(); i++) {
        HandleValue v = selected.get(i);
        if (v.publicRead()) {
          visible.add(v);
        }
      }
    }
    if (restricted && !ctx.m().flag(FLAG_PO)) {
      return admin(ctx, new AdminOp(OC_RESOLUTION, ctx.m().opFlags(), req));
    }
    if (visible.isEmpty()) {
      return one(error(ctx, OC_RESOLUTION, RC_VALUES_NOT_FOUND, ""));
    }
    return one(resolutionAnswer(ctx, req.handle(), visible));
  }

  private Response resolutionAnswer(Ctx ctx, String asked, List<HandleValue> values) {
    resolved(asked);
    return reply(ctx, OC_RESOLUTION, RC_SUCCESS, null, Bodies.resolutionAnswerWriter(asked, values), FLAG_AT);
  }

  /** Whether this node is responsible for {@code handle} (its prefix, derived prefixes, and their prefix handles). */
  public boolean homed(String handle) {
    if (Handles.isPrefixHandle(handle)) {
      return Handles.isUnder(Handles.localName(handle), nodePrefix);
    }
    return Handles.isUnder(Handles.prefix(handle), nodePrefix);
  }

  // ---------------------------------------------------------------- administration

  private Future<List<Response>> admin(Ctx ctx, AdminOp op) {
    String handle = Handles.normalize(handleOf(op));
    if (!Handles.isValid(handle)) {
      return one(error(ctx, op.opCode(), RC_INVALID_HANDLE, "invalid handle"));
    }
    if (!homed(handle)) {
      return one(error(ctx, op.opCode(), RC_SERVER_NOT_RESP, NOT_HERE));
    }
    // A handle under a prefix delegated elsewhere: the same referral a resolution gets (302 with the prefix handle's
    // HS_SITE/HS_SERV, which CNRI's client follows for admin requests too). Never recursion: administration is done
    // where the handle lives. Prefix handles homed here are administered here.
    io.iiot.resolver.hierarchy.ReferralPoint rp = referralPoint;
    if (rp != null && op.opCode() != OC_RESOLUTION && !Handles.isPrefixHandle(handle)) {
      return rp.route(new io.iiot.resolver.hierarchy.ReferralPoint.Query(handle, handleOf(op), new int[0],
          List.of(), op.flags() & ~FLAG_REC, ctx.m().recursionCount())).compose(d -> {
            if (d.local()) {
              return adminHere(ctx, op, handle);
            }
            return one(reply(ctx, op.opCode(), d.responseCode(), d.body()));
          });
    }
    return adminHere(ctx, op, handle);
  }

  private Future<List<Response>> adminHere(Ctx ctx, AdminOp op, String handle) {
    return precheck(op, handle).compose(rc -> {
      if (rc != RC_SUCCESS) {
        return one(error(ctx, op.opCode(), rc, ""));
      }
      Message m = ctx.m();
      AuthState.Session session = null;
      if (m.envelope().sessionId() != 0) {
        session = auth.session(m.envelope().sessionId());
        if (session == null) {
          return one(error(ctx, op.opCode(), RC_SESSION_TIMEOUT, "session expired or unknown"));
        }
        if (m.signed()) {
          int macRc = verifyMac(m, session);
          if (macRc != RC_SUCCESS) {
            return one(error(ctx, op.opCode(), macRc, "session MAC rejected"));
          }
          if (session.identity() != null) {
            return authorizeAndExecute(ctx, op, session.identity());
          }
        }
      }
      return challenge(ctx, op, session);
    });
  }

  private static String handleOf(AdminOp op) {
    Object b = op.body();
    if (b instanceof Bodies.Values v) {
      return v.handle();
    } else if (b instanceof Bodies.HandleOnly h) {
      return h.handle();
    } else if (b instanceof Bodies.Remove r) {
      return r.handle();
    }
    return ((Bodies.Resolution) b).handle();
  }

  /** Checks that need no identity: existence, value validity. */
  private Future<Integer> precheck(AdminOp op, String handle) {
    return switch (op.opCode()) {
      case OC_CREATE_HANDLE -> {
        Bodies.Values v = (Bodies.Values) op.body();
        if ((op.flags() & FLAG_MINT) != 0) {
          yield Future.succeededFuture(RC_OPERATION_NOT_SUPPORTED);
        }
        int bad = validate(v.values());
        if (bad != RC_SUCCESS) {
          yield Future.succeededFuture(bad);
        }
        yield (op.flags() & FLAG_OVRW) != 0 ? Future.succeededFuture(RC_SUCCESS)
            : store.getFresh(handle).map(r -> r.isPresent() ? RC_HANDLE_ALREADY_EXISTS : RC_SUCCESS);
      }
      case OC_ADD_VALUE, OC_MODIFY_VALUE -> {
        int bad = validate(((Bodies.Values) op.body()).values());
        yield bad != RC_SUCCESS ? Future.succeededFuture(bad)
            : store.getFresh(handle).map(r -> r.isPresent() ? RC_SUCCESS : RC_HANDLE_NOT_FOUND);
      }
      case OC_DELETE_HANDLE, OC_REMOVE_VALUE, OC_LIST_HANDLES ->
          store.getFresh(handle).map(r -> r.isPresent() || op.opCode() == OC_LIST_HANDLES ? RC_SUCCESS
              : RC_HANDLE_NOT_FOUND);
      default -> Future.succeededFuture(RC_SUCCESS);
    };
  }

  private static int validate(List<HandleValue> values) {
    if (values.isEmpty()) {
      return RC_INVALID_VALUE;
    }
    Set<Integer> seen = new HashSet<>();
    for (HandleValue v : values) {
      if (v.index() <= 0 || !seen.add(v.index()) || v.type().isEmpty() || v.ttlType() > 1) {
        return RC_INVALID_VALUE;
      }
    }
    return RC_SUCCESS;
  }

  private Future<List<Response>> challenge(Ctx ctx, AdminOp op, AuthState.Session session) {
    byte[] nonce = new byte[16];
    random.nextBytes(nonce);
    int code = ctx.digestCode();
    byte[] digest = Digests.ofRequest(ctx.m(), code);
    if (session != null) {
      // a resent request (UDP retry) gets the same challenge, so that either copy of it can be answered
      AuthState.Pending earlier = auth.peekPending(session.id);
      if (earlier != null && java.util.Arrays.equals(earlier.digest(), digest)) {
        nonce = earlier.nonce();
      }
    }
    int id = auth.addPending(op, nonce, digest, session);
    if (id < 0) {
      return one(error(ctx, op.opCode(), RC_SERVER_TOO_BUSY, "too many pending challenges"));
    }
    byte[] rd = new byte[1 + digest.length];
    rd[0] = (byte) code;
    System.arraycopy(digest, 0, rd, 1, digest.length);
    Response r = new Response(ctx.version(), id, ctx.m().envelope().requestId(), op.opCode(),
        RC_AUTHENTICATION_NEEDED, Response.echoFlags(ctx.m().opFlags()), site.serial(), rd,
        new BufWriter(24).bytes(nonce).toByteArray(), ctx.m().flag(FLAG_CT));
    return one(r);
  }

  private Future<List<Response>> answer(Ctx ctx, Bodies.ChallengeAnswer a) {
    long key = ((long) ctx.m().envelope().sessionId() << 32) | (ctx.m().envelope().requestId() & 0xFFFFFFFFL);
    Recent seen = recentAnswers.get(key);
    if (seen != null) {
      return seen.answer();
    }
    AuthState.Pending p = auth.takePending(ctx.m().envelope().sessionId());
    if (p == null) {
      return one(error(ctx, OC_RESPONSE_TO_CHALLENGE, RC_AUTHEN_TIMEOUT, "no such challenge, or it expired"));
    }
    long now = System.currentTimeMillis();
    if (recentAnswers.size() > 10_000) {
      recentAnswers.values().removeIf(r -> now - r.at() > 30_000);
    }
    Future<List<Response>> result = answerPending(ctx, a, p);
    recentAnswers.put(key, new Recent(result, now));
    return result;
  }

  private Future<List<Response>> answerPending(Ctx ctx, Bodies.ChallengeAnswer a, AuthState.Pending p) {
    AdminOp op = (AdminOp) p.operation();
    ValueReference identity = new ValueReference(a.identityHandle(), a.identityIndex());
    Ctx answerCtx = new Ctx(ctx.m(), ctx.version());
    return requirements(op).compose(reqs -> authorizer.check(identity, reqs)).compose(rc -> {
      if (rc != RC_SUCCESS) {
        return one(error(answerCtx, op.opCode(), rc, "not an administrator for this operation"));
      }
      return verifyIdentity(identity, a, p).compose(ok -> {
        if (!ok) {
          return one(error(answerCtx, op.opCode(), RC_AUTHENTICATION_FAILED, "Identity not verified"));
        }
        if (p.session() != null) {
          p.session().authenticated(identity);
        }
        return execute(answerCtx, op, identity);
      });
    });
  }

  private Future<Boolean> verifyIdentity(ValueReference id, Bodies.ChallengeAnswer a, AuthState.Pending p) {
    boolean secret = a.authType().equalsIgnoreCase("HS_SECKEY");
    boolean pub = a.authType().equalsIgnoreCase("HS_PUBKEY");
    if (!secret && !pub) {
      return Future.succeededFuture(false);
    }
    return store.getFresh(id.handle()).compose(rec -> {
      if (rec.isEmpty()) {
        return Future.succeededFuture(false);
      }
      List<HandleValue> keys = new ArrayList<>();
      for (HandleValue v : rec.get().values()) {
        if (v.hasType(secret ? "HS_SECKEY" : "HS_PUBKEY") && (id.index() == 0 || v.index() == id.index())) {
          keys.add(v);
        }
      }
      if (keys.isEmpty()) {
        return Future.succeededFuture(false);
      }
      if (crypto.incrementAndGet() > MAX_CRYPTO) {
        crypto.decrementAndGet();
        return Future.failedFuture(new HandleCodecException(RC_SERVER_TOO_BUSY, "server too busy"));
      }
      return vertx.<Boolean>executeBlocking(() -> {
        for (HandleValue k : keys) {
          if (secret && AuthVerifier.verifySecretKey(k.data(), p.nonce(), p.digest(), a.answer())) {
            return true;
          }
          if (pub) {
            try {
              PublicKey key = KeyCodec.decode(k.data());
              if (AuthVerifier.verifyPublicKey(key, p.nonce(), p.digest(), a.answer())) {
                return true;
              }
            } catch (HandleCodecException e) {
              // not a usable key
            }
          }
        }
        return false;
      }, false).andThen(x -> crypto.decrementAndGet());
    });
  }

  /**
   * Opcode 201: another server holds a client's answer to its challenge and asks whether it proves the secret of
   * {@code index:handle}, stored here. Answer: RC 1 with one byte, 1 valid, 0 not (also when the handle has no
   * HS_SECKEY at that index); 100 when the handle does not exist. Signed when asked (CNRI's verifier always sets CT),
   * and bounded like every other PBKDF2 check an unauthenticated peer can cause.
   */
  private Future<List<Response>> verifySecretKeyAnswer(Ctx ctx, Bodies.VerifyAuth req) {
    String handle = Handles.normalize(req.handle());
    if (!Handles.isValid(handle)) {
      return one(error(ctx, OC_VERIFY_CHALLENGE, RC_INVALID_HANDLE, "invalid handle"));
    }
    if (!homed(handle)) {
      return one(error(ctx, OC_VERIFY_CHALLENGE, RC_SERVER_NOT_RESP, NOT_HERE));
    }
    return store.getFresh(handle).compose(rec -> {
      if (rec.isEmpty()) {
        return one(error(ctx, OC_VERIFY_CHALLENGE, RC_HANDLE_NOT_FOUND, ""));
      }
      List<byte[]> secrets = new ArrayList<>();
      for (HandleValue v : rec.get().values()) {
        if (v.hasType("HS_SECKEY") && (req.index() == 0 || v.index() == req.index())) {
          secrets.add(v.data());
        }
      }
      if (secrets.isEmpty()) {
        return one(reply(ctx, OC_VERIFY_CHALLENGE, RC_SUCCESS, new byte[] {0}));
      }
      if (crypto.incrementAndGet() > MAX_CRYPTO) {
        crypto.decrementAndGet();
        return one(error(ctx, OC_VERIFY_CHALLENGE, RC_SERVER_TOO_BUSY, "server too busy"));
      }
      return vertx.<Boolean>executeBlocking(() -> secrets.stream()
              .anyMatch(s -> AuthVerifier.verifySecretKey(s, req.nonce(), req.digest(), req.answer())), false)
          .andThen(x -> crypto.decrementAndGet())
          .compose(valid -> one(reply(ctx, OC_VERIFY_CHALLENGE, RC_SUCCESS, new byte[] {(byte) (valid ? 1 : 0)})));
    });
  }

  private Future<List<Response>> authorizeAndExecute(Ctx ctx, AdminOp op, ValueReference identity) {
    return requirements(op).compose(reqs -> authorizer.check(identity, reqs)).compose(rc -> rc == RC_SUCCESS
        ? execute(ctx, op, identity)
        : one(error(ctx, op.opCode(), rc, "not an administrator for this operation")));
  }

  /** The HS_ADMIN requirements of an operation (reference table 4.4). */
  private Future<List<List<Requirement>>> requirements(AdminOp op) {
    String handle = Handles.normalize(handleOf(op));
    boolean prefixHandle = Handles.isPrefixHandle(handle);
    String parent = prefixHandle ? Handles.parentPrefixHandle(handle) : Handles.prefixHandleOf(Handles.prefix(handle));
    return switch (op.opCode()) {
      case OC_RESOLUTION -> Future.succeededFuture(List.of(List.of(new Requirement(handle, AdminRecord.READ_VALUE))));
      case OC_LIST_HANDLES ->
          Future.succeededFuture(List.of(List.of(new Requirement(handle, AdminRecord.LIST_HANDLES))));
      case OC_DELETE_HANDLE -> {
        List<List<Requirement>> alts = new ArrayList<>();
        alts.add(List.of(new Requirement(handle, AdminRecord.DELETE_HANDLE)));
        if (prefixHandle && parent != null) {
          alts.add(List.of(new Requirement(parent, AdminRecord.DELETE_DERIVED_PREFIX)));
        }
        yield Future.succeededFuture(alts);
      }
      case OC_CREATE_HANDLE -> store.getFresh(handle).map(existing -> {
        List<HandleValue> values = ((Bodies.Values) op.body()).values();
        if (existing.isPresent()) {
          boolean admins = hasAdmin(values) || hasAdmin(existing.get().values());
          int bits = AdminRecord.ADD_VALUE | AdminRecord.REMOVE_VALUE | AdminRecord.MODIFY_VALUE
              | (admins ? AdminRecord.ADD_ADMIN | AdminRecord.REMOVE_ADMIN | AdminRecord.MODIFY_ADMIN : 0);
          return List.of(List.of(new Requirement(handle, bits)));
        }
        if (parent == null) {
          return List.<List<Requirement>>of();
        }
        return List.of(List.of(new Requirement(parent,
            prefixHandle ? AdminRecord.ADD_DERIVED_PREFIX : AdminRecord.ADD_HANDLE)));
      });
      case OC_ADD_VALUE -> {
        List<HandleValue> values = ((Bodies.Values) op.body()).values();
        yield Future.succeededFuture(List.of(List.of(new Requirement(handle,
            AdminRecord.ADD_VALUE | (hasAdmin(values) ? AdminRecord.ADD_ADMIN : 0)))));
      }
      case OC_MODIFY_VALUE -> store.getFresh(handle).map(existing -> {
        int bits = 0;
        for (HandleValue nv : ((Bodies.Values) op.body()).values()) {
          boolean newAdmin = nv.hasType("HS_ADMIN");
          boolean oldAdmin = existing.map(r -> r.values().stream()
              .anyMatch(v -> v.index() == nv.index() && v.hasType("HS_ADMIN"))).orElse(false);
          if (oldAdmin && newAdmin) {
            bits |= AdminRecord.MODIFY_ADMIN;
          } else if (newAdmin) {
            bits |= AdminRecord.MODIFY_VALUE | AdminRecord.ADD_ADMIN;
          } else if (oldAdmin) {
            bits |= AdminRecord.MODIFY_VALUE | AdminRecord.REMOVE_ADMIN;
          } else {
            bits |= AdminRecord.MODIFY_VALUE;
          }
        }
        return List.of(List.of(new Requirement(handle, bits)));
      });
      case OC_REMOVE_VALUE -> store.getFresh(handle).map(existing -> {
        int bits = AdminRecord.REMOVE_VALUE;
        for (int i : ((Bodies.Remove) op.body()).indexes()) {
          if (existing.map(r -> r.values().stream().anyMatch(v -> v.index() == i && v.hasType("HS_ADMIN")))
              .orElse(false)) {
            bits |= AdminRecord.REMOVE_ADMIN;
          }
        }
        return List.of(List.of(new Requirement(handle, bits)));
      });
      default -> Future.succeededFuture(List.of());
    };
  }

  private static boolean hasAdmin(List<HandleValue> values) {
    return values.stream().anyMatch(v -> v.hasType("HS_ADMIN"));
  }

  /** Performs an authorised operation; answers with the operation's opcode. */
  private Future<List<Response>> execute(Ctx ctx, AdminOp op, ValueReference identity) {
    String handle = Handles.normalize(handleOf(op));
    int now = (int) (System.currentTimeMillis() / 1000);
    return switch (op.opCode()) {
      case OC_RESOLUTION -> store.getFresh(handle).compose(rec -> {
        if (rec.isEmpty()) {
          return one(error(ctx, OC_RESOLUTION, RC_HANDLE_NOT_FOUND, ""));
        }
        Bodies.Resolution req = (Bodies.Resolution) op.body();
        List<HandleValue> visible = new ArrayList<>();
        for (HandleValue v : ValueFilter.select(rec.get().values(), req.indexes(), req.types())) {
          if (v.publicRead() || v.adminRead()) {
            visible.add(v);
          }
        }
        return visible.isEmpty() ? one(error(ctx, OC_RESOLUTION, RC_VALUES_NOT_FOUND, ""))
            : one(resolutionAnswer(ctx, req.handle(), visible));
      });
      case OC_CREATE_HANDLE -> {
        List<HandleValue> values = stamp(((Bodies.Values) op.body()).values(), now);
        String spelled = Handles.normalize(((Bodies.Values) op.body()).handle());
        if ((op.flags() & FLAG_OVRW) != 0) {
          yield store.replace(spelled, values).compose(x -> ok(ctx, op));
        }
        yield store.create(spelled, values).compose(created -> created ? ok(ctx, op)
            : one(error(ctx, op.opCode(), RC_HANDLE_ALREADY_EXISTS, "handle already exists")));
      }
      case OC_DELETE_HANDLE -> store.getFresh(handle).compose(rec -> rec.isEmpty()
          ? one(error(ctx, op.opCode(), RC_HANDLE_NOT_FOUND, ""))
          : store.delete(handle).compose(x -> ok(ctx, op)));
      case OC_ADD_VALUE, OC_MODIFY_VALUE -> store.getFresh(handle).compose(rec -> {
        if (rec.isEmpty()) {
          return one(error(ctx, op.opCode(), RC_HANDLE_NOT_FOUND, ""));
        }
        Set<Integer> have = new HashSet<>();
        rec.get().values().forEach(v -> have.add(v.index()));
        List<HandleValue> values = ((Bodies.Values) op.body()).values();
        for (HandleValue v : values) {
          if (op.opCode() == OC_ADD_VALUE && have.contains(v.index()) && (op.flags() & FLAG_OVRW) == 0) {
            return one(error(ctx, op.opCode(), RC_VALUE_ALREADY_EXISTS, "index " + v.index() + " exists"));
          }
          if (op.opCode() == OC_MODIFY_VALUE && !have.contains(v.index())) {
            return one(error(ctx, op.opCode(), RC_VALUES_NOT_FOUND, "no value at index " + v.index()));
          }
        }
        return store.putValues(handle, stamp(values, now)).compose(x -> ok(ctx, op));
      });
      case OC_REMOVE_VALUE -> store.getFresh(handle).compose(rec -> {
        if (rec.isEmpty()) {
          return one(error(ctx, op.opCode(), RC_HANDLE_NOT_FOUND, ""));
        }
        int[] indexes = ((Bodies.Remove) op.body()).indexes();
        for (int i : indexes) {
          if (rec.get().values().stream().noneMatch(v -> v.index() == i)) {
            return one(error(ctx, op.opCode(), RC_VALUES_NOT_FOUND, "no value at index " + i));
          }
        }
        return store.removeValues(handle, indexes).compose(x -> ok(ctx, op));
      });
      case OC_LIST_HANDLES -> {
        String prefix = Handles.localName(handle);
        yield store.list(prefix).map(handles -> listAnswers(ctx, handles));
      }
      default -> one(error(ctx, op.opCode(), RC_OPERATION_NOT_SUPPORTED, "operation not supported"));
    };
  }

  private List<Response> listAnswers(Ctx ctx, List<String> handles) {
    List<Response> out = new ArrayList<>();
    int i = 0;
    do {
      List<String> chunk = handles.subList(i, Math.min(handles.size(), i + HANDLES_PER_LIST_MESSAGE));
      BufWriter w = new BufWriter(32 * chunk.size() + 8).int4(chunk.size());
      chunk.forEach(w::utf8);
      i += chunk.size();
      out.add(reply(ctx, OC_LIST_HANDLES, RC_SUCCESS, w.toByteArray()).withContinuous(i < handles.size()));
    } while (i < handles.size());
    return out;
  }

  private static List<HandleValue> stamp(List<HandleValue> values, int now) {
    List<HandleValue> out = new ArrayList<>(values.size());
    for (HandleValue v : values) {
      out.add(v.withTimestamp(now));
    }
    return out;
  }

  private Future<List<Response>> ok(Ctx ctx, AdminOp op) {
    return one(reply(ctx, op.opCode(), RC_SUCCESS, new byte[0]));
  }

  /**
   * Performs an administration operation for an identity already authenticated by another interface (the HTTP API):
   * the same checks, HS_ADMIN authorisation and execution as over the Handle protocol. The future holds the Handle
   * response code.
   *
   * @param body a {@link Bodies.Values} (create, add, modify), {@link Bodies.HandleOnly} (delete) or
   *     {@link Bodies.Remove} (remove)
   */
  public Future<Integer> administer(int opCode, int flags, Object body, ValueReference identity) {
    Envelope env = new Envelope(2, 11, 0, 2, 11, 0, 0, 0, Limits.HEADER_SIZE);
    Message synthetic = new Message(env, opCode, 0, flags, 0, 0, 0, new byte[Limits.HEADER_SIZE], 0, new byte[0]);
    Ctx ctx = new Ctx(synthetic, Version.HIGHEST);
    AdminOp op = new AdminOp(opCode, flags, body);
    String handle = Handles.normalize(handleOf(op));
    if (!Handles.isValid(handle)) {
      return Future.succeededFuture(RC_INVALID_HANDLE);
    }
    if (!homed(handle)) {
      return Future.succeededFuture(RC_SERVER_NOT_RESP);
    }
    return precheck(op, handle).compose(rc -> rc != RC_SUCCESS ? Future.succeededFuture(rc)
        : authorizeAndExecute(ctx, op, identity).map(responses -> responses.get(0).responseCode()));
  }

  // ---------------------------------------------------------------- sessions

  /** Verifies the HS_MAC credential of a request in {@code session}. */
  private int verifyMac(Message m, AuthState.Session session) {
    try {
      Credential c = Credential.decode(m.credential());
      if (!c.type().equals(Credential.MAC)) {
        return RC_INVALID_CREDENTIAL;
      }
      String alg = switch (c.digestAlgorithm().toUpperCase(java.util.Locale.ROOT).replace("-", "")) {
        case "HMACSHA256" -> "HmacSHA256";
        case "HMACSHA1" -> "HmacSHA1";
        default -> null;
      };
      Version v = new Version(m.envelope().major(), m.envelope().minor());
      if (alg == null || !v.atLeast(2, 7)) {
        return RC_INVALID_CREDENTIAL;
      }
      byte[] data = Credential.signedData(v, m.envelope().suggestMajor(), m.envelope().suggestMinor(),
          m.envelope().sessionId(), m.envelope().requestId(), c.sessionCounter(), m.bytes(),
          Limits.HEADER_SIZE + m.bodyLength());
      Mac mac = Mac.getInstance(alg);
      mac.init(new SecretKeySpec(session.key, alg));
      if (!java.security.MessageDigest.isEqual(mac.doFinal(data), c.signature())) {
        return RC_INVALID_SESSION_KEY;
      }
      return session.acceptCounter(c.sessionCounter()) ? RC_SUCCESS : RC_SESSION_MESSAGE_REJECTED;
    } catch (HandleCodecException | java.security.GeneralSecurityException e) {
      return RC_INVALID_CREDENTIAL;
    }
  }

  private Future<List<Response>> sessionSetup(Ctx ctx, Bodies.SessionSetup req) {
    if (req.mode() != 4) {
      return one(error(ctx, OC_SESSION_SETUP, RC_INVALID_SESSIONSETUP_REQUEST,
          "only Diffie-Hellman key exchange (mode 4) is supported"));
    }
    PublicKey clientKey;
    try {
      clientKey = KeyCodec.decode(req.exchangeKey());
    } catch (HandleCodecException e) {
      return one(error(ctx, OC_SESSION_SETUP, RC_INVALID_SESSIONSETUP_REQUEST, "bad DH key"));
    }
    if (!(clientKey instanceof DHPublicKey dh) || dh.getParams().getP().bitLength() < 1024
        || dh.getParams().getP().bitLength() > 4096) {
      return one(error(ctx, OC_SESSION_SETUP, RC_INVALID_SESSIONSETUP_REQUEST, "bad DH key"));
    }
    if (crypto.incrementAndGet() > MAX_CRYPTO) {
      crypto.decrementAndGet();
      return one(error(ctx, OC_SESSION_SETUP, RC_SERVER_TOO_BUSY, "server too busy"));
    }
    return vertx.<Object[]>executeBlocking(() -> {
      KeyPairGenerator g = KeyPairGenerator.getInstance("DH");
      g.initialize(dh.getParams());
      KeyPair kp = g.generateKeyPair();
      KeyAgreement ka = KeyAgreement.getInstance("DH");
      ka.init(kp.getPrivate());
      ka.doPhase(dh, true);
      byte[] secret = ka.generateSecret();
      // CNRI's GenericProvider: skip leading zeros, take 32 bytes (AES-256 key, algorithm code 3)
      int i = 0;
      while (i + 32 < secret.length && secret[i] == 0) {
        i++;
      }
      byte[] key = java.util.Arrays.copyOfRange(secret, i, Math.min(secret.length, i + 32));
      return new Object[] {kp.getPublic(), key};
    }, false).andThen(x -> crypto.decrementAndGet()).recover(err -> Future.failedFuture(new HandleCodecException(RC_INVALID_SESSIONSETUP_REQUEST,
        "unusable Diffie-Hellman key"))).compose(res -> {
      AuthState.Session s = auth.openSession((byte[]) res[1],
          new ValueReference(req.identityHandle(), req.identityIndex()), req.timeout());
      if (s == null) {
        return one(error(ctx, OC_SESSION_SETUP, RC_SERVER_TOO_BUSY, "too many sessions"));
      }
      byte[] data = new BufWriter(300).int4(3).raw(KeyCodec.encode((PublicKey) res[0])).toByteArray();
      byte[] body = new BufWriter(data.length + 8).u16(4).bytes(data).toByteArray();
      Response r = reply(ctx, OC_SESSION_SETUP, RC_SUCCESS, body);
      return one(new Response(r.version(), s.id, r.requestId(), r.opCode(), r.responseCode(), r.opFlags(),
          r.siteSerial(), r.digest(), r.body(), r.sign()));
    });
  }

  // ---------------------------------------------------------------- answers

  private Response reply(Ctx ctx, int opCode, int rc, byte[] body) {
    return reply(ctx, opCode, rc, body, 0);
  }

  /** @param addFlags OpFlag bits set in the answer besides those echoed from the request */
  private Response reply(Ctx ctx, int opCode, int rc, byte[] body, int addFlags) {
    return reply(ctx, opCode, rc, body, null, addFlags);
  }

  /** @param writer writes the body where the answer is encoded, instead of {@code body} */
  private Response reply(Ctx ctx, int opCode, int rc, byte[] body, Response.BodyWriter writer, int addFlags) {
    Message m = ctx.m();
    byte[] digest = null;
    if (m.flag(FLAG_RD)) {
      int code = ctx.digestCode();
      byte[] d = Digests.ofRequest(m, code);
      digest = new byte[1 + d.length];
      digest[0] = (byte) code;
      System.arraycopy(d, 0, digest, 1, d.length);
    }
    int sessionId = m.envelope().sessionId();
    if (sessionId != 0 && auth.session(sessionId) == null) {
      sessionId = 0;
    }
    return new Response(ctx.version(), sessionId, m.envelope().requestId(), opCode, rc,
        Response.echoFlags(m.opFlags()) | addFlags, site.serial(), digest, body, m.flag(FLAG_CT), writer);
  }

  private Response error(Ctx ctx, int opCode, int rc, String message) {
    return reply(ctx, opCode, ResponseCodes.isKnown(rc) ? rc : RC_ERROR, Response.errorBody(message));
  }

  private static Future<List<Response>> one(Response r) {
    return Future.succeededFuture(List.of(r));
  }

  private Future<List<Encoded>> encode(List<Response> responses, byte[] sessionKey) {
    if (sessionKey == null && !signs(responses)) {
      return Future.succeededFuture(encodeNow(responses, null));
    }
    return vertx.executeBlocking(() -> encodeNow(responses, sessionKey), false);
  }

  private static boolean signs(List<Response> responses) {
    for (int i = 0; i < responses.size(); i++) {
      if (responses.get(i).sign()) {
        return true;
      }
    }
    return false;
  }

  /** Encodes, signs when asked (CT), then encrypts the signed message when {@code sessionKey} is given. */
  private List<Encoded> encodeNow(List<Response> responses, byte[] sessionKey) {
    List<Encoded> out = new ArrayList<>(responses.size());
    for (Response r : responses) {
      byte[] wire = r.encodeWire(keys);
      if (sessionKey != null && r.sessionId() != 0) {
        byte[] enc;
        try {
          enc = SessionCipher.encrypt(sessionKey, r.version(),
              java.util.Arrays.copyOfRange(wire, Envelope.SIZE, wire.length));
        } catch (java.security.GeneralSecurityException e) {
          throw new IllegalStateException("AES unavailable", e);
        }
        wire = new byte[Envelope.SIZE + enc.length];
        System.arraycopy(enc, 0, wire, Envelope.SIZE, enc.length);
        out.add(Encoded.of(r, wire, Envelope.EC));
      } else {
        out.add(Encoded.of(r, wire, 0));
      }
    }
    return out;
  }

  private volatile io.iiot.resolver.hierarchy.ReferralPoint referralPoint;

  /** Routes resolutions through the node hierarchy (referral / recursion) before storage; null = storage only. */
  public void referralPoint(io.iiot.resolver.hierarchy.ReferralPoint rp) {
    this.referralPoint = rp;
  }

  /** Replaces the site record (tests, reconfiguration). */
  public void site(SiteRecord s) {
    this.site = s;
  }

}
