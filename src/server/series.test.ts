import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from './errors.ts';
import { maxSpanSec, planSeries, type SeriesParams } from './series.ts';

const now = 1_800_000_123; // not aligned on any step

const cases: { name: string; params: SeriesParams; expected: { period: string; tier: string; from: number; to: number } }[] = [
  { name: 'default: the last day in 5-minute buckets', params: {}, expected: { period: 'day', tier: '5m', from: 1_799_913_600, to: 1_800_000_000 } },
  { name: 'week: 30-minute buckets', params: { period: 'week' }, expected: { period: 'week', tier: '30m', from: 1_799_395_200, to: 1_800_000_000 } },
  { name: 'month: 2-hour buckets', params: { period: 'month' }, expected: { period: 'month', tier: '2h', from: 1_797_321_600, to: 1_800_000_000 } },
  { name: 'year: daily buckets', params: { period: 'year' }, expected: { period: 'year', tier: '1d', from: 1_768_348_800, to: 1_799_971_200 } },
  {
    name: 'custom hour: 5-minute buckets whose start is in [from, to)',
    params: { from: 1_800_000_000, to: 1_800_003_600 },
    expected: { period: 'custom', tier: '5m', from: 1_800_000_000, to: 1_800_003_300 },
  },
  {
    name: 'custom unaligned: from rounds down, to excludes the bucket starting at it',
    params: { from: 1_800_000_100, to: 1_800_000_900 },
    expected: { period: 'custom', tier: '5m', from: 1_800_000_000, to: 1_800_000_600 },
  },
  {
    name: 'custom 10 days: too many 5-minute points, 30-minute buckets',
    params: { from: 1_800_000_000 - 10 * 86400, to: 1_800_000_000 },
    expected: { period: 'custom', tier: '30m', from: 1_799_136_000, to: 1_799_998_200 },
  },
  {
    name: 'custom two years: daily buckets',
    params: { from: 1_800_000_000 - maxSpanSec, to: 1_800_000_000 },
    expected: { period: 'custom', tier: '1d', from: 1_736_812_800, to: 1_799_971_200 },
  },
];

for (const { name, params, expected } of cases) {
  void test(`planSeries: ${name}`, () => {
    const plan = planSeries('vm', params, now);
    assert.deepEqual(
      { period: plan.period, tier: plan.tier, from: plan.fromBucketSec, to: plan.toBucketSec },
      expected,
    );
    assert.equal(plan.fromBucketSec % plan.stepSec, 0);
    assert.equal(plan.toBucketSec % plan.stepSec, 0);
  });
}

void test('planSeries: metrics default to the kind, are checked and deduplicated', () => {
  assert.deepEqual(planSeries('nic', {}, now).metrics, ['netRxKBps', 'netTxKBps', 'netRxPps', 'netTxPps']);
  assert.deepEqual(planSeries('host', { metrics: 'cpuUsagePct, memUsagePct,cpuUsagePct' }, now).metrics, ['cpuUsagePct', 'memUsagePct']);
  assert.throws(() => planSeries('host', { metrics: 'cpuReadyMs' }, now), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.statusCode, 400);
    assert.match(error.message, /Unknown metric "cpuReadyMs" for a host; allowed: cpuUsagePct, cpuUsedMhz/);
    return true;
  });
});

void test('planSeries: refused ranges', () => {
  const refused: [string, SeriesParams][] = [
    ['from without to', { from: 1 }],
    ['to without from', { to: 2 }],
    ['empty range', { from: 5, to: 5 }],
    ['reversed', { from: 6, to: 5 }],
    ['over two years', { from: 0, to: maxSpanSec + 1 }],
  ];
  for (const [name, params] of refused) {
    assert.throws(() => planSeries('vm', params, now), AppError, name);
  }
  assert.throws(() => planSeries('datacenter', {}, now), /no history of its own/);
});
