package io.iiot.resolver.transport.handle;

import io.iiot.resolver.domain.ValueReference;
import java.security.SecureRandom;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Pending challenges and open sessions, shared by the UDP and TCP interfaces (CNRI's client sets a session up over
 * UDP and uses it over TCP). Both tables are bounded; entries expire. Thread-safe.
 */
public final class AuthState {
  private final SecureRandom random = new SecureRandom();
  private final Map<Integer, Pending> pending = new ConcurrentHashMap<>();
  private final Map<Integer, Session> sessions = new ConcurrentHashMap<>();
  private final long challengeTtlMillis;
  private final long maxSessionMillis;
  private final int maxPending;
  private final int maxSessions;

  public AuthState(long challengeTtlMillis, long maxSessionMillis, int maxPending, int maxSessions) {
    this.challengeTtlMillis = challengeTtlMillis;
    this.maxSessionMillis = maxSessionMillis;
    this.maxPending = maxPending;
    this.maxSessions = maxSessions;
  }

  /**
   * A challenge sent and not answered yet.
   *
   * @param operation what to do once the identity is verified
   * @param nonce the 16 random bytes sent
   * @param digest the request digest sent, without its code byte
   * @param session the session the request came in, or {@code null}
   */
  public record Pending(Object operation, byte[] nonce, byte[] digest, Session session, long expiresAt) {}

  /** A session set up with opcode 400. {@code identity} becomes non-null once a challenge in it succeeded. */
  public static final class Session {
    public final int id;
    public final byte[] key;
    public final ValueReference claimedIdentity;
    private final long expiresAt;
    private volatile long lastUsed;
    private final long idleMillis;
    private volatile ValueReference identity;
    private final Set<Integer> seenCounters = Collections.newSetFromMap(new LinkedHashMap<>(256, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Integer, Boolean> eldest) {
        return size() > 1000;
      }
    });

    Session(int id, byte[] key, ValueReference claimedIdentity, long idleMillis, long expiresAt) {
      this.id = id;
      this.key = key;
      this.claimedIdentity = claimedIdentity;
      this.idleMillis = idleMillis;
      this.expiresAt = expiresAt;
      this.lastUsed = System.currentTimeMillis();
    }

    public ValueReference identity() {
      return identity;
    }

    public void authenticated(ValueReference who) {
      identity = who;
    }

    /** Records a session counter; {@code false} when it was seen before (a replay). */
    public boolean acceptCounter(int counter) {
      if (counter == 0) {
        return true;
      }
      synchronized (seenCounters) {
        return seenCounters.add(counter);
      }
    }

    boolean expired(long now) {
      return now > expiresAt || now - lastUsed > idleMillis;
    }

    void touch() {
      lastUsed = System.currentTimeMillis();
    }
  }

  /** A fresh positive id not used by a pending challenge or a session. */
  private int newId() {
    while (true) {
      int id = random.nextInt() & 0x7FFFFFFF;
      if (id != 0 && !pending.containsKey(id) && !sessions.containsKey(id)) {
        return id;
      }
    }
  }

  /** Stores a challenge; returns its id (the session's id inside a session), or -1 when the table is full. */
  public int addPending(Object operation, byte[] nonce, byte[] digest, Session session) {
    if (pending.size() >= maxPending) {
      sweep();
      if (pending.size() >= maxPending) {
        return -1;
      }
    }
    int id = session != null ? session.id : newId();
    pending.put(id, new Pending(operation, nonce, digest, session, System.currentTimeMillis() + challengeTtlMillis));
    return id;
  }

  /** The challenge {@code id} without removing it; {@code null} when unknown or expired. */
  public Pending peekPending(int id) {
    Pending p = pending.get(id);
    return p == null || p.expiresAt() < System.currentTimeMillis() ? null : p;
  }

  /** Removes and returns the challenge {@code id}; {@code null} when unknown or expired. */
  public Pending takePending(int id) {
    Pending p = pending.remove(id);
    return p == null || p.expiresAt() < System.currentTimeMillis() ? null : p;
  }

  /** Opens a session; {@code null} when the table is full. */
  public Session openSession(byte[] key, ValueReference claimed, int timeoutSeconds) {
    if (sessions.size() >= maxSessions) {
      sweep();
      if (sessions.size() >= maxSessions) {
        return null;
      }
    }
    long idle = timeoutSeconds <= 0 ? maxSessionMillis : Math.min(maxSessionMillis, timeoutSeconds * 1000L);
    Session s = new Session(newId(), key, claimed, idle, System.currentTimeMillis() + maxSessionMillis);
    sessions.put(s.id, s);
    return s;
  }

  /** The live session {@code id}, or {@code null}. */
  public Session session(int id) {
    Session s = sessions.get(id);
    if (s == null) {
      return null;
    }
    if (s.expired(System.currentTimeMillis())) {
      sessions.remove(id);
      return null;
    }
    s.touch();
    return s;
  }

  public void closeSession(int id) {
    sessions.remove(id);
  }

  /** Drops expired entries; called periodically. */
  public void sweep() {
    long now = System.currentTimeMillis();
    pending.values().removeIf(p -> p.expiresAt() < now);
    sessions.values().removeIf(s -> s.expired(now));
  }

  public int pendingCount() {
    return pending.size();
  }

  public int sessionCount() {
    return sessions.size();
  }
}
