/**
 * History import: after a first start or an outage, fills the history tiers from what vCenter
 * still holds in its historical intervals (5 min for a day, 30 min for a week, 2 h for a month,
 * 1 day for a year), and before them the hour of 20-second realtime samples vCenter keeps (a
 * first cycle asks only for the newest ones, so that current figures come at once). All of it
 * goes into empty buckets only (`Store.importHistorical`), in bounded steps run after each
 * cycle's collection so that current data always comes first.
 */
import type { Logger } from 'pino';
import { bucketStart, tierForIntervalSec, tierStepSec, type Tier } from '../shared/tiers.ts';
import { SamplesRefused, type ImportProgress, type SampleBatch, type Store } from '../store/store.ts';
import {
  firstSightSec,
  maxRealtimeSamples,
  metricsAtLevel,
  realtimeIntervalSec,
  realtimeRetentionSec,
  runPerfPlan,
  type PerfTarget,
  type QueryTuning,
  type ResolvedMetrics,
} from './performance.ts';
import type { CollectorClient, HistoricalInterval } from './vsphere-api.ts';

/** The tier the realtime hour goes into on a first start: its 20-second samples as 5-minute buckets. */
const realtimeHourTier: Tier = '5m';

/** Width of the buckets the realtime hour fills, seconds. */
const realtimeHourStepSec = tierStepSec[realtimeHourTier];

/**
 * The QueryPerf time (start exclusive, end inclusive) that splits samples of `intervalSec` at
 * the start of the 5-minute bucket `bucketSec` (`bucketStart` files a sample by its start):
 * those stamped after it are in that bucket or later ones, those at or before it in earlier ones.
 */
export function bucketEdgeSec(bucketSec: number, intervalSec: number): number {
  return bucketSec + intervalSec - 1;
}

/**
 * vCenter's default historical intervals, used when a server lists none. A real vCenter always
 * lists its own (with their statistics level); the simulator lists none but serves every
 * counter for any interval, hence level 4 here.
 */
export const defaultHistoricalIntervals: readonly HistoricalInterval[] = [
  { key: 1, samplingPeriodSec: 300, name: 'Past day', lengthSec: 86400, level: 4, enabled: true },
  { key: 2, samplingPeriodSec: 1800, name: 'Past week', lengthSec: 7 * 86400, level: 4, enabled: true },
  { key: 3, samplingPeriodSec: 7200, name: 'Past month', lengthSec: 30 * 86400, level: 4, enabled: true },
  { key: 4, samplingPeriodSec: 86400, name: 'Past year', lengthSec: 365 * 86400, level: 4, enabled: true },
];

/** The enabled intervals that feed one of vscope's tiers, finest first. */
export function importableIntervals(intervals: readonly HistoricalInterval[]): HistoricalInterval[] {
  const listed = intervals.length > 0 ? intervals : defaultHistoricalIntervals;
  return listed
    .filter((i) => i.enabled && tierForIntervalSec[i.samplingPeriodSec] !== undefined && i.lengthSec > 0)
    .sort((a, b) => a.samplingPeriodSec - b.samplingPeriodSec);
}

/** Samples per query for a whole interval: 288 for a day of 5 min, 336 for a week of 30 min... */
export function historicalMaxSample(interval: HistoricalInterval): number {
  return Math.max(1, Math.ceil(interval.lengthSec / interval.samplingPeriodSec));
}

export interface ImportStepContext {
  readonly client: Pick<CollectorClient, 'queryPerf'>;
  readonly store: Pick<Store, 'importHistorical'>;
  readonly metrics: ResolvedMetrics;
  readonly intervals: readonly HistoricalInterval[];
  readonly nowSec: number;
  readonly tuning: QueryTuning;
  /** Entity ids present in the latest inventory: queued entities gone since are dropped. */
  readonly present: ReadonlySet<string>;
  /** Stop starting new steps after this many milliseconds (at least one step runs). */
  readonly budgetMs: number;
  /** Returns true when the collector is stopping: nothing more is written. */
  readonly abandoned: () => boolean;
  /**
   * Entities with realtime statistics (connected hosts, running VMs): the hour of 20-second
   * samples vCenter keeps is imported first for them, into the 5-minute buckets still empty
   * (a first cycle asks only for the newest samples, see performance.ts `firstSightSec`).
   */
  readonly realtimeIds?: ReadonlySet<string>;
  /** Called after each chunk of entities is imported (the collector shows the progress). */
  readonly onProgress?: () => void;
}

/** The import queue of one vCenter and its progress. */
export class HistoryImporter {
  private readonly queue: PerfTarget[] = [];
  private readonly queued = new Set<string>();
  /** Entity id -> unix seconds its import was queued (an entity is imported once per outage). */
  private readonly lastQueuedSec = new Map<string, number>();
  private done = 0;
  private total = 0;
  private state: ImportProgress['state'] = 'pending';
  /** What the store refused (SamplesRefused), reported once and in the progress. */
  private problem: string | null = null;

  constructor(private readonly log?: Logger) {}

  /**
   * Queues entities whose stored history may have a hole: no high-water mark, or one older than
   * vCenter's realtime hour that moved since their last import (an idle VM whose mark stays
   * old is not imported again every cycle).
   */
  enqueueStale(targets: readonly PerfTarget[], marks: ReadonlyMap<string, number>, nowSec: number, staleAfterSec: number): number {
    const stale = targets.filter((t) => {
      const mark = marks.get(t.entityId);
      if (mark !== undefined && mark >= nowSec - staleAfterSec) return false;
      const queuedAt = this.lastQueuedSec.get(t.entityId);
      return queuedAt === undefined || (mark !== undefined && mark > queuedAt);
    });
    return this.enqueue(stale, nowSec);
  }

  /** Queues entities unconditionally (a restart that interrupted an import). */
  enqueue(targets: readonly PerfTarget[], nowSec: number): number {
    const fresh = targets.filter((t) => !this.queued.has(t.entityId));
    if (fresh.length > 0 && this.queue.length === 0 && this.state !== 'failed') {
      // A new round (a later outage): progress counts this round only.
      this.done = 0;
      this.total = 0;
    }
    let added = 0;
    for (const t of targets) {
      this.lastQueuedSec.set(t.entityId, nowSec);
      if (this.queued.has(t.entityId)) continue;
      this.queued.add(t.entityId);
      this.queue.push(t);
      added += 1;
    }
    this.total += added;
    if (added > 0 && this.state !== 'running') this.state = 'pending';
    return added;
  }

  get pending(): number {
    return this.queue.length;
  }

  progress(): ImportProgress {
    const state = this.queue.length === 0 && this.state !== 'failed' ? 'done' : this.state;
    return { state, entitiesDone: this.done, entitiesTotal: this.total, ...(this.problem === null ? {} : { problem: this.problem }) };
  }

  /** The first 5-minute bucket wholly inside the realtime hour vCenter still keeps at `nowSec`. */
  private realtimeHourStart(nowSec: number): number {
    return Math.ceil((nowSec - realtimeRetentionSec) / realtimeHourStepSec) * realtimeHourStepSec;
  }

  /**
   * The 5-minute bucket from which the cycles store an entity's realtime samples: the cycle that
   * queued it asked only for its newest `firstSightSec` (performance.ts `realtimeWindow`), so the
   * bucket holding the oldest of those; the import fills the buckets before it.
   */
  private storedFrom(t: PerfTarget): number {
    return bucketStart((this.lastQueuedSec.get(t.entityId) ?? Number.POSITIVE_INFINITY) - firstSightSec, realtimeIntervalSec, realtimeHourStepSec);
  }

  /** Stores one answer's samples into `tier`; what the store refuses as too old is reported, never retried. */
  private async land(ctx: ImportStepContext, tier: Tier, batches: SampleBatch[]): Promise<void> {
    if (ctx.abandoned()) throw new Error('collector stopping');
    try {
      await ctx.store.importHistorical(tier, batches);
    } catch (error) {
      // Too old for the store: retrying would loop forever. Said once, shown in the status, skipped.
      if (!(error instanceof SamplesRefused)) throw error;
      if (this.problem === null) this.log?.error({ tier, err: error.message }, 'the samples store refused imported history as too old; that history is skipped');
      this.problem = error.message;
    }
  }

  /** Imports queued entities for up to `budgetMs`; throws (and keeps the queue) when vCenter fails. */
  async step(ctx: ImportStepContext): Promise<void> {
    if (this.queue.length === 0) {
      if (this.total === 0) this.state = 'done';
      return;
    }
    const intervals = importableIntervals(ctx.intervals);
    const started = performance.now();
    const perStep = Math.max(1, ctx.tuning.entitiesPerQuery * Math.max(1, ctx.tuning.concurrency));
    this.state = 'running';
    try {
      do {
        const chunk = this.queue.slice(0, perStep).filter((t) => ctx.present.has(t.entityId));
        const realtime = ctx.realtimeIds ? chunk.filter((t) => ctx.realtimeIds?.has(t.entityId) === true) : [];
        const hourStart = this.realtimeHourStart(ctx.nowSec);
        if (realtime.length > 0) {
          await runPerfPlan(
            ctx.client,
            {
              intervalSec: realtimeIntervalSec,
              targets: realtime,
              metrics: ctx.metrics,
              // The buckets from the hour's start to those the cycles fill.
              window: (t) => {
                const startSec = bucketEdgeSec(hourStart, realtimeIntervalSec);
                const endSec = Math.min(ctx.nowSec, bucketEdgeSec(this.storedFrom(t), realtimeIntervalSec));
                return endSec > startSec ? { startSec, endSec, maxSample: Math.min(maxRealtimeSamples, Math.ceil((endSec - startSec) / realtimeIntervalSec) + 1) } : null;
              },
            },
            ctx.tuning,
            (batches: SampleBatch[]) => this.land(ctx, realtimeHourTier, batches),
            this.log,
          );
        }
        for (const interval of intervals) {
          const tier = tierForIntervalSec[interval.samplingPeriodSec];
          if (tier === undefined || chunk.length === 0) continue;
          const startSec = ctx.nowSec - interval.lengthSec;
          const maxSample = historicalMaxSample(interval);
          // Never past the cycle time: a sample newer than the realtime ones would open a bucket
          // that the next realtime samples then merge into. And where the realtime hour (or the
          // cycles) fill 5-minute buckets, none of those: a bucket written twice is two samples
          // under one timestamp in an engine (VictoriaMetrics keeps both, Prometheus refuses the
          // second when it is its newest).
          const window = (t: PerfTarget): { startSec: number; endSec: number; maxSample: number } | null => {
            if (tier !== realtimeHourTier || ctx.realtimeIds?.has(t.entityId) !== true) return { startSec, endSec: ctx.nowSec, maxSample };
            const endSec = Math.min(ctx.nowSec, bucketEdgeSec(Math.min(hourStart, this.storedFrom(t)), interval.samplingPeriodSec));
            return endSec > startSec ? { startSec, endSec, maxSample } : null;
          };
          await runPerfPlan(
            ctx.client,
            { intervalSec: interval.samplingPeriodSec, targets: chunk, metrics: metricsAtLevel(ctx.metrics, interval.level), window },
            ctx.tuning,
            (batches: SampleBatch[]) => this.land(ctx, tier, batches),
            this.log,
          );
        }
        if (ctx.abandoned()) return;
        // Only now is the chunk done: a failure above leaves it queued for the next cycle.
        const removed = this.queue.splice(0, perStep);
        for (const t of removed) this.queued.delete(t.entityId);
        this.done += removed.length;
        this.log?.info({ done: this.done, total: this.total }, 'history import progress');
        ctx.onProgress?.();
      } while (this.queue.length > 0 && performance.now() - started < ctx.budgetMs);
      this.state = this.queue.length === 0 ? 'done' : 'pending';
      if (this.queue.length === 0) this.log?.info({ entities: this.done, stepMs: Math.round(performance.now() - started) }, 'history import done');
    } catch (error) {
      this.state = 'failed';
      throw error;
    }
  }
}
