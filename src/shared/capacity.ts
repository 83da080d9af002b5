/**
 * Capacity math of datastores, hosts and clusters (PRODUCT.md, "Capacity"): when a datastore
 * fills up, how much CPU and memory is left now and at the period's peak, and whether a cluster
 * survives losing its biggest host. Pure functions: time is passed in, inputs are never changed,
 * and every answer names the period and the buckets its figures come from.
 */
import {
  bucketWidthInWindowSec,
  inWindow,
  isValue,
  latestAvg,
  peakMax,
  valuesInWindow,
  type BucketSeries,
  type BucketValue,
  type TimeWindow,
} from './bucket-series.ts';
import { median, theilSenLine } from './robust-trend.ts';

const daySec = 86400;

// ---------------------------------------------------------------------------------------------
// Datastores: days until full

/** Days of used-space history the fill trend is fitted on. */
export const fillTrendWindowDays = 30;

/**
 * Fewest buckets with a used value for a trend: below 10 points the normal approximation behind
 * Sen's interval (robust-trend.ts) does not hold, and one odd bucket weighs too much.
 */
export const minFillTrendPoints = 10;

/** Shortest time between the first and the last bucket fitted, days: less is a blip, not a trend. */
export const minFillTrendSpanDays = 3;

/**
 * Growth under 0.01 % of capacity per day is "not filling": at that pace even an empty
 * datastore needs 10,000 days (27 years) to fill, far past any planning horizon, so a date
 * would only be noise.
 */
export const notFillingPctOfCapacityPerDay = 0.01;

/**
 * A change between two consecutive buckets that departs from the trend by 1 % of capacity or
 * more is a level shift (a VM copied, a clone deleted), not growth: it moves the level, not
 * the slope. Below that, a jump is ordinary noise and the median-based fit shrugs it off.
 */
export const levelShiftMinPctOfCapacity = 1;

/**
 * More than 3 level shifts in the window are how this datastore grows (nightly backups, a
 * weekly job), not isolated events: then none is taken out and the fit sees them all.
 */
export const maxLevelShifts = 3;

/** What the fill forecast reads of one datastore. */
export interface DatastoreSpaceInput {
  /** Current capacity, GB (inventory). */
  readonly capacityGB: number;
  /** Used space per bucket, GB: the store's `usedGB` series (its `avg` is fitted). */
  readonly usedGB: BucketSeries;
}

/**
 * - `filling`: growth of at least `notFillingPctOfCapacityPerDay`; `daysUntilFull` is set.
 * - `notFilling`: growth under `notFillingPctOfCapacityPerDay` (flat), or shrinking.
 * - `full`: the fitted level has reached capacity.
 * - `insufficientData`: fewer than `minFillTrendPoints` buckets, a span under
 *   `minFillTrendSpanDays`, or no usable capacity.
 */
export type FillStatus = 'filling' | 'notFilling' | 'full' | 'insufficientData';

/** A jump taken out of the trend: at the bucket after the jump, by how much beyond the trend. */
export interface LevelShift {
  /** Start of the first bucket at the new level, unix seconds. */
  readonly bucketSec: number;
  /** Change beyond what the trend explains, GB (negative for space freed). */
  readonly changeGB: number;
}

/** When a datastore fills up, from the trend of its used space over the window. */
export interface DatastoreFillForecast {
  readonly status: FillStatus;
  /** The period fitted: the `fillTrendWindowDays` days before `nowSec`. */
  readonly window: TimeWindow;
  readonly stepSec: number;
  /** Buckets of the window with a used value (gaps left out). */
  readonly points: number;
  /** First and last of those buckets, unix seconds; null when there are none. */
  readonly firstBucketSec: number | null;
  readonly lastBucketSec: number | null;
  readonly capacityGB: number;
  /** Average of the newest bucket, GB; null when there is none. */
  readonly latestUsedGB: number | null;
  /** Level of the fitted line at `window.toSec` (level shifts included), GB; null without a trend. */
  readonly fittedUsedGB: number | null;
  /** Theil–Sen slope of used space with level shifts taken out, GB per day; null without a trend. */
  readonly growthGBPerDay: number | null;
  /** Sen's 95 % interval of that slope, GB per day; null without a trend. */
  readonly growthLowGBPerDay: number | null;
  readonly growthHighGBPerDay: number | null;
  /** Growth as a percentage of capacity per day; null without a trend. */
  readonly growthPctOfCapacityPerDay: number | null;
  readonly levelShifts: readonly LevelShift[];
  /** Days from `window.toSec` until full at the fitted growth: 0 when full, null unless filling or full. */
  readonly daysUntilFull: number | null;
  /** Days until full at the high end of the growth interval; null unless filling or full. */
  readonly daysUntilFullEarliest: number | null;
  /** Days until full at the low end; null unless filling, and null when the low end is not filling. */
  readonly daysUntilFullLatest: number | null;
  /** Unix seconds of those three; null where the days are null. */
  readonly fullAtSec: number | null;
  readonly fullEarliestAtSec: number | null;
  readonly fullLatestAtSec: number | null;
}

/**
 * Days until a datastore is full, from the robust trend of its used space over the last
 * `fillTrendWindowDays` days.
 *
 * The slope is Theil–Sen's (median of pairwise slopes), so a spike does not bend it; a step (a
 * copy that stays) is found as a level shift and taken out of the slope but kept in the level,
 * because a one-off copy says nothing about the pace of growth yet its space is gone.
 * Each bucket average stands at the middle of the time it covers.
 * @param nowSec the end of the window, unix seconds
 */
export function forecastDatastoreFill(input: DatastoreSpaceInput, nowSec: number): DatastoreFillForecast {
  const window = { fromSec: nowSec - fillTrendWindowDays * daySec, toSec: nowSec };
  const used = valuesInWindow(input.usedGB, 'avg', window);
  const base = {
    window,
    stepSec: input.usedGB.stepSec,
    points: used.length,
    firstBucketSec: used[0]?.bucketSec ?? null,
    lastBucketSec: used.at(-1)?.bucketSec ?? null,
    capacityGB: input.capacityGB,
    latestUsedGB: used.at(-1)?.value ?? null,
  };
  const xs = used.map(({ bucketSec }) => (bucketMiddleSec(bucketSec, input.usedGB.stepSec, window) - nowSec) / daySec);
  const ys = used.map(({ value }) => value);
  const spanDays = (xs.at(-1) ?? 0) - (xs[0] ?? 0);
  const usable = input.capacityGB > 0 && Number.isFinite(input.capacityGB);
  if (!usable || used.length < minFillTrendPoints || spanDays < minFillTrendSpanDays) return noTrend(base);

  const shifts = levelShiftsOf(xs, ys, input.capacityGB);
  const line = theilSenLine(xs, withoutShifts(ys, shifts));
  if (line === null) return noTrend(base);
  const shiftedGB = shifts.reduce((total, shift) => total + shift.changeGB, 0);
  const trend: FillTrend = {
    fittedUsedGB: line.intercept + shiftedGB,
    growthGBPerDay: line.slope,
    growthLowGBPerDay: line.slopeLow,
    growthHighGBPerDay: line.slopeHigh,
    growthPctOfCapacityPerDay: (line.slope / input.capacityGB) * 100,
    levelShifts: shifts.map(({ index, changeGB }) => ({ bucketSec: used[index]?.bucketSec ?? 0, changeGB })),
  };
  return { ...base, ...trend, ...fullDates(trend, input.capacityGB, nowSec) };
}

type ForecastBase = Pick<
  DatastoreFillForecast,
  'window' | 'stepSec' | 'points' | 'firstBucketSec' | 'lastBucketSec' | 'capacityGB' | 'latestUsedGB'
>;
type FillTrend = Pick<
  DatastoreFillForecast,
  'fittedUsedGB' | 'growthGBPerDay' | 'growthLowGBPerDay' | 'growthHighGBPerDay' | 'growthPctOfCapacityPerDay' | 'levelShifts'
>;

/** Middle of the part of the bucket inside the window (the newest bucket may still be filling). */
function bucketMiddleSec(bucketSec: number, stepSec: number, window: TimeWindow): number {
  return bucketSec + bucketWidthInWindowSec(bucketSec, stepSec, window) / 2;
}

function noTrend(base: ForecastBase): DatastoreFillForecast {
  return {
    ...base,
    status: 'insufficientData',
    fittedUsedGB: null,
    growthGBPerDay: null,
    growthLowGBPerDay: null,
    growthHighGBPerDay: null,
    growthPctOfCapacityPerDay: null,
    levelShifts: [],
    ...fullDatesOf(0, null, null, null),
  };
}

type FullDates = Pick<
  DatastoreFillForecast,
  'daysUntilFull' | 'daysUntilFullEarliest' | 'daysUntilFullLatest' | 'fullAtSec' | 'fullEarliestAtSec' | 'fullLatestAtSec'
>;

/** Status and dates full from a fitted trend. */
function fullDates(trend: FillTrend, capacityGB: number, nowSec: number): FullDates & Pick<DatastoreFillForecast, 'status'> {
  const freeGB = capacityGB - (trend.fittedUsedGB ?? 0);
  const minGrowthGBPerDay = (capacityGB * notFillingPctOfCapacityPerDay) / 100;
  const daysAt = (growth: number | null): number | null =>
    growth !== null && growth >= minGrowthGBPerDay ? freeGB / growth : null;
  if (freeGB <= 0) return { status: 'full', ...fullDatesOf(nowSec, 0, 0, 0) };
  const days = daysAt(trend.growthGBPerDay);
  if (days === null) return { status: 'notFilling', ...fullDatesOf(nowSec, null, null, null) };
  return { status: 'filling', ...fullDatesOf(nowSec, days, daysAt(trend.growthHighGBPerDay), daysAt(trend.growthLowGBPerDay)) };
}

/** The days until full and their dates (unix seconds, rounded to the second); null stays null. */
function fullDatesOf(nowSec: number, days: number | null, earliest: number | null, latest: number | null): FullDates {
  const atSec = (after: number | null): number | null => (after === null ? null : nowSec + Math.round(after * daySec));
  return {
    daysUntilFull: days,
    daysUntilFullEarliest: earliest,
    daysUntilFullLatest: latest,
    fullAtSec: atSec(days),
    fullEarliestAtSec: atSec(earliest),
    fullLatestAtSec: atSec(latest),
  };
}

/**
 * Jumps between consecutive points that depart from the typical pace (the median rate of
 * change) by at least `levelShiftMinPctOfCapacity`; none when there are more than
 * `maxLevelShifts` of them. `index` is the first point at the new level.
 */
function levelShiftsOf(xs: readonly number[], ys: readonly number[], capacityGB: number): { index: number; changeGB: number }[] {
  const changes = xs.slice(1).map((x, k) => ({ index: k + 1, dx: x - (xs[k] ?? 0), dy: (ys[k + 1] ?? 0) - (ys[k] ?? 0) }));
  const typicalRate = median(changes.map(({ dx, dy }) => dy / dx)) ?? 0;
  const minShiftGB = (capacityGB * levelShiftMinPctOfCapacity) / 100;
  const shifts = changes
    .map(({ index, dx, dy }) => ({ index, changeGB: dy - typicalRate * dx }))
    .filter(({ changeGB }) => Math.abs(changeGB) >= minShiftGB);
  return shifts.length > maxLevelShifts ? [] : shifts;
}

/** The used values with every level shift undone from its point on. */
function withoutShifts(ys: readonly number[], shifts: readonly { index: number; changeGB: number }[]): number[] {
  return ys.map((y, i) => y - shifts.reduce((total, shift) => (shift.index <= i ? total + shift.changeGB : total), 0));
}

// ---------------------------------------------------------------------------------------------
// Datastores: provisioned space

/** Provisioned space (thin disks counted at full size) against capacity, from the inventory. */
export interface DatastoreProvisioning {
  /** When the inventory was read, unix seconds. */
  readonly collectedAtSec: number;
  readonly capacityGB: number;
  readonly provisionedGB: number;
  /** provisioned / capacity * 100; over 100 means overcommitted. Null when capacity is not positive. */
  readonly provisionedPctOfCapacity: number | null;
  /** provisioned / capacity (1.5 = 50 % more promised than there is). Null when capacity is not positive. */
  readonly overcommitRatio: number | null;
  /** Provisioned space past capacity, GB; 0 when not overcommitted. */
  readonly overcommittedGB: number;
}

/**
 * Provisioned vs capacity of one datastore.
 * @param collectedAtSec when the inventory values were read, unix seconds (echoed)
 */
export function datastoreProvisioning(capacityGB: number, provisionedGB: number, collectedAtSec: number): DatastoreProvisioning {
  const ratio = capacityGB > 0 ? provisionedGB / capacityGB : null;
  return {
    collectedAtSec,
    capacityGB,
    provisionedGB,
    provisionedPctOfCapacity: ratio === null ? null : ratio * 100,
    overcommitRatio: ratio,
    overcommittedGB: Math.max(0, provisionedGB - capacityGB),
  };
}

// ---------------------------------------------------------------------------------------------
// Hosts and clusters: headroom, N+1, consolidation

/** What the headroom math reads of one host (inventory numbers and two series). */
export interface HostCapacityInput {
  readonly hostId: string;
  readonly cpuCapacityMhz: number;
  readonly memoryCapacityMB: number;
  /** Physical cores. */
  readonly cpuCores: number;
  /** vCPUs of the VMs placed on the host (the caller says which: all, or powered on). */
  readonly vcpus: number;
  readonly vms: number;
  /** `cpuUsedMhz` series of the host: `avg` gives "now", `max` the peak. */
  readonly cpuUsedMhz: BucketSeries;
  /** `memConsumedMB` series of the host. */
  readonly memConsumedMB: BucketSeries;
}

/** CPU use at one bucket, with what is left. Headroom is negative when use exceeds rated capacity (turbo boost). */
export interface CpuReading {
  readonly bucketSec: number;
  readonly usedMhz: number;
  readonly headroomMhz: number;
  /** headroom / capacity * 100; null when capacity is not positive. */
  readonly headroomPct: number | null;
}

/** Memory use at one bucket, with what is left. */
export interface MemoryReading {
  readonly bucketSec: number;
  readonly usedMB: number;
  readonly headroomMB: number;
  /** headroom / capacity * 100; null when capacity is not positive. */
  readonly headroomPct: number | null;
}

/** Consolidation ratios; null when there are no cores. */
export interface Consolidation {
  readonly cpuCores: number;
  readonly vcpus: number;
  readonly vms: number;
  /** vCPUs per physical core. */
  readonly vcpuPerCore: number | null;
  readonly vmsPerCore: number | null;
}

/**
 * Headroom of one host over a period. Null readings mean the window holds no bucket for them.
 * - `cpuNow`, `memoryNow`: the newest bucket's average.
 * - `cpuPeak`, `memoryPeak`: the highest stored maximum of the window (20-second peaks), not
 *   the highest average, so a short burst still shows.
 */
export interface HostCapacity extends Consolidation {
  readonly hostId: string;
  readonly window: TimeWindow;
  readonly stepSec: number;
  readonly cpuCapacityMhz: number;
  readonly memoryCapacityMB: number;
  readonly cpuNow: CpuReading | null;
  readonly cpuPeak: CpuReading | null;
  readonly memoryNow: MemoryReading | null;
  readonly memoryPeak: MemoryReading | null;
}

/** Headroom of one host now and at the period's peak, with its vCPU:core ratio. */
export function hostCapacity(host: HostCapacityInput, window: TimeWindow): HostCapacity {
  return {
    hostId: host.hostId,
    window,
    stepSec: host.cpuUsedMhz.stepSec,
    cpuCapacityMhz: host.cpuCapacityMhz,
    memoryCapacityMB: host.memoryCapacityMB,
    ...consolidation([host]),
    cpuNow: cpuReading(latestAvg(host.cpuUsedMhz, window), host.cpuCapacityMhz),
    cpuPeak: cpuReading(peakMax(host.cpuUsedMhz, window), host.cpuCapacityMhz),
    memoryNow: memoryReading(latestAvg(host.memConsumedMB, window), host.memoryCapacityMB),
    memoryPeak: memoryReading(peakMax(host.memConsumedMB, window), host.memoryCapacityMB),
  };
}

/**
 * Whether the cluster's peak demand fits in what is left after losing its biggest host (the
 * one with the most of this resource). A one-host cluster never survives. `survives` is null
 * when there is no demand figure (no data in the window).
 */
export interface CpuNPlusOne {
  readonly survives: boolean | null;
  readonly biggestHostId: string | null;
  readonly remainingCapacityMhz: number;
  /** The cluster's CPU peak (see `ClusterCapacity.cpuPeak`); null without data. */
  readonly peakDemandMhz: number | null;
  readonly peakBucketSec: number | null;
  /** remaining capacity - peak demand: negative when it does not fit. */
  readonly marginMhz: number | null;
  /** margin / remaining capacity * 100; null when nothing remains or without data. */
  readonly marginPct: number | null;
}

/** Memory counterpart of `CpuNPlusOne`. */
export interface MemoryNPlusOne {
  readonly survives: boolean | null;
  readonly biggestHostId: string | null;
  readonly remainingCapacityMB: number;
  readonly peakDemandMB: number | null;
  readonly peakBucketSec: number | null;
  readonly marginMB: number | null;
  readonly marginPct: number | null;
}

/**
 * Headroom of a cluster over a period, from its hosts' series (all from the same tier).
 *
 * - `cpuNow`: the sum of the hosts' averages at the newest bucket where every host with data
 *   has one (a host still being collected does not make the cluster look idle).
 * - `cpuPeak`: the highest, over the buckets, of the sum of the hosts' stored maxima at the
 *   same bucket. This is the demand the cluster had to carry at one time, which the sum of each
 *   host's own peak (`cpuSumOfHostPeaksMhz`) overstates when hosts peak at different times. Maxima
 *   inside one bucket need not coincide either, so it is still an upper bound of the true
 *   instantaneous peak, the safe side for N+1. Where a host has a gap, its own period peak
 *   stands in, so a gap can raise the figure (at most to the sum of host peaks) but never hide
 *   a peak; `bucketsWithGaps` says how often that happened.
 * - Hosts without any data in the window count as no demand and are listed in `hostsWithoutData`.
 */
export interface ClusterCapacity extends Consolidation {
  readonly clusterId: string;
  readonly window: TimeWindow;
  readonly stepSec: number;
  readonly hostIds: readonly string[];
  readonly hostsWithoutData: readonly string[];
  readonly bucketsWithGaps: number;
  readonly cpuCapacityMhz: number;
  readonly memoryCapacityMB: number;
  readonly cpuNow: CpuReading | null;
  readonly cpuPeak: CpuReading | null;
  /** Sum of each host's own peak, MHz: an upper bound of `cpuPeak`; null without data. */
  readonly cpuSumOfHostPeaksMhz: number | null;
  readonly memoryNow: MemoryReading | null;
  readonly memoryPeak: MemoryReading | null;
  readonly memorySumOfHostPeaksMB: number | null;
  readonly nPlusOne: { readonly cpu: CpuNPlusOne; readonly memory: MemoryNPlusOne };
}

/**
 * Headroom, N+1 and consolidation of a cluster.
 * @param hosts the hosts that carry the cluster's VMs (connected, not in maintenance mode)
 */
export function clusterCapacity(clusterId: string, hosts: readonly HostCapacityInput[], window: TimeWindow): ClusterCapacity {
  const cpu = resourceTotals(hosts.map((host) => ({ hostId: host.hostId, capacity: host.cpuCapacityMhz, series: host.cpuUsedMhz })), window);
  const memory = resourceTotals(hosts.map((host) => ({ hostId: host.hostId, capacity: host.memoryCapacityMB, series: host.memConsumedMB })), window);
  const cpuN1 = nPlusOne(cpu);
  const memoryN1 = nPlusOne(memory);
  return {
    clusterId,
    window,
    stepSec: hosts[0]?.cpuUsedMhz.stepSec ?? 0,
    hostIds: hosts.map((host) => host.hostId),
    hostsWithoutData: hosts
      .filter((host) => cpu.hostsWithoutData.includes(host.hostId) && memory.hostsWithoutData.includes(host.hostId))
      .map((host) => host.hostId),
    bucketsWithGaps: Math.max(cpu.bucketsWithGaps, memory.bucketsWithGaps),
    cpuCapacityMhz: cpu.capacity,
    memoryCapacityMB: memory.capacity,
    ...consolidation(hosts),
    cpuNow: cpuReading(cpu.now, cpu.capacity),
    cpuPeak: cpuReading(cpu.peak, cpu.capacity),
    cpuSumOfHostPeaksMhz: cpu.sumOfHostPeaks,
    memoryNow: memoryReading(memory.now, memory.capacity),
    memoryPeak: memoryReading(memory.peak, memory.capacity),
    memorySumOfHostPeaksMB: memory.sumOfHostPeaks,
    nPlusOne: {
      cpu: {
        survives: cpuN1.survives,
        biggestHostId: cpuN1.biggestHostId,
        remainingCapacityMhz: cpuN1.remainingCapacity,
        peakDemandMhz: cpuN1.peakDemand,
        peakBucketSec: cpuN1.peakBucketSec,
        marginMhz: cpuN1.margin,
        marginPct: cpuN1.marginPct,
      },
      memory: {
        survives: memoryN1.survives,
        biggestHostId: memoryN1.biggestHostId,
        remainingCapacityMB: memoryN1.remainingCapacity,
        peakDemandMB: memoryN1.peakDemand,
        peakBucketSec: memoryN1.peakBucketSec,
        marginMB: memoryN1.margin,
        marginPct: memoryN1.marginPct,
      },
    },
  };
}

function consolidation(hosts: readonly Pick<HostCapacityInput, 'cpuCores' | 'vcpus' | 'vms'>[]): Consolidation {
  const cpuCores = hosts.reduce((total, host) => total + host.cpuCores, 0);
  const vcpus = hosts.reduce((total, host) => total + host.vcpus, 0);
  const vms = hosts.reduce((total, host) => total + host.vms, 0);
  return { cpuCores, vcpus, vms, vcpuPerCore: cpuCores > 0 ? vcpus / cpuCores : null, vmsPerCore: cpuCores > 0 ? vms / cpuCores : null };
}

/** Use and headroom of one resource at one bucket, in the resource's unit. */
interface Reading {
  readonly bucketSec: number;
  readonly used: number;
  readonly headroom: number;
  readonly headroomPct: number | null;
}

function readingOf(found: BucketValue | null, capacity: number): Reading | null {
  if (found === null) return null;
  const headroom = capacity - found.value;
  return { bucketSec: found.bucketSec, used: found.value, headroom, headroomPct: capacity > 0 ? (headroom / capacity) * 100 : null };
}

function cpuReading(found: BucketValue | null, capacityMhz: number): CpuReading | null {
  const reading = readingOf(found, capacityMhz);
  return reading && { bucketSec: reading.bucketSec, usedMhz: reading.used, headroomMhz: reading.headroom, headroomPct: reading.headroomPct };
}

function memoryReading(found: BucketValue | null, capacityMB: number): MemoryReading | null {
  const reading = readingOf(found, capacityMB);
  return reading && { bucketSec: reading.bucketSec, usedMB: reading.used, headroomMB: reading.headroom, headroomPct: reading.headroomPct };
}

/** One host's share of one resource. */
interface HostResource {
  readonly hostId: string;
  readonly capacity: number;
  readonly series: BucketSeries;
}

/** One resource summed over a cluster's hosts (see `ClusterCapacity` for the rules). */
interface ResourceTotals {
  readonly hosts: readonly HostResource[];
  readonly capacity: number;
  readonly now: BucketValue | null;
  readonly peak: BucketValue | null;
  readonly sumOfHostPeaks: number | null;
  readonly hostsWithoutData: readonly string[];
  readonly bucketsWithGaps: number;
}

function resourceTotals(hosts: readonly HostResource[], window: TimeWindow): ResourceTotals {
  const shared = sharedBuckets(hosts.map((host) => host.series));
  if (shared !== null) return alignedTotals(hosts, shared, window);
  const capacity = hosts.reduce((total, host) => total + host.capacity, 0);
  const columns = hosts.map((host) => hostColumns(host, window));
  const withData = columns.filter((host) => host.peak !== null || host.avgByBucket.size > 0);
  const hostsWithoutData = columns.filter((host) => !withData.includes(host)).map((host) => host.hostId);
  if (withData.length === 0) return { hosts, capacity, now: null, peak: null, sumOfHostPeaks: null, hostsWithoutData, bucketsWithGaps: 0 };
  const buckets = [...new Set(withData.flatMap((host) => [...host.avgByBucket.keys(), ...host.maxByBucket.keys()]))].sort((a, b) => a - b);
  return {
    hosts,
    capacity,
    now: clusterNow(withData, buckets),
    ...clusterPeak(withData, buckets),
    sumOfHostPeaks: withData.reduce((total, host) => total + (host.peak?.value ?? 0), 0),
    hostsWithoutData,
  };
}

/** The bucket starts every series shares (the same tier and range: the usual case), or null. */
function sharedBuckets(series: readonly BucketSeries[]): readonly number[] | null {
  const [first] = series;
  if (first === undefined) return null;
  const same = (other: BucketSeries): boolean =>
    other.ts === first.ts || (other.ts.length === first.ts.length && other.ts.every((bucketSec, index) => bucketSec === first.ts[index]));
  return series.every(same) ? first.ts : null;
}

/**
 * `resourceTotals` when every host's series has the same buckets: the same figures (same
 * buckets, same order of additions), read by index instead of through a map per host. A
 * cluster of 100 hosts over a month took about 50 ms per resource through the maps.
 */
function alignedTotals(hosts: readonly HostResource[], ts: readonly number[], window: TimeWindow): ResourceTotals {
  const capacity = hosts.reduce((total, host) => total + host.capacity, 0);
  const peaks = hosts.map((host) => peakMax(host.series, window));
  const hasAvg = (host: HostResource): boolean => host.series.avg.some((value, index) => isValue(value) && inWindow(ts[index] ?? Number.NaN, window));
  const withData = hosts.map((host, index) => ({ host, peak: peaks[index] ?? null })).filter(({ host, peak }) => peak !== null || hasAvg(host));
  const hostsWithoutData = hosts.filter((host) => !withData.some((entry) => entry.host === host)).map((host) => host.hostId);
  if (withData.length === 0) return { hosts, capacity, now: null, peak: null, sumOfHostPeaks: null, hostsWithoutData, bucketsWithGaps: 0 };
  const valueAt = (column: readonly (number | null)[], index: number): number | null => {
    const value = column[index];
    return isValue(value) ? value : null;
  };
  let now: BucketValue | null = null;
  for (let index = ts.length - 1; index >= 0 && now === null; index--) {
    const bucketSec = ts[index] ?? Number.NaN;
    if (!inWindow(bucketSec, window)) continue;
    let total = 0;
    let every = true;
    for (const { host } of withData) {
      const avg = valueAt(host.series.avg, index);
      if (avg === null) every = false;
      else total += avg;
    }
    if (every) now = { bucketSec, value: total };
  }
  let peak: BucketValue | null = null;
  let bucketsWithGaps = 0;
  for (let index = 0; index < ts.length; index++) {
    const bucketSec = ts[index] ?? Number.NaN;
    // The buckets where some host with data has an average or a maximum, as the map path takes them.
    if (!inWindow(bucketSec, window) || !withData.some(({ host }) => valueAt(host.series.avg, index) !== null || valueAt(host.series.max, index) !== null)) continue;
    let total = 0;
    let gap = false;
    for (const entry of withData) {
      const max = valueAt(entry.host.series.max, index);
      if (max === null) gap = true;
      total += max ?? entry.peak?.value ?? 0;
    }
    if (gap) bucketsWithGaps++;
    if (peak === null || total > peak.value) peak = { bucketSec, value: total };
  }
  return {
    hosts,
    capacity,
    now,
    peak,
    bucketsWithGaps,
    sumOfHostPeaks: withData.reduce((total, { peak: own }) => total + (own?.value ?? 0), 0),
    hostsWithoutData,
  };
}

/** One host's columns over the window, by bucket start, and its own peak. */
interface HostColumns {
  readonly hostId: string;
  readonly peak: BucketValue | null;
  readonly avgByBucket: ReadonlyMap<number, number>;
  readonly maxByBucket: ReadonlyMap<number, number>;
}

function hostColumns(host: HostResource, window: TimeWindow): HostColumns {
  const byBucket = (column: 'avg' | 'max'): Map<number, number> =>
    new Map(valuesInWindow(host.series, column, window).map(({ bucketSec, value }) => [bucketSec, value]));
  return { hostId: host.hostId, peak: peakMax(host.series, window), avgByBucket: byBucket('avg'), maxByBucket: byBucket('max') };
}

/** Sum of the averages at the newest bucket where every host has one; null when there is none. */
function clusterNow(hosts: readonly HostColumns[], buckets: readonly number[]): BucketValue | null {
  for (const bucketSec of [...buckets].reverse()) {
    const averages = hosts.map((host) => host.avgByBucket.get(bucketSec));
    if (averages.every(isValue)) return { bucketSec, value: averages.reduce((total, value) => total + value, 0) };
  }
  return null;
}

/** Highest sum of the maxima at one bucket, a host's gap counting as its own peak (earliest bucket on a tie). */
function clusterPeak(hosts: readonly HostColumns[], buckets: readonly number[]): { peak: BucketValue | null; bucketsWithGaps: number } {
  let peak: BucketValue | null = null;
  let bucketsWithGaps = 0;
  for (const bucketSec of buckets) {
    const maxima = hosts.map((host) => host.maxByBucket.get(bucketSec) ?? null);
    if (maxima.includes(null)) bucketsWithGaps++;
    const value = maxima.reduce<number>((total, max, i) => total + (max ?? hosts[i]?.peak?.value ?? 0), 0);
    if (peak === null || value > peak.value) peak = { bucketSec, value };
  }
  return { peak, bucketsWithGaps };
}

interface NPlusOne {
  readonly survives: boolean | null;
  readonly biggestHostId: string | null;
  readonly remainingCapacity: number;
  readonly peakDemand: number | null;
  readonly peakBucketSec: number | null;
  readonly margin: number | null;
  readonly marginPct: number | null;
}

/** N+1 of one resource: the biggest host (most capacity, lowest id on a tie) is lost. */
function nPlusOne(totals: ResourceTotals): NPlusOne {
  const biggest = [...totals.hosts].sort((a, b) => b.capacity - a.capacity || a.hostId.localeCompare(b.hostId))[0];
  const remainingCapacity = totals.capacity - (biggest?.capacity ?? 0);
  const peakDemand = totals.peak?.value ?? null;
  const margin = peakDemand === null ? null : remainingCapacity - peakDemand;
  return {
    survives: margin === null ? null : totals.hosts.length >= 2 && margin >= 0,
    biggestHostId: biggest?.hostId ?? null,
    remainingCapacity,
    peakDemand,
    peakBucketSec: totals.peak?.bucketSec ?? null,
    margin,
    marginPct: margin !== null && remainingCapacity > 0 ? (margin / remainingCapacity) * 100 : null,
  };
}
