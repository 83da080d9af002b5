/**
 * Server-side sessions (in memory: a restart logs everyone out) and the failed-login limiter.
 * Both take the clock as a function so that expiry is tested without sleeping.
 */
import { randomBytes } from 'node:crypto';
import type { VsphereSessionHandle } from './auth.ts';

export interface Session {
  readonly id: string;
  readonly username: string;
  readonly vcenterId: string;
  readonly createdMs: number;
  lastSeenMs: number;
  readonly vsphere: VsphereSessionHandle;
}

export interface SessionOptions {
  /** A session unused this long expires. */
  readonly idleSec: number;
  /** A session expires this long after login, used or not. */
  readonly maxSec: number;
  readonly nowMs: () => number;
  /** Called with the vSphere handle of every session that ends (logout or expiry). */
  readonly onEnd: (session: Session) => void;
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  constructor(private readonly options: SessionOptions) {}

  create(username: string, vcenterId: string, vsphere: VsphereSessionHandle): Session {
    this.sweep();
    const nowMs = this.options.nowMs();
    // 256 bits from the CSPRNG: unguessable, and base64url is cookie-safe.
    const id = randomBytes(32).toString('base64url');
    const session: Session = { id, username, vcenterId, createdMs: nowMs, lastSeenMs: nowMs, vsphere };
    this.#sessions.set(id, session);
    return session;
  }

  /** The live session with this id, refreshed; null when unknown or expired (and then ended). */
  touch(id: string): Session | null {
    const session = this.#sessions.get(id);
    if (!session) return null;
    const nowMs = this.options.nowMs();
    if (nowMs >= this.expiresAtMs(session)) {
      this.end(id);
      return null;
    }
    session.lastSeenMs = nowMs;
    return session;
  }

  /** When the session expires if unused from now on, ms. */
  expiresAtMs(session: Session): number {
    return Math.min(session.lastSeenMs + this.options.idleSec * 1000, session.createdMs + this.options.maxSec * 1000);
  }

  end(id: string): void {
    const session = this.#sessions.get(id);
    if (!session) return;
    this.#sessions.delete(id);
    this.options.onEnd(session);
  }

  endAll(): void {
    for (const id of [...this.#sessions.keys()]) this.end(id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  /** Ends expired sessions; run at each login so that the map cannot grow without bound. */
  private sweep(): void {
    const nowMs = this.options.nowMs();
    for (const session of [...this.#sessions.values()]) {
      if (nowMs >= this.expiresAtMs(session)) this.end(session.id);
    }
  }
}

/**
 * Sliding-window counter of failures per key: at most `limit` failures within `windowMs`;
 * past that, `retryAfterSec` says how long until the oldest one leaves the window.
 */
export class FailureLimiter {
  readonly #failures = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly nowMs: () => number,
    /** Keys kept at most; the oldest are dropped first so memory stays bounded under a flood. */
    private readonly maxKeys = 100_000,
  ) {}

  /** Seconds to wait before trying `key` again, or 0 when allowed. */
  retryAfterSec(key: string): number {
    const recent = this.recent(key);
    if (recent.length < this.limit) return 0;
    const oldest = recent[recent.length - this.limit] ?? this.nowMs();
    return Math.max(1, Math.ceil((oldest + this.windowMs - this.nowMs()) / 1000));
  }

  fail(key: string): void {
    const recent = this.recent(key);
    recent.push(this.nowMs());
    // Re-insert so the Map's order stays oldest-used first.
    this.#failures.delete(key);
    this.#failures.set(key, recent);
    while (this.#failures.size > this.maxKeys) {
      const first = this.#failures.keys().next();
      if (first.done === true) break;
      this.#failures.delete(first.value);
    }
  }

  clear(key: string): void {
    this.#failures.delete(key);
  }

  private recent(key: string): number[] {
    const all = this.#failures.get(key);
    if (!all) return [];
    const since = this.nowMs() - this.windowMs;
    const recent = all.filter((atMs) => atMs > since);
    if (recent.length === 0) this.#failures.delete(key);
    else if (recent.length !== all.length) this.#failures.set(key, recent);
    return recent;
  }
}
