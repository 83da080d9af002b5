/**
 * Contention ranking (PRODUCT.md, "Contention"): for one metric over a period, the VMs that
 * suffered most, ranked by peak or by time above a threshold, and the hosts and datastores the
 * worst of them share, so that a noisy neighbour or a hot datastore stands out.
 * Pure functions: inputs never changed.
 */
import { mapSeries, type BucketSeries, type TimeWindow } from './bucket-series.ts';
import { cpuReadyPctPerVcpu } from './metrics.ts';
import { summarize, type SeriesSummary } from './series-summary.ts';

/** Rows returned by default. */
export const defaultContentionLimit = 25;
/** How many of the top VMs the shared-hosts-and-datastores summary looks at by default. */
export const defaultSharedTop = 10;

/** One VM's series of the ranked metric, with where it sits. */
export interface ContentionVmInput {
  readonly vmId: string;
  /** Its host now; a VM moved during the period is counted where it is now. Null when unknown. */
  readonly hostId: string | null;
  readonly datastoreIds: readonly string[];
  /** The metric, already in its unit (see `cpuReadyPctPerVcpuSeries` for CPU ready). */
  readonly series: BucketSeries;
}

/**
 * - `peak`: the highest stored maximum (a 20-second sample), the worst moment.
 * - `timeAbove`: the time whose bucket average exceeds the threshold (`timeAboveSec`), the
 *   lasting pain. Not the time whose maximum exceeds it (`timeAboveByMaxSec`): one 20-second
 *   burst would count a whole 2-hour bucket, so that figure is an upper bound, shown beside it.
 */
export type ContentionRankBy = 'peak' | 'timeAbove';

/** What to rank and how. */
export interface ContentionOptions {
  /** Metric key, echoed (`cpuReadyPctPerVcpu`, `diskMaxLatencyMs`...). */
  readonly metric: string;
  /** Unit of the metric and of `threshold` and `peak` (`percent`, `ms`, `MB`, `pps`). */
  readonly unit: string;
  /** A bucket is above it when its value is strictly greater. */
  readonly threshold: number;
  readonly rankBy: ContentionRankBy;
  /** Rows returned, default `defaultContentionLimit`. */
  readonly limit?: number;
  /** Top VMs the shared summary counts, default `defaultSharedTop`; only VMs whose peak is above the threshold count. */
  readonly sharedTop?: number;
}

/** One VM's contention over the period; `peak` is in the ranking's `unit`. */
export interface ContentionRow {
  /** 1 for the worst. */
  readonly rank: number;
  readonly vmId: string;
  readonly hostId: string | null;
  readonly datastoreIds: readonly string[];
  readonly peak: number;
  readonly peakBucketSec: number;
  /** Seconds of buckets whose average is above the threshold. */
  readonly timeAboveSec: number;
  /** Seconds of buckets whose maximum is above the threshold (upper bound of the real time above). */
  readonly timeAboveByMaxSec: number;
  /** Seconds of the period with data. */
  readonly coveredSec: number;
}

/** A host or datastore and the top VMs on it. */
export interface SharedPlace {
  readonly id: string;
  readonly topVms: number;
  readonly vmIds: readonly string[];
}

/** The ranking of one metric over one period. */
export interface ContentionRanking {
  readonly metric: string;
  readonly unit: string;
  readonly threshold: number;
  readonly rankBy: ContentionRankBy;
  readonly window: TimeWindow;
  readonly stepSec: number;
  /** VMs with data in the window (all ranked, the first `limit` returned). */
  readonly vmsRanked: number;
  /** VMs with no value in the window, not ranked. */
  readonly vmsWithoutData: readonly string[];
  readonly rows: readonly ContentionRow[];
  /** Hosts and datastores of the top VMs, the most shared first (then by id). */
  readonly shared: {
    readonly topVmIds: readonly string[];
    readonly hosts: readonly SharedPlace[];
    readonly datastores: readonly SharedPlace[];
  };
}

/**
 * CPU ready per vCPU, percent, from the store's `cpuReadyMs` series (ms per 20 s over all
 * vCPUs), computed as `cpuReadyPctPerVcpu` in metrics.ts; gaps stay gaps.
 */
export function cpuReadyPctPerVcpuSeries(cpuReadyMs: BucketSeries, numCpu: number): BucketSeries {
  return mapSeries(cpuReadyMs, (readyMs) => cpuReadyPctPerVcpu(readyMs, numCpu));
}

/** One VM's figures of a ranking, before it is ranked (see `measureContention`). */
export type ContentionMeasure = Omit<ContentionRow, 'rank'>;
type Measured = ContentionMeasure;

/** Ranks the VMs by their contention on one metric over the window. */
export function rankContention(
  vms: readonly ContentionVmInput[],
  window: TimeWindow,
  options: ContentionOptions,
): ContentionRanking {
  const measured = vms.map((vm) => measure(vm, window, options.threshold));
  return rankMeasured(
    measured.filter((row): row is Measured => row !== null),
    vms.filter((_, index) => measured[index] === null).map((vm) => vm.vmId),
    window,
    vms[0]?.series.stepSec ?? 0,
    options,
  );
}

/**
 * One VM's peak and times above the threshold over the window, as `rankContention` measures
 * it; null when the VM has no maximum in the window. For callers that measure VMs as their
 * series are read (thousands of VMs' series need not be held at once) and rank them later
 * with `rankMeasured`.
 */
export function measureContention(vm: ContentionVmInput, window: TimeWindow, threshold: number): ContentionMeasure | null {
  return measure(vm, window, threshold);
}

/**
 * Ranks measured VMs exactly as `rankContention` ranks their series (rankContention is
 * `rankMeasured` of each VM's `measureContention`). The rows' hosts and datastores are taken as
 * given, so a caller may leave out those a reader may not see before ranking.
 * @param vmsWithoutData VMs that had no value in the window, echoed
 * @param stepSec bucket width of the series measured, echoed
 */
export function rankMeasured(
  measured: readonly ContentionMeasure[],
  vmsWithoutData: readonly string[],
  window: TimeWindow,
  stepSec: number,
  options: ContentionOptions,
): ContentionRanking {
  const ranked = [...measured]
    .sort(options.rankBy === 'peak' ? byPeak : byTimeAbove)
    .map((row, index) => ({ rank: index + 1, ...row }));
  const top = ranked.filter((row) => row.peak > options.threshold).slice(0, options.sharedTop ?? defaultSharedTop);
  return {
    metric: options.metric,
    unit: options.unit,
    threshold: options.threshold,
    rankBy: options.rankBy,
    window,
    stepSec,
    vmsRanked: ranked.length,
    vmsWithoutData,
    rows: ranked.slice(0, options.limit ?? defaultContentionLimit),
    shared: {
      topVmIds: top.map((row) => row.vmId),
      hosts: sharedPlaces(top.map((row) => ({ vmId: row.vmId, placeIds: row.hostId === null ? [] : [row.hostId] }))),
      datastores: sharedPlaces(top.map((row) => ({ vmId: row.vmId, placeIds: row.datastoreIds }))),
    },
  };
}

/** Peak and times above of one VM; null when it has no maximum in the window. */
function measure(vm: ContentionVmInput, window: TimeWindow, threshold: number): Measured | null {
  return measureSummary(vm, summarize(vm.series, window, threshold));
}

/**
 * One VM's contention figures from the summary of its series over the window, the times above
 * counted against the ranking's threshold (series-summary.ts); null when it holds no maximum.
 */
export function measureSummary(vm: Omit<ContentionVmInput, 'series'>, summary: SeriesSummary): ContentionMeasure | null {
  if (summary.peak === null) return null;
  return {
    vmId: vm.vmId,
    hostId: vm.hostId,
    datastoreIds: vm.datastoreIds,
    peak: summary.peak.value,
    peakBucketSec: summary.peak.bucketSec,
    timeAboveSec: summary.aboveSec,
    timeAboveByMaxSec: summary.aboveByMaxSec,
    coveredSec: summary.coveredSec,
  };
}

/** Highest peak first; then longer time above; then vmId, so the order is stable. */
function byPeak(a: Measured, b: Measured): number {
  return b.peak - a.peak || b.timeAboveSec - a.timeAboveSec || a.vmId.localeCompare(b.vmId);
}

/** Longest time above (by averages) first; then by maxima; then highest peak; then vmId. */
function byTimeAbove(a: Measured, b: Measured): number {
  return (
    b.timeAboveSec - a.timeAboveSec ||
    b.timeAboveByMaxSec - a.timeAboveByMaxSec ||
    b.peak - a.peak ||
    a.vmId.localeCompare(b.vmId)
  );
}

/** Each place with the top VMs on it, most VMs first, then by id. */
function sharedPlaces(vms: readonly { vmId: string; placeIds: readonly string[] }[]): SharedPlace[] {
  const vmIdsByPlace = new Map<string, string[]>();
  for (const { vmId, placeIds } of vms) {
    for (const placeId of new Set(placeIds)) vmIdsByPlace.set(placeId, [...(vmIdsByPlace.get(placeId) ?? []), vmId]);
  }
  return [...vmIdsByPlace]
    .map(([id, vmIds]) => ({ id, topVms: vmIds.length, vmIds }))
    .sort((a, b) => b.topVms - a.topVms || a.id.localeCompare(b.id));
}
