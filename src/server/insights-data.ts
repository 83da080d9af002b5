/**
 * What the Capacity and Contention answers read from the store, and how it is kept between
 * requests.
 *
 * The cost is in the VMs: a month of 2-hour buckets is 372 rows per VM, 1.9 million rows for
 * 5,000 VMs (about 4 ms per VM read one at a time on the benchmark machine,
 * bench/insights-bench.ts). So a VM's figures are merged from summaries (vm-summary.ts): the
 * store's block summaries (an hour for a day, a day for a week or a month) for the window's
 * whole blocks, where it keeps them (SQLite), and the summaries of the partial blocks' buckets,
 * made by the store for many VMs at once (`summariesOf`). Holding those series for every VM would take
 * hundreds of MB, so what is kept is each VM's analysis (right-sizing hints, contention
 * figures per metric: a few hundred bytes), computed over the period's complete buckets
 * (insights.ts `completeWindow`), which no longer change. A VM is read again only when its
 * analysis key changes:
 *   - the window moves on (every bucket width: 5 min for a day, 30 min for a week, 2 h for a
 *     month), or the store's history version moves (a history import; retention runs bump it
 *     too, hourly);
 *   - realtime writes may still reach a bucket of the window (the VM's high-water mark is less
 *     than 5 minutes past the window's end: a VM just collected again after an outage);
 *   - its vCPUs or power state changed, or it is new.
 * When many VMs must be read again and an older analysis exists, the older one answers at once
 * (it says which window it covers) while the new one is built in the background, reading VMs in
 * chunks and yielding to the event loop between them; with none yet, the request waits.
 *
 * Hosts and datastores are few (one per 50 VMs, one per 250): their series over the current
 * window, the bucket still filling included, are read on each answer, with their final buckets
 * kept (`FinalBucketCache`), so that only the newest buckets are read again.
 */
import { setTimeout as delay, setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { BucketSeries, TimeWindow } from '../shared/bucket-series.ts';
import { measureSummary, type ContentionMeasure } from '../shared/contention.ts';
import {
  completeWindow,
  contentionMetricKeys,
  type AnalysisProgress,
  type BucketWindow,
  type ContentionMetric,
  type InsightsPeriod,
} from '../shared/insights.ts';
import { vmRightSizingOf, type VmRightSizing } from '../shared/vm-rightsizing.ts';
import { mergeVmSummaries, summarizeVm, summaryMetricKeys, type VmSummaries } from '../shared/vm-summary.ts';
import { tierStepSec, type Tier } from '../shared/tiers.ts';
import { firstOpenBucketSec, maxRealtimeIntervalSec, type MergedBlocks, type SeriesData, type Store, type StoredVm } from '../store/store.ts';

/** The VM metrics the analyses read: what their summaries need (vm-summary.ts). */
export const vmAnalysisMetrics: readonly string[] = [...summaryMetricKeys];

/** One VM's figures over a window. */
export interface VmAnalysis {
  /** What the figures depend on (see the file comment); a different key means read again. */
  readonly key: string;
  /** Share of the window with CPU usage figures, percent. */
  readonly coveragePct: number;
  readonly rightSizing: VmRightSizing;
  /** Per contention metric; null when the VM has no value of it in the window. */
  readonly contention: Readonly<Record<ContentionMetric, ContentionMeasure | null>>;
}

/** The analyses of a datacenter's VMs over one window. */
export interface VmAnalyses {
  readonly window: BucketWindow;
  readonly byVm: ReadonlyMap<string, VmAnalysis>;
}

/** Columns of one metric, as the analyses read them. */
function bucketSeriesOf(data: SeriesData, metric: string): BucketSeries | undefined {
  const found = data.series.find((series) => series.metric === metric);
  return found && { stepSec: data.stepSec, ts: data.ts, avg: found.avg, max: found.max };
}

/** The summaries of one VM's series over the window (vm-summary.ts). */
export function summarizeVmData(numCpu: number, data: SeriesData, window: TimeWindow): VmSummaries {
  const empty: BucketSeries = { stepSec: data.stepSec, ts: data.ts, avg: data.ts.map(() => null), max: data.ts.map(() => null) };
  return summarizeVm(numCpu, (metric) => bucketSeriesOf(data, metric), empty, window);
}

/** The analysis of one VM from its series over the window. */
export function analyseVm(vm: StoredVm, data: SeriesData, window: TimeWindow, key: string): VmAnalysis {
  return analysisOf(vm, summarizeVmData(vm.numCpu, data, window), window, data.stepSec, key);
}

/** The analysis of one VM from the summaries of its series over the window (`stepSec`: their buckets' width). */
export function analysisOf(vm: StoredVm, summaries: VmSummaries, window: TimeWindow, stepSec: number, key: string): VmAnalysis {
  const spanSec = window.toSec - window.fromSec;
  const rightSizing = vmRightSizingOf({ vmId: vm.id, powerState: vm.powerState, numCpu: vm.numCpu, memoryMB: vm.memoryMB }, summaries.usage, window, stepSec);
  const contention = {} as Record<ContentionMetric, ContentionMeasure | null>;
  const place = { vmId: vm.id, hostId: vm.hostId, datastoreIds: vm.datastoreIds };
  for (const metric of contentionMetricKeys) {
    const summary = summaries.contention[metric];
    contention[metric] = summary === null ? null : measureSummary(place, summary);
  }
  return { key, coveragePct: spanSec > 0 ? (summaries.usage.cpuUsagePct.coveredSec / spanSec) * 100 : 0, rightSizing, contention };
}

export interface InsightsDataOptions {
  readonly log?: Logger;
  /**
   * VMs read per chunk before yielding to the event loop (and at once, for a store across the
   * network). Default: 100 with a store that summarizes buckets itself (each chunk's partial
   * blocks in one statement, about 20 ms of a cold month on the benchmark machine), else 10.
   */
  readonly chunk?: number;
  /** At most this many VMs are read again while the request waits when an older analysis exists; more: in the background. Default 200. */
  readonly inlineLimit?: number;
  /**
   * How long a request waits for analyses that do not exist yet, ms (default 1500): past it,
   * the answer says how far the reading is (`progress`) and the reading goes on, so that a
   * first look at 5,000 VMs is not a request hanging for tens of seconds.
   */
  readonly waitMs?: number;
}


/**
 * What `analyses` gives: the analyses (null while the first ones are being read), whether they
 * hold every VM's current figures (else an answer built on them is not kept), and the progress
 * of a refresh still running.
 */
export interface AnalysesAnswer {
  readonly analyses: VmAnalyses | null;
  readonly complete: boolean;
  readonly progress: AnalysisProgress | null;
}

interface Slot {
  current: VmAnalyses | null;
  refreshing: Promise<VmAnalyses> | null;
  progress: { vmsRead: number; vmsToRead: number };
}

/** The VM analyses of each datacenter and period, kept and refreshed as the file comment says. */
export class VmAnalysisCache {
  private readonly slots = new Map<string, Slot>();
  private readonly chunk: number;
  private readonly inlineLimit: number;
  private readonly waitMs: number;
  /** How answers were made, for tests and the benchmark: VMs read, background refreshes started. */
  readonly stats = { vmsRead: 0, backgroundRefreshes: 0 };

  constructor(
    private readonly store: Store,
    private readonly options: InsightsDataOptions = {},
  ) {
    this.chunk = Math.max(1, options.chunk ?? (store.vmSummariesOf === undefined ? 10 : 100));
    this.inlineLimit = options.inlineLimit ?? 200;
    this.waitMs = options.waitMs ?? 1500;
  }

  /**
   * The analyses of these VMs (a datacenter's, templates aside) over the period's complete
   * window at `nowSec`, or an older window's while a refresh runs, or none yet with the
   * progress of the first reading (see the file comment and `AnalysesAnswer`).
   * @param vcenterId whose high-water marks say which VMs' buckets are final
   */
  async analyses(vcenterId: string, datacenterId: string, period: InsightsPeriod, vms: readonly StoredVm[], nowSec: number): Promise<AnalysesAnswer> {
    const slotKey = `${datacenterId} ${period}`;
    let slot = this.slots.get(slotKey);
    if (slot === undefined) {
      slot = { current: null, refreshing: null, progress: { vmsRead: 0, vmsToRead: 0 } };
      this.slots.set(slotKey, slot);
    }
    const window = completeWindow(period, nowSec, maxRealtimeIntervalSec);
    const keys = await this.keysOf(vcenterId, vms, window);
    const current = slot.current;
    const stale = vms.filter((vm) => current?.byVm.get(vm.id)?.key !== keys.get(vm.id));
    const gone = current !== null && [...current.byVm.keys()].some((id) => !keys.has(id));
    if (current !== null && stale.length === 0 && !gone && current.window.toSec === window.toSec) return { analyses: current, complete: true, progress: null };
    let running = slot.refreshing;
    const startedHere = running === null;
    if (running === null) {
      running = this.refresh(slot, vms, window, keys, stale);
      // Settled by whoever awaits it below, or logged here when nobody does.
      running.catch((error: unknown) => this.options.log?.warn({ err: error, datacenterId, period }, 'VM analyses refresh failed'));
      if (current !== null && stale.length > this.inlineLimit) this.stats.backgroundRefreshes++;
    }
    const progress = (): AnalysisProgress => ({ ...slot.progress });
    if (current !== null && (!startedHere || stale.length > this.inlineLimit)) return { analyses: current, complete: false, progress: progress() };
    const timer = new AbortController();
    const done = await Promise.race([running, delay(this.waitMs, null, { signal: timer.signal }).catch(() => null)]);
    timer.abort();
    if (done === null) return { analyses: current, complete: false, progress: progress() };
    return { analyses: done, complete: startedHere, progress: null };
  }

  /**
   * Per VM, the merge of the store's block summaries within the window, consecutive from its
   * first whole block (made for the VM's current vCPU count), read for all these VMs at once: a
   * store keeps all VMs' summaries of a block together (empty without block summaries).
   */
  private async mergedBlocksOf(vms: readonly StoredVm[], window: BucketWindow): Promise<ReadonlyMap<string, MergedBlocks>> {
    if (this.store.mergedVmSummariesOf === undefined || vms.length === 0) return new Map();
    return await this.store.mergedVmSummariesOf(window.tier, window.fromSec, window.toSec, vms);
  }

  /**
   * The summaries of these VMs' series over the window: their merged block summaries
   * (`mergedBlocksOf`) and the buckets of the rest (the window's partial first and last blocks,
   * and the blocks after the first one without a summary), summarized by the store when it can.
   */
  private async summariesOf(vms: readonly StoredVm[], window: BucketWindow, mergedBlocks: ReadonlyMap<string, MergedBlocks>): Promise<VmSummaries[]> {
    // Per VM: the ranges whose buckets are read (without block summaries the whole window; else
    // the partial first block and what follows the blocks merged), and the blocks' summaries.
    const plans = vms.map((vm) => {
      const run = mergedBlocks.get(vm.id);
      const ranges: TimeWindow[] = (
        run === undefined ? [{ fromSec: window.fromSec, toSec: window.toSec }] : [{ fromSec: window.fromSec, toSec: run.fromSec }, { fromSec: run.endSec, toSec: window.toSec }]
      ).filter((range) => range.toSec > range.fromSec);
      return { vm, ranges, blocks: run?.summaries ?? null };
    });
    // VMs with the same ranges are read at once when the store can (one statement for all ranges).
    const rangesKey = (ranges: readonly TimeWindow[]): string => ranges.map((range) => `${String(range.fromSec)}-${String(range.toSec)}`).join(' ');
    const groups = new Map<string, { ranges: readonly TimeWindow[]; vms: StoredVm[] }>();
    for (const { vm, ranges } of plans) {
      if (ranges.length === 0) continue;
      const group = groups.get(rangesKey(ranges)) ?? { ranges, vms: [] };
      group.vms.push(vm);
      groups.set(rangesKey(ranges), group);
    }
    // What a VM the store did not answer for reads as: gaps in every metric.
    const gaps: SeriesData = { stepSec: window.stepSec, ts: [], series: vmAnalysisMetrics.map((metric) => ({ metric, avg: [], min: [], max: [] })) };
    const read = new Map<string, VmSummaries>();
    for (const { ranges, vms: group } of groups.values()) {
      if (this.store.vmSummariesOf) {
        for (const [id, summaries] of await this.store.vmSummariesOf(window.tier, ranges, group)) read.set(id, summaries);
        continue;
      }
      // A store across the network: the chunk's VMs at once, a series per range.
      await Promise.all(
        group.map(async (vm) => {
          const parts = await Promise.all(
            ranges.map(async (range) => summarizeVmData(vm.numCpu, await this.store.series({ entityId: vm.id, tier: window.tier, fromSec: range.fromSec, toSec: range.toSec - window.stepSec, metrics: vmAnalysisMetrics }), window)),
          );
          read.set(vm.id, parts.reduce((merged, part) => mergeVmSummaries(merged, part)));
        }),
      );
    }
    // Summaries of parts that share no bucket merge in any order (vm-summary.ts).
    return plans.map(({ vm, ranges, blocks }) => {
      if (ranges.length === 0 && blocks !== null) return blocks;
      const buckets = read.get(vm.id) ?? summarizeVmData(vm.numCpu, gaps, window);
      return blocks === null ? buckets : mergeVmSummaries(blocks, buckets);
    });
  }

  private refresh(slot: Slot, vms: readonly StoredVm[], window: BucketWindow, keys: ReadonlyMap<string, string>, stale: readonly StoredVm[]): Promise<VmAnalyses> {
    const build = async (): Promise<VmAnalyses> => {
      const byVm = new Map<string, VmAnalysis>();
      const previous = slot.current?.byVm;
      for (const vm of vms) {
        const kept = previous?.get(vm.id);
        if (kept !== undefined && kept.key === keys.get(vm.id)) byVm.set(vm.id, kept);
      }
      slot.progress = { vmsRead: 0, vmsToRead: stale.length };
      const mergedBlocks = await this.mergedBlocksOf(stale, window);
      for (let start = 0; start < stale.length; start += this.chunk) {
        const part = stale.slice(start, start + this.chunk);
        const read = await this.summariesOf(part, window, mergedBlocks);
        read.forEach((summaries, index) => {
          const vm = part[index];
          if (vm !== undefined) byVm.set(vm.id, analysisOf(vm, summaries, window, window.stepSec, keys.get(vm.id) ?? ''));
        });
        this.stats.vmsRead += part.length;
        slot.progress = { vmsRead: start + part.length, vmsToRead: stale.length };
        // A synchronous store (SQLite) reads on this thread: let other requests through.
        if (start + this.chunk < stale.length) await yieldToEventLoop();
      }
      return { window, byVm };
    };
    const running = build().then(
      (built) => {
        slot.current = built;
        slot.refreshing = null;
        return built;
      },
      (error: unknown) => {
        slot.refreshing = null;
        throw error;
      },
    );
    slot.refreshing = running;
    return running;
  }

  /**
   * Each VM's analysis key over the window (see the file comment), from the vCenter's
   * high-water marks (one query) and the store's history version.
   */
  private async keysOf(vcenterId: string, vms: readonly StoredVm[], window: BucketWindow): Promise<Map<string, string>> {
    const keys = new Map<string, string>();
    const first = vms[0];
    const watermark = first === undefined ? null : await this.store.seriesWatermark?.(first.id);
    // Without watermarks (a store that cannot say which buckets are final), the data version
    // stands in: every write then means reading again.
    const marks = watermark === undefined || watermark === null ? null : await this.store.highWaterMarks(vcenterId);
    const version = marks === null ? `v${String(await this.store.dataVersion?.())}` : null;
    for (const vm of vms) {
      let data = version ?? '';
      if (marks !== null && watermark !== null && watermark !== undefined) {
        const highWaterSec = marks.get(vm.id) ?? null;
        const final = firstOpenBucketSec({ historyVersion: watermark.historyVersion, highWaterSec }, window.stepSec) >= window.toSec;
        data = `${String(watermark.historyVersion)} ${final ? 'final' : String(highWaterSec)}`;
      }
      keys.set(vm.id, `${String(window.fromSec)} ${String(window.toSec)} ${data} ${String(vm.numCpu)} ${vm.powerState}`);
    }
    return keys;
  }
}

/** One entity's final buckets of some metrics, kept (see `FinalBucketCache`). */
interface FinalEntry {
  readonly historyVersion: number;
  /** Buckets kept: those starting in [fromSec, endSec). */
  readonly fromSec: number;
  readonly endSec: number;
  readonly data: SeriesData;
}

/** Columns of `data` for the buckets starting in [fromSec, toSec) (bucket starts, step-aligned). */
function sliceSeries(data: SeriesData, fromSec: number, toSec: number): SeriesData {
  const first = data.ts.findIndex((ts) => ts >= fromSec);
  const start = first < 0 ? data.ts.length : first;
  let end = start;
  while (end < data.ts.length && (data.ts[end] ?? Number.POSITIVE_INFINITY) < toSec) end++;
  return {
    stepSec: data.stepSec,
    ts: data.ts.slice(start, end),
    series: data.series.map((series) => ({ metric: series.metric, avg: series.avg.slice(start, end), min: series.min.slice(start, end), max: series.max.slice(start, end) })),
  };
}

/** Two column sets of the same metrics, the second after the first. */
function joinSeries(first: SeriesData, second: SeriesData): SeriesData {
  return {
    stepSec: first.stepSec,
    ts: [...first.ts, ...second.ts],
    series: first.series.map((series, index) => {
      const after = second.series[index];
      return {
        metric: series.metric,
        avg: [...series.avg, ...(after?.avg ?? [])],
        min: [...series.min, ...(after?.min ?? [])],
        max: [...series.max, ...(after?.max ?? [])],
      };
    }),
  };
}

/**
 * Series of a few entities (hosts, datastores) over a window that moves with the clock, their
 * final buckets kept between answers (store.ts `firstOpenBucketSec`): each answer reads only the
 * buckets after them. The same columns as `store.series` would give.
 */
export class FinalBucketCache {
  private readonly entries = new Map<string, FinalEntry>();

  constructor(
    private readonly store: Store,
    /** Entities kept at most; the least recently used go first. */
    private readonly maxEntries = 2000,
  ) {}

  /** Buckets of `tier` starting in [fromSec, toSec) (both step-aligned). */
  async series(entityId: string, tier: Tier, metrics: readonly string[], fromSec: number, toSec: number): Promise<SeriesData> {
    const stepSec = tierStepSec[tier];
    const read = async (from: number, to: number): Promise<SeriesData> =>
      from >= to
        ? { stepSec, ts: [], series: metrics.map((metric) => ({ metric, avg: [], min: [], max: [] })) }
        : await this.store.series({ entityId, tier, fromSec: from, toSec: to - stepSec, metrics });
    const watermark = await this.store.seriesWatermark?.(entityId);
    if (watermark === undefined || watermark === null) return read(fromSec, toSec);
    const key = `${entityId} ${tier} ${metrics.join(',')}`;
    const finalEndSec = Math.max(fromSec, Math.min(toSec, firstOpenBucketSec(watermark, stepSec)));
    const kept = this.entries.get(key);
    this.entries.delete(key);
    let finalPart: SeriesData;
    if (kept !== undefined && kept.historyVersion === watermark.historyVersion && kept.fromSec <= fromSec && kept.endSec >= fromSec && kept.endSec <= finalEndSec) {
      finalPart = kept.endSec === finalEndSec ? kept.data : joinSeries(kept.data, await read(kept.endSec, finalEndSec));
      finalPart = sliceSeries(finalPart, fromSec, finalEndSec);
    } else {
      finalPart = await read(fromSec, finalEndSec);
    }
    this.entries.set(key, { historyVersion: watermark.historyVersion, fromSec, endSec: finalEndSec, data: finalPart });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
    return finalEndSec >= toSec ? finalPart : joinSeries(finalPart, await read(finalEndSec, toSec));
  }
}
