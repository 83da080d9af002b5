/**
 * Who collects which vCenter when several collectors run (issue #11): a lease per vCenter in
 * the shared store (CollectorLeaseStore), taken before each cycle and renewed every third of its
 * time to live while held. Two collectors never collect one vCenter at once; when the holder
 * dies, its lease lapses after `ttlSec` and a collector waiting for it takes it over at its
 * next probe (every `probeSec`): within ttlSec + probeSec, 40 s by default. A collector whose
 * renewals stop coming back (a busy or cut-off database) stops writing before its lease lapses
 * (`holds`), even in the middle of a cycle.
 *
 * Fails closed: a store that cannot answer (a database restarting) answers "not held", so a
 * collector cut off from the shared state collects nothing until it is back.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { CollectorLeaseStore } from '../store/store.ts';

/** What a collector's loops ask before each cycle. */
export interface VcenterLease {
  /** How often a collector without the lease asks again, seconds. */
  readonly probeSec: number;
  /** Takes or renews the lease of `vcenterId`; true when this collector holds it now. Never throws. */
  hold(vcenterId: string): Promise<boolean>;
  /**
   * Whether this collector still holds the lease, without asking the store: its last renewal
   * succeeded less than a time to live ago (minus a margin for the clocks). A cycle asks before
   * each write, so that one running past a lapsed lease stops instead of writing beside the
   * collector that took it over.
   */
  holds(vcenterId: string): boolean;
  /** Gives the lease of `vcenterId` up (at stop). Never throws. */
  release(vcenterId: string): Promise<void>;
  /** Who holds it, for a message; null when nobody or unknown. */
  holder(vcenterId: string): Promise<string | null>;
}

export interface LeaseOptions {
  readonly store: CollectorLeaseStore;
  /** Unique per collector process; default host name, pid and a random part. */
  readonly holderId?: string;
  /** Default 30. */
  readonly ttlSec?: number;
  /** Default 10. */
  readonly probeSec?: number;
  readonly nowMs?: () => number;
  readonly log?: Logger;
}

/**
 * How long before its expiry a lease no longer counts as held here, ms: a renewal that has not
 * come back by then may have come too late, and another collector's clock may be a little ahead.
 */
export const leaseMarginMs = 5_000;

/** A holder id unique to this process: host name, pid and a random part. */
export function processHolderId(): string {
  return `${hostname()}:${String(process.pid)}:${randomBytes(4).toString('hex')}`;
}

export class LeaseKeeper implements VcenterLease {
  readonly holderId: string;
  readonly probeSec: number;
  readonly ttlSec: number;
  private readonly nowMs: () => number;
  /** vCenter id -> when its lease was last taken or renewed, ms (this process's clock). */
  private readonly held = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: LeaseOptions) {
    this.holderId = options.holderId ?? processHolderId();
    this.ttlSec = options.ttlSec ?? 30;
    this.probeSec = options.probeSec ?? 10;
    this.nowMs = options.nowMs ?? Date.now;
  }

  async hold(vcenterId: string): Promise<boolean> {
    let holding: boolean;
    try {
      holding = await this.options.store.acquireLease(vcenterId, this.holderId, this.ttlSec, this.nowMs());
    } catch (error) {
      this.options.log?.warn({ err: error instanceof Error ? error.message : String(error), vcenterId }, 'the collector lease cannot be read or renewed: not collecting until it can');
      holding = false;
    }
    const had = this.held.has(vcenterId);
    if (holding) this.held.set(vcenterId, this.nowMs());
    else this.held.delete(vcenterId);
    if (this.held.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    if (holding !== had) this.options.log?.info({ vcenterId, holder: this.holderId }, holding ? 'this collector now collects the vCenter' : 'another collector collects the vCenter now');
    this.renewWhileHeld();
    return holding;
  }

  holds(vcenterId: string): boolean {
    const renewedMs = this.held.get(vcenterId);
    return renewedMs !== undefined && this.nowMs() - renewedMs < this.ttlSec * 1000 - leaseMarginMs;
  }

  async release(vcenterId: string): Promise<void> {
    this.held.delete(vcenterId);
    if (this.held.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
    try {
      await this.options.store.releaseLease(vcenterId, this.holderId);
    } catch (error) {
      this.options.log?.warn({ err: error instanceof Error ? error.message : String(error), vcenterId }, 'the collector lease could not be given up; it lapses by itself');
    }
  }

  async holder(vcenterId: string): Promise<string | null> {
    try {
      const lease = (await this.options.store.leases()).find((one) => one.vcenterId === vcenterId && one.expiresMs > this.nowMs());
      return lease?.holderId ?? null;
    } catch {
      return null;
    }
  }

  /** Renews the held leases every third of their time to live, between cycles too. */
  private renewWhileHeld(): void {
    if (this.held.size === 0 || this.timer !== null) return;
    this.timer = setInterval(() => {
      for (const vcenterId of [...this.held.keys()]) void this.hold(vcenterId);
    }, (this.ttlSec * 1000) / 3);
    this.timer.unref();
  }
}
