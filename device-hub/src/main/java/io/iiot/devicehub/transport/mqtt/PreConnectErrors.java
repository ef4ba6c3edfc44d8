package io.iiot.devicehub.transport.mqtt;

import io.vertx.core.Handler;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.mqtt.MqttServer;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports errors on MQTT connections that have not sent a valid CONNECT yet. Vert.x MQTT 4.5 decodes the first packet
 * before there is an endpoint and, when that packet is malformed or too large, closes the socket without telling
 * anyone: {@code MqttServer.exceptionHandler} is only called for a zero-length client id, and the socket has no
 * exception handler until CONNECT was accepted. This gives every new socket an exception handler before Vert.x MQTT
 * sees it (Vert.x MQTT replaces it with the endpoint's own once CONNECT is read), by wrapping the server's
 * {@link NetServer} (a private field, hence reflection). If a Vert.x upgrade renames that field, a warning is logged
 * once and such first packets are merely not counted.
 */
final class PreConnectErrors {
  private static final Logger LOG = LoggerFactory.getLogger(PreConnectErrors.class);
  private static final Field SERVER = find();

  private PreConnectErrors() {}

  /**
   * Call before {@code server.listen()}: {@code errors} then gets what the socket reports until CONNECT, and
   * {@code configured} each new socket once Vert.x MQTT has set up its pipeline (for {@link MqttPacketFramer}).
   */
  static boolean install(MqttServer server, Handler<Throwable> errors, Handler<NetSocket> configured) {
    if (SERVER == null) {
      return false;
    }
    try {
      NetServer real = (NetServer) SERVER.get(server);
      NetServer wrapped = (NetServer) Proxy.newProxyInstance(PreConnectErrors.class.getClassLoader(),
          new Class<?>[] {NetServer.class}, (proxy, method, args) -> {
            if (method.getName().equals("connectHandler") && args != null && args.length == 1
                && args[0] instanceof Handler<?> h) {
              @SuppressWarnings("unchecked")
              Handler<NetSocket> mqtt = (Handler<NetSocket>) h;
              real.connectHandler(so -> {
                so.exceptionHandler(errors);
                mqtt.handle(so);
                configured.handle(so);
              });
              return proxy;
            }
            try {
              return method.invoke(real, args);
            } catch (InvocationTargetException e) {
              throw e.getCause();
            }
          });
      SERVER.set(server, wrapped);
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("Cannot watch MQTT connections before CONNECT on this Vert.x version: {}", e.toString());
      return false;
    }
  }

  private static Field find() {
    try {
      Field f = Class.forName("io.vertx.mqtt.impl.MqttServerImpl").getDeclaredField("server");
      f.setAccessible(true);
      return f.getType() == NetServer.class ? f : null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.warn("Cannot watch MQTT connections before CONNECT on this Vert.x version ({}); malformed first packets are"
          + " not counted", e.toString());
      return null;
    }
  }
}
