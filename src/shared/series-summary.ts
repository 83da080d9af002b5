/**
 * What the capacity and contention math reads of one series over a window, as a summary that
 * merges exactly: the summaries of consecutive parts of a window, merged in time order, equal
 * the summary of the whole window (the time-weighted sum up to floating-point rounding). So the
 * figures of a month can be made from one summary per day, kept as the days end, instead of
 * from its 372 two-hour buckets (issue #13). Pure functions; inputs are never changed.
 */
import { bucketWidthInWindowSec, inWindow, isValue, type BucketSeries, type BucketValue, type TimeWindow } from './bucket-series.ts';

export interface SeriesSummary {
  /** Seconds of the window covered by buckets holding an average (`coveredSec`). */
  readonly coveredSec: number;
  /** Sum of bucket average x seconds in the window (`meanAvg` = weightedSum / coveredSec). */
  readonly weightedSum: number;
  /** Highest bucket average, the earliest bucket on a tie (`busiestAvg`); null when none. */
  readonly busiest: BucketValue | null;
  /** Highest stored maximum, the earliest bucket on a tie (`peakMax`); null when none. */
  readonly peak: BucketValue | null;
  /** Seconds of buckets whose average is above the threshold (strictly). */
  readonly aboveSec: number;
  /** Seconds of buckets whose maximum is above the threshold (strictly). */
  readonly aboveByMaxSec: number;
}

export const emptySummary: SeriesSummary = { coveredSec: 0, weightedSum: 0, busiest: null, peak: null, aboveSec: 0, aboveByMaxSec: 0 };

/**
 * The summary of `series` over `window`; the times above count against `threshold` (none
 * counted when it is infinite, the default).
 */
export function summarize(series: BucketSeries, window: TimeWindow, threshold = Number.POSITIVE_INFINITY): SeriesSummary {
  let coveredSec = 0;
  let weightedSum = 0;
  let busiest: BucketValue | null = null;
  let peak: BucketValue | null = null;
  let aboveSec = 0;
  let aboveByMaxSec = 0;
  for (let index = 0; index < series.ts.length; index++) {
    const bucketSec = series.ts[index] ?? Number.NaN;
    if (!inWindow(bucketSec, window)) continue;
    const widthSec = bucketWidthInWindowSec(bucketSec, series.stepSec, window);
    const avg = series.avg[index];
    const max = series.max[index];
    if (isValue(avg)) {
      coveredSec += widthSec;
      weightedSum += avg * widthSec;
      if (busiest === null || avg > busiest.value) busiest = { bucketSec, value: avg };
      if (avg > threshold) aboveSec += widthSec;
    }
    if (isValue(max)) {
      if (peak === null || max > peak.value) peak = { bucketSec, value: max };
      if (max > threshold) aboveByMaxSec += widthSec;
    }
  }
  return { coveredSec, weightedSum, busiest, peak, aboveSec, aboveByMaxSec };
}

/** The higher of two values; the earlier bucket on a tie, as the series reads keep the earliest bucket. */
function higher(a: BucketValue | null, b: BucketValue | null): BucketValue | null {
  if (a === null) return b;
  if (b === null) return a;
  if (a.value !== b.value) return b.value > a.value ? b : a;
  return b.bucketSec < a.bucketSec ? b : a;
}

/**
 * The summary of two parts of a window that share no bucket, in either order (ties go to the
 * earlier bucket, so the result does not depend on the order).
 */
export function mergeSummaries(a: SeriesSummary, b: SeriesSummary): SeriesSummary {
  return {
    coveredSec: a.coveredSec + b.coveredSec,
    weightedSum: a.weightedSum + b.weightedSum,
    busiest: higher(a.busiest, b.busiest),
    peak: higher(a.peak, b.peak),
    aboveSec: a.aboveSec + b.aboveSec,
    aboveByMaxSec: a.aboveByMaxSec + b.aboveByMaxSec,
  };
}

/** Time-weighted mean of the bucket averages (`meanAvg`); null when no bucket holds one. */
export function summaryMean(summary: SeriesSummary): number | null {
  return summary.coveredSec > 0 ? summary.weightedSum / summary.coveredSec : null;
}
