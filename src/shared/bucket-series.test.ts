import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bucketWidthInWindowSec,
  busiestAvg,
  coveredSec,
  latestAvg,
  mapSeries,
  meanAvg,
  peakMax,
  sumSeries,
  valuesInWindow,
  type BucketSeries,
} from './bucket-series.ts';

// Four 300-second buckets from 0 to 1200, one gap (a null) at 600.
const series: BucketSeries = { stepSec: 300, ts: [0, 300, 600, 900], avg: [1, 4, null, 2], max: [3, 9, null, 9] };
const all = { fromSec: 0, toSec: 1200 };

void describe('bucket reads over a window', () => {
  void it('keeps the buckets that start inside the half-open window and hold a value', () => {
    assert.deepEqual(valuesInWindow(series, 'avg', { fromSec: 300, toSec: 900 }), [{ bucketSec: 300, value: 4 }]);
    assert.deepEqual(valuesInWindow(series, 'max', all).length, 3);
  });
  void it('cuts the last bucket at the end of the window', () => {
    assert.equal(bucketWidthInWindowSec(900, 300, { fromSec: 0, toSec: 1000 }), 100);
    assert.equal(bucketWidthInWindowSec(900, 300, all), 300);
    assert.equal(bucketWidthInWindowSec(1200, 300, all), 0);
  });
  void it('reads the newest average, skipping nothing but gaps', () => {
    assert.deepEqual(latestAvg(series, all), { bucketSec: 900, value: 2 });
    assert.deepEqual(latestAvg(series, { fromSec: 600, toSec: 900 }), null);
  });
  void it('takes the peak from the maxima, the earliest bucket on a tie', () => {
    assert.deepEqual(peakMax(series, all), { bucketSec: 300, value: 9 });
    assert.deepEqual(busiestAvg(series, all), { bucketSec: 300, value: 4 });
  });
  void it('weights the mean by the time each bucket covers', () => {
    // 1 and 4 over 300 s each, 2 over the 100 s left of the last bucket: (300 + 1200 + 200) / 700.
    assert.equal(meanAvg(series, { fromSec: 0, toSec: 1000 }), 1700 / 700);
    assert.equal(coveredSec(series, { fromSec: 0, toSec: 1000 }), 700);
    assert.equal(meanAvg(series, { fromSec: 600, toSec: 900 }), null);
    assert.equal(coveredSec(series, { fromSec: 600, toSec: 900 }), 0);
  });
});

void describe('series arithmetic', () => {
  void it('maps values and keeps gaps', () => {
    assert.deepEqual(mapSeries(series, (v) => v * 10), { stepSec: 300, ts: [0, 300, 600, 900], avg: [10, 40, null, 20], max: [30, 90, null, 90] });
  });
  void it('adds two series bucket by bucket, a gap where either half is missing', () => {
    const other: BucketSeries = { stepSec: 300, ts: [300, 600, 900], avg: [1, 5, null], max: [2, 6, null] };
    assert.deepEqual(sumSeries(series, other), { stepSec: 300, ts: [0, 300, 600, 900], avg: [null, 5, null, null], max: [null, 11, null, null] });
  });
  void it('does not change its inputs', () => {
    mapSeries(series, (v) => v + 1);
    assert.deepEqual(series.avg, [1, 4, null, 2]);
  });
});
