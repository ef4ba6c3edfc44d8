package io.iiot.resolver.transport.handle;

import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.ValueReference;
import java.util.ArrayList;
import java.util.List;

/** Handle value encoding ({@code Encoder.encodeHandleValue} of CNRI's client, RFC 3652 §3.1). */
public final class ValueCodec {
  private ValueCodec() {}

  /** Fixed part of a value: index, timestamp, TTL type, TTL, permissions, two length prefixes, reference count. */
  public static final int MIN_VALUE_SIZE = 4 + 4 + 1 + 4 + 1 + 4 + 4 + 4;

  public static void encode(BufWriter w, HandleValue v) {
    w.int4(v.index()).int4(v.timestamp()).u8(v.ttlType()).int4(v.ttl()).u8(v.permissions())
        .utf8(v.type()).bytes(v.data()).int4(v.references().size());
    for (ValueReference ref : v.references()) {
      w.utf8(ref.handle()).int4(ref.index());
    }
  }

  /** The bytes {@link #encode} writes for {@code v}. */
  public static int size(HandleValue v) {
    int n = MIN_VALUE_SIZE - 8 + BufWriter.utf8Size(v.type()) + 4 + v.data().length;
    for (ValueReference ref : v.references()) {
      n += BufWriter.utf8Size(ref.handle()) + 4;
    }
    return n;
  }

  /** The bytes {@link #encodeList} writes for {@code values}. */
  public static int listSize(List<HandleValue> values) {
    int n = 4;
    for (int i = 0; i < values.size(); i++) {
      n += size(values.get(i));
    }
    return n;
  }

  public static HandleValue decode(BufReader r) throws HandleCodecException {
    int index = r.int4();
    int timestamp = r.int4();
    int ttlType = r.u8();
    int ttl = r.int4();
    int perms = r.u8();
    String type = r.utf8(Limits.MAX_TYPE_LENGTH, ResponseCodes.RC_INVALID_VALUE);
    byte[] data = r.bytes(Limits.MAX_MESSAGE_LENGTH);
    int nRefs = r.count(Limits.MAX_LIST, 8);
    List<ValueReference> refs = nRefs == 0 ? List.of() : new ArrayList<>(nRefs);
    for (int i = 0; i < nRefs; i++) {
      String h = r.utf8(Limits.MAX_HANDLE_LENGTH, ResponseCodes.RC_INVALID_VALUE);
      refs.add(new ValueReference(h, r.int4()));
    }
    return new HandleValue(index, type, data, ttlType, ttl, timestamp, refs, perms & 0x0F);
  }

  /** {@code int4} count, then the values. */
  public static List<HandleValue> decodeList(BufReader r) throws HandleCodecException {
    int n = r.count(Limits.MAX_VALUES, MIN_VALUE_SIZE);
    List<HandleValue> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(decode(r));
    }
    return out;
  }

  public static void encodeList(BufWriter w, List<HandleValue> values) {
    w.int4(values.size());
    for (HandleValue v : values) {
      encode(w, v);
    }
  }
}
