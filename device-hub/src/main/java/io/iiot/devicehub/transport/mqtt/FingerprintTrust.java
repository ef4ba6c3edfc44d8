package io.iiot.devicehub.transport.mqtt;

import java.security.cert.X509Certificate;
import javax.net.ssl.X509TrustManager;

/**
 * Lets any client certificate through the TLS handshake; it proves only that the client holds the certificate's key.
 * Whether that certificate belongs to a device is decided after the handshake, by its fingerprint
 * ({@code DeviceAuthenticator#authenticateCertificate}); an unknown certificate is refused at CONNECT.
 */
final class FingerprintTrust implements X509TrustManager {
  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) {
    // Deliberately no CA check: see the class comment.
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) {
    throw new UnsupportedOperationException("server side only");
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
