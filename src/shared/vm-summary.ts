/**
 * Everything the Capacity and Contention answers read of one VM's series over a window, as
 * summaries that merge (series-summary.ts): the right-sizing inputs and one summary per
 * contention metric, counted against its threshold. The store keeps one per VM and day
 * (store/sqlite/summary-blocks.ts), so a month is about 30 of them instead of 372 two-hour buckets.
 * Pure functions; inputs are never changed.
 */
import type { BucketSeries, TimeWindow } from './bucket-series.ts';
import { contentionMetricKeys, contentionMetrics, contentionSeries, type ContentionMetric } from './insights.ts';
import { emptySummary, mergeSummaries, summarize, type SeriesSummary } from './series-summary.ts';
import { vmUsageSummaries, type VmUsageSummaries } from './vm-rightsizing.ts';

/** The stored VM metrics the summaries read (`summarizeVm` asks `seriesOf` for these only). */
export const summaryMetricKeys: ReadonlySet<string> = new Set([
  'cpuUsagePct',
  'cpuReadyMs',
  'memUsagePct',
  'diskReadKBps',
  'diskWriteKBps',
  'netRxKBps',
  'netTxKBps',
  ...contentionMetricKeys.flatMap((metric) => contentionMetrics[metric].sources),
]);

export interface VmSummaries {
  /** vCPUs the CPU ready figures were divided by: summaries made for another count do not merge. */
  readonly numCpu: number;
  readonly usage: VmUsageSummaries;
  /** Per contention metric; null when a source metric is not stored at all. */
  readonly contention: Readonly<Record<ContentionMetric, SeriesSummary | null>>;
}

/**
 * The summaries of one VM's series over the window. `seriesOf(key)` gives a stored metric's
 * series (undefined when the store does not know it: it then reads as gaps, or as a null
 * contention summary); `empty` is an all-gaps series over the same buckets.
 */
export function summarizeVm(numCpu: number, seriesOf: (key: string) => BucketSeries | undefined, empty: BucketSeries, window: TimeWindow): VmSummaries {
  const of = (key: string): BucketSeries => seriesOf(key) ?? empty;
  const usage = vmUsageSummaries(
    {
      numCpu,
      cpuUsagePct: of('cpuUsagePct'),
      cpuReadyMs: of('cpuReadyMs'),
      memUsagePct: of('memUsagePct'),
      diskReadKBps: of('diskReadKBps'),
      diskWriteKBps: of('diskWriteKBps'),
      netRxKBps: of('netRxKBps'),
      netTxKBps: of('netTxKBps'),
    },
    window,
  );
  const contention = {} as Record<ContentionMetric, SeriesSummary | null>;
  for (const metric of contentionMetricKeys) {
    const series = contentionSeries(metric, seriesOf, numCpu);
    contention[metric] = series === null ? null : summarize(series, window, contentionMetrics[metric].threshold);
  }
  return { numCpu, usage, contention };
}

/** The summaries of two parts of a window that share no bucket (same numCpu), in either order. */
export function mergeVmSummaries(a: VmSummaries, b: VmSummaries): VmSummaries {
  const usage = {} as Record<keyof VmUsageSummaries, SeriesSummary>;
  for (const key of usageKeys) usage[key] = mergeSummaries(a.usage[key], b.usage[key]);
  const contention = {} as Record<ContentionMetric, SeriesSummary | null>;
  for (const metric of contentionMetricKeys) {
    const x = a.contention[metric];
    const y = b.contention[metric];
    contention[metric] = x === null || y === null ? null : mergeSummaries(x, y);
  }
  return { numCpu: a.numCpu, usage, contention };
}

const usageKeys: readonly (keyof VmUsageSummaries)[] = ['cpuUsagePct', 'readyPctPerVcpu', 'memUsagePct', 'diskKBps', 'netKBps'];

/*
 * Stored form: 32-bit floats, 8 per summary (covered s, weighted sum, busiest bucket offset and
 * value, peak bucket offset and value, seconds above by average and by maximum), after the vCPU
 * count; bucket times as seconds after `baseSec` (the day), NaN for none, and a summary of NaNs
 * for a null one. 4 + 10 x 32 = 324 bytes a VM and day.
 */
const fieldsPerSummary = 8;
const summaryKeys = usageKeys.length + contentionMetricKeys.length;

/** 32-bit floats in one VM's stored summaries. */
export const storedSummaryFloats = 1 + summaryKeys * fieldsPerSummary;

/** Writes the summaries' stored form into `out` from `offset` on (`storedSummaryFloats` floats), bucket times relative to `baseSec`. */
export function writeVmSummaries(summaries: VmSummaries, baseSec: number, out: Float32Array, offset: number): void {
  out[offset] = summaries.numCpu;
  const all = [...usageKeys.map((key) => summaries.usage[key]), ...contentionMetricKeys.map((metric) => summaries.contention[metric])];
  all.forEach((summary, i) => {
    const at = offset + 1 + i * fieldsPerSummary;
    if (summary === null) {
      out.fill(Number.NaN, at, at + fieldsPerSummary);
      return;
    }
    out[at] = summary.coveredSec;
    out[at + 1] = summary.weightedSum;
    out[at + 2] = summary.busiest === null ? Number.NaN : summary.busiest.bucketSec - baseSec;
    out[at + 3] = summary.busiest === null ? Number.NaN : summary.busiest.value;
    out[at + 4] = summary.peak === null ? Number.NaN : summary.peak.bucketSec - baseSec;
    out[at + 5] = summary.peak === null ? Number.NaN : summary.peak.value;
    out[at + 6] = summary.aboveSec;
    out[at + 7] = summary.aboveByMaxSec;
  });
}

/** The summaries as bytes (`writeVmSummaries`), bucket times relative to `baseSec` (exact in 32 bits within a week or so). */
export function encodeVmSummaries(summaries: VmSummaries, baseSec: number): Buffer {
  const out = new Float32Array(storedSummaryFloats);
  writeVmSummaries(summaries, baseSec, out, 0);
  return Buffer.from(out.buffer);
}

/**
 * The summaries of `encodeVmSummaries`; values come back as 32-bit floats (7 significant
 * digits, where the API shows thousandths).
 * @throws RangeError when the bytes are not a stored summary
 */
export function decodeVmSummaries(bytes: Uint8Array, baseSec: number): VmSummaries {
  if (bytes.byteLength !== storedSummaryFloats * 4) throw new RangeError(`a VM summary is ${String(storedSummaryFloats * 4)} bytes, not ${String(bytes.byteLength)}`);
  // Copied: a BLOB's bytes need not be 4-byte aligned.
  const values = new Float32Array(new Uint8Array(bytes).buffer);
  const merger = new StoredSummaryMerger(values[0] ?? Number.NaN);
  const decoded = merger.add(values, 0, baseSec) ? merger.result() : null;
  if (decoded === null) throw new RangeError('a VM summary must start with its vCPU count');
  return decoded;
}

/** Whether a bucket's value beats the one kept (NaN time: none kept): higher, or as high and earlier. */
function isHigher(value: number, atSec: number, keptValue: number, keptAtSec: number): boolean {
  return Number.isNaN(keptAtSec) || value > keptValue || (value === keptValue && atSec < keptAtSec);
}

/**
 * Merges the stored summaries (`writeVmSummaries`) of parts of a window that share no bucket,
 * in any order, straight from their floats: as `mergeVmSummaries` of their decoded forms, without
 * making each part's objects (a month of 5,000 VMs is 150,000 of them).
 */
export class StoredSummaryMerger {
  /** Per summary: covered, weighted, busiest at, busiest, peak at, peak, above, above by max. */
  private readonly acc = new Float64Array(summaryKeys * fieldsPerSummary);
  /** Summaries stored as null in some part (a contention source not stored): null merged. */
  private readonly nulls = new Array<boolean>(summaryKeys).fill(false);
  /** Parts merged so far. */
  parts = 0;

  /** @param numCpu the vCPU count the parts must have been made for */
  constructor(readonly numCpu: number) {
    for (let i = 0; i < summaryKeys; i++) {
      this.acc[i * fieldsPerSummary + 2] = Number.NaN;
      this.acc[i * fieldsPerSummary + 4] = Number.NaN;
    }
  }

  /**
   * Adds the part stored in `values` from `offset` on, its bucket times relative to `baseSec`.
   * @returns false, adding nothing, when the part was made for another vCPU count
   */
  add(values: Float32Array, offset: number, baseSec: number): boolean {
    if (values[offset] !== this.numCpu) return false;
    const acc = this.acc;
    for (let i = 0; i < summaryKeys; i++) {
      const at = offset + 1 + i * fieldsPerSummary;
      const to = i * fieldsPerSummary;
      const covered = values[at] ?? Number.NaN;
      if (Number.isNaN(covered)) {
        this.nulls[i] = true;
        continue;
      }
      acc[to] = (acc[to] ?? 0) + covered;
      acc[to + 1] = (acc[to + 1] ?? 0) + (values[at + 1] ?? 0);
      const busiestAt = values[at + 2] ?? Number.NaN;
      const busiest = values[at + 3] ?? Number.NaN;
      // Higher, or as high and earlier: ties go to the earlier bucket, as a series read does.
      if (!Number.isNaN(busiestAt) && isHigher(busiest, baseSec + busiestAt, acc[to + 3] ?? 0, acc[to + 2] ?? Number.NaN)) {
        acc[to + 2] = baseSec + busiestAt;
        acc[to + 3] = busiest;
      }
      const peakAt = values[at + 4] ?? Number.NaN;
      const peak = values[at + 5] ?? Number.NaN;
      if (!Number.isNaN(peakAt) && isHigher(peak, baseSec + peakAt, acc[to + 5] ?? 0, acc[to + 4] ?? Number.NaN)) {
        acc[to + 4] = baseSec + peakAt;
        acc[to + 5] = peak;
      }
      acc[to + 6] = (acc[to + 6] ?? 0) + (values[at + 6] ?? 0);
      acc[to + 7] = (acc[to + 7] ?? 0) + (values[at + 7] ?? 0);
    }
    this.parts++;
    return true;
  }

  /** The merged summaries; null when no part was added. */
  result(): VmSummaries | null {
    if (this.parts === 0) return null;
    const acc = this.acc;
    const summaryAt = (i: number): SeriesSummary => {
      const to = i * fieldsPerSummary;
      const busiestAt = acc[to + 2] ?? Number.NaN;
      const peakAt = acc[to + 4] ?? Number.NaN;
      return {
        coveredSec: acc[to] ?? 0,
        weightedSum: acc[to + 1] ?? 0,
        busiest: Number.isNaN(busiestAt) ? null : { bucketSec: busiestAt, value: acc[to + 3] ?? 0 },
        peak: Number.isNaN(peakAt) ? null : { bucketSec: peakAt, value: acc[to + 5] ?? 0 },
        aboveSec: acc[to + 6] ?? 0,
        aboveByMaxSec: acc[to + 7] ?? 0,
      };
    };
    const usage = {} as Record<keyof VmUsageSummaries, SeriesSummary>;
    // Usage summaries are never stored as null (usage always has one); one would read as empty.
    usageKeys.forEach((key, i) => (usage[key] = this.nulls[i] === true ? emptySummary : summaryAt(i)));
    const contention = {} as Record<ContentionMetric, SeriesSummary | null>;
    contentionMetricKeys.forEach((metric, i) => (contention[metric] = this.nulls[usageKeys.length + i] === true ? null : summaryAt(usageKeys.length + i)));
    return { numCpu: this.numCpu, usage, contention };
  }
}
