package io.iiot.devicehub.domain;

/**
 * Hono's MQTT command topics, long and short form:
 *
 * <pre>
 * subscribe   command/[tenant]/[device]/req/#        c/[tenant]/[device]/q/#
 *             gateway for one device: command//&lt;device&gt;/req/#, for all its devices: command//+/req/#
 * delivered   command/[tenant]/[device]/req/&lt;req-id&gt;/&lt;command&gt;   (one-way: empty req-id)
 * response    command/[tenant]/[device]/res/&lt;req-id&gt;/&lt;status&gt;     c/[tenant]/[device]/s/&lt;req-id&gt;/&lt;status&gt;
 * </pre>
 *
 * A delivered command's topic has the tenant and device segments of the subscription it matches ("+" filled in with
 * the device), in the subscription's form, so it matches that filter.
 *
 * @param tenant the tenant segment: empty (the credentials' tenant) or a tenant id
 * @param device the device segment: empty (the authenticated device), a device id, or {@code +} (gateway, any device)
 */
public record CommandTopic(boolean shortForm, String tenant, String device) {

  /** Whether a topic (filter) is in the command namespace at all. */
  public static boolean isCommandTopic(String topic) {
    return topic.startsWith("command/") || topic.startsWith("c/");
  }

  /** Parses a subscription filter. */
  public static CommandTopic parseSubscription(String filter) throws AddressException {
    String[] s = filter.split("/", -1);
    boolean shortForm = s[0].equals("c");
    if (s.length != 5 || !(shortForm || s[0].equals("command")) || !s[3].equals(shortForm ? "q" : "req")
        || !s[4].equals("#") || s[1].equals("+") || s[1].equals("#") || s[2].equals("#")) {
      throw new AddressException(AddressException.Kind.INVALID, "command subscription '" + filter
          + "' must be command/[tenant]/[device]/req/# or c/[tenant]/[device]/q/# (gateways: device '+' or an id)");
    }
    return new CommandTopic(shortForm, s[1], s[2]);
  }

  /** A device's answer: the topic's address part, the request id and the status. */
  public record Response(CommandTopic address, String requestId, int status) {}

  /** Parses a response topic {@code command/[t]/[d]/res/<req-id>/<status>} (or the short form). */
  public static Response parseResponse(String topic) throws AddressException {
    String[] s = topic.split("/", -1);
    boolean shortForm = s.length > 0 && s[0].equals("c");
    if (s.length != 6 || !(shortForm || s[0].equals("command")) || !s[3].equals(shortForm ? "s" : "res")
        || s[4].isEmpty() || s[2].equals("+")) {
      throw new AddressException(AddressException.Kind.INVALID, "command response topic '" + topic
          + "' must be command/[tenant]/[device]/res/<req-id>/<status> or c/[tenant]/[device]/s/<req-id>/<status>");
    }
    int status;
    try {
      status = Integer.parseInt(s[5]);
    } catch (NumberFormatException e) {
      status = -1;
    }
    if (status < 200 || status > 599) {
      throw new AddressException(AddressException.Kind.INVALID, "command response status '" + s[5]
          + "' must be an HTTP-like code 200-599");
    }
    return new Response(new CommandTopic(shortForm, s[1], s[2]), s[4], status);
  }

  /** Whether this subscription covers several devices (a gateway's {@code +}). */
  public boolean anyDevice() {
    return device.equals("+");
  }

  /** The device named by the address, given who is authenticated (tenant checked; gateway rights are not). */
  public DeviceRef target(DeviceRef authenticated) throws AddressException {
    String t = tenant.isEmpty() ? authenticated.tenant() : tenant;
    if (!t.equals(authenticated.tenant())) {
      throw new AddressException(AddressException.Kind.FORBIDDEN,
          "tenant '" + t + "' is not the tenant of the authenticated device");
    }
    return new DeviceRef(t, device.isEmpty() ? authenticated.deviceId() : device);
  }

  /** The topic a command for {@code deviceId} is published on for a client subscribed with this filter. */
  public String deliveryTopic(String deviceId, Command command) {
    String d = anyDevice() ? deviceId : device;
    String reqId = command.responseRequired() ? command.id() : "";
    return (shortForm ? "c/" : "command/") + tenant + "/" + d + (shortForm ? "/q/" : "/req/") + reqId + "/"
        + command.name();
  }
}
