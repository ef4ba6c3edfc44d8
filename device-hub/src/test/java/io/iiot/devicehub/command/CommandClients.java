package io.iiot.devicehub.command;

import com.google.protobuf.ByteString;
import com.google.protobuf.Duration;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.iiot.device.v1.Command;
import io.iiot.device.v1.CommandServiceGrpc;
import io.iiot.device.v1.GetCommandRequest;
import io.iiot.device.v1.SendCommandRequest;
import io.iiot.devicehub.DeviceHubHarness;
import io.iiot.devicehub.domain.DeviceRef;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** A gRPC CommandService client for a harness, and waiting for a device to be reachable for commands. */
public final class CommandClients {
  private CommandClients() {}

  public static ManagedChannel channel(int grpcPort) {
    return NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
  }

  public static SendCommandRequest request(String tenant, String device, String name, String payload,
      boolean oneWay, int ttlSeconds, int waitSeconds) {
    Command.Builder c = Command.newBuilder().setCommand(name)
        .setPayload(ByteString.copyFrom(payload, StandardCharsets.UTF_8)).setContentType("application/json")
        .setOneWay(oneWay).setCorrelationId("corr-" + name);
    if (ttlSeconds > 0) {
      c.setTtl(Duration.newBuilder().setSeconds(ttlSeconds));
    }
    SendCommandRequest.Builder r = SendCommandRequest.newBuilder()
        .setParent("tenants/" + tenant + "/devices/" + device).setCommand(c);
    if (waitSeconds > 0) {
      r.setResponseTimeout(Duration.newBuilder().setSeconds(waitSeconds));
    }
    return r.build();
  }

  public static Command get(CommandServiceGrpc.CommandServiceBlockingStub api, String name) {
    return api.getCommand(GetCommandRequest.newBuilder().setName(name).build());
  }

  /** Waits until {@code hub} has a channel for the device (it subscribed / observes / waits with ttd). */
  public static void awaitReachable(DeviceHubHarness hub, String device) throws InterruptedException {
    DeviceRef ref = new DeviceRef(hub.tenant, device);
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (hub.module.commandRouter().local().channel(ref) == null) {
      if (System.nanoTime() > end) {
        throw new AssertionError(device + " never became reachable for commands");
      }
      Thread.sleep(20);
    }
  }

  public static String utf8(ByteString b) {
    return b.toString(StandardCharsets.UTF_8);
  }
}
