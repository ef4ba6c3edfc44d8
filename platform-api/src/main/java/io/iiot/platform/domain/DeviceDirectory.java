package io.iiot.platform.domain;

import io.iiot.platform.v1.CredentialPolicy;
import io.iiot.platform.v1.DeviceProfile;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * device-hub as onboarding sees it: devices with their credentials, created per row. Implemented over
 * {@code iiot.device.v1} by {@code backend.DeviceHubDirectory}.
 */
public interface DeviceDirectory {

  /**
   * One device to create.
   *
   * @param authId the MQTT username / DTLS PSK identity, {@code <machine id>@<tenant>}
   * @param secret the password or PSK in clear; device-hub stores only its hash
   */
  /**
   * @param generatedSecret the secret is random, generated here with at least 128 bits (device-hub may then hash it
   *     without the work factor meant for guessable passwords); false for secrets a tenant supplied
   */
  record NewDevice(String deviceId, String displayName, Map<String, String> labels, CredentialPolicy.Type credential,
      String authId, String secret, boolean generatedSecret) {
    public NewDevice(String deviceId, String displayName, Map<String, String> labels, CredentialPolicy.Type credential,
        String authId, String secret) {
      this(deviceId, displayName, labels, credential, authId, secret, false);
    }

    @Override
    public String toString() {
      return "NewDevice[" + deviceId + "]"; // never the secret
    }
  }

  /**
   * Creates the devices under {@code tenant} with {@code profile} (its telemetry schema). Each row succeeds or fails on
   * its own; the outcomes come back in request order. A failed row leaves nothing of that device behind.
   */
  CompletionStage<List<RowOutcome>> createDevices(String tenant, DeviceProfile profile, List<NewDevice> devices);

  /** Deletes devices (compensation). Deleting a device that does not exist succeeds. */
  CompletionStage<Void> deleteDevices(String tenant, List<String> deviceIds);
}
