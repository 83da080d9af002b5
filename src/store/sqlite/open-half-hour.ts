/**
 * Each entity's open half hour: the realtime samples of its newest 30-minute bucket, kept in its
 * entity row (`open_30m_sec`, `open_30m`, an accumulator encoded as a bucket) instead of being
 * added to the 30-minute, 2-hour and 1-day tiers at every cycle (issue #12). A cycle then
 * writes one tier's rows (5 minutes) and the entity row it updates anyway; the three coarse
 * tiers are written once per half hour, when the half hour closes:
 * - an entity's samples reach a later half hour;
 * - any write reaches a later half hour: every entity's older open half hour closes (one
 *   that got no samples since, a VM powered off);
 * - the history import is about to fill the entity's coarse buckets (it fills empty buckets
 *   only: the cycles' samples must be there first, as before).
 * Closing adds the open half hour into the buckets that hold it, as each cycle's write did
 * before: the stored sums are the same. Readers of the coarse tiers (`series`, `rollups`, the
 * summaries' partial ranges) add the open half hour into the bucket that holds it
 * (`eachRowWithOpen`), so nothing is missing meanwhile. The blocks of VM summaries are made from
 * the tables: a half hour closed into a block already made forgets the block, which is made again.
 */
import { alignDown } from '../../shared/rollup.ts';
import { metricsByKind } from '../../shared/metrics.ts';
import { tierStepSec, type Tier } from '../../shared/tiers.ts';
import { accumulatorStride, addEncodedBucket, encodeAccumulator } from './bucket-codec.ts';
import { eachPackedRow } from './packed-rows.ts';

/** The tiers the open half hour is kept out of until it closes, finest first. */
export const coarseTiers: readonly Tier[] = ['30m', '2h', '1d'];

/** Length of the open bucket: the finest coarse tier's. */
export const openStepSec = tierStepSec['30m'];

/** An entity's open half hour as stored: the start of its 30-minute bucket and its encoded accumulator. */
export interface OpenHalfHour {
  readonly startSec: number;
  readonly data: Uint8Array;
}

/** The most metrics of any kind: an accumulator that wide holds any entity's bucket. */
const widest = Math.max(...Object.values(metricsByKind).map((metrics) => metrics.length));
const scratch = new Float64Array(widest * accumulatorStride);

/** Two encoded buckets of one entity added into one (the encoding of their merged rollups). */
export function addedBuckets(a: Uint8Array, b: Uint8Array): Uint8Array {
  scratch.fill(0);
  addEncodedBucket(a, scratch, widest);
  addEncodedBucket(b, scratch, widest);
  return encodeAccumulator(scratch, widest) ?? a;
}

/**
 * Calls `visit` with each packed row of a coarse tier of `stepSec` (packed-rows.ts), each
 * entity's open half hour (`opens`, by entity number) added into the row of the bucket that
 * holds it, or visited alone when no row is stored there. The caller gives only the open half
 * hours of the buckets it asked for.
 */
export function eachRowWithOpen(
  packed: Uint8Array | null,
  opens: ReadonlyMap<number, OpenHalfHour>,
  stepSec: number,
  visit: (entity: number, bucketSec: number, data: Uint8Array) => void,
): void {
  if (opens.size === 0) {
    eachPackedRow(packed, visit);
    return;
  }
  const alone = new Map(opens);
  eachPackedRow(packed, (entity, bucketSec, data) => {
    const open = opens.get(entity);
    if (open === undefined || alignDown(open.startSec, stepSec) !== bucketSec) {
      visit(entity, bucketSec, data);
      return;
    }
    alone.delete(entity);
    visit(entity, bucketSec, addedBuckets(data, open.data));
  });
  for (const [entity, open] of alone) visit(entity, alignDown(open.startSec, stepSec), open.data);
}

/**
 * A cycle's half hours of one entity (30-minute accumulators from its new samples, any order)
 * against its stored open half hour: what stays open (the newest half hour, with the stored
 * one added when it is the same) and what closes (every other half hour, the stored open one
 * included, added into its new samples' accumulator when they share a half hour).
 */
export function splitHalfHours(
  halfHours: ReadonlyMap<number, Float64Array>,
  stored: OpenHalfHour | null,
  width: number,
  take: (width: number) => Float64Array,
): { readonly open: { readonly startSec: number; readonly acc: Float64Array } | null; readonly closed: Map<number, Float64Array> } {
  let newest = Number.NEGATIVE_INFINITY;
  for (const startSec of halfHours.keys()) newest = Math.max(newest, startSec);
  const closed = new Map(halfHours);
  if (stored !== null) {
    const into = closed.get(stored.startSec);
    if (into !== undefined) addEncodedBucket(stored.data, into, width);
    else {
      const acc = take(width);
      addEncodedBucket(stored.data, acc, width);
      closed.set(stored.startSec, acc);
      newest = Math.max(newest, stored.startSec);
    }
  }
  const acc = closed.get(newest);
  if (acc === undefined) return { open: null, closed };
  closed.delete(newest);
  return { open: { startSec: newest, acc }, closed };
}
