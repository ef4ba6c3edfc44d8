package io.iiot.resolver.transport.handle;

import static org.assertj.core.api.Assertions.assertThat;

import io.iiot.resolver.domain.AdminRecord;
import io.iiot.resolver.domain.Authorizer;
import io.iiot.resolver.domain.HandleValue;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import net.handle.hdllib.AbstractMessage;
import net.handle.hdllib.AbstractRequest;
import net.handle.hdllib.AddValueRequest;
import net.handle.hdllib.ChallengeAnswerRequest;
import net.handle.hdllib.CreateHandleRequest;
import net.handle.hdllib.DeleteHandleRequest;
import net.handle.hdllib.Encoder;
import net.handle.hdllib.GenericRequest;
import net.handle.hdllib.ListHandlesRequest;
import net.handle.hdllib.ModifyValueRequest;
import net.handle.hdllib.RemoveValueRequest;
import net.handle.hdllib.ResolutionRequest;
import net.handle.hdllib.SessionSetupRequest;
import net.handle.hdllib.Util;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Feeds 1,000,000 random and mutated messages (truncated envelopes, lying length fields, huge counts, bad UTF-8) to
 * the decoders the server uses. Nothing but {@link HandleCodecException} may escape, and no decoder may allocate from
 * an unchecked length (an {@link OutOfMemoryError} or {@link NegativeArraySizeException} would escape as an error).
 */
@Tag("medium")
class CodecFuzzTest {
  static final int MESSAGES = 1_000_000;
  static final int[] NASTY = {0, 1, -1, 0x7FFFFFFF, 0x80000000, 0x00040001, 0x0000FFFF, 2049, 1_048_577, 262_144};

  public static List<byte[]> seeds() throws Exception {
    net.handle.hdllib.HandleValue v1 = new net.handle.hdllib.HandleValue(1, "URL", "https://example.com/x");
    net.handle.hdllib.HandleValue adm = new net.handle.hdllib.HandleValue(100, "HS_ADMIN", Encoder.encodeAdminRecord(
        new net.handle.hdllib.AdminRecord(Util.encodeString("0.NA/88.101"), 300, true, true, true, true, true, true,
            true, true, true, true, true, true)));
    byte[] h = Util.encodeString("88.101.5/设备-0001");
    List<AbstractRequest> reqs = new ArrayList<>();
    reqs.add(new ResolutionRequest(h, new byte[][] {Util.encodeString("URL")}, new int[] {1, 2}, null));
    reqs.add(new CreateHandleRequest(h, new net.handle.hdllib.HandleValue[] {v1, adm}, null));
    reqs.add(new AddValueRequest(h, v1, null));
    reqs.add(new ModifyValueRequest(h, v1, null));
    reqs.add(new RemoveValueRequest(h, new int[] {1, 2, 3}, null));
    reqs.add(new DeleteHandleRequest(h, null));
    reqs.add(new ListHandlesRequest(Util.encodeString("0.NA/88.101.5"), null));
    reqs.add(new GenericRequest(Util.encodeString("/"), AbstractMessage.OC_GET_SITE_INFO, null));
    reqs.add(new ChallengeAnswerRequest(Util.encodeString("HS_SECKEY"), Util.encodeString("0.NA/88.101"), 300,
        new byte[41], null));
    SessionSetupRequest ss = new SessionSetupRequest();
    ss.keyExchangeMode = 4;
    ss.identityHandle = Util.encodeString("0.NA/88.101");
    ss.identityIndex = 300;
    ss.publicKey = Util.getBytesFromPublicKey(
        net.handle.security.HdlSecurityProvider.getInstance().generateDHKeyPair(1024).getPublic());
    reqs.add(ss);
    List<byte[]> out = new ArrayList<>();
    for (AbstractRequest r : reqs) {
      r.requestId = 7;
      byte[] msg = r.getEncodedMessage();
      byte[] env = new Envelope(2, 3, 0, 2, 11, 0, 7, 0, msg.length).encode();
      byte[] all = new byte[env.length + msg.length];
      System.arraycopy(env, 0, all, 0, env.length);
      System.arraycopy(msg, 0, all, env.length, msg.length);
      out.add(all);
    }
    return out;
  }

  /** What the server decodes from a wire message, in the same order. */
  static void decodeAll(byte[] wire) throws HandleCodecException {
    Envelope env = Envelope.decode(wire, 0);
    int len = Math.min(env.messageLength(), wire.length - Envelope.SIZE);
    byte[] msg = new byte[len];
    System.arraycopy(wire, Envelope.SIZE, msg, 0, len);
    Message m = Message.decode(env, msg);
    if (m.signed()) {
      try {
        Credential.decode(m.credential());
      } catch (HandleCodecException ignored) {
        // keep going: the body decoders are what matters most
      }
    }
    switch (m.opCode()) {
      case 1 -> Bodies.resolution(m.body());
      case 100, 102, 104 -> {
        for (HandleValue v : Bodies.values(m.body()).values()) {
          valueData(v);
        }
      }
      case 101, 105, 2, 401 -> Bodies.handleOnly(m.body());
      case 103 -> Bodies.remove(m.body());
      case 200 -> {
        Bodies.ChallengeAnswer a = Bodies.challengeAnswer(m.body());
        AuthVerifier.verifySecretKey("secret".getBytes(), new byte[16], new byte[32], a.answer());
      }
      case 400 -> {
        Bodies.SessionSetup s = Bodies.sessionSetup(m.body());
        if (s.exchangeKey() != null) {
          KeyCodec.decode(s.exchangeKey());
        }
      }
      default -> {
        // unknown opcodes are answered without a body decode
      }
    }
  }

  static void valueData(HandleValue v) {
    try {
      AdminRecord.decode(v.data());
    } catch (HandleCodecException ignored) {
      // expected for most data
    }
    try {
      SiteRecord.decode(v.data());
    } catch (HandleCodecException ignored) {
      // expected for most data
    }
    try {
      KeyCodec.decode(v.data());
    } catch (HandleCodecException ignored) {
      // expected for most data
    }
    Authorizer.decodeVlist(v.data());
  }

  public static byte[] mutate(byte[] seed, SplittableRandom rnd) {
    byte[] b = seed.clone();
    switch (rnd.nextInt(7)) {
      case 0 -> { // flip bytes
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
          b[rnd.nextInt(b.length)] ^= (byte) (1 + rnd.nextInt(255));
        }
      }
      case 1 -> { // lying int4 at a random offset
        int at = rnd.nextInt(b.length - 3);
        int v = NASTY[rnd.nextInt(NASTY.length)];
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
      }
      case 2 -> b = java.util.Arrays.copyOf(b, rnd.nextInt(b.length)); // truncate (incl. inside the envelope)
      case 3 -> { // append garbage
        byte[] more = new byte[1 + rnd.nextInt(64)];
        rnd.nextBytes(more);
        byte[] c = java.util.Arrays.copyOf(b, b.length + more.length);
        System.arraycopy(more, 0, c, b.length, more.length);
        b = c;
      }
      case 4 -> { // bad UTF-8 somewhere after the header
        int at = Envelope.SIZE + 24 + rnd.nextInt(Math.max(1, b.length - Envelope.SIZE - 25));
        if (at + 1 < b.length) {
          b[at] = (byte) 0xC3;
          b[at + 1] = (byte) 0x28;
        }
      }
      case 5 -> { // lying body length in the header
        int at = Envelope.SIZE + 20;
        int v = NASTY[rnd.nextInt(NASTY.length)];
        if (at + 3 < b.length) {
          b[at] = (byte) (v >>> 24);
          b[at + 3] = (byte) v;
        }
      }
      default -> { // huge counts right after the handle
        int at = Envelope.SIZE + 24 + 4 + rnd.nextInt(40);
        if (at + 3 < b.length) {
          b[at] = (byte) 0x7F;
        }
      }
    }
    return b;
  }

  @Test
  void millionMessagesOnlyEverFailWithCodecExceptions() throws Exception {
    List<byte[]> seeds = seeds();
    for (byte[] s : seeds) {
      decodeAll(s); // the seeds themselves are valid
    }
    SplittableRandom rnd = new SplittableRandom(20261125L);
    int rejected = 0;
    for (int i = 0; i < MESSAGES; i++) {
      byte[] input;
      if (i % 10 == 0) {
        input = new byte[rnd.nextInt(600)];
        rnd.nextBytes(input);
        if (input.length >= 20 && rnd.nextBoolean()) {
          // a plausible envelope over random content
          new Envelope(2, 11, 0, 2, 11, 0, i, 0, input.length - 20).encode(input, 0);
        }
      } else {
        input = mutate(seeds.get(rnd.nextInt(seeds.size())), rnd);
      }
      try {
        decodeAll(input);
      } catch (HandleCodecException e) {
        assertThat(ResponseCodes.isKnown(e.responseCode())).isTrue();
        rejected++;
      }
    }
    assertThat(rejected).isGreaterThan(MESSAGES / 4);
  }
}
