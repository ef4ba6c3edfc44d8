package io.iiot.resolver.domain;

import io.iiot.resolver.transport.handle.BufReader;
import io.iiot.resolver.transport.handle.HandleCodecException;
import io.iiot.resolver.transport.handle.Limits;
import io.iiot.resolver.transport.handle.ResponseCodes;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Who may do what: {@code HS_ADMIN} permission bits, admin groups ({@code HS_VLIST}), and the node's own admins.
 *
 * <p>The identities named by the {@code HS_ADMIN} values of the node's prefix handle {@code 0.NA/<node prefix>} are
 * the node's server admins and pass every handle-level check (Handle.Net's {@code server_admin_full_access = yes}).
 * Any other identity needs an {@code HS_ADMIN} value granting the operation's bits, on the handle itself or, for
 * creation and listing, on the prefix handle, as table 4.4 of the reference describes. Only locally stored handles
 * are consulted (admin groups on other services are not followed).
 */
public final class Authorizer {
  private static final int MAX_GROUP_DEPTH = 10;
  private final Function<String, Future<Optional<HandleRecord>>> lookup;
  private final String nodePrefixHandle;

  /** @param lookup reads a handle (authoritatively) */
  public Authorizer(Function<String, Future<Optional<HandleRecord>>> lookup, String nodePrefix) {
    this.lookup = lookup;
    this.nodePrefixHandle = Handles.prefixHandleOf(nodePrefix);
  }

  /** One requirement: the {@code HS_ADMIN} values of {@code handle} must grant {@code bits} to the identity. */
  public record Requirement(String handle, int bits) {}

  /**
   * Succeeds with {@link ResponseCodes#RC_SUCCESS} when {@code identity} is a server admin or meets at least one of
   * {@code alternatives} (each a list of requirements that must all hold), else with
   * {@link ResponseCodes#RC_INVALID_ADMIN}.
   */
  public Future<Integer> check(ValueReference identity, List<List<Requirement>> alternatives) {
    return grants(nodePrefixHandle, 0, identity).compose(isServerAdmin -> {
      if (isServerAdmin) {
        return Future.succeededFuture(ResponseCodes.RC_SUCCESS);
      }
      return anyAlternative(identity, alternatives, 0);
    });
  }

  private Future<Integer> anyAlternative(ValueReference identity, List<List<Requirement>> alts, int i) {
    if (i >= alts.size()) {
      return Future.succeededFuture(ResponseCodes.RC_INVALID_ADMIN);
    }
    return allOf(identity, alts.get(i), 0).compose(ok -> ok
        ? Future.succeededFuture(ResponseCodes.RC_SUCCESS)
        : anyAlternative(identity, alts, i + 1));
  }

  private Future<Boolean> allOf(ValueReference identity, List<Requirement> reqs, int i) {
    if (i >= reqs.size()) {
      return Future.succeededFuture(true);
    }
    Requirement r = reqs.get(i);
    return grants(r.handle(), r.bits(), identity)
        .compose(ok -> ok ? allOf(identity, reqs, i + 1) : Future.succeededFuture(false));
  }

  /** Whether an {@code HS_ADMIN} value of {@code handle} grants {@code bits} to {@code identity}. */
  public Future<Boolean> grants(String handle, int bits, ValueReference identity) {
    return lookup.apply(handle).compose(rec -> {
      if (rec.isEmpty()) {
        return Future.succeededFuture(false);
      }
      List<ValueReference> admins = new ArrayList<>();
      for (HandleValue v : rec.get().values()) {
        if (v.hasType("HS_ADMIN")) {
          try {
            AdminRecord a = AdminRecord.decode(v.data());
            if (a.allows(bits)) {
              admins.add(a.identity());
            }
          } catch (HandleCodecException e) {
            // a malformed HS_ADMIN grants nothing
          }
        }
      }
      return anyMatches(admins, 0, identity, new HashSet<>(), 0);
    });
  }

  private Future<Boolean> anyMatches(List<ValueReference> refs, int i, ValueReference identity, Set<String> visited,
      int depth) {
    if (i >= refs.size()) {
      return Future.succeededFuture(false);
    }
    return matches(refs.get(i), identity, visited, depth)
        .compose(ok -> ok ? Future.succeededFuture(true) : anyMatches(refs, i + 1, identity, visited, depth));
  }

  /** {@code ref} names the identity itself (index 0 = any index), or an HS_VLIST that contains it. */
  private Future<Boolean> matches(ValueReference ref, ValueReference identity, Set<String> visited, int depth) {
    if (Handles.fold(ref.handle()).equals(Handles.fold(identity.handle()))
        && (ref.index() == identity.index() || ref.index() == 0)) {
      return Future.succeededFuture(true);
    }
    if (depth >= MAX_GROUP_DEPTH || !visited.add(Handles.fold(ref.handle()) + "#" + ref.index())) {
      return Future.succeededFuture(false);
    }
    return lookup.apply(ref.handle()).compose(rec -> {
      if (rec.isEmpty()) {
        return Future.succeededFuture(false);
      }
      List<ValueReference> members = new ArrayList<>();
      for (HandleValue v : rec.get().values()) {
        if (v.hasType("HS_VLIST") && (ref.index() == 0 || v.index() == ref.index())) {
          members.addAll(decodeVlist(v.data()));
        }
      }
      return anyMatches(members, 0, identity, visited, depth + 1);
    });
  }

  /** {@code int4} count, then {@code utf8} handle + {@code int4} index per member; malformed lists are empty. */
  public static List<ValueReference> decodeVlist(byte[] data) {
    List<ValueReference> out = new ArrayList<>();
    try {
      BufReader r = new BufReader(data);
      int n = r.count(Limits.MAX_LIST, 8);
      for (int i = 0; i < n; i++) {
        String h = r.utf8(Limits.MAX_HANDLE_LENGTH, ResponseCodes.RC_INVALID_VALUE);
        out.add(new ValueReference(h, r.int4()));
      }
    } catch (HandleCodecException e) {
      return List.of();
    }
    return out;
  }
}
