import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { BucketSeries } from './bucket-series.ts';
import { contentionMetricKeys } from './insights.ts';
import { decodeVmSummaries, encodeVmSummaries, mergeVmSummaries, StoredSummaryMerger, storedSummaryFloats, summarizeVm, summaryMetricKeys, type VmSummaries } from './vm-summary.ts';

const stepSec = 7200;
const days = 3;
const ts = Array.from({ length: (days * 86400) / stepSec }, (_, i) => i * stepSec);
const column = (seed: number, gapEvery = 0): (number | null)[] => ts.map((_, i) => (gapEvery > 0 && i % gapEvery === 1 ? null : ((i * seed) % 23) / 2));
const stored: Record<string, BucketSeries> = {};
for (const [key, seed] of [['cpuUsagePct', 7], ['cpuReadyMs', 997], ['memUsagePct', 5], ['diskReadKBps', 11], ['diskWriteKBps', 13], ['netRxKBps', 3], ['netTxKBps', 17], ['diskMaxLatencyMs', 29], ['memBalloonedMB', 0], ['memSwapInKBps', 2], ['netRxDroppedPps', 1], ['netTxDroppedPps', 19]] as const) {
  const avg = column(seed, key === 'memUsagePct' ? 5 : 0);
  stored[key] = { stepSec, ts, avg, max: avg.map((value) => (value === null ? null : value * 1.5)) };
}
const empty: BucketSeries = { stepSec, ts, avg: ts.map(() => null), max: ts.map(() => null) };
const seriesOf = (key: string): BucketSeries | undefined => stored[key];

/** The summaries as plain numbers, rounded to float32 precision (what the store keeps). */
function comparable(summaries: VmSummaries): unknown {
  return JSON.parse(JSON.stringify(summaries, (_, value: unknown) => (typeof value === 'number' ? Math.fround(value) : value)));
}

void test('summarizeVm: the days of a window, merged, are the whole window', () => {
  let merged: VmSummaries | null = null;
  for (let day = 0; day < days; day++) {
    const part = summarizeVm(4, seriesOf, empty, { fromSec: day * 86400, toSec: (day + 1) * 86400 });
    merged = merged === null ? part : mergeVmSummaries(merged, part);
  }
  assert.ok(merged);
  assert.deepEqual(comparable(merged), comparable(summarizeVm(4, seriesOf, empty, { fromSec: 0, toSec: days * 86400 })));
});

void test('summarizeVm: a metric the store does not know is a gap, or no contention summary', () => {
  const without = summarizeVm(2, (key) => (key === 'memBalloonedMB' || key === 'cpuUsagePct' ? undefined : stored[key]), empty, { fromSec: 0, toSec: 86400 });
  assert.equal(without.contention.balloon, null);
  assert.equal(without.usage.cpuUsagePct.coveredSec, 0);
  assert.notEqual(without.contention.cpuReady, null);
});

void test('encodeVmSummaries: 324 bytes that decode to the same summaries, in 32-bit floats', () => {
  const baseSec = 1_800_000_000;
  const shifted = (key: string): BucketSeries | undefined => {
    const series = stored[key];
    return series && { ...series, ts: series.ts.map((at) => at + baseSec) };
  };
  const summaries = summarizeVm(8, shifted, { ...empty, ts: ts.map((at) => at + baseSec) }, { fromSec: baseSec, toSec: baseSec + 86400 });
  const bytes = encodeVmSummaries(summaries, baseSec);
  assert.equal(bytes.byteLength, 324);
  // Not 4-byte aligned, as a BLOB may come.
  const unaligned = Buffer.concat([Buffer.from([0]), bytes]).subarray(1);
  const decoded = decodeVmSummaries(unaligned, baseSec);
  assert.deepEqual(comparable(decoded), comparable(summaries));
  assert.equal(decoded.usage.cpuUsagePct.busiest?.bucketSec, summaries.usage.cpuUsagePct.busiest?.bucketSec, 'bucket times exact');
  const nulls = { ...summaries, contention: Object.fromEntries(contentionMetricKeys.map((metric) => [metric, null])) as VmSummaries['contention'] };
  assert.deepEqual(decodeVmSummaries(encodeVmSummaries(nulls, baseSec), baseSec).contention, nulls.contention);
  assert.throws(() => decodeVmSummaries(bytes.subarray(4), baseSec), /324 bytes/);
});

void test('StoredSummaryMerger: the stored days merge as their decoded summaries do; another vCPU count is refused', () => {
  const stored = Array.from({ length: days }, (_, day) => {
    const window = { fromSec: day * 86400, toSec: (day + 1) * 86400 };
    return { daySec: day * 86400, bytes: encodeVmSummaries(summarizeVm(4, seriesOf, empty, window), day * 86400) };
  });
  const decoded = stored.map((day) => decodeVmSummaries(day.bytes, day.daySec)).reduce((merged, day) => mergeVmSummaries(merged, day));
  // All days side by side in one array, as a day's row holds VMs side by side.
  const values = new Float32Array(stored.length * storedSummaryFloats);
  stored.forEach((day, i) => values.set(new Float32Array(new Uint8Array(day.bytes).buffer), i * storedSummaryFloats));
  const merger = new StoredSummaryMerger(4);
  stored.forEach((day, i) => assert.equal(merger.add(values, i * storedSummaryFloats, day.daySec), true));
  assert.deepEqual(comparable(merger.result() as VmSummaries), comparable(decoded));
  const other = new StoredSummaryMerger(2);
  assert.equal(other.add(values, 0, 0), false, 'made for 4 vCPUs');
  assert.equal(other.result(), null, 'nothing merged');
});

void test('summarizeVm asks for the metrics of summaryMetricKeys, and for all of them', () => {
  const asked = new Set<string>();
  summarizeVm(2, (key) => (asked.add(key), stored[key]), empty, { fromSec: 0, toSec: 86400 });
  assert.deepEqual([...asked].sort(), [...summaryMetricKeys].sort());
});
