import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketStart } from '../shared/tiers.ts';
import { bucketEdgeSec, defaultHistoricalIntervals, historicalMaxSample, HistoryImporter, importableIntervals } from './history-import.ts';
import type { PerfTarget } from './performance.ts';

const target = (id: string): PerfTarget => ({ kind: 'vm', entity: { type: 'VirtualMachine', value: id }, entityId: id, nics: [] });

void test('historicalMaxSample covers each default interval: 288, 336, 360, 365', () => {
  assert.deepEqual(defaultHistoricalIntervals.map(historicalMaxSample), [288, 336, 360, 365]);
});

void test('bucketEdgeSec: a sample stamped after the edge is in the bucket or later, one at or before it in an earlier bucket', () => {
  for (const intervalSec of [20, 300]) {
    const bucketSec = 1_800_000_000 - (1_800_000_000 % 300);
    const edge = bucketEdgeSec(bucketSec, intervalSec);
    // Every second around the edge: unaligned stamps (the simulator's) as well as aligned ones.
    for (let ts = bucketSec - 2 * intervalSec; ts <= bucketSec + 2 * intervalSec; ts++) {
      assert.equal(ts > edge, bucketStart(ts, intervalSec, 300) >= bucketSec, `interval ${String(intervalSec)}, sample at ${String(ts - bucketSec)} s`);
    }
  }
});

void test('importableIntervals keeps enabled intervals that feed a tier, finest first; none listed means the defaults', () => {
  const listed = [
    { key: 4, samplingPeriodSec: 86400, name: 'year', lengthSec: 365 * 86400, level: 1, enabled: true },
    { key: 1, samplingPeriodSec: 300, name: 'day', lengthSec: 86400, level: 2, enabled: true },
    { key: 2, samplingPeriodSec: 1800, name: 'week', lengthSec: 7 * 86400, level: 1, enabled: false },
    { key: 9, samplingPeriodSec: 600, name: 'custom', lengthSec: 86400, level: 1, enabled: true },
  ];
  assert.deepEqual(importableIntervals(listed).map((i) => i.key), [1, 4]);
  assert.equal(importableIntervals([]).length, 4);
});

void test('enqueueStale: no mark or an old one queues an entity once per outage', () => {
  const importer = new HistoryImporter();
  const now = 10_000;
  const marks = new Map([
    ['fresh', now - 100],
    ['old', now - 5000],
  ]);
  assert.equal(importer.enqueueStale([target('fresh'), target('old'), target('new')], marks, now, 3600), 2);
  assert.deepEqual(importer.progress(), { state: 'pending', entitiesDone: 0, entitiesTotal: 2 });
  // Already queued: not twice.
  assert.equal(importer.enqueueStale([target('old'), target('new')], marks, now + 120, 3600), 0);
});

void test('enqueueStale: an idle entity whose mark does not move is not imported every cycle', async () => {
  const importer = new HistoryImporter();
  const marks = new Map([['idle', 1000]]);
  assert.equal(importer.enqueueStale([target('idle')], marks, 10_000, 3600), 1);
  await importer.step({
    client: { queryPerf: () => Promise.resolve([]) },
    store: { importHistorical: () => {} },
    metrics: { host: [], vm: [{ key: 'cpuUsagePct', counterId: 2, conversion: 'hundredthsToPercent', level: 1 }], nic: [], datastore: [] },
    intervals: [],
    nowSec: 10_000,
    tuning: { entitiesPerQuery: 50, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 1_000_000 },
    present: new Set(['idle']),
    budgetMs: 1000,
    abandoned: () => false,
  });
  assert.deepEqual(importer.progress(), { state: 'done', entitiesDone: 1, entitiesTotal: 1 });
  assert.equal(importer.enqueueStale([target('idle')], marks, 10_120, 3600), 0);
  // After it ran again and then went quiet past the hour (an outage), it is imported again.
  assert.equal(importer.enqueueStale([target('idle')], new Map([['idle', 20_000]]), 30_000, 3600), 1);
});

void test('a failed step keeps its entities queued for the next cycle', async () => {
  const importer = new HistoryImporter();
  importer.enqueue([target('a')], 0);
  const ctx = {
    store: { importHistorical: () => {} },
    metrics: { host: [], vm: [{ key: 'cpuUsagePct', counterId: 2, conversion: 'hundredthsToPercent' as const, level: 1 }], nic: [], datastore: [] },
    intervals: [],
    nowSec: 10_000,
    tuning: { entitiesPerQuery: 50, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 1_000_000 },
    present: new Set(['a']),
    budgetMs: 1000,
    abandoned: () => false,
  };
  await assert.rejects(importer.step({ ...ctx, client: { queryPerf: () => Promise.reject(new Error('connection reset')) } }));
  assert.deepEqual(importer.progress(), { state: 'failed', entitiesDone: 0, entitiesTotal: 1 });
  assert.equal(importer.pending, 1);
  const specs: number[] = [];
  await importer.step({
    ...ctx,
    client: {
      queryPerf: (s) => {
        specs.push(...s.map((spec) => spec.maxSample ?? 0));
        return Promise.resolve([]);
      },
    },
  });
  assert.deepEqual(specs, [288, 336, 360, 365]);
  assert.deepEqual(importer.progress(), { state: 'done', entitiesDone: 1, entitiesTotal: 1 });
});
