package io.iiot.resolver.transport.handle;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.base.testing.EmbeddedCassandraExtension;
import io.iiot.resolver.ResolverNodeHarness;
import io.iiot.resolver.domain.HandleValue;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractResponse;
import net.handle.hdllib.AdminRecord;
import net.handle.hdllib.CreateHandleRequest;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.HandleResolver;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.ResolutionResponse;
import net.handle.hdllib.SecretKeyAuthenticationInfo;
import net.handle.hdllib.SiteInfo;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The wire as a packet capture would show it (datagram sizes, TC flags, versions, request digests), bad input sent to
 * the live UDP and TCP ports, idle TCP connections, and the HTTP JSON API against values written by CNRI's client.
 */
@Tag("large")
@ExtendWith(EmbeddedCassandraExtension.class)
class LiveWireTest {
  static ResolverNodeHarness node;
  static InetAddress loopback;
  static SiteInfo site;

  @BeforeAll
  static void start() throws Exception {
    node = ResolverNodeHarness.start("iiot_resolver_wire", Map.of("HANDLE_TCP_IDLE_TIMEOUT", "3s"));
    loopback = InetAddress.getByName("127.0.0.1");
    site = node.useAsPrivateRoot();
    List<HandleValue> many = new ArrayList<>();
    for (int i = 1; i <= 60; i++) {
      many.add(HandleValue.of(i, "URL", "https://example.com/a/long/path/for/the/datagram/test/" + i));
    }
    node.module.store().create("88.101.5/WIRE-BIG", many).toCompletionStage().toCompletableFuture()
        .get(20, TimeUnit.SECONDS);
    node.module.store().create("88.101.5/WIRE-1", List.of(HandleValue.of(1, "URL", "https://example.com/1")))
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @AfterAll
  static void stop() throws Exception {
    node.close();
  }

  static byte[] request(AbstractMessage req, int requestId) throws Exception {
    req.requestId = requestId;
    byte[] msg = req.getEncodedMessage();
    byte[] env = new Envelope(2, 3, 0, 2, 11, 0, requestId, 0, msg.length).encode();
    byte[] all = new byte[env.length + msg.length];
    System.arraycopy(env, 0, all, 0, env.length);
    System.arraycopy(msg, 0, all, env.length, msg.length);
    return all;
  }

  @Test
  void largeUdpAnswerIsSplitLikeCnrisServer() throws Exception {
    byte[] req = request(new ResolutionRequest(Util.encodeString("88.101.5/wire-big"), null, null, null), 4242);
    List<byte[]> got = new ArrayList<>();
    try (DatagramSocket s = new DatagramSocket()) {
      s.setSoTimeout(10_000);
      s.send(new DatagramPacket(req, req.length, loopback, node.handlePort));
      int expected = Integer.MAX_VALUE;
      while (got.size() < expected) {
        DatagramPacket p = new DatagramPacket(new byte[2048], 2048);
        s.receive(p);
        byte[] d = java.util.Arrays.copyOf(p.getData(), p.getLength());
        got.add(d);
        Envelope e = Envelope.decode(d, 0);
        expected = (e.messageLength() + 491) / 492;
      }
    }
    assertThat(got.size()).isGreaterThan(1);
    int total = Envelope.decode(got.get(0), 0).messageLength();
    byte[] whole = new byte[total];
    for (byte[] d : got) {
      assertThat(d.length).isLessThanOrEqualTo(512);
      assertThat(d[0]).isEqualTo((byte) 2);
      assertThat(d[1]).isEqualTo((byte) 11);
      assertThat(d[2]).isEqualTo((byte) 0x22); // TC + suggested major 2
      assertThat(d[3]).isEqualTo((byte) 11);
      Envelope e = Envelope.decode(d, 0);
      assertThat(e.requestId()).isEqualTo(4242);
      assertThat(e.messageLength()).isEqualTo(total);
      assertThat(d.length).isEqualTo(e.messageId() < got.size() - 1 ? 512 : 20 + total - 492 * e.messageId());
      System.arraycopy(d, 20, whole, e.messageId() * 492, d.length - 20);
    }
    net.handle.hdllib.MessageEnvelope env = new net.handle.hdllib.MessageEnvelope();
    Encoder.decodeEnvelope(got.get(0), env);
    ResolutionResponse r = (ResolutionResponse) Encoder.decodeMessage(whole, 0, env);
    assertThat(r.getHandleValues()).hasSize(60);
    assertThat(r.authoritative).isTrue();
  }

  @Test
  void requestDigestAndMultiDatagramRequests() throws Exception {
    ResolutionRequest rd = new ResolutionRequest(Util.encodeString("88.101.5/WIRE-1"), null, null, null);
    rd.returnRequestDigest = true;
    AbstractResponse r = new HandleResolver().sendHdlUdpRequest(rd, loopback, node.handlePort);
    assertThat(r.responseCode).isEqualTo(1);
    assertThat(r.rdHashType).isEqualTo((byte) 3); // SHA-256 at 2.11; the client checked the digest itself
    assertThat(r.requestDigest).hasSize(32);

    // a request longer than one datagram: the client splits it with TC, the server reassembles it
    byte[][] types = new byte[60][];
    for (int i = 0; i < types.length; i++) {
      types[i] = Util.encodeString("SOME_LONG_TYPE_NAME_" + i);
    }
    types[59] = Util.encodeString("URL");
    ResolutionRequest big = new ResolutionRequest(Util.encodeString("88.101.5/WIRE-1"), types, null, null);
    assertThat(big.getEncodedMessage().length).isGreaterThan(492);
    r = new HandleResolver().sendHdlUdpRequest(big, loopback, node.handlePort);
    assertThat(r.responseCode).isEqualTo(1);
    assertThat(((ResolutionResponse) r).getHandleValues()).hasSize(1);
  }

  @Test
  void badInputOnLivePortsThenStillAnswering() throws Exception {
    List<byte[]> seeds = CodecFuzzTest.seeds();
    SplittableRandom rnd = new SplittableRandom(7);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    int sent = 0;
    try (DatagramSocket s = new DatagramSocket()) {
      for (int i = 0; i < 30_000 && System.nanoTime() < deadline; i++) {
        byte[] b = CodecFuzzTest.mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
        s.send(new DatagramPacket(b, b.length, loopback, node.handlePort));
        sent++;
        if (i % 500 == 0) {
          Thread.sleep(1); // do not just overflow the socket buffer
        }
      }
    }
    int tcp = 0;
    for (int i = 0; i < 300 && System.nanoTime() < deadline; i++) {
      byte[] b = CodecFuzzTest.mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
      try (Socket sock = new Socket()) {
        sock.connect(new InetSocketAddress(loopback, node.handlePort), 2000);
        sock.setSoTimeout(300);
        sock.getOutputStream().write(b);
        sock.getOutputStream().flush();
        if (rnd.nextBoolean()) {
          try {
            sock.getInputStream().read(new byte[4096]);
          } catch (SocketTimeoutException e) {
            // the server waits for the rest of a message that claims to be longer
          }
        }
      }
      tcp++;
    }
    assertThat(sent + tcp).isGreaterThan(10_000);
    ResolutionRequest ok = new ResolutionRequest(Util.encodeString("88.101.5/WIRE-1"), null, null, null);
    HandleResolver patient = new HandleResolver();
    patient.setUdpRetryScheme(new int[] {1000, 2000, 4000, 8000}); // the backlog of bad input may still drain
    assertThat(patient.sendHdlUdpRequest(ok, loopback, node.handlePort).responseCode).isEqualTo(1);
    assertThat(new HandleResolver().sendHdlTcpRequest(ok, loopback, node.handlePort).responseCode).isEqualTo(1);
  }

  @Test
  void aTcpPeerThatDoesNotReadItsAnswersIsNoLongerRead() throws Exception {
    ResolutionRequest big = new ResolutionRequest(Util.encodeString("88.101.5/WIRE-BIG"), null, null, null);
    big.keepAlive = true;
    byte[] one = request(big, 1);
    byte[] burst = new byte[one.length * 100];
    for (int i = 0; i < 100; i++) {
      System.arraycopy(one, 0, burst, i * one.length, one.length);
    }
    try (Socket sock = new Socket()) {
      sock.setReceiveBufferSize(4096);
      sock.connect(new InetSocketAddress(loopback, node.handlePort), 2000);
      sock.setSoTimeout(10_000);
      // The connection stays open for more (KA) and each answer is large (60 values).
      for (int i = 0; i < 2; i++) {
        sock.getOutputStream().write(one);
        assertThat(readAnswer(sock.getInputStream()).getHandleValues()).hasSize(60);
      }
      java.util.concurrent.atomic.AtomicLong requests = new java.util.concurrent.atomic.AtomicLong();
      java.util.concurrent.atomic.AtomicReference<IOException> broken = new java.util.concurrent.atomic.AtomicReference<>();
      Thread writer = new Thread(() -> {
        try {
          OutputStream out = sock.getOutputStream();
          while (requests.get() < 2_000_000) {
            out.write(burst);
            requests.addAndGet(100);
          }
        } catch (IOException e) {
          broken.set(e);
        }
      });
      writer.setDaemon(true);
      writer.start();
      // Without backpressure the server would read on and hold every answer in memory. With it, the answers fill the
      // socket buffers, the server stops reading, the requests fill the buffers the other way, and the writer blocks
      // (the kernel's buffers hold some 100,000 requests of this size at most).
      long stalledSince = System.nanoTime();
      long last = -1;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      // (a stall counts after 1 s: the class's idle timeout of 3 s closes a connection that neither reads nor writes)
      while (System.nanoTime() - stalledSince < TimeUnit.SECONDS.toNanos(1)) {
        assertThat(System.nanoTime()).as("the writer never blocked; %d requests written", requests.get())
            .isLessThan(deadline);
        long now = requests.get();
        if (now != last) {
          last = now;
          stalledSince = System.nanoTime();
        }
        Thread.sleep(50);
      }
      assertThat(broken.get()).as("the server kept the connection").isNull();
      assertThat(requests.get()).as("requests written before the writer blocked").isLessThan(400_000);
      // and the connection still works: the answers come out in order as they are read
      assertThat(readAnswer(sock.getInputStream()).getHandleValues()).hasSize(60);
    }
    ResolutionRequest ok = new ResolutionRequest(Util.encodeString("88.101.5/WIRE-1"), null, null, null);
    assertThat(new HandleResolver().sendHdlTcpRequest(ok, loopback, node.handlePort).responseCode).isEqualTo(1);
  }

  /** One answer from a TCP stream: envelope, then the message. */
  private static ResolutionResponse readAnswer(InputStream in) throws Exception {
    byte[] env = in.readNBytes(20);
    assertThat(env).hasSize(20);
    byte[] msg = in.readNBytes(Envelope.decode(env, 0).messageLength());
    net.handle.hdllib.MessageEnvelope e = new net.handle.hdllib.MessageEnvelope();
    Encoder.decodeEnvelope(env, e);
    return (ResolutionResponse) Encoder.decodeMessage(msg, 0, e);
  }

  @Test
  void idleAndHalfOpenTcpConnectionsAreClosed() throws Exception {
    for (int sendFirst : new int[] {0, 10}) {
      try (Socket sock = new Socket()) {
        sock.connect(new InetSocketAddress(loopback, node.handlePort), 2000);
        sock.setSoTimeout(30_000);
        OutputStream out = sock.getOutputStream();
        out.write(new byte[sendFirst]); // nothing, or a partial envelope
        out.flush();
        long t0 = System.nanoTime();
        InputStream in = sock.getInputStream();
        assertThat(in.read()).isEqualTo(-1); // closed by the server
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        assertThat(ms).isBetween(2_000L, 25_000L);
      }
    }
  }

  @Test
  void httpJsonApiReturnsWhatTheCnriClientWrote() throws Exception {
    HandleResolver resolver = new HandleResolver();
    byte[] admin = Util.encodeString("0.NA/88.101");
    AdminRecord ar = new AdminRecord(admin, 300, true, true, true, true, true, true, true, true, true, true, false,
        true);
    net.handle.hdllib.HandleValue secret = new net.handle.hdllib.HandleValue(300, "HS_SECKEY", "hidden");
    secret.setAnyoneCanRead(false);
    net.handle.hdllib.HandleValue[] values = {
        new net.handle.hdllib.HandleValue(1, "URL", "https://factory.example/pump/7"),
        new net.handle.hdllib.HandleValue(2, "EMAIL", "pump@factory.example"),
        new net.handle.hdllib.HandleValue(100, "HS_ADMIN", Encoder.encodeAdminRecord(ar)), secret};
    values[1].setTTL(600);
    AbstractResponse created = resolver.sendRequestToSite(new CreateHandleRequest(
        Util.encodeString("88.101.5/PUMP-7"), values,
        new SecretKeyAuthenticationInfo(admin, 300, ResolverNodeHarness.SECRET.getBytes())), site);
    assertThat(created.responseCode).as(created.toString() + " " + (created instanceof net.handle.hdllib.ErrorResponse e
        ? Util.decodeString(e.message) : "")).isEqualTo(1);
    ResolutionResponse rr = (ResolutionResponse) new HandleResolver().sendHdlTcpRequest(
        new ResolutionRequest(Util.encodeString("88.101.5/PUMP-7"), null, null, null), loopback, node.handlePort);
    net.handle.hdllib.HandleValue[] wire = rr.getHandleValues();

    HttpClient http = HttpClient.newHttpClient();
    JsonObject all = get(http, "/api/handles/88.101.5/pump-7", 200);
    assertThat(all.getInteger("responseCode")).isEqualTo(1);
    assertThat(all.getString("handle")).isEqualTo("88.101.5/pump-7");
    JsonArray vals = all.getJsonArray("values");
    assertThat(vals).hasSize(wire.length); // HS_SECKEY (no public read) is in neither
    for (int i = 0; i < wire.length; i++) {
      JsonObject v = vals.getJsonObject(i);
      assertThat(v.getInteger("index")).isEqualTo(wire[i].getIndex());
      assertThat(v.getString("type")).isEqualTo(wire[i].getTypeAsString());
      assertThat(v.getInteger("ttl")).isEqualTo(wire[i].getTTL());
      assertThat(java.time.Instant.parse(v.getString("timestamp")).getEpochSecond())
          .isEqualTo(wire[i].getTimestamp());
      assertThat(v.containsKey("permissions")).isFalse();
    }
    assertThat(vals.getJsonObject(0).getJsonObject("data"))
        .isEqualTo(new JsonObject().put("format", "string").put("value", "https://factory.example/pump/7"));
    JsonObject adminJson = vals.getJsonObject(2).getJsonObject("data");
    assertThat(adminJson.getString("format")).isEqualTo("admin");
    assertThat(adminJson.getJsonObject("value")).isEqualTo(new JsonObject().put("handle", "0.NA/88.101")
        .put("index", 300).put("permissions", "101111111111"));

    JsonObject url = get(http, "/api/handles/88.101.5/PUMP-7?type=URL", 200);
    assertThat(url.getJsonArray("values")).hasSize(1);
    JsonObject byIndex = get(http, "/api/handles/88.101.5/PUMP-7?index=2&index=100", 200);
    assertThat(byIndex.getJsonArray("values")).hasSize(2);
    JsonObject none = get(http, "/api/handles/88.101.5/PUMP-7?type=FOO", 200);
    assertThat(none.getInteger("responseCode")).isEqualTo(200);
    assertThat(get(http, "/api/handles/88.101.5/NOPE", 404).getInteger("responseCode")).isEqualTo(100);
    JsonObject foreign = get(http, "/api/handles/88.999/X", 400);
    assertThat(foreign.getInteger("responseCode")).isEqualTo(301);
    assertThat(foreign.getString("message")).isEqualTo("That prefix doesn't live here");
    // credentials count only over TLS (handle.net): on this plain-HTTP port a write is refused with 402
    HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + node.httpPort
        + "/api/handles/88.101.5/PUMP-8")).PUT(HttpRequest.BodyPublishers.ofString("[]"))
        .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString(
            ("300%3A0.NA/88.101:" + ResolverNodeHarness.SECRET).getBytes())).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(put.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(put.body()).getInteger("responseCode")).isEqualTo(402);
    JsonObject site = get(http, "/api/handles/0.NA/88.101?type=HS_SITE", 200);
    assertThat(site.getJsonArray("values").getJsonObject(0).getJsonObject("data").getString("format"))
        .isEqualTo("site");
  }

  static JsonObject get(HttpClient http, String path, int status) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + node.httpPort + path)).build(), HttpResponse.BodyHandlers.ofString(
        StandardCharsets.UTF_8));
    assertThat(r.statusCode()).as(path + " " + r.body()).isEqualTo(status);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
    return new JsonObject(r.body());
  }
}
