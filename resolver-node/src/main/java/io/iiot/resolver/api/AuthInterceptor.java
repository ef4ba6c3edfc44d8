package io.iiot.resolver.api;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.rpc.Code;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.iiot.resolver.domain.auth.Principal;
import io.iiot.resolver.domain.auth.Tokens;
import io.iiot.resolver.storage.EnterpriseStore;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Authenticates every call of the node's gRPC services: metadata {@code authorization: Bearer <principal>.<secret>}
 * (see /work/notes/resolver-auth.md). Operator and service tokens are compared with the ones from their files;
 * enterprise tokens with the SHA-256 stored for the enterprise. The principal is put into the call's
 * {@link Context} ({@link #principal()}).
 *
 * <p>gRPC starts calls on its application executor (not an event loop), so the first check of an enterprise token
 * waits there for one Cassandra read; verified tokens are then cached for a minute (by digest, never the secret).
 */
public final class AuthInterceptor implements ServerInterceptor {
  static final Context.Key<Principal> PRINCIPAL = Context.key("iiot.resolver.principal");
  static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization",
      Metadata.ASCII_STRING_MARSHALLER);

  private final Tokens.Token operator;
  private final Tokens.Token service;
  private final EnterpriseStore enterprises;
  private final Cache<String, Principal> verified = Caffeine.newBuilder().maximumSize(10_000)
      .expireAfterWrite(Duration.ofMinutes(1)).build();

  public AuthInterceptor(Tokens.Token operator, Tokens.Token service, EnterpriseStore enterprises) {
    this.operator = operator;
    this.service = service;
    this.enterprises = enterprises;
  }

  /** The authenticated caller of the current call (only inside a call's context). */
  static Principal principal() {
    Principal p = PRINCIPAL.get();
    if (p == null) {
      throw GrpcErrors.of(Code.UNAUTHENTICATED, "CREDENTIALS_MISSING", "no authenticated principal");
    }
    return p;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Principal p;
    try {
      p = authenticate(headers.get(AUTHORIZATION));
    } catch (StatusRuntimeException e) {
      call.close(e.getStatus(), e.getTrailers() == null ? new Metadata() : e.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(Context.current().withValue(PRINCIPAL, p), call, headers, next);
  }

  Principal authenticate(String header) {
    if (header == null || header.isBlank()) {
      throw GrpcErrors.of(Code.UNAUTHENTICATED, "CREDENTIALS_MISSING",
          "metadata \"authorization: Bearer <principal>.<secret>\" required");
    }
    String value = header.trim();
    if (!value.regionMatches(true, 0, "Bearer ", 0, 7)) {
      throw invalid();
    }
    Tokens.Token t = Tokens.parse(value.substring(7)).orElseThrow(AuthInterceptor::invalid);
    switch (t.principalId()) {
      case Principal.OPERATOR_ID:
        if (same(t.secret(), operator.secret())) {
          return Principal.operator();
        }
        throw invalid();
      case Principal.SERVICE_ID:
        if (same(t.secret(), service.secret())) {
          return Principal.service();
        }
        throw invalid();
      default:
        String key = HexFormat.of().formatHex(Tokens.sha256(t.value()));
        Principal hit = verified.getIfPresent(key);
        if (hit != null) {
          return hit;
        }
        Optional<EnterpriseStore.Stored> e;
        try {
          e = enterprises.get(t.principalId()).toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception ex) {
          throw GrpcErrors.of(Code.UNAVAILABLE, "STORAGE_UNAVAILABLE", "credentials cannot be checked now; retry");
        }
        if (e.isEmpty() || !Tokens.matches(t.secret(), e.get().secretSha256())) {
          throw invalid();
        }
        Principal p = Principal.enterprise(t.principalId());
        verified.put(key, p);
        return p;
    }
  }

  private static boolean same(String a, String b) {
    return MessageDigest.isEqual(a.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        b.getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  private static StatusRuntimeException invalid() {
    return GrpcErrors.of(Code.UNAUTHENTICATED, "CREDENTIALS_INVALID",
        "credentials not accepted (expected \"Bearer <principal>.<secret>\" of a known principal)");
  }
}
