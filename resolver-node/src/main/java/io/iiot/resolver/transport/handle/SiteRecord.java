package io.iiot.resolver.transport.handle;

import java.util.ArrayList;
import java.util.List;

/**
 * A site record ({@code HS_SITE} data and the body of a GET_SITEINFO answer; CNRI's
 * {@code Encoder.encodeSiteInfoRecord}).
 */
public record SiteRecord(int dataFormatVersion, int major, int minor, int serial, boolean primary,
    boolean multiPrimary, int hashOption, byte[] hashFilter, List<Attribute> attributes, List<Server> servers) {

  public record Attribute(byte[] name, byte[] value) {}

  /** Interface types. */
  public static final int OUT_OF_SERVICE = 0;
  public static final int ADMIN = 1;
  public static final int QUERY = 2;
  public static final int ADMIN_AND_QUERY = 3;
  /** Interface protocols. */
  public static final int UDP = 0;
  public static final int TCP = 1;
  public static final int HTTP = 2;
  public static final int HTTPS = 3;

  public record Interface(int type, int protocol, int port) {}

  /** @param address 16 bytes: IPv6, or IPv4 in the last 4 bytes with the first 12 zero */
  public record Server(int serverId, byte[] address, byte[] publicKey, List<Interface> interfaces) {}

  public byte[] encode() {
    BufWriter w = new BufWriter(512);
    w.u16(dataFormatVersion).u8(major).u8(minor).u16(serial).u8((primary ? 0x80 : 0) | (multiPrimary ? 0x40 : 0))
        .u8(hashOption).bytes(hashFilter).int4(attributes.size());
    for (Attribute a : attributes) {
      w.bytes(a.name()).bytes(a.value());
    }
    w.int4(servers.size());
    for (Server s : servers) {
      w.int4(s.serverId());
      byte[] addr = new byte[16];
      System.arraycopy(s.address(), 0, addr, 16 - s.address().length, s.address().length);
      w.raw(addr).bytes(s.publicKey()).int4(s.interfaces().size());
      for (Interface i : s.interfaces()) {
        w.u8(i.type()).u8(i.protocol()).int4(i.port());
      }
    }
    return w.toByteArray();
  }

  public static SiteRecord decode(byte[] data) throws HandleCodecException {
    BufReader r = new BufReader(data);
    int fmt = r.u16();
    int major = r.u8();
    int minor = r.u8();
    int serial = r.u16();
    int flags = r.u8();
    int hash = r.u8();
    byte[] filter = r.bytes(1024);
    int nAttr = r.count(Limits.MAX_LIST, 8);
    List<Attribute> attrs = new ArrayList<>(nAttr);
    for (int i = 0; i < nAttr; i++) {
      attrs.add(new Attribute(r.bytes(data.length), r.bytes(data.length)));
    }
    int nServers = r.count(Limits.MAX_LIST, 28);
    List<Server> servers = new ArrayList<>(nServers);
    for (int i = 0; i < nServers; i++) {
      int id = r.int4();
      byte[] addr = r.raw(16);
      byte[] key = r.bytes(data.length);
      int nIf = r.count(Limits.MAX_LIST, 6);
      List<Interface> ifs = new ArrayList<>(nIf);
      for (int j = 0; j < nIf; j++) {
        ifs.add(new Interface(r.u8(), r.u8(), r.int4()));
      }
      servers.add(new Server(id, addr, key, ifs));
    }
    if (r.remaining() != 0) {
      throw new HandleCodecException(ResponseCodes.RC_INVALID_VALUE, "trailing bytes after site record");
    }
    return new SiteRecord(fmt, major, minor, serial, (flags & 0x80) != 0, (flags & 0x40) != 0, hash, filter, attrs,
        servers);
  }
}
