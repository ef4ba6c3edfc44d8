package io.iiot.platform.api;

import com.google.protobuf.ProtocolStringList;
import io.grpc.Channel;
import io.grpc.stub.StreamObserver;
import io.iiot.device.v1.DeviceServiceGrpc;
import io.iiot.platform.domain.PageSize;
import io.iiot.platform.domain.PermissionDeniedException;
import io.iiot.platform.domain.Principal;
import io.iiot.platform.domain.ResourceNames;
import io.iiot.platform.domain.PageTokens;
import io.iiot.platform.v1.Device;
import io.iiot.platform.v1.DeviceServiceGrpc.DeviceServiceImplBase;
import io.iiot.platform.v1.GetDeviceRequest;
import io.iiot.platform.v1.ListDevicesRequest;
import io.iiot.platform.v1.ListDevicesResponse;
import java.util.concurrent.TimeUnit;

/** {@code iiot.platform.v1.DeviceService}: device-hub's devices of the caller's tenant. */
public final class DeviceApi extends DeviceServiceImplBase {
  private final DeviceServiceGrpc.DeviceServiceFutureStub hub;
  private final PageTokens tokens;
  private final long deadlineMs;

  public DeviceApi(Channel deviceHub, PageTokens tokens, long deadlineMs) {
    this.hub = DeviceServiceGrpc.newFutureStub(deviceHub);
    this.tokens = tokens;
    this.deadlineMs = deadlineMs;
  }

  @Override
  public void getDevice(GetDeviceRequest req, StreamObserver<Device> out) {
    Replies.unary(out, () -> {
      String[] name = ResourceNames.parseDevice(req.getName(), "name");
      PermissionDeniedException.check(ApiKeyAuthenticator.principal(), name[0], req.getName());
      return BackendErrors.call(hub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).getDevice(
          io.iiot.device.v1.GetDeviceRequest.newBuilder().setName(req.getName()).build()), "device-hub", req.getName())
          .thenApply(DeviceApi::toApi);
    });
  }

  @Override
  public void listDevices(ListDevicesRequest req, StreamObserver<ListDevicesResponse> out) {
    Replies.unary(out, () -> {
      Principal p = ApiKeyAuthenticator.principal();
      String tenant = ResourceNames.parseTenant(req.getParent(), "parent");
      PermissionDeniedException.check(p, tenant, req.getParent());
      int size = PageSize.of(req.getPageSize());
      Paging paging = new Paging(tokens, "ListDevices", p, req.getParent(), size);
      String cursor = paging.cursor(req.getPageToken());
      return BackendErrors.call(hub.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS).listDevices(
          io.iiot.device.v1.ListDevicesRequest.newBuilder().setParent(req.getParent()).setPageSize(size)
              .setPageToken(cursor).build()), "device-hub", req.getParent())
          .thenApply(r -> {
            ListDevicesResponse.Builder b = ListDevicesResponse.newBuilder()
                .setNextPageToken(paging.nextToken(r.getNextPageToken()));
            r.getDevicesList().forEach(d -> b.addDevices(toApi(d)));
            return b.build();
          });
    });
  }

  static Device toApi(io.iiot.device.v1.Device d) {
    ProtocolStringList via = d.getViaList();
    return Device.newBuilder().setName(d.getName()).setProfile(d.getProfile()).setEnabled(d.getEnabled())
        .setCreateTime(d.getCreateTime()).addAllVia(via).build();
  }
}
