import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { entityId } from '../../shared/entity-id.ts';
import type { InventorySnapshot } from '../../shared/inventory.ts';
import type { Rollup } from '../../shared/rollup.ts';
import type { Tier } from '../../shared/tiers.ts';
import type { SampleBatch } from '../store.ts';
import { accumulatorStride, decodeBucket, encodeBucket } from './bucket-codec.ts';
import { addedBuckets, eachRowWithOpen, splitHalfHours } from './open-half-hour.ts';
import { openSqliteStore, type SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'vscope-open-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A half hour far from the epoch, at a day's start: every tier's bucket starts there. */
const H = 86400 * 20000;
const dc = { kind: 'datacenter', id: entityId('datacenter', 'vc1', 'dc'), vcenterId: 'vc1', moRef: 'dc', name: 'dc' } as unknown as InventorySnapshot['datacenters'][number];
const vmOf = (n: number): InventorySnapshot['vms'][number] =>
  ({ kind: 'vm', id: entityId('vm', 'vc1', `vm-${String(n)}`), vcenterId: 'vc1', moRef: `vm-${String(n)}`, name: `vm-${String(n)}`, datacenterId: dc.id, hostId: null, clusterId: null, datastoreIds: [], powerState: 'poweredOn', numCpu: 2, memoryMB: 1024, isTemplate: false }) as unknown as InventorySnapshot['vms'][number];
const vmA = vmOf(1);
const vmB = vmOf(2);

function storeAt(path: string): SqliteStore {
  const store = openSqliteStore(path);
  store.saveInventory({ vcenterId: 'vc1', collectedAtSec: H - 3600, datacenters: [dc], clusters: [], hosts: [], vms: [vmA, vmB], datastores: [] });
  return store;
}

const cpu = (id: string, ts: number[], values: number[]): SampleBatch => ({ entityId: id, kind: 'vm', intervalSec: 20, ts, values: { cpuUsagePct: values } });

/** The stored rows of a tier's table, read beside the store: what is in the table itself. */
function tableRows(path: string, tier: Tier): number {
  const raw = new Database(path, { readonly: true });
  try {
    return raw.prepare(`SELECT COUNT(*) FROM samples_${tier}`).pluck().get() as number;
  } finally {
    raw.close();
  }
}

/** One bucket's rollup of cpuUsagePct, as the store answers it. */
function rollupAt(store: SqliteStore, id: string, tier: Tier, startSec: number): Rollup | null {
  return store.rollups({ entityId: id, tier, fromSec: startSec, toSec: startSec, metrics: ['cpuUsagePct'] }).series[0]?.rollups[0] ?? null;
}

/** The rollup of values, each a 20-second sample (weight 1), written by hand. */
function rollupOfValues(values: readonly number[]): Rollup {
  return { sum: values.reduce((a, b) => a + b, 0), count: values.length, min: Math.min(...values), max: Math.max(...values) };
}

void describe('open half hour (unit)', () => {
  const take = (width: number): Float64Array => new Float64Array(width * accumulatorStride);
  const acc = (sum: number, count: number, min: number, max: number): Float64Array => Float64Array.of(sum, count, min, max);
  const stored = (rollup: Rollup, startSec: number) => ({ startSec, data: encodeBucket([rollup]) });

  void it('keeps the newest half hour open, the stored one added when it is the same', () => {
    const { open, closed } = splitHalfHours(new Map([[H, acc(30, 2, 10, 20)]]), stored({ sum: 5, count: 1, min: 5, max: 5 }, H), 1, take);
    assert.equal(closed.size, 0);
    assert.equal(open?.startSec, H);
    assert.deepEqual([...(open?.acc ?? [])], [35, 3, 5, 20]);
  });

  void it('closes the stored half hour and every older new one', () => {
    const halfHours = new Map([[H + 1800, acc(10, 1, 10, 10)], [H + 3600, acc(7, 1, 7, 7)], [H, acc(4, 1, 4, 4)]]);
    const { open, closed } = splitHalfHours(halfHours, stored({ sum: 6, count: 2, min: 1, max: 5 }, H), 1, take);
    assert.equal(open?.startSec, H + 3600);
    assert.deepEqual([...closed.keys()].sort(), [H, H + 1800]);
    assert.deepEqual([...(closed.get(H) ?? [])], [10, 3, 1, 5], 'the stored half hour added into the new samples of the same half hour');
  });

  void it('closes a stored half hour older than every new one on its own', () => {
    const { open, closed } = splitHalfHours(new Map([[H + 1800, acc(1, 1, 1, 1)]]), stored({ sum: 2, count: 1, min: 2, max: 2 }, H), 1, take);
    assert.equal(open?.startSec, H + 1800);
    assert.deepEqual([...(closed.get(H) ?? [])], [2, 1, 2, 2]);
  });

  void it('adds an open half hour into the row of the bucket holding it, or visits it alone', () => {
    const row = (entity: number, bucketSec: number, rollup: Rollup): Buffer => {
      const data = encodeBucket([rollup]);
      const header = Buffer.alloc(10);
      header.writeUInt32BE(entity, 0);
      header.writeUInt32BE(bucketSec, 4);
      header.writeUInt16BE(data.length, 8);
      return Buffer.concat([header, data]);
    };
    const packed = Buffer.concat([row(1, H, { sum: 10, count: 1, min: 10, max: 10 }), row(1, H - 7200, { sum: 3, count: 1, min: 3, max: 3 }), row(2, H, { sum: 1, count: 1, min: 1, max: 1 })]);
    const opens = new Map([
      [1, { startSec: H + 1800, data: encodeBucket([{ sum: 20, count: 2, min: 8, max: 12 }]) }],
      [3, { startSec: H + 5400, data: encodeBucket([{ sum: 4, count: 1, min: 4, max: 4 }]) }],
    ]);
    const seen: [number, number, Rollup | null][] = [];
    eachRowWithOpen(packed, opens, 7200, (entity, bucketSec, data) => seen.push([entity, bucketSec, decodeBucket(data, 1)[0] ?? null]));
    assert.deepEqual(seen, [
      [1, H, { sum: 30, count: 3, min: 8, max: 12 }],
      [1, H - 7200, { sum: 3, count: 1, min: 3, max: 3 }],
      [2, H, { sum: 1, count: 1, min: 1, max: 1 }],
      [3, H, { sum: 4, count: 1, min: 4, max: 4 }],
    ]);
    assert.deepEqual(decodeBucket(addedBuckets(encodeBucket([null, { sum: 1, count: 1, min: 1, max: 1 }]), encodeBucket([{ sum: 2, count: 1, min: 2, max: 2 }])), 2), [
      { sum: 2, count: 1, min: 2, max: 2 },
      { sum: 1, count: 1, min: 1, max: 1 },
    ]);
  });
});

void describe('open half hour (store)', () => {
  void it('cycles within a half hour write no coarse rows, and every tier answers their samples', () => {
    const path = join(dir, 'within.db');
    const store = storeAt(path);
    store.writeRealtime([cpu(vmA.id, [H + 20, H + 40], [10, 20])]);
    store.writeRealtime([cpu(vmA.id, [H + 600], [30])]);
    store.writeRealtime([cpu(vmA.id, [H + 1780], [5])]);
    for (const tier of ['30m', '2h', '1d'] as const) {
      assert.equal(tableRows(path, tier), 0, `no ${tier} row yet`);
      assert.deepEqual(rollupAt(store, vmA.id, tier, H), rollupOfValues([10, 20, 30, 5]), tier);
    }
    assert.equal(tableRows(path, '5m'), 3, 'the 5-minute tier is written at every cycle');
    const series = store.series({ entityId: vmA.id, tier: '30m', fromSec: H - 1800, toSec: H + 1800, metrics: ['cpuUsagePct'] }).series[0];
    assert.deepEqual([series?.avg, series?.max], [[null, 16.25, null], [null, 30, null]]);
    store.close();
    // Kept in the entity row: still there after a restart.
    const again = openSqliteStore(path);
    assert.deepEqual(rollupAt(again, vmA.id, '2h', H), rollupOfValues([10, 20, 30, 5]));
    again.close();
  });

  void it('closes when samples reach a later half hour, with the same sums as before, every entity at once', () => {
    const path = join(dir, 'close.db');
    const store = storeAt(path);
    store.writeRealtime([cpu(vmA.id, [H + 20], [10]), cpu(vmB.id, [H + 20], [1])]);
    store.writeRealtime([cpu(vmA.id, [H + 1200], [20]), cpu(vmB.id, [H + 1200], [2])]);
    // Only vmA's samples go on (vmB powered off): its half hour closes vmB's too.
    store.writeRealtime([cpu(vmA.id, [H + 1800, H + 1820], [30, 40])]);
    assert.equal(tableRows(path, '30m'), 2, "both VMs' first half hour is in the 30-minute table");
    assert.equal(tableRows(path, '1d'), 2);
    assert.deepEqual(rollupAt(store, vmA.id, '30m', H), rollupOfValues([10, 20, 30]), 'the sample ending at H + 1800 belongs to the first half hour');
    assert.deepEqual(rollupAt(store, vmA.id, '30m', H + 1800), rollupOfValues([40]), 'the second one is open, and answered');
    assert.deepEqual(rollupAt(store, vmA.id, '2h', H), rollupOfValues([10, 20, 30, 40]), 'the 2-hour bucket: the closed half hour and the open one');
    assert.deepEqual(rollupAt(store, vmB.id, '1d', H), rollupOfValues([1, 2]));
    // A cycle after an outage, hours later: the open half hour closes, each bucket summed once.
    store.writeRealtime([cpu(vmA.id, [H + 4 * 3600], [50])]);
    assert.deepEqual(rollupAt(store, vmA.id, '1d', H), rollupOfValues([10, 20, 30, 40, 50]));
    assert.deepEqual(rollupAt(store, vmA.id, '2h', H), rollupOfValues([10, 20, 30, 40]));
    assert.deepEqual(rollupAt(store, vmA.id, '2h', H + 4 * 3600 - 7200), rollupOfValues([50]));
    store.close();
  });

  void it('a write rolled back leaves the open half hours it closed to the next write', () => {
    const path = join(dir, 'rollback.db');
    const store = storeAt(path);
    store.writeRealtime([cpu(vmA.id, [H + 20], [10]), cpu(vmB.id, [H + 20], [1])]);
    // A real failure inside the transaction, after the close: the last step, forgetting the
    // summary blocks from the samples on, is refused (a block row the write deletes).
    const raw = new Database(path);
    raw.exec(`INSERT INTO vm_summary_blocks (tier, block_sec, data) VALUES ('5m', ${String(H + 86400)}, x'00')`);
    raw.exec("CREATE TRIGGER refuse BEFORE DELETE ON vm_summary_blocks BEGIN SELECT RAISE(ABORT, 'refused'); END");
    assert.throws(() => store.writeRealtime([cpu(vmA.id, [H + 1820], [20])]), /refused/);
    raw.exec('DROP TRIGGER refuse');
    raw.close();
    store.writeRealtime([cpu(vmA.id, [H + 1840], [30])]);
    assert.equal(tableRows(path, '30m'), 2, "vmB's half hour closed by the next write");
    assert.deepEqual(rollupAt(store, vmB.id, '30m', H), rollupOfValues([1]));
    assert.deepEqual(rollupAt(store, vmA.id, '2h', H), rollupOfValues([10, 30]));
    store.close();
  });

  void it('samples of several half hours in one write: the older ones close, the newest stays open', () => {
    const path = join(dir, 'span.db');
    const store = storeAt(path);
    store.writeRealtime([cpu(vmA.id, [H + 20, H + 1820, H + 3620], [1, 2, 3])]);
    assert.equal(tableRows(path, '30m'), 2);
    assert.deepEqual([H, H + 1800, H + 3600].map((t) => rollupAt(store, vmA.id, '30m', t)?.sum), [1, 2, 3]);
    store.close();
  });

  void it("the history import leaves a bucket the cycles' samples are in, open or not", () => {
    const store = storeAt(':memory:');
    store.writeRealtime([cpu(vmA.id, [H + 20], [10])]);
    store.importHistorical('30m', [{ entityId: vmA.id, kind: 'vm', intervalSec: 1800, ts: [H + 1800, H], values: { cpuUsagePct: [99, 77] } }]);
    assert.deepEqual(rollupAt(store, vmA.id, '30m', H), rollupOfValues([10]), 'the cycles bucket, not the import');
    assert.equal(rollupAt(store, vmA.id, '30m', H - 1800)?.max, 77, 'an empty bucket is filled');
    // The cycles go on into that half hour: added, as before.
    store.writeRealtime([cpu(vmA.id, [H + 40], [20])]);
    assert.deepEqual(rollupAt(store, vmA.id, '30m', H), rollupOfValues([10, 20]));
    store.close();
  });

  void it("the summaries of a period's partial range include the open half hour", () => {
    const store = storeAt(':memory:');
    store.writeRealtime([cpu(vmA.id, [H - 1780], [40])]);
    store.writeRealtime([cpu(vmA.id, [H + 20, H + 40], [90, 95])]);
    const cpuOf = (toSec: number) => store.vmSummariesOf('30m', [{ fromSec: H - 3600, toSec }], [{ id: vmA.id, numCpu: 2 }]).get(vmA.id)?.usage.cpuUsagePct;
    const withOpen = cpuOf(H + 1800);
    assert.deepEqual([withOpen?.peak?.value, withOpen?.busiest?.value, withOpen?.coveredSec], [95, 92.5, 3600], "the open half hour's buckets are in them");
    assert.deepEqual([cpuOf(H)?.peak?.value, cpuOf(H)?.coveredSec], [40, 1800], 'a range before it: the closed half hour only');
    store.close();
  });
});
