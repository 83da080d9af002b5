// Pure; run with: node --import tsx --test web/src/insights-format.test.ts
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DatastoreFillForecast } from '../../src/shared/capacity.ts';
import { fillForecastHealth, fillForecastText, headroomHealth, hintText, nPlusOneText } from './insights-format.ts';

const forecast = (partial: Partial<DatastoreFillForecast>): DatastoreFillForecast => ({
  status: 'filling',
  window: { fromSec: 0, toSec: 1 },
  stepSec: 7200,
  points: 360,
  firstBucketSec: 0,
  lastBucketSec: 0,
  capacityGB: 1000,
  latestUsedGB: 400,
  fittedUsedGB: 400,
  growthGBPerDay: 12,
  growthLowGBPerDay: 10,
  growthHighGBPerDay: 14,
  growthPctOfCapacityPerDay: 1.2,
  levelShifts: [],
  daysUntilFull: 50,
  daysUntilFullEarliest: 42.9,
  daysUntilFullLatest: 60,
  fullAtSec: 0,
  fullEarliestAtSec: 0,
  fullLatestAtSec: 0,
  ...partial,
});

const fills = [
  ['filling in 50 days, with its range', forecast({}), '50 d (43 d to 60 d)', 'warning'],
  ['a point forecast', forecast({ daysUntilFullEarliest: 50, daysUntilFullLatest: 50 }), '50 d', 'warning'],
  ['within a month', forecast({ daysUntilFull: 6.5, daysUntilFullEarliest: 6, daysUntilFullLatest: null }), '6.5 d (6.0 d to never)', 'critical'],
  ['past a quarter', forecast({ daysUntilFull: 200, daysUntilFullEarliest: 150, daysUntilFullLatest: 300 }), '200 d (150 d to 300 d)', 'ok'],
  ['not filling', forecast({ status: 'notFilling', daysUntilFull: null }), 'Not filling', 'ok'],
  ['full', forecast({ status: 'full', daysUntilFull: 0 }), 'Full', 'critical'],
  ['too little history', forecast({ status: 'insufficientData', daysUntilFull: null }), 'Not enough data', 'unknown'],
] as const;
for (const [name, value, text, health] of fills) {
  test(`fill forecast: ${name}`, () => {
    assert.equal(fillForecastText(value), text);
    assert.equal(fillForecastHealth(value), health);
  });
}

test('headroom health is the load health of what is used', () => {
  assert.deepEqual([headroomHealth(40), headroomHealth(15), headroomHealth(5), headroomHealth(null)], ['ok', 'warning', 'critical', 'unknown']);
});

test('N+1 in words', () => {
  const cpu = { biggestHostId: null, remainingCapacityMhz: 40000, peakDemandMhz: 60000, peakBucketSec: 0, marginPct: -50 };
  assert.deepEqual(nPlusOneText({ ...cpu, survives: false, marginMhz: -20000 }), { text: 'Fails: 20.00 GHz short', health: 'critical' });
  assert.deepEqual(nPlusOneText({ ...cpu, survives: true, marginMhz: 24000 }), { text: 'Holds, 24.00 GHz to spare', health: 'ok' });
  assert.deepEqual(nPlusOneText({ survives: true, biggestHostId: null, remainingCapacityMB: 1, peakDemandMB: 1, peakBucketSec: 0, marginMB: 0, marginPct: 0 }), { text: 'Holds, 0 MB to spare', health: 'warning' });
  assert.deepEqual(nPlusOneText({ ...cpu, survives: false, marginMhz: 1000 }), { text: 'Fails: a single host', health: 'critical' });
  assert.deepEqual(nPlusOneText({ ...cpu, survives: null, marginMhz: null }), { text: 'No data', health: 'unknown' });
});

test('hints say what they rest on', () => {
  assert.equal(
    hintText({ kind: 'tooManyVcpus', severity: 'critical', numCpu: 8, suggestedVcpus: 2, coveragePct: 100, meanReadyPctPerVcpu: 12, peakReadyPctPerVcpu: 12, peakReadyBucketSec: 0, busiestCpuUsagePct: 10, busiestCpuBucketSec: 0 }),
    '8 → 2 vCPUs: CPU ready 12.00 % per vCPU on average (peak 12.00 %), busiest CPU 10.0 %',
  );
  assert.equal(
    hintText({ kind: 'memoryNeverUsed', memoryMB: 16384, suggestedMemoryMB: 7168, coveragePct: 100, peakMemUsagePct: 20, peakBucketSec: 0, peakActiveMB: 3276.8 }),
    '16 GB → 7 GB: active memory peaked at 20.0 % (3.20 GB)',
  );
});
