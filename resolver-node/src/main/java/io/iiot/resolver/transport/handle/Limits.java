package io.iiot.resolver.transport.handle;

/** Decoder limits, at least as strict as CNRI's client (hdllib {@code Common}). Checked before any allocation. */
public final class Limits {
  private Limits() {}

  /** Whole message (header + body + credential). */
  public static final int MAX_MESSAGE_LENGTH = 262_144;
  public static final int MAX_HANDLE_LENGTH = 2_048;
  public static final int MAX_VALUES = 2_048;
  /** Index and type lists of a resolution request, and references of a value. */
  public static final int MAX_LIST = 1_024;
  public static final int MAX_TYPE_LENGTH = 1_024;
  public static final int ENVELOPE_SIZE = 20;
  public static final int HEADER_SIZE = 24;
  public static final int MAX_UDP_PACKET = 512;
  public static final int MAX_UDP_DATA = MAX_UDP_PACKET - ENVELOPE_SIZE;
}
