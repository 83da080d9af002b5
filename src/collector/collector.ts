/**
 * The collector: one loop per vCenter. Each cycle discovers the inventory, writes every
 * realtime sample since the stored high-water marks, the datastore figures, then takes a
 * bounded step of history import. A failing vCenter (down, slow, refusing the login) fails its
 * own cycle with a logged reason and its cycles are retried with exponential backoff; the
 * others go on. A vCenter that could not be reached at all is probed every interval in the
 * meantime (RetrieveServiceContent, no login): collection resumes within one interval of its
 * return, while only the expensive work backs off.
 */
import type { Logger } from 'pino';
import type { InventorySnapshot } from '../shared/inventory.ts';
import type { CollectionStatus, ImportProgress, SampleBatch, Store } from '../store/store.ts';
import { VsphereClient } from '../vsphere/client.ts';
import { discoverInventory, OnceLogger } from './discovery.ts';
import { HistoryImporter, importableIntervals } from './history-import.ts';
import { InventoryWatch } from './inventory-updates.ts';
import {
  datastoreSpaceBatch,
  datastoreTarget,
  defaultQueryTuning,
  hostTarget,
  metricsAtLevel,
  realtimeIntervalSec,
  realtimeRetentionSec,
  realtimeTargets,
  realtimeWindow,
  resolveMetrics,
  runPerfPlan,
  vmTarget,
  type PerfTarget,
  type QueryTuning,
  type ResolvedMetrics,
} from './performance.ts';
import { TransportError } from '../vsphere/errors.ts';
import type { VcenterLease } from './leases.ts';
import type { CollectorClient, ConnectFn, HistoricalInterval, ProbeFn, VcenterConnection } from './vsphere-api.ts';

export interface VcenterTarget extends VcenterConnection {
  /** vscope's id of this vCenter (config), used in entity ids. */
  readonly id: string;
}

export interface CollectorTuning extends QueryTuning {
  /** Wall time a cycle may spend on history import after its collection, ms. Default: half the interval. */
  readonly importBudgetMs: number;
  /**
   * First retry delay of the cycle after a failed one, seconds; doubles per failure. Default:
   * min(30, interval). While vCenter is unreachable, it is probed every interval in between.
   */
  readonly retryBaseSec: number;
  /** Cap of the cycles' backoff as a multiple of the interval. Default 4. */
  readonly maxBackoffIntervals: number;
  /** Import vCenter's history after a first start or an outage. Default true. */
  readonly importHistory: boolean;
}

export interface CollectorOptions {
  readonly store: Store;
  readonly vcenters: readonly VcenterTarget[];
  /** Cycle period, seconds (default config: 120). */
  readonly intervalSec: number;
  readonly log: Logger;
  /** Clock, unix seconds (may be fractional). Default: the system clock. */
  readonly now?: () => number;
  /** Opens a session; default `VsphereClient.connect`. */
  readonly connect?: ConnectFn;
  /** Whether vCenter answers, without a login; default `VsphereClient.probe`. */
  readonly probe?: ProbeFn;
  readonly tuning?: Partial<CollectorTuning>;
  /** Called whenever `status()` changed (a cycle ended: counts, errors, import progress, next run). */
  readonly onStatusChange?: () => void;
  /**
   * Leases per vCenter when several collectors may run (leases.ts): a cycle runs only while this
   * collector holds its vCenter's lease. Default: none (this collector collects every vCenter).
   */
  readonly lease?: VcenterLease;
  /**
   * How each cycle discovers the inventory: `updates` (default) keeps a property filter per
   * datacenter between cycles and applies its changes (inventory-updates.ts); `pages` reads
   * every object each cycle (discovery.ts), cheaper for a single cycle (`collect --once`).
   */
  readonly discovery?: 'updates' | 'pages';
}

export type CycleCounts = CollectionStatus['counts'];

/** Outcome of one cycle of one vCenter. */
export interface CycleResult {
  readonly vcenterId: string;
  readonly ok: boolean;
  /** Why the cycle failed (never a password); null when ok. */
  readonly error: string | null;
  readonly startSec: number;
  readonly endSec: number;
  readonly durationMs: number;
  readonly counts: CycleCounts;
  readonly import: ImportProgress;
  /** True when another collector holds this vCenter's lease: nothing was collected, nothing stored. */
  readonly standby?: boolean;
}

/** The stored status plus what the scheduler knows. */
export interface CollectorStatus extends CollectionStatus {
  /** Failed cycles in a row. */
  readonly consecutiveFailures: number;
  /**
   * When the next attempt is due, unix seconds: a cycle, or (vCenter unreachable, its cycles
   * backing off) a probe, at most one interval away. Null when not scheduled.
   */
  readonly nextRunSec: number | null;
  /** When the next cycle may run, unix seconds: after failures, the end of the backoff. Null when not scheduled. */
  readonly nextCycleSec: number | null;
}

export interface Collector {
  /** Starts one loop per vCenter; the first cycles run at once. */
  start(): void;
  /** Stops the loops; resolves once no cycle can write any more (running ones are abandoned). */
  stop(): Promise<void>;
  /** Runs one cycle of every vCenter (or of those named) now, after any running one, and returns their outcomes. */
  runOnce(vcenterIds?: readonly string[]): Promise<CycleResult[]>;
  status(): readonly CollectorStatus[];
}

const zeroCounts: CycleCounts = { datacenters: 0, clusters: 0, hosts: 0, vms: 0, datastores: 0, nics: 0, samples: 0 };

/**
 * Delay before the next attempt after `failures` failed cycles in a row, seconds:
 * base, 2 × base, 4 × base... capped at `maxIntervals` × the interval.
 */
export function backoffDelaySec(failures: number, intervalSec: number, baseSec: number, maxIntervals = 4): number {
  if (failures <= 0) return intervalSec;
  return Math.min(baseSec * 2 ** (failures - 1), intervalSec * maxIntervals);
}

class Abandoned extends Error {
  constructor() {
    super('the collector is stopping');
  }
}

/** This collector's lease on the vCenter lapsed during a cycle: the rest is left to whoever holds it now. */
class LeaseLost extends Error {
  constructor() {
    super("the collector's lease on the vCenter lapsed during the cycle");
  }
}

function describe(error: unknown, password: string): string {
  let message = error instanceof Error ? error.message : String(error);
  if (error instanceof Error && error.cause instanceof Error && !message.includes(error.cause.message)) message += ` (${error.cause.message})`;
  // Defence in depth: no message we build holds the password, but a server could echo it.
  if (password.length >= 3) message = message.split(password).join('***');
  return message;
}

function importTargets(snapshot: InventorySnapshot): PerfTarget[] {
  return [
    ...snapshot.hosts.map(hostTarget),
    ...snapshot.vms.filter((vm) => !vm.isTemplate).map(vmTarget),
    ...snapshot.datastores.map(datastoreTarget),
  ];
}

/** Everything one vCenter's loop keeps between cycles. */
class VcenterLoop {
  private client: CollectorClient | null = null;
  private metrics: ResolvedMetrics | null = null;
  private intervals: readonly HistoricalInterval[] = [];
  private readonly once: OnceLogger;
  private readonly importer: HistoryImporter;
  /** Datastore id -> newest 5-minute IO sample already written. */
  private readonly datastoreIoSeen = new Map<string, number>();
  private resumeImport: boolean;
  /** The inventory kept by property-collector updates; null: whole pages each cycle. */
  private readonly watch: InventoryWatch | null;
  private running: Promise<CycleResult> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private nextRunSec: number | null = null;
  private nextCycleSec: number | null = null;
  /** The last cycle failed because vCenter could not be reached (probes can tell when it is back). */
  private unreachable = false;
  private stored: CollectionStatus;
  /** Whether the status a previous run stored has been read (at the first cycle). */
  private restored = false;
  stopped = false;

  constructor(
    readonly target: VcenterTarget,
    private readonly store: Store,
    private readonly intervalSec: number,
    private readonly tuning: CollectorTuning,
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly connect: ConnectFn,
    private readonly probe: ProbeFn,
    private readonly onStatusChange: () => void,
    private readonly lease: VcenterLease | undefined,
    discovery: 'updates' | 'pages',
  ) {
    this.once = new OnceLogger(log);
    this.watch =
      discovery === 'updates' ? new InventoryWatch({ once: this.once, log, ...(target.pageSize === undefined ? {} : { maxObjectUpdates: target.pageSize }) }) : null;
    this.importer = new HistoryImporter(log);
    this.stored = {
      vcenterId: target.id,
      lastStartSec: null,
      lastEndSec: null,
      lastDurationMs: null,
      lastSuccessSec: null,
      lastError: null,
      counts: zeroCounts,
      import: { state: 'pending', entitiesDone: 0, entitiesTotal: 0 },
    };
    this.resumeImport = false;
  }

  /** Takes up the status a previous run stored, once, before the first cycle. */
  private async restore(): Promise<void> {
    if (this.restored) return;
    const previous = (await this.store.statuses()).find((s) => s.vcenterId === this.target.id);
    this.restored = true;
    if (previous === undefined) return;
    this.stored = previous;
    // An import a previous run did not finish is taken up again for every entity (it only fills empty buckets).
    this.resumeImport = previous.import.state !== 'done';
  }

  status(): CollectorStatus {
    return { ...this.stored, consecutiveFailures: this.failures, nextRunSec: this.nextRunSec, nextCycleSec: this.nextCycleSec };
  }

  schedule(delaySec: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.attempt().then(() => this.schedule(Math.max(0, (this.nextRunSec ?? this.now()) - this.now())));
    }, Math.max(0, delaySec * 1000));
  }

  /**
   * A scheduled attempt: the cycle once it is due; before that (its backoff after vCenter could
   * not be reached), a probe, and the cycle at once when vCenter answers again.
   */
  private async attempt(): Promise<void> {
    const due = this.nextCycleSec === null || this.now() >= this.nextCycleSec;
    if (due || !this.unreachable) {
      await this.runCycle();
      return;
    }
    const { url, insecure, caFile } = this.target;
    const back = await this.probe({ url, ...(insecure === undefined ? {} : { insecure }), ...(caFile === undefined ? {} : { caFile }), log: this.log }).then(
      () => true,
      () => false,
    );
    if (this.stopped) return;
    if (back) {
      this.log.info({ url }, 'vCenter answers again; collecting now');
      await this.runCycle();
      return;
    }
    this.nextRunSec = Math.min(this.nextCycleSec ?? Number.POSITIVE_INFINITY, this.now() + this.intervalSec);
    this.onStatusChange();
  }

  /** Runs one cycle, after the running one if any: a cycle never runs twice at once. */
  async runCycle(): Promise<CycleResult> {
    while (this.running) await this.running;
    const cycle = this.restore().then(() => this.cycle());
    this.running = cycle;
    try {
      return await cycle;
    } finally {
      if (this.running === cycle) this.running = null;
    }
  }

  async halt(graceMs: number): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.nextRunSec = null;
    this.nextCycleSec = null;
    const running = this.running;
    if (running) {
      // Writes are gated on `stopped`, so the wait only lets a cycle release its client.
      let graceTimer: NodeJS.Timeout | undefined;
      await Promise.race([running, new Promise((resolve) => (graceTimer = setTimeout(resolve, graceMs)))]);
      clearTimeout(graceTimer);
    }
    // The filters go before the session does (a logout would end them too, a stop by a fault not).
    await this.watch?.close();
    const client = this.client;
    this.client = null;
    if (client) await client.logout();
    await this.lease?.release(this.target.id);
  }

  /** Before every write: not once stopping, nor once the lease lapsed (another collector may hold it). */
  private gate(): void {
    if (this.stopped) throw new Abandoned();
    if (this.leaseLost()) throw new LeaseLost();
  }

  private leaseLost(): boolean {
    return this.lease !== undefined && !this.lease.holds(this.target.id);
  }

  private async ensureClient(): Promise<CollectorClient> {
    if (this.client) return this.client;
    const { url, username, password, insecure, caFile, pageSize } = this.target;
    this.log.debug({ url, username }, 'connecting to vCenter');
    const client = await this.connect({
      url,
      username,
      password,
      ...(insecure === undefined ? {} : { insecure }),
      ...(caFile === undefined ? {} : { caFile }),
      ...(pageSize === undefined ? {} : { pageSize }),
      log: this.log,
    });
    if (this.stopped) {
      await client.logout();
      throw new Abandoned();
    }
    this.client = client;
    this.metrics = null;
    return client;
  }

  private async cycle(): Promise<CycleResult> {
    if (this.lease !== undefined && !this.stopped && !(await this.lease.hold(this.target.id))) return this.standby();
    const startSec = Math.floor(this.now());
    const started = performance.now();
    let counts: CycleCounts = zeroCounts;
    let error: string | null = null;
    let unreachable = false;
    const connecting = { done: false };
    try {
      this.gate();
      counts = await this.collect(connecting, startSec);
      // The status too is written only while the lease holds.
      this.gate();
    } catch (caught) {
      if (caught instanceof LeaseLost && !this.stopped) {
        this.log.warn({ vcenterId: this.target.id }, 'the lease lapsed during the cycle (its renewals did not come back in time): nothing more written; the cycle is left to the holder');
        return this.standby();
      }
      // Not reached at all: refused, reset, unknown host, or no answer to the login's calls (a
      // slow answer to a later call is an overloaded vCenter, whose cycles must back off).
      unreachable = caught instanceof TransportError && (caught.reason === 'unreachable' || (caught.reason === 'timeout' && !connecting.done));
      // Once stopping, whatever failed (a call cut by the logout included) is the stop itself.
      const abandoned = caught instanceof Abandoned || this.stopped;
      error = abandoned ? 'abandoned: the collector stopped during the cycle' : describe(caught, this.target.password);
      if (!abandoned) {
        this.log.warn({ err: error, url: this.target.url }, 'collection cycle failed');
        // A fresh session next time: the old one may be what failed.
        const client = this.client;
        this.client = null;
        if (client) void client.logout();
      }
    }
    const endSec = Math.floor(this.now());
    const durationMs = Math.round(performance.now() - started);
    const ok = error === null;
    this.failures = ok ? 0 : this.failures + 1;
    this.unreachable = !ok && unreachable;
    this.nextCycleSec = ok
      ? Math.max(endSec, startSec + this.intervalSec)
      : endSec + backoffDelaySec(this.failures, this.intervalSec, this.tuning.retryBaseSec, this.tuning.maxBackoffIntervals);
    // Probes fill the backoff of an unreachable vCenter, one per interval.
    this.nextRunSec = this.unreachable ? Math.min(this.nextCycleSec, endSec + this.intervalSec) : this.nextCycleSec;
    const importProgress = this.importer.progress();
    this.stored = {
      vcenterId: this.target.id,
      lastStartSec: startSec,
      lastEndSec: endSec,
      lastDurationMs: durationMs,
      lastSuccessSec: ok ? endSec : this.stored.lastSuccessSec,
      lastError: error,
      counts: ok ? counts : this.stored.counts,
      import: importProgress,
    };
    if (!this.stopped) {
      await this.store.saveStatus(this.stored);
      if (ok) this.log.info({ durationMs, ...counts, import: importProgress }, 'collection cycle done');
    }
    this.onStatusChange();
    return { vcenterId: this.target.id, ok, error, startSec, endSec, durationMs, counts, import: importProgress };
  }

  /** Another collector holds the vCenter: ask again soon, keep no session, store nothing. */
  private async standby(): Promise<CycleResult> {
    const nowSec = Math.floor(this.now());
    await this.watch?.close();
    const client = this.client;
    this.client = null;
    if (client) await client.logout();
    this.nextRunSec = nowSec + (this.lease?.probeSec ?? this.intervalSec);
    this.nextCycleSec = this.nextRunSec;
    this.unreachable = false;
    const holder = (await this.lease?.holder(this.target.id)) ?? 'another collector';
    return {
      vcenterId: this.target.id,
      ok: false,
      standby: true,
      error: `collected by another collector (${holder}) holding its lease`,
      startSec: nowSec,
      endSec: nowSec,
      durationMs: 0,
      counts: zeroCounts,
      import: this.importer.progress(),
    };
  }

  /** One cycle's work (started at `startSec`); `connecting.done` is set once a session is open. */
  private async collect(connecting: { done: boolean }, startSec: number): Promise<CycleCounts> {
    // Wall and CPU time per phase (the CPU of the whole process: in `serve`, other threads' too).
    const phases: Record<string, number> = {};
    const cpuMs: Record<string, number> = {};
    let mark = performance.now();
    let cpuMark = process.cpuUsage();
    const lap = (name: string): void => {
      const t = performance.now();
      const used = process.cpuUsage(cpuMark);
      phases[name] = Math.round(t - mark);
      cpuMs[name] = Math.round((used.user + used.system) / 1000);
      mark = t;
      cpuMark = process.cpuUsage();
    };
    const client = await this.ensureClient();
    connecting.done = true;
    lap('connectMs');
    this.gate();
    const snapshot = this.watch
      ? await this.watch.discover(client, this.target.id, Math.floor(this.now()))
      : await discoverInventory(client, this.target.id, Math.floor(this.now()), { log: this.log, once: this.once });
    lap('discoveryMs');
    this.gate();
    await this.store.saveInventory(snapshot);
    lap('saveInventoryMs');

    if (!this.metrics) {
      this.metrics = resolveMetrics(await client.perfCounters(), this.log);
      this.intervals = await client.historicalIntervals();
      this.gate();
    }
    const metrics = this.metrics;

    // Marks are read before this cycle writes: an old or missing one means a hole to import.
    const marks = await this.store.highWaterMarks(this.target.id);
    const nowSec = Math.floor(this.now());
    const candidates = importTargets(snapshot);
    if (!this.tuning.importHistory) {
      // Nothing queued: the import state stays done.
    } else if (this.resumeImport) {
      this.importer.enqueue(candidates, nowSec);
      this.resumeImport = false;
    } else {
      this.importer.enqueueStale(candidates, marks, nowSec, realtimeRetentionSec);
    }

    const write = async (batches: SampleBatch[]): Promise<void> => {
      this.gate();
      await this.store.writeRealtime(batches);
    };
    const realtime = await runPerfPlan(
      client,
      {
        intervalSec: realtimeIntervalSec,
        targets: realtimeTargets(snapshot),
        metrics,
        // Without a recent mark: the newest samples now, the hour before with the import.
        window: (t) => realtimeWindow(marks.get(t.entityId), nowSec, this.tuning.importHistory),
      },
      this.tuning,
      write,
      this.log,
    );
    lap('realtimeMs');

    const io = await this.datastoreIo(client, snapshot, metrics, nowSec);
    await write(snapshot.datastores.map((ds) => datastoreSpaceBatch(ds, nowSec, io.get(ds.id))));
    lap('datastoresMs');
    const counts: CycleCounts = {
      datacenters: snapshot.datacenters.length,
      clusters: snapshot.clusters.length,
      hosts: snapshot.hosts.length,
      vms: snapshot.vms.length,
      datastores: snapshot.datastores.length,
      nics: snapshot.hosts.reduce((sum, h) => sum + h.nics.length, 0),
      samples: realtime.samples + snapshot.datastores.length,
    };

    if (this.importer.pending > 0) {
      // The dashboard has what it shows now; the history follows, its progress with it.
      this.log.info({ ...counts, import: this.importer.progress() }, 'current figures stored');
      await this.saveProgress(counts, startSec);
      await this.importStep(client, metrics, candidates, realtimeTargets(snapshot), nowSec, () => this.saveProgress(counts, startSec));
    }
    lap('importMs');
    // Once the history is in, the blocks of buckets that can no longer change are summarized
    // for the Capacity and Contention answers (a store that keeps no summaries skips this).
    if (this.importer.pending === 0 && this.store.fillVmSummaries) {
      // One block at a time (up to about a second each at 5,000 VMs), yielding in between so
      // that the lease is renewed, within the import's time budget; the rest comes next cycle.
      const started = performance.now();
      let blocks = 0;
      try {
        for (;;) {
          this.gate();
          if ((await this.store.fillVmSummaries(nowSec, 1)) === 0) break;
          blocks++;
          if (performance.now() - started > this.tuning.importBudgetMs) break;
          await new Promise((resolve) => setImmediate(resolve));
        }
      } catch (error) {
        if (error instanceof Abandoned || error instanceof LeaseLost) throw error;
        this.log.warn({ err: describe(error, this.target.password) }, 'could not summarize the finished blocks of buckets; the insights read their buckets meanwhile');
      }
      if (blocks > 0) this.log.info({ blocks }, 'VM summaries made');
      lap('summariesMs');
    }
    this.log.debug({ ...phases, cpuMs, ...(this.watch?.stats ? { discovery: this.watch.stats } : {}) }, 'collection cycle phases');
    return counts;
  }

  /** Stores the status while a cycle imports history: its collection has succeeded, the import runs. */
  private async saveProgress(counts: CycleCounts, startSec: number): Promise<void> {
    if (this.stopped || this.leaseLost()) return;
    const endSec = Math.floor(this.now());
    this.stored = {
      ...this.stored,
      lastStartSec: startSec,
      lastSuccessSec: endSec,
      lastError: null,
      counts,
      import: { ...this.importer.progress(), state: 'running' },
    };
    await this.store.saveStatus(this.stored);
    this.onStatusChange();
  }

  /**
   * Datastore IO and latency: vCenter keeps those counters in its 5-minute interval only. Each
   * new 5-minute sample is written once, in the datastore's sample of the cycle that first sees
   * it (the average when several arrived), so late rollups are never dropped by the high-water mark.
   */
  private async datastoreIo(
    client: CollectorClient,
    snapshot: InventorySnapshot,
    metrics: ResolvedMetrics,
    nowSec: number,
  ): Promise<Map<string, Record<string, number | null>>> {
    const out = new Map<string, Record<string, number | null>>();
    const fiveMinutes = importableIntervals(this.intervals).find((i) => i.samplingPeriodSec === 300);
    if (!fiveMinutes || snapshot.datastores.length === 0) return out;
    const atLevel = metricsAtLevel(metrics, fiveMinutes.level);
    if (atLevel.datastore.length === 0) return out;
    const batches: SampleBatch[] = [];
    // No per-entity log: a vCenter without datastore statistics is skipped quietly (once noted).
    const { skippedEntities } = await runPerfPlan(
      client,
      {
        intervalSec: 300,
        targets: snapshot.datastores.filter((ds) => ds.accessible).map(datastoreTarget),
        metrics: atLevel,
        window: (t) => {
          const seen = this.datastoreIoSeen.get(t.entityId);
          // First sight: the newest sample only (maxSample 1 returns the most recent one).
          if (seen === undefined) return { startSec: nowSec - 2 * 300, maxSample: 1 };
          const startSec = Math.max(nowSec - 3600, seen);
          return { startSec, maxSample: Math.ceil((nowSec - startSec) / 300) + 1 };
        },
      },
      this.tuning,
      (b) => {
        batches.push(...b);
      },
    );
    if (skippedEntities > 0) {
      this.once.warn('datastore-io', { datastores: skippedEntities }, 'vCenter refused datastore IO statistics; those datastores show space only');
    }
    for (const batch of batches) {
      const seen = this.datastoreIoSeen.get(batch.entityId);
      // First sight: only the newest sample; afterwards every sample newer than the last written.
      const newest = batch.ts[batch.ts.length - 1];
      if (newest === undefined) continue;
      const indices = batch.ts.flatMap((ts, i) => ((seen === undefined ? ts === newest : ts > seen) ? [i] : []));
      if (indices.length === 0) continue;
      const values: Record<string, number | null> = {};
      for (const [key, series] of Object.entries(batch.values)) {
        const present = indices.map((i) => series[i]).filter((v): v is number => typeof v === 'number');
        values[key] = present.length === 0 ? null : present.reduce((a, b) => a + b, 0) / present.length;
      }
      out.set(batch.entityId, values);
      this.datastoreIoSeen.set(batch.entityId, newest);
    }
    return out;
  }

  private async importStep(
    client: CollectorClient,
    metrics: ResolvedMetrics,
    candidates: readonly PerfTarget[],
    realtime: readonly PerfTarget[],
    nowSec: number,
    onProgress: () => Promise<void>,
  ): Promise<void> {
    if (this.importer.pending === 0) return;
    // Progress is saved between chunks; a failed save is logged, never fails the import.
    let saving: Promise<void> = Promise.resolve();
    try {
      await this.importer.step({
        client,
        store: this.store,
        metrics,
        intervals: this.intervals,
        nowSec,
        tuning: this.tuning,
        present: new Set(candidates.map((t) => t.entityId)),
        budgetMs: this.tuning.importBudgetMs,
        abandoned: () => this.stopped || this.leaseLost(),
        realtimeIds: new Set(realtime.map((t) => t.entityId)),
        onProgress: () => {
          saving = saving.then(onProgress).catch((error: unknown) => this.log.warn({ err: describe(error, this.target.password) }, 'could not store the import progress'));
        },
      });
      await saving;
    } catch (caught) {
      if (this.stopped) throw new Abandoned();
      if (this.leaseLost()) throw new LeaseLost();
      // The collection itself succeeded: the import retries its chunk next cycle.
      this.log.warn({ err: describe(caught, this.target.password) }, 'history import step failed; retrying next cycle');
    }
  }
}

/** The tuning a collector runs with: the defaults for `intervalSec`, then what `tuning` sets. */
export function resolveTuning(intervalSec: number, tuning: Partial<CollectorTuning> = {}): CollectorTuning {
  return {
    ...defaultQueryTuning,
    importBudgetMs: (intervalSec * 1000) / 2,
    retryBaseSec: Math.min(30, intervalSec),
    maxBackoffIntervals: 4,
    importHistory: true,
    ...tuning,
  };
}

/** Builds the collector; nothing runs before `start()` or `runOnce()`. */
export function createCollector(options: CollectorOptions): Collector {
  const intervalSec = Math.max(1, options.intervalSec);
  const tuning = resolveTuning(intervalSec, options.tuning);
  const now = options.now ?? ((): number => Date.now() / 1000);
  const connect: ConnectFn = options.connect ?? ((o) => VsphereClient.connect(o));
  const probe: ProbeFn = options.probe ?? ((o) => VsphereClient.probe(o));
  const onStatusChange = options.onStatusChange ?? ((): void => undefined);
  const loops = options.vcenters.map(
    (target) =>
      new VcenterLoop(
        target,
        options.store,
        intervalSec,
        tuning,
        options.log.child({ vcenter: target.id }),
        now,
        connect,
        probe,
        onStatusChange,
        options.lease,
        options.discovery ?? 'updates',
      ),
  );
  let started = false;

  return {
    start(): void {
      if (started) return;
      started = true;
      for (const loop of loops) loop.schedule(0);
    },
    async stop(): Promise<void> {
      await Promise.all(loops.map((loop) => loop.halt(5000)));
    },
    async runOnce(vcenterIds?: readonly string[]): Promise<CycleResult[]> {
      return Promise.all(loops.filter((loop) => vcenterIds === undefined || vcenterIds.includes(loop.target.id)).map((loop) => loop.runCycle()));
    },
    status(): readonly CollectorStatus[] {
      return loops.map((loop) => loop.status());
    },
  };
}

export interface CollectOnceOptions extends Omit<CollectorOptions, 'intervalSec'> {
  /** Recorded for the backoff only; default 120. */
  readonly intervalSec?: number;
  /** How long to wait for a vCenter whose lease another collector holds, seconds (default 0: not at all). */
  readonly leaseWaitSec?: number;
}

/**
 * `vscope collect --once`: one full cycle per vCenter, including the whole history import,
 * then logs out. Never throws for a vCenter's failure: each result says ok or why not. A
 * vCenter another collector holds is asked again every `lease.probeSec` for `leaseWaitSec`.
 */
export async function runCollectOnce(options: CollectOnceOptions): Promise<CycleResult[]> {
  const collector = createCollector({
    ...options,
    intervalSec: options.intervalSec ?? 120,
    // One cycle: whole pages, read by the fast plain reader (bench/RESULTS.md, issue 12).
    discovery: options.discovery ?? 'pages',
    tuning: { importBudgetMs: Number.POSITIVE_INFINITY, ...options.tuning },
  });
  try {
    const deadlineMs = Date.now() + (options.leaseWaitSec ?? 0) * 1000;
    let results = await collector.runOnce();
    // Another collector holds some vCenter: its lease lapses if its holder is gone.
    while (results.some((result) => result.standby === true) && Date.now() < deadlineMs) {
      await new Promise((resolve) => setTimeout(resolve, (options.lease?.probeSec ?? 10) * 1000));
      const again = await collector.runOnce(results.filter((result) => result.standby === true).map((result) => result.vcenterId));
      results = results.map((result) => again.find((next) => next.vcenterId === result.vcenterId) ?? result);
    }
    return results;
  } finally {
    await collector.stop();
  }
}
