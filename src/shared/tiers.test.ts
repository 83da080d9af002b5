import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketStart, tierForSpan } from './tiers.ts';

const buckets = [
  { name: 'sample inside a bucket', end: 1000, interval: 20, step: 300, expected: 900 },
  { name: 'sample ending on the edge belongs to the bucket before', end: 1200, interval: 20, step: 300, expected: 900 },
  { name: 'sample starting on the edge belongs to that bucket', end: 1220, interval: 20, step: 300, expected: 1200 },
  { name: 'a 5-min sample fills exactly its bucket', end: 600, interval: 300, step: 300, expected: 300 },
  { name: 'a day sample', end: 2 * 86400, interval: 86400, step: 86400, expected: 86400 },
];
for (const b of buckets) {
  test(`bucketStart: ${b.name}`, () => {
    assert.equal(bucketStart(b.end, b.interval, b.step), b.expected);
  });
}

test('tierForSpan picks the finest tier that fits', () => {
  assert.equal(tierForSpan(3600), '5m');
  assert.equal(tierForSpan(86400), '5m');
  assert.equal(tierForSpan(7 * 86400), '30m');
  assert.equal(tierForSpan(31 * 86400), '2h');
  assert.equal(tierForSpan(365 * 86400), '1d');
});
