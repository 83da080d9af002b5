/**
 * What the Capacity, Contention and Compare answers share between the server and the UI: their
 * periods and bucket windows, the metrics the Contention finder ranks (with thresholds and
 * units), the graph range a contention row links to, and how figures are rounded for the API.
 * Pure functions; time is passed in.
 */
import { sumSeries, type BucketSeries } from './bucket-series.ts';
import { cpuReadyPctPerVcpuSeries } from './contention.ts';
import { cpuReadyHealth, type MetricUnit } from './metrics.ts';
import { periodSec, tierForPeriod, tierRetentionSec, tierStepSec, type Tier } from './tiers.ts';

/** Periods the insights look back over (a year of daily buckets says little about contention). */
export const insightsPeriods = ['day', 'week', 'month'] as const;
export type InsightsPeriod = (typeof insightsPeriods)[number];

/** The buckets an answer's figures come from: those of `tier` starting in `[fromSec, toSec)`. */
export interface BucketWindow {
  readonly tier: Tier;
  readonly stepSec: number;
  /** Start of the first bucket, unix seconds. */
  readonly fromSec: number;
  /** End of the window (exclusive), unix seconds. */
  readonly toSec: number;
}

/** How far the reading of a datacenter's VMs for an answer is: VMs read of those to read. */
export interface AnalysisProgress {
  readonly vmsRead: number;
  readonly vmsToRead: number;
}

const alignDown = (sec: number, stepSec: number): number => Math.floor(sec / stepSec) * stepSec;

/**
 * The period's buckets up to and with the one still filling, as the graphs show them: from the
 * bucket holding `nowSec - period` to the end of the bucket holding `nowSec`.
 */
export function currentWindow(period: InsightsPeriod, nowSec: number): BucketWindow {
  const tier = tierForPeriod[period];
  const stepSec = tierStepSec[tier];
  return { tier, stepSec, fromSec: alignDown(nowSec - periodSec[period], stepSec), toSec: alignDown(nowSec, stepSec) + stepSec };
}

/**
 * The period's complete buckets: those that ended at least `settleSec` before `nowSec`, over the
 * period before that. VM analyses use it: a realtime sample lasts at most 5 minutes (store.ts
 * `maxRealtimeIntervalSec`), so a bucket that ended that long ago no longer changes, and
 * thousands of VMs' figures can be kept until the next bucket completes instead of being read
 * again after every collection cycle.
 * @param settleSec how long after its end a bucket may still change (the caller's store says)
 */
export function completeWindow(period: InsightsPeriod, nowSec: number, settleSec: number): BucketWindow {
  const current = currentWindow(period, nowSec - settleSec);
  return { ...current, toSec: current.toSec - current.stepSec };
}

/** Metrics the Contention finder ranks. */
export const contentionMetricKeys = ['cpuReady', 'diskLatency', 'balloon', 'swap', 'netDrops'] as const;
export type ContentionMetric = (typeof contentionMetricKeys)[number];

export interface ContentionMetricDef {
  readonly label: string;
  /** Unit of the ranked values and of the threshold. */
  readonly unit: MetricUnit;
  /** A bucket is above it when its value is strictly greater. */
  readonly threshold: number;
  /** Why that threshold, in a few words (shown beside the ranking). */
  readonly thresholdNote: string;
  /** The stored VM metrics it is computed from (shared/metrics.ts keys). */
  readonly sources: readonly string[];
  /** vCenter counters behind them, for the "not collected" explanation. */
  readonly counters: readonly string[];
}

export const contentionMetrics: Readonly<Record<ContentionMetric, ContentionMetricDef>> = {
  cpuReady: {
    label: 'CPU ready per vCPU',
    unit: 'percent',
    threshold: 5,
    thresholdNote: 'over 5 % per vCPU is worth a look, over 10 % is contention',
    sources: ['cpuReadyMs'],
    counters: ['cpu.ready.summation'],
  },
  diskLatency: {
    label: 'Highest disk latency',
    unit: 'ms',
    threshold: 20,
    thresholdNote: 'sustained latency over 20 ms is felt by most applications',
    sources: ['diskMaxLatencyMs'],
    counters: ['disk.maxTotalLatency.latest'],
  },
  balloon: {
    label: 'Memory ballooned',
    unit: 'MB',
    threshold: 0,
    thresholdNote: 'any ballooning means the host reclaimed guest memory',
    sources: ['memBalloonedMB'],
    counters: ['mem.vmmemctl.average'],
  },
  swap: {
    label: 'Memory swap-in rate',
    unit: 'KBps',
    threshold: 0,
    thresholdNote: 'any swap-in means the guest waited for memory read back from disk',
    sources: ['memSwapInKBps'],
    counters: ['mem.swapinRate.average'],
  },
  netDrops: {
    label: 'Packets dropped (received + transmitted)',
    unit: 'pps',
    threshold: 0,
    thresholdNote: 'any drop means a queue overflowed on the way',
    sources: ['netRxDroppedPps', 'netTxDroppedPps'],
    counters: ['net.droppedRx.summation', 'net.droppedTx.summation'],
  },
};

/**
 * Health colour of a ranked value: CPU ready as everywhere (metrics.ts `cpuReadyHealth`); disk
 * latency up to the threshold ok, up to 2.5 times it (50 ms) a warning, past that critical;
 * ballooning, swapping and drops a warning as soon as there are any.
 */
export function contentionHealth(metric: ContentionMetric, value: number | null): 'ok' | 'warning' | 'critical' | 'unknown' {
  if (value === null || !Number.isFinite(value)) return 'unknown';
  const { threshold } = contentionMetrics[metric];
  switch (metric) {
    case 'cpuReady':
      return cpuReadyHealth(value);
    case 'diskLatency':
      return value > 2.5 * threshold ? 'critical' : value > threshold ? 'warning' : 'ok';
    default:
      return value > threshold ? 'warning' : 'ok';
  }
}

/**
 * The series a VM is ranked on, from its stored series (`seriesOf(key)`, undefined when not
 * read): CPU ready as percent per vCPU, received and transmitted drops summed (a bucket missing
 * either is a gap), the others as stored. Null when a source is missing.
 */
export function contentionSeries(
  metric: ContentionMetric,
  seriesOf: (key: string) => BucketSeries | undefined,
  numCpu: number,
): BucketSeries | null {
  const [first, second] = contentionMetrics[metric].sources.map(seriesOf);
  if (first === undefined) return null;
  switch (metric) {
    case 'cpuReady':
      return cpuReadyPctPerVcpuSeries(first, numCpu);
    case 'netDrops':
      return second === undefined ? null : sumSeries(first, second);
    default:
      return first;
  }
}

/**
 * The range a contention row's graph link opens: the peak bucket in the middle of about a day
 * of 5-minute buckets when it is recent, three days of 30-minute buckets within the last two
 * weeks, else fifteen days of 2-hour buckets. The entity view picks the tier from the span
 * (tiers.ts `tierForSpan`), so the span is chosen for the tier that still holds the peak.
 * Never past `nowSec`.
 * @returns unix seconds, `fromSec < toSec`
 */
export function graphRangeAround(bucketSec: number, stepSec: number, nowSec: number): { fromSec: number; toSec: number } {
  const ageSec = nowSec - bucketSec;
  const spanSec = ageSec < tierRetentionSec['5m'] - 86400 ? 86400 : ageSec < tierRetentionSec['30m'] - 3 * 86400 ? 3 * 86400 : 15 * 86400;
  const middleSec = bucketSec + stepSec / 2;
  const toSec = Math.min(nowSec, Math.round(middleSec + spanSec / 2));
  return { fromSec: toSec - spanSec, toSec };
}

/**
 * A copy of plain data with every non-integer number rounded to `decimals` (3: a thousandth of
 * its unit, as the series route shows values); integers (times, counts) stay as they are.
 */
export function roundFigures<T>(value: T, decimals = 3): T {
  const factor = 10 ** decimals;
  const round = (item: unknown): unknown => {
    if (typeof item === 'number') return Number.isInteger(item) || !Number.isFinite(item) ? item : Math.round(item * factor) / factor;
    if (Array.isArray(item)) return item.map(round);
    if (item !== null && typeof item === 'object') return Object.fromEntries(Object.entries(item).map(([key, entry]) => [key, round(entry)]));
    return item;
  };
  return round(value) as T;
}
