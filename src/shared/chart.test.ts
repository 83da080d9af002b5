import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SeriesResponse } from './api.ts';
import { chartGroups, tickIncrements, tickLabels, toChartModel, withGaps } from './chart.ts';
import { hostMetrics, nicMetrics, vmMetrics } from './metrics.ts';

const available = (defs: readonly { key: string; unit: string; label: string }[]) =>
  defs.map((d) => ({ metric: d.key, unit: d.unit, label: d.label }));

function response(ts: number[], series: { metric: string; unit: string; avg: (number | null)[]; min?: (number | null)[]; max?: (number | null)[] }[], stepSec = 300): SeriesResponse {
  return {
    entity: { id: 'vm-aaaaaaaaaaaaaa', kind: 'vm', name: 'web-1' },
    period: 'day',
    stepSec,
    from: ts[0] ?? 0,
    to: ts.at(-1) ?? 0,
    ts,
    series: series.map((s) => ({ metric: s.metric, unit: s.unit, label: s.metric, avg: s.avg, min: s.min ?? s.avg, max: s.max ?? s.avg })),
  };
}

void test('chartGroups: a host gets CPU %, CPU MHz, memory and network charts', () => {
  const groups = chartGroups('host', available(hostMetrics));
  assert.deepEqual(
    groups.map((g) => [g.id, g.metrics]),
    [
      ['cpu-pct', ['cpuUsagePct']],
      ['cpu-mhz', ['cpuUsedMhz']],
      ['mem-pct', ['memUsagePct']],
      ['mem-mb', ['memConsumedMB']],
      ['net-kbps', ['netRxKBps', 'netTxKBps']],
    ],
  );
});

void test('chartGroups: every VM metric lands in exactly one chart', () => {
  const groups = chartGroups('vm', available(vmMetrics));
  const shown = groups.flatMap((g) => g.metrics).sort();
  assert.deepEqual(shown, vmMetrics.map((m) => m.key).sort());
  assert.ok(groups.some((g) => g.id === 'cpu-ready' && g.readyPerVcpu === true));
  assert.ok(!groups.some((g) => g.id.startsWith('other-')), 'no VM metric is left to a catch-all chart');
});

void test('chartGroups: a NIC gets throughput and packets', () => {
  assert.deepEqual(chartGroups('nic', available(nicMetrics)).map((g) => g.id), ['net-kbps', 'net-pps']);
});

void test('chartGroups: missing metrics drop out, unknown ones get a chart per unit', () => {
  const groups = chartGroups('nic', [
    { metric: 'netRxKBps', unit: 'KBps', label: 'Received' },
    { metric: 'errorsPps', unit: 'pps', label: 'Errors' },
    { metric: 'dropsPps', unit: 'pps', label: 'Drops' },
  ]);
  assert.deepEqual(
    groups.map((g) => [g.id, g.metrics, g.title]),
    [
      ['net-kbps', ['netRxKBps'], 'Throughput'],
      ['other-pps', ['errorsPps', 'dropsPps'], 'Errors, Drops'],
    ],
  );
});

const gapCases: readonly [string, number[], (number | null)[], number[], (number | null)[]][] = [
  ['dense stays as is', [0, 300, 600], [1, 2, 3], [0, 300, 600], [1, 2, 3]],
  ['a missing bucket becomes a null', [0, 300, 1200], [1, 2, 3], [0, 300, 600, 1200], [1, 2, null, 3]],
  ['nulls are kept', [0, 300, 600], [1, null, 3], [0, 300, 600], [1, null, 3]],
  ['slight jitter is not a gap', [0, 300, 700], [1, 2, 3], [0, 300, 700], [1, 2, 3]],
  ['empty', [], [], [], []],
];
for (const [name, ts, col, wantTs, wantCol] of gapCases) {
  void test(`withGaps: ${name}`, () => {
    const input = [...col];
    const out = withGaps(ts, 300, [input]);
    assert.deepEqual(out.ts, wantTs);
    assert.deepEqual(out.columns, [wantCol]);
    assert.deepEqual(input, col, 'input not mutated');
  });
}

void test('toChartModel: avg, min, max columns per metric and a band from max to min', () => {
  const r = response(
    [0, 300, 600],
    [
      { metric: 'netTxKBps', unit: 'KBps', avg: [2, 2, 2] },
      { metric: 'netRxKBps', unit: 'KBps', avg: [1, null, 3], min: [0, null, 2], max: [5, null, 4] },
    ],
  );
  const model = toChartModel(r, { id: 'net', title: 'Network', unit: 'KBps', metrics: ['netRxKBps', 'netTxKBps'] });
  assert.ok(model);
  assert.deepEqual(model.data, [
    [0, 300, 600],
    [1, null, 3],
    [0, null, 2],
    [5, null, 4],
    [2, 2, 2],
    [2, 2, 2],
    [2, 2, 2],
  ]);
  assert.deepEqual(
    model.series.map((s) => [s.metric, s.role, s.colorIndex, s.label]),
    [
      ['netRxKBps', 'avg', 0, 'netRxKBps'],
      ['netRxKBps', 'min', 0, 'netRxKBps min'],
      ['netRxKBps', 'max', 0, 'netRxKBps max'],
      ['netTxKBps', 'avg', 1, 'netTxKBps'],
      ['netTxKBps', 'min', 1, 'netTxKBps min'],
      ['netTxKBps', 'max', 1, 'netTxKBps max'],
    ],
  );
  assert.deepEqual(model.bands, [
    { upper: 3, lower: 2 },
    { upper: 6, lower: 5 },
  ]);
  assert.equal(model.unit, 'KBps');
});

void test('toChartModel: null when the response has none of the metrics', () => {
  const r = response([0], [{ metric: 'other', unit: 'ms', avg: [1] }]);
  assert.equal(toChartModel(r, { id: 'x', title: 'X', unit: 'ms', metrics: ['cpuReadyMs'] }), null);
});

void test('toChartModel: CPU ready as % per vCPU when the vCPU count is known, ms otherwise', () => {
  const r = response([0, 300], [{ metric: 'cpuReadyMs', unit: 'ms', avg: [2000, null], min: [1000, null], max: [4000, null] }]);
  const group = { id: 'cpu-ready', title: 'CPU ready', unit: 'percent', metrics: ['cpuReadyMs'], readyPerVcpu: true };
  const pct = toChartModel(r, group, 2);
  assert.ok(pct);
  // 2000 ms per 20 s = 10 %, over 2 vCPUs = 5 %.
  assert.deepEqual(pct.data.slice(1), [
    [5, null],
    [2.5, null],
    [10, null],
  ]);
  assert.equal(pct.unit, 'percent');
  assert.equal(pct.series[0]?.label, 'CPU ready per vCPU');
  const ms = toChartModel(r, group);
  assert.ok(ms);
  assert.deepEqual(ms.data[1], [2000, null]);
  assert.equal(ms.unit, 'ms');
});

void test('toChartModel: gaps in the time axis become nulls in every column', () => {
  const r = response([0, 900], [{ metric: 'cpuUsagePct', unit: 'percent', avg: [10, 20] }], 300);
  const model = toChartModel(r, { id: 'cpu', title: 'CPU', unit: 'percent', metrics: ['cpuUsagePct'] });
  assert.ok(model);
  assert.deepEqual(model.data, [
    [0, 300, 900],
    [10, null, 20],
    [10, null, 20],
    [10, null, 20],
  ]);
});

const tickCases: readonly [string, number[], string, string[]][] = [
  ['percent', [0, 20, 40, 60], 'percent', ['0', '20 %', '40 %', '60 %']],
  ['small percent keeps decimals', [0, 0.02, 0.04], 'percent', ['0', '0.02 %', '0.04 %']],
  ['one unit for the whole axis', [0, 512, 1024, 1536], 'KBps', ['0', '0.5 MB/s', '1.0 MB/s', '1.5 MB/s']],
  ['GHz from MHz', [0, 50000, 100000], 'MHz', ['0', '50 GHz', '100 GHz']],
  ['thousands grouped', [0, 2000, 4000], 'iops', ['0', '2,000 IOPS', '4,000 IOPS']],
  ['distinct labels for uneven scaled ticks', [0, 20000, 40000], 'KBps', ['0', '20 MB/s', '39 MB/s']],
  ['GB to TB', [0, 1024, 2048], 'GB', ['0', '1 TB', '2 TB']],
  ['unknown unit', [0, 0.5, 1], 'widgets', ['0', '0.5 widgets', '1.0 widgets']],
  ['no ticks', [], 'ms', []],
];
for (const [name, ticks, unit, want] of tickCases) {
  void test(`tickLabels: ${name}`, () => assert.deepEqual(tickLabels(ticks, unit), want));
}

void test('tickIncrements: round steps in the displayed unit', () => {
  // 40,000 KB/s shows as MB/s: a 10 MB/s step is 10,240 KB/s.
  assert.ok(tickIncrements('KBps', 40000).includes(10 * 1024));
  assert.ok(!tickIncrements('KBps', 40000).includes(10000));
  assert.ok(tickIncrements('KBps', 500).includes(100));
  assert.ok(tickIncrements('percent', 80).includes(20));
  assert.ok(tickIncrements('percent', 0.04).includes(0.01));
});
