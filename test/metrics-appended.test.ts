/**
 * VM metrics appended to shared/metrics.ts (memBalloonedMB, memSwapInKBps, netRx/TxDroppedPps,
 * issue 13) against buckets a vscope of before wrote: those rows carry only the first 15
 * metrics. Read, they give the new metrics as gaps and the old ones as they were; merged with
 * new samples, both add up. The old row is written into the SQLite file as the store's codec
 * lays it out (bucket-codec.ts), as the previous version's store did.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { entityId } from '../src/shared/entity-id.ts';
import { vmMetrics } from '../src/shared/metrics.ts';
import { encodeBucket } from '../src/store/sqlite/bucket-codec.ts';
import { sampleTable } from '../src/store/sqlite/migrations.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { insightsSnapshot } from './fixtures/insights-inventory.ts';

/** How many VM metrics there were before the contention metrics were appended. */
const before = 15;

test('a bucket written before the VM metrics grew reads as it was, and merges with new samples', () => {
  assert.equal(vmMetrics[before]?.key, 'memBalloonedMB', 'the first appended metric');
  const dir = mkdtempSync(join(tmpdir(), 'vscope-appended-'));
  try {
    const path = join(dir, 'store.db');
    const store = openSqliteStore(path);
    const snapshot = insightsSnapshot();
    store.saveInventory(snapshot);
    const vmId = entityId('vm', 'vc1', 'vm-1');
    const bucketSec = 1_800_000_000;
    // The old row: cpuUsagePct 10 (2 samples of 5 and 15), cpuReadyMs 400 (2 samples), nothing else.
    const old = Array.from({ length: before }, (_, i) => (i === 0 ? { sum: 20, count: 2, min: 5, max: 15 } : i === 2 ? { sum: 800, count: 2, min: 400, max: 400 } : null));
    const raw = new Database(path);
    const intId = raw.prepare<[string], { int_id: number }>('SELECT int_id FROM entities WHERE id = ?').get(vmId)?.int_id;
    raw.prepare(`INSERT INTO ${sampleTable('5m')} (entity, bucket_sec, data) VALUES (?, ?, ?)`).run(intId, bucketSec, encodeBucket(old));
    raw.close();

    const read = (): Record<string, { avg: readonly (number | null)[]; max: readonly (number | null)[] }> =>
      Object.fromEntries(store.series({ entityId: vmId, tier: '5m', fromSec: bucketSec, toSec: bucketSec, metrics: ['cpuUsagePct', 'cpuReadyMs', 'memBalloonedMB', 'netRxDroppedPps'] }).series.map((s) => [s.metric, { avg: s.avg, max: s.max }]));
    assert.deepEqual(read(), {
      cpuUsagePct: { avg: [10], max: [15] },
      cpuReadyMs: { avg: [400], max: [400] },
      memBalloonedMB: { avg: [null], max: [null] },
      netRxDroppedPps: { avg: [null], max: [null] },
    });

    // A newer collector writes two samples into the same bucket, with the new metrics.
    store.writeRealtime([
      { entityId: vmId, kind: 'vm', intervalSec: 20, ts: [bucketSec + 100, bucketSec + 120], values: { cpuUsagePct: [40, 40], memBalloonedMB: [256, 512], netRxDroppedPps: [0.5, 1.5] } },
    ]);
    assert.deepEqual(read(), {
      // (5 + 15 + 40 + 40) / 4 samples.
      cpuUsagePct: { avg: [25], max: [40] },
      cpuReadyMs: { avg: [400], max: [400] },
      memBalloonedMB: { avg: [384], max: [512] },
      netRxDroppedPps: { avg: [1], max: [1.5] },
    });
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
