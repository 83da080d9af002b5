/**
 * The store interfaces: what the collector writes and the server reads, in two parts that can
 * live in different engines:
 *   - InventoryStore: the inventory and the collection statuses (shared state);
 *   - SampleStore: samples, their high-water marks, latest figures and series.
 * SQLite implements both in one file (sqlite/sqlite-store.ts), the embedded default. Callers
 * receive the interfaces and never know which implementation is behind them; only the
 * composition root (src/main.ts) chooses. All times are integer unix seconds.
 */
import type {
  ClusterInfo,
  DatacenterInfo,
  DatastoreInfo,
  EntityKind,
  HostInfo,
  HostNicInfo,
  InventorySnapshot,
  VmInfo,
} from '../shared/inventory.ts';
import type { Rollup } from '../shared/rollup.ts';
import type { Tier } from '../shared/tiers.ts';
import type { StoredScope } from '../shared/visibility.ts';
import type { TimeWindow } from '../shared/bucket-series.ts';
import type { VmSummaries } from '../shared/vm-summary.ts';

export type { StoredScope } from '../shared/visibility.ts';

/** Samples of one entity, values aligned with `ts`; metric keys from shared/metrics.ts. */
export interface SampleBatch {
  readonly entityId: string;
  readonly kind: EntityKind;
  /** Sample interval: 20 for realtime samples, 300/1800/7200/86400 for vCenter's historical ones. */
  readonly intervalSec: number;
  /** End of each sample's interval, as vCenter timestamps it, ascending. */
  readonly ts: readonly number[];
  /** Metric key -> one value per timestamp; null where vCenter had no value. */
  readonly values: Readonly<Record<string, readonly (number | null)[]>>;
}

/** Lifecycle fields every stored entity carries beside its inventory fields. */
export interface Lifecycle {
  readonly firstSeenSec: number;
  readonly lastSeenSec: number;
  /** When a cycle first missed it; null while it exists. */
  readonly removedAtSec: number | null;
}

export type StoredDatacenter = DatacenterInfo & Lifecycle;
export type StoredCluster = ClusterInfo & Lifecycle;
export type StoredHost = HostInfo & Lifecycle;
export type StoredNic = HostNicInfo & Lifecycle;
export type StoredVm = VmInfo & Lifecycle;
export type StoredDatastore = DatastoreInfo & Lifecycle;
export type StoredEntity = StoredDatacenter | StoredCluster | StoredHost | StoredNic | StoredVm | StoredDatastore;

/** Latest figures of one entity: the average of each metric over its latest 5-minute bucket. */
export interface LatestFigures {
  /** Start of the bucket, null when nothing was ever stored. */
  readonly bucketSec: number | null;
  readonly values: Readonly<Record<string, number | null>>;
}

export interface SeriesQuery {
  readonly entityId: string;
  readonly tier: Tier;
  /** Inclusive range of bucket starts. */
  readonly fromSec: number;
  readonly toSec: number;
  /** Metric keys; all of the entity kind's metrics when omitted. */
  readonly metrics?: readonly string[];
}

/** Columns, one entry per bucket of the range (gaps included, as null). */
export interface SeriesData {
  readonly stepSec: number;
  readonly ts: readonly number[];
  readonly series: readonly {
    readonly metric: string;
    readonly avg: readonly (number | null)[];
    readonly min: readonly (number | null)[];
    readonly max: readonly (number | null)[];
  }[];
}

/** Longest sample interval `writeRealtime` accepts, seconds (vCenter's realtime samples last 20 s). */
export const maxRealtimeIntervalSec = 300;

/**
 * What a reader needs to cache an entity's series exactly. Until `historyVersion` changes,
 * realtime writes only touch buckets that start at or after
 * `bucketStart(highWaterSec, maxRealtimeIntervalSec, stepSec)` (the first bucket a sample after
 * the mark can fall in), so every bucket before it is final: see `firstOpenBucketSec`.
 */
export interface SeriesWatermark {
  /** Moves whenever some write may change older buckets: a history import, a retention run. */
  readonly historyVersion: number;
  /** End of the newest realtime sample stored for the entity; null when there is none. */
  readonly highWaterSec: number | null;
}

/** Start of the first bucket of `stepSec` that realtime writes may still change (see SeriesWatermark). */
export function firstOpenBucketSec(watermark: SeriesWatermark, stepSec: number): number {
  if (watermark.highWaterSec === null) return Number.NEGATIVE_INFINITY;
  return Math.floor((watermark.highWaterSec - maxRealtimeIntervalSec) / stepSec) * stepSec;
}

export interface ImportProgress {
  readonly state: 'pending' | 'running' | 'done' | 'failed';
  readonly entitiesDone: number;
  readonly entitiesTotal: number;
  /** What the store refused of the import and why (e.g. an engine's out-of-order window), once seen; absent when nothing was. */
  readonly problem?: string | null;
}

/**
 * The store refused samples as too old to keep (an engine's out-of-order window or retention):
 * sending them again would not help, so callers report it and go on without them.
 */
export class SamplesRefused extends Error {
  override readonly name = 'SamplesRefused';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Outcome of the collection cycles of one vCenter. */
export interface CollectionStatus {
  readonly vcenterId: string;
  readonly lastStartSec: number | null;
  readonly lastEndSec: number | null;
  readonly lastDurationMs: number | null;
  /** End of the last cycle that succeeded. */
  readonly lastSuccessSec: number | null;
  readonly lastError: string | null;
  readonly counts: Readonly<Record<'datacenters' | 'clusters' | 'hosts' | 'vms' | 'datastores' | 'nics' | 'samples', number>>;
  readonly import: ImportProgress;
}

export interface ListOptions {
  /** Include entities marked removed (default false). */
  readonly includeRemoved?: boolean;
}

/**
 * A result now, or later: embedded stores (SQLite) answer synchronously, stores across the
 * network (PostgreSQL, a Prometheus-compatible engine) with a promise. Callers always await it.
 */
export type Awaitable<T> = T | Promise<T>;

/** The inventory and collection statuses. */
export interface InventoryStore {
  /** Upserts every entity of the snapshot; entities of that vCenter it lacks are marked removed. */
  saveInventory(snapshot: InventorySnapshot): Awaitable<void>;
  saveStatus(status: CollectionStatus): Awaitable<void>;
  statuses(): Awaitable<readonly CollectionStatus[]>;

  /** Lists hold the entities present at the last inventory; removed ones too with `includeRemoved`. */
  datacenters(options?: ListOptions): Awaitable<readonly StoredDatacenter[]>;
  /** The ids of the entities of each kind a datacenter holds now (removed ones left out); kinds it lacks are absent. */
  presentIds(datacenterId: string): Awaitable<Readonly<Partial<Record<EntityKind, readonly string[]>>>>;
  clusters(datacenterId: string, options?: ListOptions): Awaitable<readonly StoredCluster[]>;
  hosts(datacenterId: string, options?: ListOptions): Awaitable<readonly StoredHost[]>;
  vms(datacenterId: string, options?: ListOptions): Awaitable<readonly StoredVm[]>;
  datastores(datacenterId: string, options?: ListOptions): Awaitable<readonly StoredDatastore[]>;
  /** One entity of any kind (including NICs), removed ones too; null when unknown. */
  entity(id: string): Awaitable<StoredEntity | null>;

  /** Cheap liveness probe for /healthz. */
  ping(): Awaitable<boolean>;
  /**
   * Optional: a number that changes whenever stored data changes (any write or retention run),
   * so that readers may cache answers derived from it (the API caches its VM and datastore lists).
   */
  dataVersion?(): Awaitable<number>;
  close(): Awaitable<void>;
}

/** Samples: written by the collector, read as latest figures and series. */
export interface SampleStore {
  /**
   * Merges realtime samples into every tier and advances each entity's high-water mark.
   * Samples at or before the entity's high-water mark are ignored, so writing twice is harmless.
   * Atomic: a batch list is written whole or not at all; the marks move only once it is stored.
   * @throws RangeError for a batch whose samples last longer than `maxRealtimeIntervalSec`
   */
  writeRealtime(batches: readonly SampleBatch[]): Awaitable<void>;
  /**
   * Stores vCenter's historical samples in `tier`, only into buckets that hold nothing yet.
   * Never moves a high-water mark.
   */
  importHistorical(tier: Tier, batches: readonly SampleBatch[]): Awaitable<void>;
  /** Entity id -> end of the newest realtime sample stored, for the entities of one vCenter. */
  highWaterMarks(vcenterId: string): Awaitable<ReadonlyMap<string, number>>;
  /** Latest figures for many entities at once (one query, not one per entity). */
  latest(entityIds: readonly string[]): Awaitable<ReadonlyMap<string, LatestFigures>>;
  series(query: SeriesQuery): Awaitable<SeriesData>;
  /** Optional: lets readers cache series (see SeriesWatermark); null for an unknown entity. */
  seriesWatermark?(entityId: string): Awaitable<SeriesWatermark | null>;
  /** Drops buckets past their tier's retention, and entities (with their buckets) removed longer ago than the 1-day tier keeps (731 days). */
  applyRetention(nowSec: number): Awaitable<void>;
  /**
   * Optional (SQLite): summarizes at most `maxBlocks` final blocks of buckets per VM
   * (shared/vm-summary.ts; an hour of the day's buckets, a day of the week's and of the month's)
   * not summarized yet; the collector calls it once its history import is done, one block at a
   * time. Returns the blocks made.
   */
  fillVmSummaries?(nowSec: number, maxBlocks?: number): Awaitable<number>;
  /**
   * Optional, with `fillVmSummaries`: per VM, the merge of its stored block summaries of `tier`
   * for consecutive blocks within `[fromSec, toSec)`, from the first block starting at or after
   * `fromSec`, made for the given vCPU count (see `MergedBlocks`). The merge stops at the first
   * block without a summary (not made yet, written by an import since, made before the VM
   * appeared or for another vCPU count): read the buckets from there. A VM without a first block
   * is left out.
   */
  mergedVmSummariesOf?(tier: Tier, fromSec: number, toSec: number, vms: readonly { readonly id: string; readonly numCpu: number }[]): Awaitable<ReadonlyMap<string, MergedBlocks>>;
  /**
   * Optional, with `fillVmSummaries`: the summaries (shared/vm-summary.ts) of these VMs' buckets
   * of `tier` starting in the ranges (step-aligned, apart, in time order), made for the given
   * vCPU counts, read in one go: for the parts of a window that block summaries do not cover. A
   * VM without buckets there gets empty summaries.
   */
  vmSummariesOf?(tier: Tier, ranges: readonly TimeWindow[], vms: readonly { readonly id: string; readonly numCpu: number }[]): Awaitable<ReadonlyMap<string, VmSummaries>>;
}

/** A VM's block summaries merged (`SampleStore.mergedVmSummariesOf`): the summaries of its buckets starting in `[fromSec, endSec)`. */
export interface MergedBlocks {
  readonly summaries: VmSummaries;
  /** Start of the first block merged. */
  readonly fromSec: number;
  /** End of the last block merged. */
  readonly endSec: number;
}

/** Both parts, as one embedded implementation (SQLite) provides them. */
export interface Store extends InventoryStore, SampleStore {}

/** A login, as every front end reads it; the cookie's token itself is never stored, only its hash. */
export interface StoredSession {
  /** Hash of the session token (the cookie holds the token). */
  readonly id: string;
  /** As typed at login. */
  readonly username: string;
  readonly vcenterId: string;
  /** Epoch ms. */
  readonly createdMs: number;
  readonly lastSeenMs: number;
  /** What the person may see (see shared/visibility.ts). */
  readonly scopeId: string;
  /** When vCenter last answered what the person may see, epoch ms. */
  readonly scopeCheckedMs: number;
}

/** Sessions and the scopes they see, shared by every process that serves them. */
export interface SessionStore {
  /** Inserts or replaces a session. */
  saveSession(session: StoredSession): Awaitable<void>;
  session(id: string): Awaitable<StoredSession | null>;
  /** Moves a session's last use forward (never back). */
  touchSession(id: string, lastSeenMs: number): Awaitable<void>;
  /** A session's new scope, checked now. */
  setSessionScope(id: string, scopeId: string, checkedMs: number): Awaitable<void>;
  deleteSession(id: string): Awaitable<void>;
  /**
   * Deletes sessions unused since `idleBeforeMs`, created before `createdBeforeMs`, or whose
   * scope was last checked before `checkedBeforeMs`, then scopes no session uses; returns how
   * many sessions went.
   */
  deleteExpiredSessions(bounds: { readonly idleBeforeMs: number; readonly createdBeforeMs: number; readonly checkedBeforeMs: number }): Awaitable<number>;
  /** Stores a scope (scopes are immutable: an id already stored is left as it is). */
  saveScope(scope: StoredScope): Awaitable<void>;
  scope(id: string): Awaitable<StoredScope | null>;
}

/**
 * One entity's sample state, for a sample store that keeps the samples themselves elsewhere
 * (a Prometheus-compatible engine): what was accepted, and the 5-minute bucket still filling.
 */
export interface EntitySampleState {
  readonly entityId: string;
  readonly kind: EntityKind;
  /** End of the newest realtime sample the samples' store accepted; null before the first. */
  readonly highWaterSec: number | null;
  /** The newest 5-minute bucket (its start), one rollup per metric of the kind in shared/metrics.ts order; null when none. */
  readonly openBucket: { readonly startSec: number; readonly rollups: readonly (Rollup | null)[] } | null;
}

/** Where such a store keeps that state: beside the inventory (SQLite, PostgreSQL). */
export interface SampleStateStore {
  /** The state of each known entity among `entityIds`; unknown ids are absent. */
  sampleStates(entityIds: readonly string[]): Awaitable<ReadonlyMap<string, EntitySampleState>>;
  /** Saves marks and open buckets, all or nothing. A mark never moves back; unknown entities are skipped. */
  saveSampleStates(states: readonly EntitySampleState[]): Awaitable<void>;
  /** Entity id -> high-water mark, for the entities of one vCenter that have one. */
  highWaterMarks(vcenterId: string): Awaitable<ReadonlyMap<string, number>>;
}

/** How many failed logins a key may have within a sliding window. */
export interface LoginFailureWindow {
  /** Failures allowed within `windowMs`; past that, the key waits (at least 1). */
  readonly limit: number;
  readonly windowMs: number;
}

/**
 * Seconds `key` must wait at `nowMs`, given its failures (epoch ms, any order): 0 while fewer
 * than `limit` of them lie within the window (after `nowMs - windowMs`), else until the oldest
 * of its newest `limit` failures leaves the window, rounded up, at least 1. The rule of
 * server/sessions.ts FailureLimiter, for stores that keep failures for several front ends.
 */
export function loginWaitSec(failuresMs: readonly number[], window: LoginFailureWindow, nowMs: number): number {
  const recent = failuresMs.filter((atMs) => atMs > nowMs - window.windowMs).sort((a, b) => a - b);
  if (recent.length < window.limit) return 0;
  const oldest = recent[recent.length - window.limit] ?? nowMs;
  return Math.max(1, Math.ceil((oldest + window.windowMs - nowMs) / 1000));
}

/**
 * The failed-login limiter's state, shared by every front end: failures per key (a client
 * address, a username) in a sliding window. Growth is bounded: a key keeps only its newest
 * `limit` failures within the window, and `pruneLoginFailures` (run from a periodic sweep, as
 * retention is) drops keys that left the window and caps how many keys are kept.
 */
export interface LoginLimiterStore {
  /** Seconds until `key` may try again at `nowMs` (see loginWaitSec); 0 when it may now. */
  loginRetryAfterSec(key: string, window: LoginFailureWindow, nowMs: number): Awaitable<number>;
  /** Records one failure of `key` at `nowMs`. Atomic: failures recorded at once by several front ends all count. */
  recordLoginFailure(key: string, window: LoginFailureWindow, nowMs: number): Awaitable<void>;
  /** Forgets `key`'s failures (a successful login). */
  clearLoginFailures(key: string): Awaitable<void>;
  /**
   * Deletes the keys whose newest failure is at or before `beforeMs` (pass `nowMs - windowMs`),
   * then, past `maxKeys` keys, those that failed least recently; returns how many keys went.
   */
  pruneLoginFailures(beforeMs: number, maxKeys: number): Awaitable<number>;
}

/** Who collects a vCenter, until when. */
export interface CollectorLease {
  readonly vcenterId: string;
  /** The collector holding it (any string unique per collector process, e.g. host name and pid). */
  readonly holderId: string;
  /** When this holder took it, epoch ms (renewals keep it). */
  readonly acquiredMs: number;
  /** When it lapses unless renewed, epoch ms; another holder may take it from then on. */
  readonly expiresMs: number;
}

/**
 * A lease per vCenter, so that two collectors never collect the same vCenter at once. A holder
 * renews its lease well within `ttlSec` (say every third of it) and stops collecting when a
 * renewal answers false; a dead holder's lease lapses after `ttlSec`. Times are the callers'
 * clocks: collectors on several machines need them synchronized (NTP), skew adds to takeover.
 */
export interface CollectorLeaseStore {
  /**
   * Takes the lease of `vcenterId` for `holderId` until `nowMs + ttlSec * 1000`, or renews it.
   * True when this holder holds it now; false while another holder's lease runs
   * (`expiresMs > nowMs`). One atomic step: of two holders asking at once, one at most gets true.
   */
  acquireLease(vcenterId: string, holderId: string, ttlSec: number, nowMs: number): Awaitable<boolean>;
  /** Gives the lease up if `holderId` holds it; another holder's lease is left alone. */
  releaseLease(vcenterId: string, holderId: string): Awaitable<void>;
  /** Every lease stored, lapsed ones included, by vCenter id. */
  leases(): Awaitable<readonly CollectorLease[]>;
}

/**
 * What processes share when vscope runs as several (collectors, front ends): SQLite provides it
 * in one file for one machine, PostgreSQL for many. Samples themselves go to a SampleStore.
 */
export interface SharedStateStore extends InventoryStore, SessionStore, SampleStateStore, LoginLimiterStore, CollectorLeaseStore {}
