import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { busiestAvg, coveredSec, meanAvg, peakMax, type BucketSeries, type TimeWindow } from './bucket-series.ts';
import { emptySummary, mergeSummaries, summarize, summaryMean } from './series-summary.ts';

const stepSec = 7200;

/** A series of `avg` / `max` pairs from `fromSec`, one bucket each; null is a gap. */
function series(values: readonly (readonly [number | null, number | null])[], fromSec = 0): BucketSeries {
  return { stepSec, ts: values.map((_, i) => fromSec + i * stepSec), avg: values.map(([avg]) => avg), max: values.map(([, max]) => max) };
}

void describe('summarize', () => {
  const cases: { name: string; values: [number | null, number | null][]; window: TimeWindow; threshold: number }[] = [
    { name: 'plain', values: [[1, 2], [3, 4], [2, 9]], window: { fromSec: 0, toSec: 3 * stepSec }, threshold: 2 },
    { name: 'gaps count no time', values: [[null, null], [3, 4], [null, 7]], window: { fromSec: 0, toSec: 3 * stepSec }, threshold: 2 },
    { name: 'a tie keeps the earliest bucket', values: [[5, 5], [5, 5], [1, 1]], window: { fromSec: 0, toSec: 3 * stepSec }, threshold: 9 },
    { name: 'a window cut inside a bucket counts part of it', values: [[4, 6], [4, 6]], window: { fromSec: 0, toSec: stepSec + 600 }, threshold: 3 },
    { name: 'buckets outside the window are left out', values: [[50, 60], [1, 1], [50, 60]], window: { fromSec: stepSec, toSec: 2 * stepSec }, threshold: 0 },
    { name: 'all gaps', values: [[null, null]], window: { fromSec: 0, toSec: stepSec }, threshold: 0 },
  ];
  for (const { name, values, window, threshold } of cases) {
    void test(`reads as the series functions do: ${name}`, () => {
      const s = series(values);
      const summary = summarize(s, window, threshold);
      assert.equal(summary.coveredSec, coveredSec(s, window));
      assert.equal(summaryMean(summary), meanAvg(s, window));
      assert.deepEqual(summary.busiest, busiestAvg(s, window));
      assert.deepEqual(summary.peak, peakMax(s, window));
    });
  }

  void test('times above: strictly above, by average and by maximum', () => {
    const summary = summarize(series([[2, 2], [2.5, 3], [1, 5]]), { fromSec: 0, toSec: 3 * stepSec }, 2);
    assert.equal(summary.aboveSec, stepSec);
    assert.equal(summary.aboveByMaxSec, 2 * stepSec);
    assert.equal(summarize(series([[9, 9]]), { fromSec: 0, toSec: stepSec }).aboveSec, 0, 'no threshold: nothing above');
  });
});

void describe('mergeSummaries', () => {
  // 30 days of 2-hour buckets with gaps, a single spike, a flat stretch and a tie.
  const values: [number | null, number | null][] = Array.from({ length: 360 }, (_, i) => {
    if (i % 17 === 3) return [null, null];
    if (i === 200) return [40, 95];
    if (i > 300) return [7, 7];
    return [(i * 7919) % 13, ((i * 7919) % 13) + (i % 5)];
  });
  const s = series(values);
  const window = { fromSec: 5 * stepSec, toSec: 355 * stepSec + 1800 };
  const threshold = 6;

  void test('the summaries of consecutive days merge into the summary of the whole window', () => {
    let merged = emptySummary;
    // Parts: the window's first partial day, whole days, the last partial day.
    const edges = [window.fromSec, 86400, ...Array.from({ length: 28 }, (_, d) => 86400 * (d + 2)), window.toSec].filter((edge) => edge >= window.fromSec && edge <= window.toSec);
    for (let i = 0; i + 1 < edges.length; i++) merged = mergeSummaries(merged, summarize(s, { fromSec: edges[i] ?? 0, toSec: edges[i + 1] ?? 0 }, threshold));
    const whole = summarize(s, window, threshold);
    assert.deepEqual({ ...merged, weightedSum: 0 }, { ...whole, weightedSum: 0 });
    assert.ok(Math.abs(merged.weightedSum - whole.weightedSum) <= 1e-9 * Math.abs(whole.weightedSum), 'the weighted sum up to rounding');
  });

  void test('a tie across parts keeps the earlier part', () => {
    const early = summarize(series([[5, 5]]), { fromSec: 0, toSec: stepSec });
    const late = summarize(series([[5, 5]], stepSec), { fromSec: stepSec, toSec: 2 * stepSec });
    assert.equal(mergeSummaries(early, late).busiest?.bucketSec, 0);
    assert.equal(mergeSummaries(early, late).peak?.bucketSec, 0);
    assert.deepEqual(mergeSummaries(emptySummary, late), late);
  });
});

void test('mergeSummaries: parts merge in either order; on a tie the earlier bucket wins', () => {
  const step = 300;
  const window: TimeWindow = { fromSec: 0, toSec: 6 * step };
  const part = (ts: number[], avg: number[]): BucketSeries => ({ stepSec: step, ts, avg, max: avg });
  const early = summarize(part([0, step], [5, 7]), window, 6);
  const late = summarize(part([4 * step, 5 * step], [7, 1]), window, 6);
  const whole = summarize(part([0, step, 4 * step, 5 * step], [5, 7, 7, 1]), window, 6);
  assert.deepEqual(mergeSummaries(early, late), whole);
  assert.deepEqual(mergeSummaries(late, early), whole, 'the later part first');
  assert.deepEqual(whole.busiest, { bucketSec: step, value: 7 }, 'the earlier of the two 7s');
});
