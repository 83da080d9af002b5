/**
 * Per-VM, per-day summaries of the week's and the month's buckets (shared/vm-summary.ts), kept in
 * SQLite so that a cold Capacity or Contention answer over a month reads about 30 summaries per
 * VM instead of 372 two-hour buckets (issue #13).
 *
 * A day is summarized once it can no longer change through the cycles: realtime samples reach at
 * most vCenter's realtime hour back (plus a sample's length), so a day that ended before that is
 * final, except for the history import, which deletes the summaries of the days it writes into
 * (`forget`). Days are made whole, every VM at once, by one range scan of that day over the
 * time-first key, and stored as one row per tier and day holding every VM's summary: reading a
 * row per VM and day cost about 4 µs a row in better-sqlite3 (0.6 s for a month of 5,000 VMs),
 * where the whole month is 30 rows of 1.6 MB. VMs that appear later have no summary for the days
 * made before: their readers read the buckets instead.
 *
 * A day's row: a 32-bit count n, the n VMs' entity numbers (32-bit, ascending), then their
 * summaries (`storedSummaryFloats` 32-bit floats each, bucket times relative to the day), in
 * the machine's byte order (the file stays on the machine that wrote it, as SQLite's own does not).
 */
import type Database from 'better-sqlite3';
import { metricsByKind } from '../../shared/metrics.ts';
import { bucketStarts } from '../../shared/rollup.ts';
import type { BucketSeries } from '../../shared/bucket-series.ts';
import { tierStepSec, tiers, type Tier } from '../../shared/tiers.ts';
import { StoredSummaryMerger, storedSummaryFloats, summarizeVm, summaryMetricKeys, writeVmSummaries, type VmSummaries } from '../../shared/vm-summary.ts';
import { maxRealtimeIntervalSec } from '../store.ts';
import { accumulatorStride, addEncodedBucket } from './bucket-codec.ts';

export const daySec = 86400;

/**
 * How far back a cycle writes: vCenter keeps an hour of realtime samples (collector/performance.ts
 * `realtimeRetentionSec`), which a collector back from an outage asks for whole.
 */
const realtimeReachSec = 3600;

/** The tiers summarized per day and how many days back: the week's (30 min) and the month's (2 h) buckets. */
export const summaryDays: Readonly<Partial<Record<Tier, number>>> = { '30m': 8, '2h': 31 };

/** Start of the UTC day holding `sec`. */
export function dayStart(sec: number): number {
  return Math.floor(sec / daySec) * daySec;
}

/** The newest day whose buckets no cycle can write into any more at `nowSec` (its start). */
export function lastFinalDay(nowSec: number): number {
  return dayStart(nowSec - realtimeReachSec - maxRealtimeIntervalSec) - daySec;
}

const vmMetrics = metricsByKind.vm;

export class DaySummaries {
  private readonly statements;

  constructor(private readonly db: Database.Database, sampleTable: (tier: Tier) => string) {
    const byTier = <T>(make: (tier: Tier) => T): Partial<Record<Tier, T>> =>
      Object.fromEntries(Object.keys(summaryDays).map((tier) => [tier, make(tier as Tier)]));
    const byTierAll = <T>(make: (tier: Tier) => T): Record<Tier, T> => Object.fromEntries(tiers.map((tier) => [tier, make(tier)])) as Record<Tier, T>;
    this.statements = {
      dayMade: db.prepare<[string, number], number>('SELECT 1 FROM vm_summary_days WHERE tier = ? AND day_sec = ?').pluck(),
      vms: db.prepare<[], { int_id: number; id: string; info: string }>("SELECT int_id, id, info FROM entities WHERE kind = 'vm'"),
      numbersOf: db.prepare<[string], [string, number]>('SELECT id, int_id FROM entities WHERE id IN (SELECT value FROM json_each(?))').raw(),
      dayRows: byTier((tier) => db.prepare<[number, number], [number, number, Buffer]>(`SELECT entity, bucket_sec, data FROM ${sampleTable(tier)} WHERE bucket_sec >= ? AND bucket_sec < ?`).raw()),
      // Several VMs' buckets at the given starts: a key seek per bucket and VM (the key is time first).
      rangeOfMany: byTierAll((tier) =>
        db
          .prepare<[string, string], [string, number, Buffer]>(
            `SELECT e.id, t.bucket_sec, t.data FROM entities e CROSS JOIN json_each(?) b CROSS JOIN ${sampleTable(tier)} t
             WHERE e.id IN (SELECT value FROM json_each(?)) AND t.bucket_sec = b.value AND t.entity = e.int_id`,
          )
          .raw(),
      ),
      put: db.prepare<[string, number, Buffer]>('INSERT OR REPLACE INTO vm_summary_days (tier, day_sec, data) VALUES (?, ?, ?)'),
      days: db.prepare<[string, number, number], [number, Buffer]>('SELECT day_sec, data FROM vm_summary_days WHERE tier = ? AND day_sec >= ? AND day_sec < ? ORDER BY day_sec').raw(),
      forgetDay: db.prepare<[string, number]>('DELETE FROM vm_summary_days WHERE tier = ? AND day_sec = ?'),
      dropBefore: db.prepare<[string, number]>('DELETE FROM vm_summary_days WHERE tier = ? AND day_sec < ?'),
    };
  }

  /**
   * Summarizes at most `maxDays` final days not made yet, oldest first, each in its own
   * transaction (about a second each at 5,000 VMs: a caller that must stay responsive asks for
   * one at a time).
   * @returns the days made
   */
  fill(nowSec: number, maxDays = Number.POSITIVE_INFINITY): number {
    const last = lastFinalDay(nowSec);
    let made = 0;
    let vms: { intId: number; numCpu: number }[] | null = null;
    for (const [tier, days] of Object.entries(summaryDays) as [Tier, number][]) {
      for (let day = last - (days - 1) * daySec; day <= last; day += daySec) {
        if (this.statements.dayMade.get(tier, day) !== undefined) continue;
        if (made >= maxDays) return made;
        vms ??= this.statements.vms.all().map((row) => ({ intId: row.int_id, numCpu: numCpuOf(row.info) }));
        const list = vms;
        this.db.transaction(() => this.makeDay(tier, day, list)).immediate();
        made++;
      }
    }
    return made;
  }

  /** Summarizes one day for every VM (see `summarizeRows`) into the day's row (see the file comment). */
  private makeDay(tier: Tier, day: number, vms: readonly { intId: number; numCpu: number }[]): void {
    const sorted = [...vms].sort((a, b) => a.intId - b.intId);
    const rows = this.statements.dayRows[tier]?.iterate(day, day + daySec) ?? [];
    const summaries = summarizeRows(tier, day, day + daySec, rows, sorted.map((vm) => ({ key: vm.intId, numCpu: vm.numCpu })));
    const buffer = new ArrayBuffer(4 * (1 + sorted.length * (1 + storedSummaryFloats)));
    const numbers = new Int32Array(buffer, 0, 1 + sorted.length);
    const values = new Float32Array(buffer, 4 * (1 + sorted.length));
    numbers[0] = sorted.length;
    sorted.forEach((vm, i) => {
      numbers[1 + i] = vm.intId;
      const vmSummaries = summaries.get(vm.intId);
      if (vmSummaries !== undefined) writeVmSummaries(vmSummaries, day, values, i * storedSummaryFloats);
    });
    this.statements.put.run(tier, day, Buffer.from(buffer));
  }

  /**
   * The summaries of these VMs' buckets of `tier` starting in `[fromSec, toSec)` (step-aligned),
   * read in one statement: what a reader of a month asks for the partial days its day summaries
   * do not cover. A VM without buckets there gets empty summaries.
   */
  summarizeRange(tier: Tier, fromSec: number, toSec: number, vms: readonly { readonly id: string; readonly numCpu: number }[]): Map<string, VmSummaries> {
    const ts = bucketStarts(fromSec, toSec - 1, tierStepSec[tier]);
    const rows = ts.length === 0 || vms.length === 0 ? [] : this.statements.rangeOfMany[tier].iterate(JSON.stringify(ts), JSON.stringify(vms.map((vm) => vm.id)));
    return summarizeRows(tier, fromSec, toSec, rows, vms.map((vm) => ({ key: vm.id, numCpu: vm.numCpu })));
  }

  /**
   * Per VM, the merge of its day summaries from `fromDaySec` on, consecutive, up to the first day
   * before `toDaySec` without one (not made yet, made before the VM appeared, or for another vCPU
   * count than `numCpu`), with the end of the last day merged. VMs without a first day are left out.
   * @throws RangeError when a stored day is not in the form of the file comment
   */
  mergedDays(tier: Tier, fromDaySec: number, toDaySec: number, vms: readonly { readonly id: string; readonly numCpu: number }[]): Map<string, { summaries: VmSummaries; endSec: number }> {
    const found = new Map<string, { summaries: VmSummaries; endSec: number }>();
    if (summaryDays[tier] === undefined || vms.length === 0) return found;
    const numbers = new Map(this.statements.numbersOf.all(JSON.stringify(vms.map((vm) => vm.id))));
    const runs = vms.flatMap((vm) => {
      const intId = numbers.get(vm.id);
      return intId === undefined ? [] : [{ id: vm.id, intId, merger: new StoredSummaryMerger(vm.numCpu), endSec: fromDaySec }];
    });
    for (const [day, data] of this.statements.days.iterate(tier, fromDaySec, toDaySec)) {
      // Copied to an aligned buffer: a BLOB's bytes need not be 4-byte aligned.
      const buffer = new Uint8Array(data).buffer;
      const count = data.byteLength >= 4 ? (new Int32Array(buffer, 0, 1)[0] ?? -1) : -1;
      if (count < 0 || data.byteLength !== 4 * (1 + count * (1 + storedSummaryFloats))) {
        throw new RangeError(`the stored VM summaries of ${tier} day ${String(day)} are ${String(data.byteLength)} bytes, which is not the form of day-summaries.ts: delete the row to have the day made again`);
      }
      const ids = new Int32Array(buffer, 4, count);
      const values = new Float32Array(buffer, 4 * (1 + count));
      for (const run of runs) {
        if (run.endSec !== day) continue;
        const at = sortedIndexOf(ids, run.intId);
        if (at >= 0 && run.merger.add(values, at * storedSummaryFloats, day)) run.endSec = day + daySec;
      }
    }
    for (const run of runs) {
      const summaries = run.merger.result();
      if (summaries !== null) found.set(run.id, { summaries, endSec: run.endSec });
    }
    return found;
  }

  /** The history import wrote into these buckets: their days are summarized again, whole. */
  forget(tier: Tier, bucketStarts: Iterable<number>): void {
    if (summaryDays[tier] === undefined) return;
    const days = new Set<number>();
    for (const bucketSec of bucketStarts) days.add(dayStart(bucketSec));
    for (const day of days) this.statements.forgetDay.run(tier, day);
  }

  /** Drops the summaries of days no period reaches any more. */
  applyRetention(nowSec: number): void {
    for (const [tier, days] of Object.entries(summaryDays) as [Tier, number][]) {
      this.statements.dropBefore.run(tier, lastFinalDay(nowSec) - (days - 1) * daySec);
    }
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
 * The summaries of VMs' buckets of `tier` starting in `[fromSec, toSec)`, from `rows` ([the VM's
 * key, bucket start, data], any order; rows of other keys are skipped). Each VM's buckets are
 * gathered first: only the average and maximum of the metrics the summaries read, in one
 * Float64Array per VM (NaN for none), about 9 KB a VM for a day of 30-minute buckets (keeping
 * the decoded rows of a day took a gigabyte at 5,000 VMs). A VM without rows gets empty summaries.
 */
function summarizeRows<K>(tier: Tier, fromSec: number, toSec: number, rows: Iterable<readonly [K, number, Buffer]>, vms: readonly { readonly key: K; readonly numCpu: number }[]): Map<K, VmSummaries> {
  const stepSec = tierStepSec[tier];
  const ts = bucketStarts(fromSec, toSec - 1, stepSec);
  const buckets = ts.length;
  const first = ts[0] ?? fromSec;
  const gathered = new Map<K, Float64Array>(vms.map((vm) => [vm.key, new Float64Array(0)]));
  // One bucket decoded flat (sum, count, min, max per metric): no object per metric and row.
  const scratch = new Float64Array(vmMetrics.length * accumulatorStride);
  for (const [key, bucketSec, data] of rows) {
    let values = gathered.get(key);
    if (values === undefined) continue;
    if (values.length === 0) gathered.set(key, (values = new Float64Array(gatheredMetrics.length * 2 * buckets).fill(Number.NaN)));
    scratch.fill(0);
    addEncodedBucket(data, scratch, vmMetrics.length);
    const at = (bucketSec - first) / stepSec;
    gatheredMetrics.forEach(({ index }, c) => {
      const from = index * accumulatorStride;
      const count = scratch[from + 1] ?? 0;
      if (count === 0) return;
      values[c * 2 * buckets + at] = (scratch[from] ?? 0) / count;
      values[(c * 2 + 1) * buckets + at] = scratch[from + 3] ?? Number.NaN;
    });
  }
  const gaps = ts.map(() => null);
  const empty: BucketSeries = { stepSec, ts, avg: gaps, max: gaps };
  const window = { fromSec, toSec };
  const valueAt = (values: Float64Array, offset: number): (number | null)[] =>
    ts.map((_, i) => {
      const value = values[offset + i] ?? Number.NaN;
      return Number.isNaN(value) ? null : value;
    });
  const summaries = new Map<K, VmSummaries>();
  for (const vm of vms) {
    const values = gathered.get(vm.key) ?? new Float64Array(0);
    const seriesOf = (metric: string): BucketSeries | undefined => {
      const c = gatheredColumn.get(metric);
      if (c === undefined) return vmMetrics.some((known) => known.key === metric) ? empty : undefined;
      if (values.length === 0) return empty;
      return { stepSec, ts, avg: valueAt(values, c * 2 * buckets), max: valueAt(values, (c * 2 + 1) * buckets) };
    };
    summaries.set(vm.key, summarizeVm(vm.numCpu, seriesOf, empty, window));
  }
  return summaries;
}

/** The stored VM metrics the summaries read, with their place in a bucket, and their column in `summarizeRows`. */
const gatheredMetrics = vmMetrics.flatMap((metric, index) => (summaryMetricKeys.has(metric.key) ? [{ key: metric.key, index }] : []));
const gatheredColumn = new Map(gatheredMetrics.map(({ key }, at) => [key, at]));

/** A VM's vCPU count from its stored info (0 when absent: ready then divides by one, as metrics.ts does). */
function numCpuOf(info: string): number {
  try {
    const parsed = JSON.parse(info) as { numCpu?: unknown };
    return typeof parsed.numCpu === 'number' ? parsed.numCpu : 0;
  } catch {
    return 0;
  }
}
