package io.iiot.resolver.transport.http;

import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.Authorizer;
import io.iiot.resolver.domain.HandleValue;
import io.iiot.resolver.domain.ValueReference;
import io.iiot.resolver.transport.handle.HandleCodecException;
import io.iiot.resolver.transport.handle.KeyCodec;
import io.iiot.resolver.transport.handle.SiteRecord;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.security.interfaces.DSAPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/** Handle values in handle.net's JSON shape (manual §14.8, CNRI's {@code GsonUtility}). */
public final class ValueJson {
  private ValueJson() {}

  public static JsonObject toJson(HandleValue v) {
    JsonObject o = new JsonObject().put("index", v.index()).put("type", v.type()).put("data", data(v));
    if (v.ttlType() == 1) {
      o.put("ttl", Instant.ofEpochSecond(Integer.toUnsignedLong(v.ttl())).toString());
    } else {
      o.put("ttl", v.ttl());
    }
    if (v.timestamp() != 0) {
      o.put("timestamp", Instant.ofEpochSecond(Integer.toUnsignedLong(v.timestamp())).toString());
    }
    String perms = permissions(v.permissions());
    if (!perms.equals("1110")) {
      o.put("permissions", perms);
    }
    if (!v.references().isEmpty()) {
      JsonArray refs = new JsonArray();
      for (ValueReference r : v.references()) {
        refs.add(new JsonObject().put("index", r.index()).put("handle", r.handle()));
      }
      o.put("references", refs);
    }
    return o;
  }

  /** Admin read, admin write, public read, public write as a 4-character bit string. */
  public static String permissions(int p) {
    return "" + bit(p, HandleValue.ADMIN_READ) + bit(p, HandleValue.ADMIN_WRITE) + bit(p, HandleValue.PUBLIC_READ)
        + bit(p, HandleValue.PUBLIC_WRITE);
  }

  private static char bit(int p, int mask) {
    return (p & mask) != 0 ? '1' : '0';
  }

  static JsonObject data(HandleValue v) {
    String type = v.type().toUpperCase(Locale.ROOT);
    try {
      if (type.equals("HS_ADMIN")) {
        AdminRecord a = AdminRecord.decode(v.data());
        return format("admin", new JsonObject().put("handle", a.adminHandle()).put("index", a.adminIndex())
            .put("permissions", a.bitString()));
      }
      if (type.equals("HS_VLIST")) {
        JsonArray arr = new JsonArray();
        for (ValueReference r : Authorizer.decodeVlist(v.data())) {
          arr.add(new JsonObject().put("handle", r.handle()).put("index", r.index()));
        }
        return format("vlist", arr);
      }
      if (type.equals("HS_SITE") || type.equals("HS_SITE.PREFIX") || type.equals("HS_NA_DELEGATE")
          || type.equals("HS_SITE.6")) {
        return format("site", site(SiteRecord.decode(v.data())));
      }
      if (type.equals("HS_PUBKEY")) {
        return format("key", jwk(KeyCodec.decode(v.data())));
      }
    } catch (HandleCodecException | RuntimeException e) {
      // falls back to string / base64 as CNRI does
    }
    String text = textOrNull(v.data());
    return text != null ? format("string", text) : format("base64", Base64.getEncoder().encodeToString(v.data()));
  }

  private static JsonObject format(String f, Object value) {
    return new JsonObject().put("format", f).put("value", value);
  }

  /** The data as text when it is UTF-8 without control characters other than whitespace. */
  static String textOrNull(byte[] data) {
    try {
      String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(data)).toString();
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
          return null;
        }
      }
      return s;
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  static JsonObject site(SiteRecord s) {
    JsonArray attrs = new JsonArray();
    for (SiteRecord.Attribute a : s.attributes()) {
      attrs.add(new JsonObject().put("name", new String(a.name(), StandardCharsets.UTF_8))
          .put("value", new String(a.value(), StandardCharsets.UTF_8)));
    }
    JsonArray servers = new JsonArray();
    for (SiteRecord.Server srv : s.servers()) {
      JsonArray ifs = new JsonArray();
      for (SiteRecord.Interface i : srv.interfaces()) {
        ifs.add(new JsonObject().put("query", (i.type() & SiteRecord.QUERY) != 0)
            .put("admin", (i.type() & SiteRecord.ADMIN) != 0)
            .put("protocol", switch (i.protocol()) {
              case SiteRecord.UDP -> "UDP";
              case SiteRecord.TCP -> "TCP";
              case SiteRecord.HTTP -> "HTTP";
              default -> "HTTPS";
            }).put("port", i.port()));
      }
      servers.add(new JsonObject().put("serverId", srv.serverId()).put("address", address(srv.address()))
          .put("publicKey", new JsonObject().put("format", "base64")
              .put("value", Base64.getEncoder().encodeToString(srv.publicKey())))
          .put("interfaces", ifs));
    }
    return new JsonObject().put("version", s.dataFormatVersion())
        .put("protocolVersion", s.major() + "." + s.minor()).put("serialNumber", s.serial())
        .put("primarySite", s.primary()).put("multiPrimary", s.multiPrimary()).put("attributes", attrs)
        .put("servers", servers);
  }

  private static String address(byte[] a16) {
    boolean v4 = true;
    for (int i = 0; i < 12; i++) {
      v4 &= a16[i] == 0;
    }
    try {
      byte[] a = v4 ? java.util.Arrays.copyOfRange(a16, 12, 16) : a16;
      return InetAddress.getByAddress(a).getHostAddress();
    } catch (java.net.UnknownHostException e) {
      return "";
    }
  }

  static JsonObject jwk(PublicKey key) {
    Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
    if (key instanceof RSAPublicKey rsa) {
      return new JsonObject().put("kty", "RSA").put("n", b64.encodeToString(unsigned(rsa.getModulus().toByteArray())))
          .put("e", b64.encodeToString(unsigned(rsa.getPublicExponent().toByteArray())));
    }
    if (key instanceof DSAPublicKey dsa) {
      return new JsonObject().put("kty", "DSA")
          .put("y", b64.encodeToString(unsigned(dsa.getY().toByteArray())))
          .put("p", b64.encodeToString(unsigned(dsa.getParams().getP().toByteArray())))
          .put("q", b64.encodeToString(unsigned(dsa.getParams().getQ().toByteArray())))
          .put("g", b64.encodeToString(unsigned(dsa.getParams().getG().toByteArray())));
    }
    throw new IllegalArgumentException("unsupported key");
  }

  private static byte[] unsigned(byte[] b) {
    return b.length > 1 && b[0] == 0 ? java.util.Arrays.copyOfRange(b, 1, b.length) : b;
  }

  /** The values of a list, in JSON. */
  public static JsonArray toJson(List<HandleValue> values) {
    JsonArray arr = new JsonArray();
    values.forEach(v -> arr.add(toJson(v)));
    return arr;
  }

  static List<String> upper(List<String> l) {
    List<String> out = new ArrayList<>();
    l.forEach(s -> out.add(s.toUpperCase(Locale.ROOT)));
    return out;
  }
}
