package io.iiot.devicehub.domain;

/**
 * The identity a device presents: MQTT user name or DTLS PSK identity {@code <auth-id>@<tenant>}, as in Hono. The
 * last '@' separates the tenant, so an auth id may itself contain '@'.
 */
public record AuthId(String authId, String tenant) {

  /** Returns null when {@code username} is not of the form {@code auth-id@tenant}. */
  public static AuthId parse(String username) {
    if (username == null) {
      return null;
    }
    int at = username.lastIndexOf('@');
    if (at <= 0 || at == username.length() - 1) {
      return null;
    }
    return new AuthId(username.substring(0, at), username.substring(at + 1));
  }

  @Override
  public String toString() {
    return authId + "@" + tenant;
  }
}
