/**
 * Rollup math: how samples become buckets of average, minimum and maximum, and how buckets
 * combine. Pure functions, no I/O; the store only encodes what these compute.
 *
 * A bucket keeps the sum and the count of what it holds, never only the average, so merging
 * stays exactly weighted (never an average of averages). Weight is counted in 20-second
 * realtime samples: one realtime sample weighs 1, a vCenter 5-minute sample weighs 15.
 */

/** Aggregate of one metric over one bucket; `null` stands for "no value at all". */
export interface Rollup {
  /** Sum of weighted values: value * weight, added up. */
  readonly sum: number;
  /** Total weight, in 20-second samples; always > 0. */
  readonly count: number;
  readonly min: number;
  readonly max: number;
}

/** Weight of one sample of `intervalSec` seconds, in 20-second realtime samples (at least 1). */
export function sampleWeight(intervalSec: number): number {
  return Math.max(1, Math.round(intervalSec / 20));
}

/**
 * Adds one sample to a bucket. A null or non-finite value (vCenter's "no data") leaves the
 * bucket as it was. Returns a new rollup; the input is not changed.
 * @param weight how many 20-second samples the value stands for (default 1)
 */
export function addSample(rollup: Rollup | null, value: number | null, weight = 1): Rollup | null {
  if (value === null || !Number.isFinite(value) || !(weight > 0)) return rollup;
  if (rollup === null) return { sum: value * weight, count: weight, min: value, max: value };
  return {
    sum: rollup.sum + value * weight,
    count: rollup.count + weight,
    min: Math.min(rollup.min, value),
    max: Math.max(rollup.max, value),
  };
}

/** Rollup of a list of samples of equal weight; null when none has a value. */
export function rollupOf(values: readonly (number | null)[], weight = 1): Rollup | null {
  let rollup: Rollup | null = null;
  for (const value of values) rollup = addSample(rollup, value, weight);
  return rollup;
}

/** Merges two buckets: sums and counts add up, min of mins, max of maxes. */
export function mergeRollups(a: Rollup | null, b: Rollup | null): Rollup | null {
  if (a === null) return b;
  if (b === null) return a;
  return { sum: a.sum + b.sum, count: a.count + b.count, min: Math.min(a.min, b.min), max: Math.max(a.max, b.max) };
}

/** Weighted average of a bucket; null for an empty one. */
export function rollupAvg(rollup: Rollup | null): number | null {
  return rollup === null ? null : rollup.sum / rollup.count;
}

/** Start of the step-aligned bucket holding `sec` (floor). */
export function alignDown(sec: number, stepSec: number): number {
  return Math.floor(sec / stepSec) * stepSec;
}

/** First step-aligned bucket start at or after `sec` (ceil). */
export function alignUp(sec: number, stepSec: number): number {
  return Math.ceil(sec / stepSec) * stepSec;
}

/** Every step-aligned bucket start in the inclusive range [fromSec, toSec]; empty when from > to. */
export function bucketStarts(fromSec: number, toSec: number, stepSec: number): number[] {
  const starts: number[] = [];
  for (let start = alignUp(fromSec, stepSec); start <= toSec; start += stepSec) starts.push(start);
  return starts;
}

/**
 * Combines finer buckets into coarser ones (for instance 5-minute buckets into 30-minute ones):
 * each fine bucket goes whole into the coarse bucket holding its start, weighted by its count.
 * @returns coarse bucket start -> rollup, in ascending order of start
 */
export function combineBuckets(
  fine: readonly { readonly startSec: number; readonly rollup: Rollup | null }[],
  coarseStepSec: number,
): Map<number, Rollup> {
  const combined = new Map<number, Rollup>();
  const sorted = [...fine].sort((a, b) => a.startSec - b.startSec);
  for (const { startSec, rollup } of sorted) {
    if (rollup === null) continue;
    const start = alignDown(startSec, coarseStepSec);
    const merged = mergeRollups(combined.get(start) ?? null, rollup);
    if (merged !== null) combined.set(start, merged);
  }
  return combined;
}

/**
 * One entry per bucket start of `starts`: the value found for it, null for gaps.
 * @param found bucket start -> value
 */
export function fillGaps<T>(starts: readonly number[], found: ReadonlyMap<number, T>): (T | null)[] {
  return starts.map((start) => found.get(start) ?? null);
}
