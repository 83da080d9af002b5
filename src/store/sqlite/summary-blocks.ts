/**
 * Per-VM summaries of blocks of buckets (shared/vm-summary.ts): an hour of the day's 5-minute
 * buckets, a day of the week's 30-minute and of the month's 2-hour buckets, kept in SQLite so
 * that a cold Capacity or Contention answer reads about 24 or 30 summaries per VM instead of 288
 * or 372 buckets (issue #13).
 *
 * A block is summarized once the cycles' samples no longer land in it: it ended a sample's
 * length ago. A write into a block made (a collector back from an outage writes vCenter's
 * realtime hour, the history import fills old buckets) deletes it (`forget`, `forgetFrom`), and
 * it is made again. Blocks are made whole, for every VM (a group of VMs at a time), from the block's rows read by
 * bucket start over the time-first key, and stored as one row per tier and block holding every VM's summary: reading a
 * row per VM and day cost about 4 µs a row in better-sqlite3 (0.6 s for a month of 5,000 VMs),
 * where the whole month is 30 rows of 1.6 MB. VMs that appear later have no summary in the
 * blocks made before: their readers read the buckets instead.
 *
 * A block's row: a 32-bit count n, the n VMs' entity numbers (32-bit, ascending), then their
 * summaries (`storedSummaryFloats` 32-bit floats each, bucket times relative to the block's
 * start), in the machine's byte order (the file stays on the machine that wrote it).
 */
import type Database from 'better-sqlite3';
import { metricsByKind } from '../../shared/metrics.ts';
import { bucketStarts } from '../../shared/rollup.ts';
import type { BucketSeries, TimeWindow } from '../../shared/bucket-series.ts';
import { tierStepSec, tiers, type Tier } from '../../shared/tiers.ts';
import { StoredSummaryMerger, storedSummaryFloats, summarizeVm, summaryMetricKeys, writeVmSummaries, type VmSummaries } from '../../shared/vm-summary.ts';
import { maxRealtimeIntervalSec, type MergedBlocks } from '../store.ts';
import { accumulatorStride, addEncodedBucket } from './bucket-codec.ts';
import { eachRowWithOpen, type OpenHalfHour } from './open-half-hour.ts';
import { packedRows } from './packed-rows.ts';

/** The tiers summarized, in blocks of how long, and how many blocks back (the day's, the week's and the month's buckets, with a margin). */
export const summaryBlocks: Readonly<Partial<Record<Tier, { readonly blockSec: number; readonly count: number }>>> = {
  '5m': { blockSec: 3600, count: 26 },
  '30m': { blockSec: 86400, count: 8 },
  '2h': { blockSec: 86400, count: 31 },
};

/** Start of the block of `blockSec` holding `sec` (UTC-aligned). */
export function blockStart(sec: number, blockSec: number): number {
  return Math.floor(sec / blockSec) * blockSec;
}

/** The newest block of `blockSec` that ended a realtime sample's length before `nowSec` (its start): the cycles' samples no longer land in it. */
export function lastFinalBlock(nowSec: number, blockSec: number): number {
  return blockStart(nowSec - maxRealtimeIntervalSec, blockSec) - blockSec;
}

const vmMetrics = metricsByKind.vm;

/** VMs summarized at once when a block is made, by default (see `SummaryBlocks`). */
export const defaultVmsPerGroup = 500;

export class SummaryBlocks {
  private readonly statements;
  /** The gathered buckets of a group (see `summarizeRows`), kept from block to block while blocks are made. */
  private readonly gathered = new ReusedFloats();

  /**
   * @param vmsPerGroup VMs whose buckets are gathered and summarized at once when a block is
   *   made (default 500): what a block's making holds is about 20 KB a VM (their gathered
   *   buckets, their summaries, the packed rows), which made 5,000 VMs at once the peak of a
   *   first start's memory (bench/RESULTS.md, issue 12).
   */
  constructor(
    private readonly db: Database.Database,
    sampleTable: (tier: Tier) => string,
    private readonly vmsPerGroup = defaultVmsPerGroup,
  ) {
    if (!(Number.isInteger(vmsPerGroup) && vmsPerGroup >= 1)) throw new RangeError(`VMs per summary group must be a positive integer (got ${String(vmsPerGroup)})`);
    const byTier = <T>(make: (tier: Tier) => T): Partial<Record<Tier, T>> =>
      Object.fromEntries(Object.keys(summaryBlocks).map((tier) => [tier, make(tier as Tier)]));
    const byTierAll = <T>(make: (tier: Tier) => T): Record<Tier, T> => Object.fromEntries(tiers.map((tier) => [tier, make(tier)])) as Record<Tier, T>;
    this.statements = {
      blockMade: db.prepare<[string, number], number>('SELECT 1 FROM vm_summary_blocks WHERE tier = ? AND block_sec = ?').pluck(),
      // Each VM's vCPU count from its stored info, read by SQLite (0 when absent or not a number:
      // ready then divides by one, as metrics.ts does): parsing 5,000 infos in JavaScript for
      // each block made cost 2.5 CPU-s over a first start's 65 blocks.
      vms: db
        .prepare<[], [number, number]>(
          `SELECT int_id, CASE WHEN json_valid(info) AND json_type(info, '$.numCpu') IN ('integer', 'real') THEN json_extract(info, '$.numCpu') ELSE 0 END
           FROM entities WHERE kind = 'vm'`,
        )
        .raw(),
      numbersOf: db.prepare<[string], [string, number]>('SELECT id, int_id FROM entities WHERE id IN (SELECT value FROM json_each(?))').raw(),
      // Rows packed by SQLite into one BLOB (packed-rows.ts).
      // One bucket start and one group of entity numbers at a time (a range of the time-first
      // key): a day of 30-minute buckets packed at once is a 34 MB string in SQLite, and the
      // fill's peak memory grew by 40 MB.
      bucketRows: byTier((tier) =>
        db.prepare<[number, number, number], Buffer | null>(packedRows(`SELECT entity, bucket_sec, data FROM ${sampleTable(tier)} WHERE bucket_sec = ? AND entity BETWEEN ? AND ?`)).pluck(),
      ),
      // Several VMs' buckets at the given starts: a key seek per bucket and VM (the key is time first).
      rangeOfMany: byTierAll((tier) =>
        db
          .prepare<[string, string], Buffer | null>(
            packedRows(`SELECT t.entity AS entity, t.bucket_sec AS bucket_sec, t.data AS data FROM json_each(?) b CROSS JOIN ${sampleTable(tier)} t
             WHERE t.bucket_sec = b.value AND t.entity IN (SELECT value FROM json_each(?))`),
          )
          .pluck(),
      ),
      // The VMs' open half hours (open-half-hour.ts), added into the partial ranges' buckets.
      opensOf: db
        .prepare<[string], [intId: number, startSec: number, data: Buffer]>(
          'SELECT int_id, open_30m_sec, open_30m FROM entities WHERE int_id IN (SELECT value FROM json_each(?)) AND open_30m IS NOT NULL',
        )
        .raw(),
      put: db.prepare<[string, number, Buffer]>('INSERT OR REPLACE INTO vm_summary_blocks (tier, block_sec, data) VALUES (?, ?, ?)'),
      blocks: db.prepare<[string, number, number], [number, Buffer]>('SELECT block_sec, data FROM vm_summary_blocks WHERE tier = ? AND block_sec >= ? AND block_sec < ? ORDER BY block_sec').raw(),
      forgetBlock: db.prepare<[string, number]>('DELETE FROM vm_summary_blocks WHERE tier = ? AND block_sec = ?'),
      forgetAfter: db.prepare<[string, number]>('DELETE FROM vm_summary_blocks WHERE tier = ? AND block_sec > ?'),
      dropBefore: db.prepare<[string, number]>('DELETE FROM vm_summary_blocks WHERE tier = ? AND block_sec < ?'),
    };
  }

  /**
   * Summarizes at most `maxBlocks` final blocks not made yet, tier by tier, oldest first, each in
   * its own transaction (65 blocks took 14.5 CPU-s at 5,000 VMs: a
   * caller that must stay responsive asks for one at a time).
   * @returns the blocks made
   */
  fill(nowSec: number, maxBlocks = Number.POSITIVE_INFINITY): number {
    const made = this.fillBlocks(nowSec, maxBlocks);
    // Nothing left to make: the array gathered into is not kept until the next block (a few MB).
    if (made === 0) this.gathered.release();
    return made;
  }

  private fillBlocks(nowSec: number, maxBlocks: number): number {
    let made = 0;
    let vms: { intId: number; numCpu: number }[] | null = null;
    for (const [tier, { blockSec, count }] of Object.entries(summaryBlocks) as [Tier, { blockSec: number; count: number }][]) {
      const last = lastFinalBlock(nowSec, blockSec);
      for (let block = last - (count - 1) * blockSec; block <= last; block += blockSec) {
        if (this.statements.blockMade.get(tier, block) !== undefined) continue;
        if (made >= maxBlocks) return made;
        vms ??= this.statements.vms.all().map(([intId, numCpu]) => ({ intId, numCpu }));
        const list = vms;
        this.db.transaction(() => this.makeBlock(tier, block, blockSec, list)).immediate();
        made++;
      }
    }
    return made;
  }

  /**
   * Summarizes one block for every VM (see `summarizeRows`) into the block's row (see the file
   * comment), `vmsPerGroup` VMs at a time in the order of their numbers: each group's rows are
   * one range of entity numbers per bucket start, and its summaries go into the row before the
   * next group is read.
   */
  private makeBlock(tier: Tier, block: number, blockSec: number, vms: readonly { intId: number; numCpu: number }[]): void {
    const sorted = [...vms].sort((a, b) => a.intId - b.intId);
    const statement = this.statements.bucketRows[tier];
    const starts = bucketStarts(block, block + blockSec - 1, tierStepSec[tier]);
    const buffer = new ArrayBuffer(4 * (1 + sorted.length * (1 + storedSummaryFloats)));
    const numbers = new Int32Array(buffer, 0, 1 + sorted.length);
    const values = new Float32Array(buffer, 4 * (1 + sorted.length));
    numbers[0] = sorted.length;
    for (let from = 0; from < sorted.length; from += this.vmsPerGroup) {
      const group = sorted.slice(from, from + this.vmsPerGroup);
      const firstNumber = group[0]?.intId ?? 0;
      const lastNumber = group.at(-1)?.intId ?? 0;
      const rows = starts.map((start) => () => statement?.get(start, firstNumber, lastNumber) ?? null);
      const summaries = summarizeRows(tier, [{ fromSec: block, toSec: block + blockSec }], rows, group, this.gathered);
      group.forEach((vm, i) => {
        numbers[1 + from + i] = vm.intId;
        const vmSummaries = summaries.get(vm.intId);
        if (vmSummaries !== undefined) writeVmSummaries(vmSummaries, block, values, (from + i) * storedSummaryFloats);
      });
    }
    this.statements.put.run(tier, block, Buffer.from(buffer));
  }

  /**
   * The summaries of these VMs' buckets of `tier` starting in the ranges (step-aligned, apart),
   * read in one statement: what a reader of a period asks for the partial blocks at its ends.
   * A VM without buckets there gets empty summaries.
   */
  summarizeRanges(tier: Tier, ranges: readonly TimeWindow[], vms: readonly { readonly id: string; readonly numCpu: number }[]): Map<string, VmSummaries> {
    const ts = ranges.flatMap((range) => bucketStarts(range.fromSec, range.toSec - 1, tierStepSec[tier]));
    const numbers = new Map(this.statements.numbersOf.all(JSON.stringify(vms.map((vm) => vm.id))));
    // A VM the store does not know gets a number no row has (entity numbers are positive): empty summaries.
    const numbered = vms.map((vm, index) => ({ id: vm.id, intId: numbers.get(vm.id) ?? -1 - index, numCpu: vm.numCpu }));
    const asked = JSON.stringify(numbered.map((vm) => vm.intId));
    const rows = ts.length === 0 || vms.length === 0 ? null : this.statements.rangeOfMany[tier].get(JSON.stringify(ts), asked);
    const opens = new Map<number, OpenHalfHour>();
    if (tier !== '5m' && rows !== null) for (const [intId, startSec, data] of this.statements.opensOf.all(asked)) opens.set(intId, { startSec, data });
    const byNumber = summarizeRows(tier, ranges, [() => rows ?? null], numbered, new ReusedFloats(), opens);
    const found = new Map<string, VmSummaries>();
    for (const vm of numbered) {
      const summaries = byNumber.get(vm.intId);
      if (summaries !== undefined) found.set(vm.id, summaries);
    }
    return found;
  }

  /**
   * Per VM, the merge of its summaries of consecutive blocks of `tier`, from the first block
   * starting at or after `fromSec` to the last one ending by `toSec`, stopping at the first block
   * without one (not made yet, made before the VM appeared, or for another vCPU count than
   * `numCpu`): the summaries of `[fromSec, endSec)` of `MergedBlocks`. VMs without a first block
   * are left out.
   * @throws RangeError when a stored block is not in the form of the file comment
   */
  merged(tier: Tier, fromSec: number, toSec: number, vms: readonly { readonly id: string; readonly numCpu: number }[]): Map<string, MergedBlocks> {
    const found = new Map<string, MergedBlocks>();
    const blocks = summaryBlocks[tier];
    if (blocks === undefined || vms.length === 0) return found;
    const first = Math.ceil(fromSec / blocks.blockSec) * blocks.blockSec;
    const end = blockStart(toSec, blocks.blockSec);
    if (end <= first) return found;
    const numbers = new Map(this.statements.numbersOf.all(JSON.stringify(vms.map((vm) => vm.id))));
    const runs = vms.flatMap((vm) => {
      const intId = numbers.get(vm.id);
      return intId === undefined ? [] : [{ id: vm.id, intId, merger: new StoredSummaryMerger(vm.numCpu), endSec: first }];
    });
    for (const [block, data] of this.statements.blocks.iterate(tier, first, end)) {
      // Copied to an aligned buffer: a BLOB's bytes need not be 4-byte aligned.
      const buffer = new Uint8Array(data).buffer;
      const count = data.byteLength >= 4 ? (new Int32Array(buffer, 0, 1)[0] ?? -1) : -1;
      if (count < 0 || data.byteLength !== 4 * (1 + count * (1 + storedSummaryFloats))) {
        throw new RangeError(`the stored VM summaries of ${tier} block ${String(block)} are ${String(data.byteLength)} bytes, which is not the form of summary-blocks.ts: delete the row to have the block made again`);
      }
      const ids = new Int32Array(buffer, 4, count);
      const values = new Float32Array(buffer, 4 * (1 + count));
      for (const run of runs) {
        if (run.endSec !== block) continue;
        const at = sortedIndexOf(ids, run.intId);
        if (at >= 0 && run.merger.add(values, at * storedSummaryFloats, block)) run.endSec = block + blocks.blockSec;
      }
    }
    for (const run of runs) {
      const summaries = run.merger.result();
      if (summaries !== null) found.set(run.id, { summaries, fromSec: first, endSec: run.endSec });
    }
    return found;
  }

  /** The history import wrote into these buckets: their blocks are summarized again, whole. */
  forget(tier: Tier, bucketStarts: Iterable<number>): void {
    const blocks = summaryBlocks[tier];
    if (blocks === undefined) return;
    const starts = new Set<number>();
    for (const bucketSec of bucketStarts) starts.add(blockStart(bucketSec, blocks.blockSec));
    for (const block of starts) this.statements.forgetBlock.run(tier, block);
  }

  /** Realtime samples of VMs were written from `sec` on: the blocks holding buckets from the one of `sec` on are summarized again. */
  forgetFrom(sec: number): void {
    for (const [tier, { blockSec }] of Object.entries(summaryBlocks) as [Tier, { blockSec: number; count: number }][]) {
      this.statements.forgetAfter.run(tier, blockStart(sec, tierStepSec[tier]) - blockSec);
    }
  }

  /** Drops the summaries of blocks no period reaches any more. */
  applyRetention(nowSec: number): void {
    for (const [tier, { blockSec, count }] of Object.entries(summaryBlocks) as [Tier, { blockSec: number; count: number }][]) {
      this.statements.dropBefore.run(tier, lastFinalBlock(nowSec, blockSec) - (count - 1) * blockSec);
    }
  }
}

/**
 * A Float64Array reused from call to call, grown when a call needs more. Each group's gathered
 * buckets (4.6 MB for 500 VMs and a day of 30-minute buckets) lived through the young-generation
 * collections of its summaries and reached the old generation, where it waited for a full
 * collection: 10 such arrays a block, 13 MB of a first start's peak with the collector's
 * limited heap (bench/RESULTS.md, issue 12).
 */
class ReusedFloats {
  private array = new Float64Array(0);

  /** The first `length` numbers, every one NaN. */
  take(length: number): Float64Array {
    if (this.array.length < length) this.array = new Float64Array(length);
    return this.array.subarray(0, length).fill(Number.NaN);
  }

  /** Lets the array go (the next `take` allocates again). */
  release(): void {
    this.array = new Float64Array(0);
  }
}

/** Where `value` is in the ascending `sorted`, or -1. */
function sortedIndexOf(sorted: Int32Array, value: number): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const at = sorted[middle] ?? 0;
    if (at === value) return middle;
    if (at < value) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/**
 * The summaries of VMs' buckets of `tier` starting in the ranges (apart, in time order), from packed rows
 * (packed-rows.ts; `rows` reads them a part at a time; any order; rows of other entities are
 * skipped). The VMs' buckets are gathered first: only the average and maximum of the metrics the
 * summaries read, in one Float64Array for all the VMs, taken from `gathered` (NaN for none; about
 * 9 KB a VM for a day of 30-minute buckets: keeping the decoded rows of a day took a gigabyte at
 * 5,000 VMs). One array, not one per VM: arrays that live through young-generation collections
 * reach the old generation and their memory waits for a full collection. A VM without rows gets
 * empty summaries.
 * `opens` (open-half-hour.ts) are added into their buckets; only with `rows` in one part.
 */
function summarizeRows(
  tier: Tier,
  ranges: readonly TimeWindow[],
  rows: readonly (() => Uint8Array | null)[],
  vms: readonly { readonly intId: number; readonly numCpu: number }[],
  gathered: ReusedFloats,
  opens: ReadonlyMap<number, OpenHalfHour> = new Map(),
): Map<number, VmSummaries> {
  const stepSec = tierStepSec[tier];
  const ts = ranges.flatMap((range) => bucketStarts(range.fromSec, range.toSec - 1, stepSec));
  const buckets = ts.length;
  const position = new Map(ts.map((bucketSec, index) => [bucketSec, index]));
  const perVm = gatheredMetrics.length * 2 * buckets;
  const slot = new Map<number, number>(vms.map((vm, index) => [vm.intId, index]));
  const gatheredAll = gathered.take(vms.length * perVm);
  const hasRows = new Uint8Array(vms.length);
  // One bucket decoded flat (sum, count, min, max per metric): no object per metric and row.
  const scratch = new Float64Array(vmMetrics.length * accumulatorStride);
  const visit = (entity: number, bucketSec: number, data: Uint8Array): void => {
    const index = slot.get(entity);
    const at = position.get(bucketSec);
    if (index === undefined || at === undefined) return;
    hasRows[index] = 1;
    const base = index * perVm + at;
    scratch.fill(0);
    addEncodedBucket(data, scratch, vmMetrics.length);
    for (let c = 0; c < gatheredMetrics.length; c++) {
      const from = (gatheredMetrics[c]?.index ?? 0) * accumulatorStride;
      const count = scratch[from + 1] ?? 0;
      if (count === 0) continue;
      gatheredAll[base + c * 2 * buckets] = (scratch[from] ?? 0) / count;
      gatheredAll[base + (c * 2 + 1) * buckets] = scratch[from + 3] ?? Number.NaN;
    }
  };
  for (const part of rows) eachRowWithOpen(part(), opens, stepSec, visit);
  const gaps = ts.map(() => null);
  const empty: BucketSeries = { stepSec, ts, avg: gaps, max: gaps };
  // Every bucket lies whole within its range, so within the ranges' hull.
  const window = { fromSec: ranges[0]?.fromSec ?? 0, toSec: ranges.at(-1)?.toSec ?? 0 };
  const valueAt = (values: Float64Array, offset: number): (number | null)[] =>
    ts.map((_, i) => {
      const value = values[offset + i] ?? Number.NaN;
      return Number.isNaN(value) ? null : value;
    });
  const summaries = new Map<number, VmSummaries>();
  const emptyByCpu = new Map<number, VmSummaries>();
  for (const [index, vm] of vms.entries()) {
    const values = hasRows[index] === 1 ? gatheredAll.subarray(index * perVm, (index + 1) * perVm) : new Float64Array(0);
    const seriesOf = (metric: string): BucketSeries | undefined => {
      const c = gatheredColumn.get(metric);
      if (c === undefined) return vmMetrics.some((known) => known.key === metric) ? empty : undefined;
      if (values.length === 0) return empty;
      return { stepSec, ts, avg: valueAt(values, c * 2 * buckets), max: valueAt(values, (c * 2 + 1) * buckets) };
    };
    // VMs without a bucket here (powered off, or not collected then) all have the same empty
    // summaries for a vCPU count: made once (a first start made 65 blocks of 5,000 such VMs in
    // 10 CPU-s otherwise). Summaries are never changed once made, so they can be shared.
    let made = values.length === 0 ? emptyByCpu.get(vm.numCpu) : undefined;
    if (made === undefined) {
      made = summarizeVm(vm.numCpu, seriesOf, empty, window);
      if (values.length === 0) emptyByCpu.set(vm.numCpu, made);
    }
    summaries.set(vm.intId, made);
  }
  return summaries;
}

/** The stored VM metrics the summaries read, with their place in a bucket, and their column in `summarizeRows`. */
const gatheredMetrics = vmMetrics.flatMap((metric, index) => (summaryMetricKeys.has(metric.key) ? [{ key: metric.key, index }] : []));
const gatheredColumn = new Map(gatheredMetrics.map(({ key }, at) => [key, at]));
