/**
 * Web sessions.
 *
 * A session is stored (SessionStore) with what its person may see (a Scope), so that any
 * process serving it enforces the same set; the cookie holds a random token, the store only
 * its hash. Each process keeps a short-lived copy of the sessions it serves, read again after
 * `revalidateMs`, so that a logout anywhere ends the session everywhere within that time.
 *
 * What a person may see is asked of vCenter again every `refreshSec` with their own vSphere
 * session, which the process that logged them in holds in memory (never on disk: it is as good
 * as a password while it lives). The refresh fails closed: when vCenter cannot answer (or the
 * process holding the vSphere session is gone), the last set holds one more period, then the
 * session ends and the person logs in again.
 *
 * The clock is a function, so that expiry is tested without sleeping.
 */
import { hash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Scope } from '../shared/visibility.ts';
import type { SessionStore, StoredSession } from '../store/store.ts';
import { ScopeCache } from './scope-cache.ts';

export interface Session {
  /** Hash of the cookie's token: what the store and the logs know the session by. */
  readonly id: string;
  readonly username: string;
  readonly vcenterId: string;
  readonly createdMs: number;
  readonly lastSeenMs: number;
  readonly scope: Scope;
  /** When vCenter last answered what the person may see, epoch ms. */
  readonly scopeCheckedMs: number;
}

/** A person's vSphere session, held for their vscope session. */
export interface ScopeSource {
  /** What the person may see now, asked of vCenter with their own session. */
  scope(): Promise<Scope>;
  logout(): Promise<void>;
}

export interface SessionOptions {
  readonly store: SessionStore;
  /** A session unused this long expires. */
  readonly idleSec: number;
  /** A session expires this long after login, used or not. */
  readonly maxSec: number;
  /** How often what a person may see is asked again, seconds; two periods without an answer end the session. */
  readonly refreshSec: number;
  readonly nowMs: () => number;
  readonly log: Logger;
  /** How long this process trusts its copy of a session before reading it again, ms. Default 2000. */
  readonly revalidateMs?: number;
}

interface Cached {
  session: Session;
  /** When the copy was read from the store. */
  readMs: number;
  /** The last use written to the store. */
  writtenSeenMs: number;
}

/** A session's last use is written at most this often (the idle timeout is hours). */
const touchWriteMs = 30_000;
/** Copies kept at most; the oldest are read again when needed. */
const maxCached = 20_000;

/** The stored id of a token: its SHA-256, so that the store's content opens no session. */
export function sessionIdOf(token: string): string {
  // One-shot: a Hash object per request cost ~10 µs of the main thread (every request hashes).
  return hash('sha256', token, 'base64url');
}

export class Sessions {
  private readonly cache = new Map<string, Cached>();
  private readonly scopes: ScopeCache;
  /** The sessions this process logged in, with their vSphere sessions. */
  private readonly sources = new Map<string, { readonly source: ScopeSource; readonly username: string; readonly vcenterId: string }>();
  private readonly pendingLogouts = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private lastSweepMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SessionOptions) {
    this.scopes = new ScopeCache(options.store);
  }

  /** When the session ends if unused from now on (idle or absolute expiry), ms. */
  expiresAtMs(session: Pick<Session, 'lastSeenMs' | 'createdMs'>): number {
    const { idleSec, maxSec } = this.options;
    return Math.min(session.lastSeenMs + idleSec * 1000, session.createdMs + maxSec * 1000);
  }

  /** Whether the session has ended by now: expired, or its scope unanswered for two refresh periods. */
  private over(session: Pick<Session, 'lastSeenMs' | 'createdMs' | 'scopeCheckedMs'>, nowMs: number): boolean {
    return nowMs >= this.expiresAtMs(session) || nowMs >= session.scopeCheckedMs + 2 * this.options.refreshSec * 1000;
  }

  /** Opens a session seeing `scope`; resolves with the cookie's token and the session. */
  async create(username: string, vcenterId: string, source: ScopeSource, scope: Scope): Promise<{ token: string; session: Session }> {
    const nowMs = this.options.nowMs();
    // 256 bits from the CSPRNG: unguessable, and base64url is cookie-safe.
    const token = randomBytes(32).toString('base64url');
    const stored: StoredSession = {
      id: sessionIdOf(token),
      username,
      vcenterId,
      createdMs: nowMs,
      lastSeenMs: nowMs,
      scopeId: scope.id,
      scopeCheckedMs: nowMs,
    };
    await this.options.store.saveScope(scope.stored);
    await this.options.store.saveSession(stored);
    this.scopes.add(scope);
    const session: Session = { ...stored, scope };
    this.cache.set(stored.id, { session, readMs: nowMs, writtenSeenMs: nowMs });
    this.sources.set(stored.id, { source, username, vcenterId });
    await this.sweep(nowMs);
    return { token, session };
  }

  /** The live session of this token, its use recorded; null when unknown, ended or expired (then ended). */
  async touch(token: string): Promise<Session | null> {
    const id = sessionIdOf(token);
    const nowMs = this.options.nowMs();
    let entry = this.cache.get(id);
    if (entry === undefined || nowMs - entry.readMs >= (this.options.revalidateMs ?? 2000)) {
      entry = await this.read(id, entry, nowMs);
      if (entry === undefined) return null;
    }
    if (this.over(entry.session, nowMs)) {
      await this.end(id);
      return null;
    }
    entry.session = { ...entry.session, lastSeenMs: Math.max(entry.session.lastSeenMs, nowMs) };
    if (nowMs - entry.writtenSeenMs >= touchWriteMs) {
      entry.writtenSeenMs = nowMs;
      await this.options.store.touchSession(id, nowMs);
    }
    // Re-inserted: the Map's order is the order of use, oldest first.
    this.cache.delete(id);
    this.cache.set(id, entry);
    while (this.cache.size > maxCached) {
      const oldest = this.cache.keys().next();
      if (oldest.done === true) break;
      this.cache.delete(oldest.value);
    }
    return entry.session;
  }

  /** Ends the session everywhere (its vSphere session too, when this process holds it). Safe twice. */
  async end(id: string): Promise<void> {
    this.cache.delete(id);
    await this.options.store.deleteSession(id);
    this.release(id);
  }

  /** Starts asking vCenter again, every so often, what the people logged in here may see. */
  start(): void {
    if (this.timer !== null) return;
    const everyMs = Math.max(1000, Math.min(30_000, (this.options.refreshSec * 1000) / 10));
    this.timer = setInterval(() => void this.refresh(), everyMs);
    this.timer.unref();
  }

  /**
   * One refresh pass: every session this process holds whose scope is due is asked again; a
   * session past its deadline, or whose person may read nothing any more, ends. Never throws.
   */
  refresh(): Promise<void> {
    this.ticking ??= this.refreshDue().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** Stops refreshing and logs out the vSphere sessions held here (the sessions end at their deadline). */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
    for (const id of [...this.sources.keys()]) this.release(id);
    await Promise.allSettled([...this.pendingLogouts]);
  }

  /** Sessions held by this process, for tests. */
  get heldCount(): number {
    return this.sources.size;
  }

  private async refreshDue(): Promise<void> {
    const { store, refreshSec, log } = this.options;
    for (const [id, held] of [...this.sources]) {
      try {
        const stored = await store.session(id);
        const nowMs = this.options.nowMs();
        if (stored === null) {
          // Ended elsewhere (a logout on another front end, or it expired).
          this.cache.delete(id);
          this.release(id);
          continue;
        }
        if (this.over(stored, nowMs)) {
          await this.end(id);
          continue;
        }
        if (nowMs - stored.scopeCheckedMs < refreshSec * 1000) continue;
        let scope: Scope;
        try {
          scope = await held.source.scope();
        } catch (error) {
          const deadline = new Date(stored.scopeCheckedMs + 2 * refreshSec * 1000).toISOString();
          log.warn(
            { err: error instanceof Error ? error.message : String(error), username: held.username, vcenterId: held.vcenterId },
            `could not ask vCenter again what this person may see; the last answer holds until ${deadline}, then the session ends`,
          );
          continue;
        }
        if (scope.readableCount === 0) {
          log.info({ username: held.username, vcenterId: held.vcenterId }, 'the person may read nothing any more in this vCenter: session ended');
          await this.end(id);
          continue;
        }
        const checkedMs = this.options.nowMs();
        await store.saveScope(scope.stored);
        await store.setSessionScope(id, scope.id, checkedMs);
        this.scopes.add(scope);
        const entry = this.cache.get(id);
        if (entry !== undefined) entry.session = { ...entry.session, scope, scopeCheckedMs: checkedMs };
      } catch (error) {
        log.warn({ err: error, vcenterId: held.vcenterId }, 'session refresh failed; retrying');
      }
    }
    await this.sweep(this.options.nowMs()).catch((error: unknown) => log.warn({ err: error }, 'session sweep failed'));
  }

  /** The stored session (and its scope), or undefined (forgotten here) when it is gone. */
  private async read(id: string, previous: Cached | undefined, nowMs: number): Promise<Cached | undefined> {
    const stored = await this.options.store.session(id);
    const scope = stored === null ? null : previous?.session.scope.id === stored.scopeId ? previous.session.scope : await this.scopes.get(stored.scopeId);
    if (stored === null || scope === null) {
      // Gone, or a scope that cannot be read (fail closed: the session ends).
      if (stored !== null) await this.end(id);
      this.cache.delete(id);
      this.release(id);
      return undefined;
    }
    const lastSeenMs = Math.max(stored.lastSeenMs, previous?.session.lastSeenMs ?? 0);
    const entry: Cached = { session: { ...stored, lastSeenMs, scope }, readMs: nowMs, writtenSeenMs: previous?.writtenSeenMs ?? stored.lastSeenMs };
    this.cache.set(id, entry);
    return entry;
  }

  /** Logs out the vSphere session held for `id`, if this process holds it. */
  private release(id: string): void {
    const held = this.sources.get(id);
    if (held === undefined) return;
    this.sources.delete(id);
    const pending = held.source
      .logout()
      .catch((error: unknown) => {
        this.options.log.warn({ err: error, vcenterId: held.vcenterId }, 'vSphere logout failed (the vCenter session will expire by itself)');
      })
      .finally(() => this.pendingLogouts.delete(pending));
    this.pendingLogouts.add(pending);
  }

  /** Deletes expired sessions from the store, at most once a minute. */
  private async sweep(nowMs: number): Promise<void> {
    if (nowMs - this.lastSweepMs < 60_000) return;
    this.lastSweepMs = nowMs;
    const { idleSec, maxSec, refreshSec } = this.options;
    await this.options.store.deleteExpiredSessions({
      idleBeforeMs: nowMs - idleSec * 1000,
      createdBeforeMs: nowMs - maxSec * 1000,
      checkedBeforeMs: nowMs - 2 * refreshSec * 1000,
    });
  }
}
