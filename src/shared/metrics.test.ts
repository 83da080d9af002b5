import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpuReadyHealth, cpuReadyPctPerVcpu, metricsByKind, toMetricValue, type Conversion } from './metrics.ts';

const conversions: { name: string; conversion: Conversion; raw: number; intervalSec: number; expected: number | null }[] = [
  { name: 'percent arrives in hundredths', conversion: 'hundredthsToPercent', raw: 4250, intervalSec: 20, expected: 42.5 },
  { name: 'identity keeps KBps', conversion: 'identity', raw: 1234, intervalSec: 20, expected: 1234 },
  { name: 'KB to MB is 1024', conversion: 'kbToMB', raw: 2048, intervalSec: 20, expected: 2 },
  { name: 'packets summed over 20 s become per second', conversion: 'perInterval', raw: 400, intervalSec: 20, expected: 20 },
  { name: 'packets summed over 5 min become per second', conversion: 'perInterval', raw: 3000, intervalSec: 300, expected: 10 },
  { name: 'ready ms over 20 s stays', conversion: 'msPer20s', raw: 1000, intervalSec: 20, expected: 1000 },
  { name: 'ready ms over 5 min scale to 20 s', conversion: 'msPer20s', raw: 15000, intervalSec: 300, expected: 1000 },
  { name: '-1 is vCenter for no data', conversion: 'identity', raw: -1, intervalSec: 20, expected: null },
  { name: 'NaN is no data', conversion: 'identity', raw: Number.NaN, intervalSec: 20, expected: null },
];

for (const c of conversions) {
  test(`toMetricValue: ${c.name}`, () => {
    assert.equal(toMetricValue(c.conversion, c.raw, c.intervalSec), c.expected);
  });
}

test('CPU ready percent per vCPU', () => {
  // 2,000 ms over a 20 s sample is 10 % of the interval; over 2 vCPUs, 5 % each.
  assert.equal(cpuReadyPctPerVcpu(2000, 1), 10);
  assert.equal(cpuReadyPctPerVcpu(2000, 2), 5);
  assert.equal(cpuReadyPctPerVcpu(0, 4), 0);
  assert.equal(cpuReadyPctPerVcpu(400, 0), 2, 'zero vCPUs counts as one');
});

test('CPU ready health thresholds', () => {
  assert.equal(cpuReadyHealth(4.99), 'ok');
  assert.equal(cpuReadyHealth(5), 'warning');
  assert.equal(cpuReadyHealth(10), 'warning');
  assert.equal(cpuReadyHealth(10.01), 'critical');
});

test('metric keys are unique per kind and carry a unit', () => {
  for (const [kind, metrics] of Object.entries(metricsByKind)) {
    const keys = metrics.map((metric) => metric.key);
    assert.equal(new Set(keys).size, keys.length, kind);
  }
});
