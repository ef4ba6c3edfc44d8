package io.iiot.it.bench;

import java.util.function.IntFunction;

/**
 * The payloads of a load generator's run, encoded before its clock starts. A device builds its JSON on its own CPU;
 * built inside the timed loop, on the benchmark's two shared cores, it would be charged to device-hub's pass (the
 * snapshot shape formats six decimals per message), while the raw driver passes it is compared with build no text.
 */
final class DevicePayloads {
  private DevicePayloads() {}

  /** {@code payload(0)} to {@code payload(n - 1)}. */
  static byte[][] encode(int n, IntFunction<byte[]> payload) {
    byte[][] out = new byte[n][];
    for (int i = 0; i < n; i++) {
      out[i] = payload.apply(i);
    }
    return out;
  }
}
