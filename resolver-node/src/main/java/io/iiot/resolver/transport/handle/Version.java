package io.iiot.resolver.transport.handle;

/** Protocol version arithmetic (CNRI's {@code AbstractMessage.hasEqualOrGreaterVersion}). */
public record Version(int major, int minor) {
  /** The highest version this server speaks (that of CNRI's 9.3.1 software). */
  public static final Version HIGHEST = new Version(2, 11);

  public boolean atLeast(int maj, int min) {
    if (major == 5) {
      // very old clients sent 5.x by mistake
      return maj == 5 && minor >= min;
    }
    if (major != maj) {
      return major > maj;
    }
    return minor >= min;
  }

  /** The version of an answer: what the request suggests, capped at {@link #HIGHEST}, never below 2.1... */
  public static Version negotiate(Envelope request) {
    Version suggested = new Version(request.suggestMajor(), request.suggestMinor());
    if (suggested.major == 5 || suggested.atLeast(HIGHEST.major, HIGHEST.minor)) {
      return HIGHEST;
    }
    if (suggested.major < 2) {
      return new Version(request.major(), request.minor());
    }
    return suggested;
  }
}
