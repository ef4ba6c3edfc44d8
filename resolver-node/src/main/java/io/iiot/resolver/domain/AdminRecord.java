package io.iiot.resolver.domain;

import io.iiot.resolver.transport.handle.BufReader;
import io.iiot.resolver.transport.handle.BufWriter;
import io.iiot.resolver.transport.handle.HandleCodecException;
import io.iiot.resolver.transport.handle.Limits;
import io.iiot.resolver.transport.handle.ResponseCodes;

/**
 * The data of an {@code HS_ADMIN} value: permission bits and the admin identity {@code index:handle}.
 * Layout: {@code int2} bits, {@code utf8} handle, {@code int4} index (pre-2.x records used an {@code int4} for the bits;
 * both are read).
 */
public record AdminRecord(int permissions, String adminHandle, int adminIndex) {
  public static final int ADD_HANDLE = 0x0001;
  public static final int DELETE_HANDLE = 0x0002;
  public static final int ADD_DERIVED_PREFIX = 0x0004;
  public static final int DELETE_DERIVED_PREFIX = 0x0008;
  public static final int MODIFY_VALUE = 0x0010;
  public static final int REMOVE_VALUE = 0x0020;
  public static final int ADD_VALUE = 0x0040;
  public static final int MODIFY_ADMIN = 0x0080;
  public static final int REMOVE_ADMIN = 0x0100;
  public static final int ADD_ADMIN = 0x0200;
  public static final int READ_VALUE = 0x0400;
  public static final int LIST_HANDLES = 0x0800;
  public static final int ALL = 0x0FFF;

  public ValueReference identity() {
    return new ValueReference(adminHandle, adminIndex);
  }

  public boolean allows(int bits) {
    return (permissions & bits) == bits;
  }

  public byte[] encode() {
    return new BufWriter(64).u16(permissions).utf8(adminHandle).int4(adminIndex).toByteArray();
  }

  public static AdminRecord decode(byte[] data) throws HandleCodecException {
    try {
      BufReader r = new BufReader(data);
      int bits = r.u16();
      String handle = r.utf8(Limits.MAX_HANDLE_LENGTH, ResponseCodes.RC_INVALID_VALUE);
      int index = r.int4();
      return new AdminRecord(bits, handle, index);
    } catch (HandleCodecException e) {
      // legacy layout: int4 bits
      BufReader r = new BufReader(data);
      int bits = r.int4();
      String handle = r.utf8(Limits.MAX_HANDLE_LENGTH, ResponseCodes.RC_INVALID_VALUE);
      int index = r.int4();
      return new AdminRecord(bits & 0xFFFF, handle, index);
    }
  }

  /** The 12-character bit string of handle.net's JSON, bit 11 first. */
  public String bitString() {
    StringBuilder sb = new StringBuilder(12);
    for (int bit = 11; bit >= 0; bit--) {
      sb.append((permissions & (1 << bit)) != 0 ? '1' : '0');
    }
    return sb.toString();
  }

  public static int parseBitString(String s) {
    int bits = 0;
    int n = s.length();
    for (int i = 0; i < n && i < 12; i++) {
      if (s.charAt(n - 1 - i) == '1') {
        bits |= 1 << i;
      }
    }
    return bits;
  }
}
