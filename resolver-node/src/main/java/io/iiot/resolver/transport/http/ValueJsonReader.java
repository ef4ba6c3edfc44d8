package io.iiot.resolver.transport.http;

import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.ValueReference;
import io.iiot.resolver.transport.handle.BufWriter;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;

/** Handle values from handle.net's JSON (the input side of {@link ValueJson}). */
final class ValueJsonReader {
  private ValueJsonReader() {}

  /** A malformed value; the message says which field. */
  static final class BadValue extends Exception {
    BadValue(String message) {
      super(message, null, false, false);
    }
  }

  /** The values of a PUT body: an array, {@code {"values": [...]}}, or one value. */
  static List<HandleValue> values(Object body) throws BadValue {
    JsonArray arr;
    if (body instanceof JsonArray a) {
      arr = a;
    } else if (body instanceof JsonObject o && o.getValue("values") instanceof JsonArray a) {
      arr = a;
    } else if (body instanceof JsonObject o) {
      arr = new JsonArray().add(o);
    } else {
      throw new BadValue("body must be a JSON array of values, {\"values\": [...]} or one value");
    }
    List<HandleValue> out = new ArrayList<>();
    for (Object o : arr) {
      if (!(o instanceof JsonObject v)) {
        throw new BadValue("each value must be a JSON object");
      }
      out.add(value(v));
    }
    return out;
  }

  static HandleValue value(JsonObject v) throws BadValue {
    try {
      Integer index = v.getInteger("index");
      String type = v.getString("type");
      if (index == null || type == null || type.isEmpty()) {
        throw new BadValue("a value needs index and type");
      }
      byte[] data = data(type, v.getValue("data"));
      int ttlType = 0;
      int ttl = HandleValue.DEFAULT_TTL;
      Object t = v.getValue("ttl");
      if (t instanceof Number n) {
        ttl = n.intValue();
      } else if (t instanceof String s) {
        ttlType = 1;
        ttl = (int) Instant.parse(s).getEpochSecond();
      }
      int perms = HandleValue.DEFAULT_PERMISSIONS;
      String p = v.getString("permissions");
      if (p != null) {
        // CNRI's reader goes from the right; a 4th character (admin read) is ignored and admin read stays set
        perms = HandleValue.ADMIN_READ;
        int[] bits = {HandleValue.PUBLIC_WRITE, HandleValue.PUBLIC_READ, HandleValue.ADMIN_WRITE};
        for (int i = 0; i < 3 && i < p.length(); i++) {
          if (p.charAt(p.length() - 1 - i) == '1') {
            perms |= bits[i];
          }
        }
      }
      List<ValueReference> refs = new ArrayList<>();
      JsonArray r = v.getJsonArray("references");
      if (r != null) {
        for (Object o : r) {
          JsonObject ref = (JsonObject) o;
          refs.add(new ValueReference(ref.getString("handle"), ref.getInteger("index")));
        }
      }
      return new HandleValue(index, type, data, ttlType, ttl, 0, refs, perms);
    } catch (ClassCastException | IllegalArgumentException | java.time.DateTimeException | NullPointerException e) {
      throw new BadValue("malformed value: " + e.getMessage());
    }
  }

  private static byte[] data(String type, Object d) throws BadValue {
    if (d == null) {
      return new byte[0];
    }
    if (d instanceof String s) {
      return s.getBytes(StandardCharsets.UTF_8);
    }
    if (!(d instanceof JsonObject o)) {
      throw new BadValue("data must be a string or {format, value}");
    }
    String format = o.getString("format", "string");
    Object value = o.getValue("value");
    switch (format) {
      case "string" -> {
        return String.valueOf(value).getBytes(StandardCharsets.UTF_8);
      }
      case "base64" -> {
        return Base64.getDecoder().decode(String.valueOf(value));
      }
      case "hex" -> {
        return HexFormat.of().parseHex(String.valueOf(value));
      }
      case "admin" -> {
        JsonObject a = (JsonObject) value;
        return new AdminRecord(AdminRecord.parseBitString(a.getString("permissions", "111111111111")),
            a.getString("handle"), a.getInteger("index")).encode();
      }
      case "vlist" -> {
        JsonArray arr = (JsonArray) value;
        BufWriter w = new BufWriter(64).int4(arr.size());
        for (Object m : arr) {
          JsonObject ref = (JsonObject) m;
          w.utf8(ref.getString("handle")).int4(ref.getInteger("index"));
        }
        return w.toByteArray();
      }
      default -> throw new BadValue("data format '" + format + "' is not accepted on input for " + type);
    }
  }
}
