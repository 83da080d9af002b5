/**
 * One metric's buckets over a period, as the store's `SeriesData` gives them, and the few
 * reads the capacity and contention math make on them (latest value, peak, time covered).
 * Pure functions; inputs are never changed.
 *
 * A bucket is `[ts, ts + stepSec)`; a period is a half-open window `[fromSec, toSec)` and
 * holds the buckets that start inside it. A bucket that runs past the window's end counts
 * only the part inside it.
 */

/** One metric of a `SeriesData`, with the columns the capacity math reads. */
export interface BucketSeries {
  /** Bucket width, seconds (300, 1800, 7200 or 86400: see tiers.ts). */
  readonly stepSec: number;
  /** Bucket starts, unix seconds, ascending. */
  readonly ts: readonly number[];
  /** Average of each bucket, in the metric's unit; null for a gap (no sample). */
  readonly avg: readonly (number | null)[];
  /** Maximum of each bucket (highest 20-second sample), in the metric's unit; null for a gap. */
  readonly max: readonly (number | null)[];
}

/** A period, unix seconds, half-open: `[fromSec, toSec)`. */
export interface TimeWindow {
  readonly fromSec: number;
  readonly toSec: number;
}

/** One bucket's value: the bucket start (unix seconds) and the value in the metric's unit. */
export interface BucketValue {
  readonly bucketSec: number;
  readonly value: number;
}

/** A number that can be used: not null, not NaN, not infinite. */
export function isValue(value: number | null | undefined): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Whether the bucket starting at `bucketSec` belongs to the window. */
export function inWindow(bucketSec: number, window: TimeWindow): boolean {
  return bucketSec >= window.fromSec && bucketSec < window.toSec;
}

/** Seconds of the bucket that lie inside the window (its width, cut at the window's end). */
export function bucketWidthInWindowSec(bucketSec: number, stepSec: number, window: TimeWindow): number {
  if (!inWindow(bucketSec, window)) return 0;
  return Math.min(bucketSec + stepSec, window.toSec) - bucketSec;
}

/**
 * Calls `visit` for each bucket of the window that holds a value in `column`, oldest first.
 * The reads below go through it rather than building arrays: they run over thousands of
 * entities per request.
 */
function eachInWindow(
  series: BucketSeries,
  column: 'avg' | 'max',
  window: TimeWindow,
  visit: (bucketSec: number, value: number) => void,
): void {
  const values = series[column];
  for (let index = 0; index < series.ts.length; index++) {
    const bucketSec = series.ts[index] ?? Number.NaN;
    const value = values[index];
    if (inWindow(bucketSec, window) && isValue(value)) visit(bucketSec, value);
  }
}

/** The window's buckets that hold a value in `column`, in ascending order. */
export function valuesInWindow(series: BucketSeries, column: 'avg' | 'max', window: TimeWindow): BucketValue[] {
  const found: BucketValue[] = [];
  eachInWindow(series, column, window, (bucketSec, value) => found.push({ bucketSec, value }));
  return found;
}

/** Newest bucket average in the window; null when the window holds none. */
export function latestAvg(series: BucketSeries, window: TimeWindow): BucketValue | null {
  let latest: BucketValue | null = null;
  eachInWindow(series, 'avg', window, (bucketSec, value) => (latest = { bucketSec, value }));
  return latest;
}

/** Highest value of the column in the window, the earliest bucket on a tie; null when none. */
function highest(series: BucketSeries, column: 'avg' | 'max', window: TimeWindow): BucketValue | null {
  let bucketOfHighest = Number.NaN;
  let highestValue = Number.NEGATIVE_INFINITY;
  eachInWindow(series, column, window, (bucketSec, value) => {
    if (Number.isNaN(bucketOfHighest) || value > highestValue) {
      bucketOfHighest = bucketSec;
      highestValue = value;
    }
  });
  return Number.isNaN(bucketOfHighest) ? null : { bucketSec: bucketOfHighest, value: highestValue };
}

/** Highest stored maximum in the window, with its bucket (the earliest one on a tie); null when none. */
export function peakMax(series: BucketSeries, window: TimeWindow): BucketValue | null {
  return highest(series, 'max', window);
}

/** Highest bucket average in the window (the busiest bucket), earliest on a tie; null when none. */
export function busiestAvg(series: BucketSeries, window: TimeWindow): BucketValue | null {
  return highest(series, 'avg', window);
}

/** Time-weighted mean of the bucket averages in the window (gaps left out); null when none. */
export function meanAvg(series: BucketSeries, window: TimeWindow): number | null {
  let weighted = 0;
  let widthSec = 0;
  eachInWindow(series, 'avg', window, (bucketSec, value) => {
    const width = bucketWidthInWindowSec(bucketSec, series.stepSec, window);
    weighted += value * width;
    widthSec += width;
  });
  return widthSec > 0 ? weighted / widthSec : null;
}

/** Seconds of the window covered by buckets holding an average (0 when all are gaps). */
export function coveredSec(series: BucketSeries, window: TimeWindow): number {
  let covered = 0;
  eachInWindow(series, 'avg', window, (bucketSec) => {
    covered += bucketWidthInWindowSec(bucketSec, series.stepSec, window);
  });
  return covered;
}

/** The series with `transform` applied to every average and maximum; gaps stay gaps. */
export function mapSeries(series: BucketSeries, transform: (value: number) => number): BucketSeries {
  const apply = (value: number | null): number | null => (isValue(value) ? transform(value) : null);
  return { stepSec: series.stepSec, ts: series.ts, avg: series.avg.map(apply), max: series.max.map(apply) };
}

/**
 * Bucket-by-bucket sum of two series of the same metric family (disk read + write), joined on
 * the bucket start. A bucket is a gap unless both hold a value there, so a missing half is never
 * read as zero. The sum of the maxima is an upper bound of the bucket's maximum of the sum.
 */
export function sumSeries(a: BucketSeries, b: BucketSeries): BucketSeries {
  const add = (x: number | null | undefined, y: number | null | undefined): number | null =>
    isValue(x) && isValue(y) ? x + y : null;
  // Series of one entity share their bucket starts: then the join is by index, no lookup.
  const sameBuckets = a.ts === b.ts || (a.ts.length === b.ts.length && a.ts.every((bucketSec, index) => bucketSec === b.ts[index]));
  const indexOfB = sameBuckets ? null : new Map(b.ts.map((bucketSec, index) => [bucketSec, index]));
  const avg: (number | null)[] = [];
  const max: (number | null)[] = [];
  a.ts.forEach((bucketSec, index) => {
    const other = indexOfB === null ? index : indexOfB.get(bucketSec);
    avg.push(other === undefined ? null : add(a.avg[index], b.avg[other]));
    max.push(other === undefined ? null : add(a.max[index], b.max[other]));
  });
  return { stepSec: a.stepSec, ts: a.ts, avg, max };
}
