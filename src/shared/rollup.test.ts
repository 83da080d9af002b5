import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  addSample,
  alignDown,
  alignUp,
  bucketStarts,
  combineBuckets,
  fillGaps,
  mergeRollups,
  rollupAvg,
  rollupOf,
  sampleWeight,
  type Rollup,
} from './rollup.ts';
import { bucketStart } from './tiers.ts';

void describe('rollupOf: samples into one bucket', () => {
  const cases: { name: string; values: (number | null)[]; weight?: number; expected: Rollup | null; avg: number | null }[] = [
    { name: 'empty bucket', values: [], expected: null, avg: null },
    { name: 'only nulls', values: [null, null], expected: null, avg: null },
    { name: 'single sample', values: [7], expected: { sum: 7, count: 1, min: 7, max: 7 }, avg: 7 },
    { name: 'three samples', values: [1, 5, 3], expected: { sum: 9, count: 3, min: 1, max: 5 }, avg: 3 },
    { name: 'nulls are skipped, not zeros', values: [4, null, 8], expected: { sum: 12, count: 2, min: 4, max: 8 }, avg: 6 },
    { name: 'non-finite is no data', values: [NaN, 2, Infinity], expected: { sum: 2, count: 1, min: 2, max: 2 }, avg: 2 },
    { name: 'negative values', values: [-2, 4], expected: { sum: 2, count: 2, min: -2, max: 4 }, avg: 1 },
    { name: 'a 5-minute sample weighs 15', values: [10], weight: 15, expected: { sum: 150, count: 15, min: 10, max: 10 }, avg: 10 },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const rollup = rollupOf(c.values, c.weight);
      assert.deepEqual(rollup, c.expected);
      assert.equal(rollupAvg(rollup), c.avg);
    });
  }
});

void describe('addSample', () => {
  void it('does not change its input', () => {
    const before: Rollup = { sum: 3, count: 1, min: 3, max: 3 };
    const after = addSample(before, 5);
    assert.deepEqual(before, { sum: 3, count: 1, min: 3, max: 3 });
    assert.deepEqual(after, { sum: 8, count: 2, min: 3, max: 5 });
  });
  void it('ignores a zero weight', () => {
    assert.equal(addSample(null, 5, 0), null);
  });
});

void describe('mergeRollups', () => {
  const a: Rollup = { sum: 10, count: 2, min: 4, max: 6 };
  const cases: { name: string; left: Rollup | null; right: Rollup | null; expected: Rollup | null; avg: number | null }[] = [
    { name: 'null with null', left: null, right: null, expected: null, avg: null },
    { name: 'bucket with null', left: a, right: null, expected: a, avg: 5 },
    { name: 'null with bucket', left: null, right: a, expected: a, avg: 5 },
    {
      // An imported vCenter 5-minute sample of 20 weighs 15 realtime samples; 3 realtime samples
      // of 2, 4 and 6 join it: (15 * 20 + 12) / 18 = 17.333..., not the average of averages (12).
      name: 'weighted merge of an imported bucket with realtime samples',
      left: rollupOf([20], sampleWeight(300)),
      right: rollupOf([2, 4, 6]),
      expected: { sum: 312, count: 18, min: 2, max: 20 },
      avg: 312 / 18,
    },
    {
      name: 'min and max come from either side',
      left: { sum: 6, count: 2, min: 1, max: 5 },
      right: { sum: 9, count: 1, min: 9, max: 9 },
      expected: { sum: 15, count: 3, min: 1, max: 9 },
      avg: 5,
    },
  ];
  for (const c of cases) {
    void it(c.name, () => {
      const merged = mergeRollups(c.left, c.right);
      assert.deepEqual(merged, c.expected);
      assert.equal(rollupAvg(merged), c.avg);
    });
  }
});

void describe('sampleWeight', () => {
  const cases: [number, number][] = [
    [20, 1],
    [300, 15],
    [1800, 90],
    [7200, 360],
    [86400, 4320],
    [5, 1],
  ];
  for (const [intervalSec, weight] of cases) {
    void it(`${intervalSec} s weighs ${weight}`, () => assert.equal(sampleWeight(intervalSec), weight));
  }
});

void describe('bucket alignment', () => {
  void it('aligns down and up', () => {
    assert.equal(alignDown(599, 300), 300);
    assert.equal(alignDown(600, 300), 600);
    assert.equal(alignUp(600, 300), 600);
    assert.equal(alignUp(601, 300), 900);
  });
  const cases: { name: string; sampleEndSec: number; expectedStart: number }[] = [
    // A realtime sample stamped 300 covers 280..300: it belongs to the bucket 0..300.
    { name: 'sample ending on a bucket edge belongs to the bucket before', sampleEndSec: 300, expectedStart: 0 },
    { name: 'sample starting on a bucket edge belongs to that bucket', sampleEndSec: 320, expectedStart: 300 },
    { name: 'sample inside a bucket', sampleEndSec: 450, expectedStart: 300 },
  ];
  for (const c of cases) {
    void it(c.name, () => assert.equal(bucketStart(c.sampleEndSec, 20, 300), c.expectedStart));
  }
  void it('lists bucket starts of an inclusive range', () => {
    assert.deepEqual(bucketStarts(0, 900, 300), [0, 300, 600, 900]);
    assert.deepEqual(bucketStarts(1, 899, 300), [300, 600]);
    assert.deepEqual(bucketStarts(900, 0, 300), []);
  });
});

void describe('combineBuckets', () => {
  void it('combines 5-minute buckets into 30-minute ones with their weights', () => {
    const fine = [
      { startSec: 0, rollup: rollupOf([1, 3]) }, // sum 4, count 2
      { startSec: 300, rollup: rollupOf([10]) }, // sum 10, count 1
      { startSec: 600, rollup: null },
      { startSec: 1800, rollup: rollupOf([5], 15) }, // next 30-minute bucket
    ];
    const combined = combineBuckets(fine, 1800);
    assert.deepEqual([...combined.keys()], [0, 1800]);
    assert.deepEqual(combined.get(0), { sum: 14, count: 3, min: 1, max: 10 });
    assert.equal(rollupAvg(combined.get(0) ?? null), 14 / 3);
    assert.deepEqual(combined.get(1800), { sum: 75, count: 15, min: 5, max: 5 });
  });
  void it('gives nothing for nothing', () => {
    assert.equal(combineBuckets([], 1800).size, 0);
  });
});

void describe('fillGaps', () => {
  void it('puts null where no bucket was found', () => {
    assert.deepEqual(fillGaps([0, 300, 600, 900], new Map([[300, 'a'], [900, 'b'], [1200, 'c']])), [null, 'a', null, 'b']);
  });
});
