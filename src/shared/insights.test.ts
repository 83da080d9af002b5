import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BucketSeries } from './bucket-series.ts';
import { completeWindow, contentionHealth, contentionMetrics, contentionSeries, currentWindow, graphRangeAround, roundFigures } from './insights.ts';
import { tierForSpan } from './tiers.ts';

const day = 86400;
/** 2027-01-15 08:37:20 UTC: inside a 5-minute, 30-minute and 2-hour bucket, none at its start. */
const now = 1_800_000_000 + 37 * 60 + 20;

void describe('insights windows', () => {
  const cases = [
    { period: 'day', tier: '5m', stepSec: 300 },
    { period: 'week', tier: '30m', stepSec: 1800 },
    { period: 'month', tier: '2h', stepSec: 7200 },
  ] as const;
  for (const c of cases) {
    void it(`${c.period}: ${c.tier} buckets from the one holding now - period to the one holding now`, () => {
      const window = currentWindow(c.period, now);
      const length = { day: day, week: 7 * day, month: 31 * day }[c.period];
      assert.equal(window.tier, c.tier);
      assert.equal(window.stepSec, c.stepSec);
      assert.equal(window.fromSec, Math.floor((now - length) / c.stepSec) * c.stepSec);
      assert.ok(window.toSec > now && window.toSec - c.stepSec <= now, 'ends with the bucket still filling');
      assert.equal(window.toSec % c.stepSec, 0);
      assert.deepEqual(completeWindow(c.period, now, 0), { ...window, toSec: window.toSec - c.stepSec });
    });
  }

  void it('complete buckets ended at least the settling time ago', () => {
    // At 08:37:20 the bucket of 08:30 ended 2 min 20 s ago, less than 5 minutes: not complete
    // yet; the one of 08:25 is.
    const five = completeWindow('day', now, 300);
    assert.equal(five.toSec, Math.floor(now / 300) * 300 - 300);
    assert.equal(five.fromSec, five.toSec - 86400);
    // The 2-hour bucket of 08:00 is still filling: the window ends at 08:00.
    assert.equal(completeWindow('month', now, 300).toSec, Math.floor(now / 7200) * 7200);
  });

  void it('a month holds 373 two-hour buckets (31 days and the one still filling), 372 complete', () => {
    const window = completeWindow('month', now, 0);
    assert.equal((window.toSec - window.fromSec) / window.stepSec, 372);
    assert.equal((currentWindow('month', now).toSec - window.fromSec) / window.stepSec, 373);
  });
});

const series = (avg: (number | null)[], max: (number | null)[]): BucketSeries => ({ stepSec: 300, ts: [0, 300, 600], avg, max });

void describe('contentionSeries', () => {
  const stored: Record<string, BucketSeries> = {
    cpuReadyMs: series([2000, null, 400], [4000, null, 800]),
    diskMaxLatencyMs: series([3, 30, null], [8, 45, null]),
    netRxDroppedPps: series([1, 2, null], [3, 4, 5]),
    netTxDroppedPps: series([0.5, null, 1], [1, 1, 1]),
  };
  const of = (key: string): BucketSeries | undefined => stored[key];

  void it('CPU ready: ms per 20 s over all vCPUs becomes percent per vCPU, gaps kept', () => {
    // 2,000 ms of a 20 s sample is 10 %, over 2 vCPUs 5 %.
    assert.deepEqual(contentionSeries('cpuReady', of, 2), series([5, null, 1], [10, null, 2]));
  });

  void it('network drops: received + transmitted, a gap where either is missing', () => {
    assert.deepEqual(contentionSeries('netDrops', of, 1), series([1.5, null, null], [4, 5, 6]));
  });

  void it('disk latency as stored; a metric never read gives null', () => {
    assert.deepEqual(contentionSeries('diskLatency', of, 4), stored['diskMaxLatencyMs']);
    assert.equal(contentionSeries('balloon', of, 4), null);
    assert.equal(contentionSeries('netDrops', (key) => (key === 'netRxDroppedPps' ? stored[key] : undefined), 1), null);
  });

  void it('every metric names its stored sources and counters', () => {
    for (const [key, def] of Object.entries(contentionMetrics)) {
      assert.ok(def.sources.length > 0 && def.sources.length === def.counters.length, key);
      assert.ok(def.threshold >= 0, key);
    }
  });
});

void describe('graphRangeAround', () => {
  const cases = [
    { name: 'a peak an hour ago: a day of 5-minute buckets, ending now', bucket: now - 3600, step: 300, span: day, tier: '5m', endsNow: true },
    { name: 'a peak 20 hours ago: a day around it', bucket: now - 20 * 3600, step: 300, span: day, tier: '5m', endsNow: false },
    { name: 'a peak 4 days ago: three days of 30-minute buckets', bucket: now - 4 * day, step: 1800, span: 3 * day, tier: '30m', endsNow: false },
    { name: 'a peak 20 days ago: fifteen days of 2-hour buckets', bucket: now - 20 * day, step: 7200, span: 15 * day, tier: '2h', endsNow: false },
  ] as const;
  for (const c of cases) {
    void it(c.name, () => {
      const { fromSec, toSec } = graphRangeAround(c.bucket, c.step, now);
      assert.equal(toSec - fromSec, c.span);
      assert.equal(tierForSpan(c.span), c.tier, 'the entity view picks the tier that still holds it');
      assert.ok(fromSec <= c.bucket && toSec >= c.bucket + c.step, 'the peak bucket is inside');
      assert.equal(toSec === now, c.endsNow);
      assert.ok(toSec <= now);
    });
  }
});

void describe('roundFigures', () => {
  void it('rounds non-integers to a thousandth, deep, and keeps integers, nulls and text', () => {
    const input = { a: 1 / 3, b: [2.0004, null, 1_800_000_000], c: { d: -0.00049, e: 'x', f: true } };
    assert.deepEqual(roundFigures(input), { a: 0.333, b: [2, null, 1_800_000_000], c: { d: -0, e: 'x', f: true } });
    assert.deepEqual(input.b, [2.0004, null, 1_800_000_000], 'the input is left as it is');
  });
});

void describe('contentionHealth', () => {
  const cases = [
    ['cpuReady', 4.9, 'ok'],
    ['cpuReady', 5, 'warning'],
    ['cpuReady', 10.5, 'critical'],
    ['diskLatency', 20, 'ok'],
    ['diskLatency', 20.5, 'warning'],
    ['diskLatency', 51, 'critical'],
    ['balloon', 0, 'ok'],
    ['balloon', 0.01, 'warning'],
    ['netDrops', 3, 'warning'],
    ['swap', null, 'unknown'],
  ] as const;
  for (const [metric, value, health] of cases) {
    void it(`${metric} at ${String(value)} is ${health}`, () => assert.equal(contentionHealth(metric, value), health));
  }
});
