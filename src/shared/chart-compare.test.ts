import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CompareResponse } from './api.ts';
import { toCompareModel } from './chart.ts';

function response(metric: string, unit: string, series: { id: string; numCpu: number | null; avg: (number | null)[] }[]): CompareResponse {
  return {
    kind: 'vm',
    metric,
    unit,
    label: metric,
    period: 'day',
    stepSec: 300,
    from: 0,
    to: 1200,
    // A missing bucket at 600: the columns get a null row there.
    ts: [0, 300, 900],
    series: series.map((s) => ({ entity: { id: s.id, kind: 'vm', name: `name-${s.id}` }, numCpu: s.numCpu, avg: s.avg, min: s.avg.map((v) => (v === null ? null : v - 1)), max: s.avg.map((v) => (v === null ? null : v + 1)) })),
  };
}

void test('toCompareModel: one line and band per entity, in order, gaps kept and broken', () => {
  const model = toCompareModel(response('cpuUsagePct', 'percent', [{ id: 'a', numCpu: 2, avg: [10, null, 30] }, { id: 'b', numCpu: 4, avg: [5, 6, 7] }]));
  assert.ok(model);
  assert.deepEqual(model.data, [
    [0, 300, 600, 900],
    [10, null, null, 30],
    [9, null, null, 29],
    [11, null, null, 31],
    [5, 6, null, 7],
    [4, 5, null, 6],
    [6, 7, null, 8],
  ]);
  assert.deepEqual(model.series.map((s) => [s.label, s.role, s.colorIndex]), [
    ['name-a', 'avg', 0],
    ['name-a min', 'min', 0],
    ['name-a max', 'max', 0],
    ['name-b', 'avg', 1],
    ['name-b min', 'min', 1],
    ['name-b max', 'max', 1],
  ]);
  assert.deepEqual(model.bands, [{ upper: 3, lower: 2 }, { upper: 6, lower: 5 }]);
  assert.equal(model.unit, 'percent');
});

void test('toCompareModel: CPU ready becomes percent per vCPU, each VM with its own vCPUs', () => {
  // 2,000 ms of a 20 s sample is 10 %; over 2 vCPUs 5 %, over 4 vCPUs 2.5 %.
  const model = toCompareModel(response('cpuReadyMs', 'ms', [{ id: 'a', numCpu: 2, avg: [2000, 2000, 2000] }, { id: 'b', numCpu: 4, avg: [2000, null, 2000] }]));
  assert.equal(model?.unit, 'percent');
  assert.deepEqual([model?.data[1]?.[0], model?.data[4]?.[0]], [5, 2.5]);
});

void test('toCompareModel: CPU ready stays in ms when a vCPU count is unknown; nothing to draw is null', () => {
  const model = toCompareModel(response('cpuReadyMs', 'ms', [{ id: 'a', numCpu: null, avg: [2000, 2000, 2000] }]));
  assert.deepEqual([model?.unit, model?.data[1]?.[0]], ['ms', 2000]);
  assert.equal(toCompareModel(response('cpuUsagePct', 'percent', [])), null);
});
