import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { entityId, nicId } from '../../shared/entity-id.ts';
import { vmMetrics } from '../../shared/metrics.ts';
import type { DatastoreInfo, HostInfo, InventorySnapshot, VmInfo } from '../../shared/inventory.ts';
import { bucketStart, type Tier } from '../../shared/tiers.ts';
import { encodeBucket } from './bucket-codec.ts';
import { migrations } from './migrations.ts';
import { DatabaseTooNewError, openSqliteStore, removedEntityRetentionSec, type SqliteStore } from './sqlite-store.ts';
import { maxRealtimeIntervalSec, type CollectionStatus, type SampleBatch } from '../store.ts';

const dir = mkdtempSync(join(tmpdir(), 'vscope-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const vc = 'vc1.example';
const dcId = entityId('datacenter', vc, 'datacenter-1');
const clusterId = entityId('cluster', vc, 'domain-c1');
const hostId = entityId('host', vc, 'host-1');
const dsId = entityId('datastore', vc, 'datastore-1');
const vmA = entityId('vm', vc, 'vm-1');
const vmB = entityId('vm', vc, 'vm-2');

function vm(id: string, name: string): VmInfo {
  return {
    kind: 'vm', id, vcenterId: vc, moRef: id, name, datacenterId: dcId, hostId, clusterId, datastoreIds: [dsId],
    powerState: 'poweredOn', overallStatus: 'green', guestOs: null, ipAddress: null, numCpu: 2, memoryMB: 4096,
    diskProvisionedGB: 40, diskUsedGB: 12, toolsRunningStatus: 'guestToolsRunning', toolsVersionStatus: 'guestToolsCurrent',
    toolsVersion: '12352', faultToleranceState: 'notConfigured', snapshotCount: 0, isTemplate: false,
  };
}

function host(devices: readonly string[]): HostInfo {
  return {
    kind: 'host', id: hostId, vcenterId: vc, moRef: 'host-1', name: 'esx1', datacenterId: dcId, clusterId,
    connectionState: 'connected', powerState: 'poweredOn', inMaintenanceMode: false, overallStatus: 'green',
    cpuModel: null, cpuCores: 16, cpuThreads: 32, cpuCapacityMhz: 40000, memoryCapacityMB: 262144, esxVersion: '8.0.2',
    bootTimeSec: 1000,
    nics: devices.map((device) => ({ kind: 'nic', id: nicId(hostId, device), hostId, device, linkSpeedMbps: 10000, mac: null, driver: 'ixgben' })),
  };
}

const datastore: DatastoreInfo = {
  kind: 'datastore', id: dsId, vcenterId: vc, moRef: 'datastore-1', name: 'ds1', datacenterId: dcId, type: 'VMFS',
  capacityGB: 1000, freeGB: 400, provisionedGB: 700, accessible: true, maintenanceMode: null, overallStatus: 'green',
  hostIds: [hostId], vmIds: [vmA],
};

function snapshot(collectedAtSec: number, vms: readonly VmInfo[], devices: readonly string[] = ['vmnic0', 'vmnic1']): InventorySnapshot {
  return {
    vcenterId: vc,
    collectedAtSec,
    datacenters: [{ kind: 'datacenter', id: dcId, vcenterId: vc, moRef: 'datacenter-1', name: 'DC1' }],
    clusters: [{ kind: 'cluster', id: clusterId, vcenterId: vc, moRef: 'domain-c1', name: 'Cluster1', datacenterId: dcId }],
    hosts: [host(devices)],
    vms,
    datastores: [datastore],
  };
}

/** Realtime samples of one VM: `cpuUsagePct` and `memUsagePct` per timestamp. */
function vmBatch(id: string, ts: number[], cpu: (number | null)[], mem: (number | null)[] = cpu): SampleBatch {
  return { entityId: id, kind: 'vm', intervalSec: 20, ts, values: { cpuUsagePct: cpu, memUsagePct: mem } };
}

/** One bucket's stored rollup of one metric, or null. */
function bucketOf(store: SqliteStore, id: string, tier: Tier, startSec: number, metric = 'cpuUsagePct') {
  const data = store.rollups({ entityId: id, tier, fromSec: startSec, toSec: startSec, metrics: [metric] });
  return data.series[0]?.rollups[0] ?? null;
}

/** Latest values of a VM: the given metrics, null for every other VM metric. */
function expect(values: Record<string, number>): Record<string, number | null> {
  return Object.fromEntries(vmMetrics.map((metric) => [metric.key, values[metric.key] ?? null]));
}

function openWithInventory(path = ':memory:'): SqliteStore {
  const store = openSqliteStore(path);
  store.saveInventory(snapshot(1000, [vm(vmA, 'alpha'), vm(vmB, 'beta')]));
  return store;
}

// A day boundary far from the epoch, so that every tier's buckets are exercised.
const D = 86400 * 20000;

void describe('inventory', () => {
  void it('stores every kind, lists present entities per datacenter, and finds NICs by id', () => {
    const store = openWithInventory();
    assert.deepEqual(store.datacenters().map((dc) => [dc.id, dc.name, dc.firstSeenSec, dc.removedAtSec]), [[dcId, 'DC1', 1000, null]]);
    assert.deepEqual(store.clusters(dcId).map((c) => c.name), ['Cluster1']);
    const [storedHost] = store.hosts(dcId);
    assert.equal(storedHost?.cpuCores, 16);
    assert.deepEqual(storedHost?.nics.map((nic) => nic.device), ['vmnic0', 'vmnic1']);
    assert.deepEqual(store.vms(dcId).map((v) => v.name), ['alpha', 'beta']);
    assert.deepEqual(store.datastores(dcId).map((d) => [d.name, d.capacityGB]), [['ds1', 1000]]);
    const nic = store.entity(nicId(hostId, 'vmnic1'));
    assert.equal(nic?.kind, 'nic');
    assert.equal(nic?.kind === 'nic' ? nic.device : null, 'vmnic1');
    assert.equal(store.entity('vm-AAAAAAAAAAAAAA'), null);
    assert.deepEqual(store.vms('dc-unknownxxxxxx'), []);
    store.close();
  });

  void it('renames, marks removed, and un-removes entities that come back', () => {
    const store = openWithInventory();
    // Second cycle: vmB gone, vmA renamed, vmnic1 gone.
    store.saveInventory(snapshot(2000, [vm(vmA, 'alpha-renamed')], ['vmnic0']));
    assert.deepEqual(store.vms(dcId).map((v) => [v.id, v.name, v.firstSeenSec, v.lastSeenSec]), [[vmA, 'alpha-renamed', 1000, 2000]]);
    assert.deepEqual(store.vms(dcId, { includeRemoved: true }).map((v) => [v.name, v.removedAtSec]), [['alpha-renamed', null], ['beta', 2000]]);
    const gone = store.entity(vmB);
    assert.equal(gone?.removedAtSec, 2000);
    assert.equal(gone?.lastSeenSec, 1000);
    assert.equal(store.entity(nicId(hostId, 'vmnic1'))?.removedAtSec, 2000);
    assert.equal(store.entity(nicId(hostId, 'vmnic0'))?.removedAtSec, null);
    const present = store.presentIds(dcId);
    assert.deepEqual(
      Object.fromEntries(Object.entries(present).map(([kind, list]) => [kind, list.length])),
      { cluster: 1, host: 1, nic: 1, vm: 1, datastore: 1 },
      'removed ones are not listed',
    );
    assert.deepEqual(store.presentIds('dc-unknown'), {});
    // A third cycle that still misses vmB keeps the first time it was missed.
    store.saveInventory(snapshot(2500, [vm(vmA, 'alpha-renamed')], ['vmnic0']));
    assert.equal(store.entity(vmB)?.removedAtSec, 2000);
    // Entities unchanged since the last cycle were seen again all the same.
    assert.deepEqual([store.entity(vmA)?.lastSeenSec, store.entity(vmA)?.firstSeenSec], [2500, 1000]);
    assert.deepEqual(store.vms(dcId).map((v) => v.name), ['alpha-renamed']);
    assert.equal(store.entity(nicId(hostId, 'vmnic0'))?.lastSeenSec, 2500);
    // vmB comes back.
    store.saveInventory(snapshot(3000, [vm(vmA, 'alpha-renamed'), vm(vmB, 'beta')]));
    const back = store.entity(vmB);
    assert.deepEqual([back?.removedAtSec, back?.firstSeenSec, back?.lastSeenSec], [null, 1000, 3000]);
    assert.equal(store.vms(dcId).length, 2);
    store.close();
  });

  void it('moves the last-seen time of present entities without rewriting their rows; a removed one keeps the last inventory that had it', () => {
    const path = join(dir, 'seen.db');
    const store = openWithInventory(path);
    const storedRows = (): string => {
      const raw = new Database(path, { readonly: true });
      const rows = JSON.stringify(raw.prepare('SELECT * FROM entities ORDER BY int_id').raw().all());
      raw.close();
      return rows;
    };
    const rowsBefore = storedRows();
    store.saveInventory(snapshot(2000, [vm(vmA, 'alpha'), vm(vmB, 'beta')]));
    assert.equal(storedRows(), rowsBefore, 'an unchanged inventory writes no entity row');
    assert.deepEqual([store.entity(vmA)?.lastSeenSec, store.vms(dcId)[1]?.lastSeenSec, store.hosts(dcId)[0]?.lastSeenSec], [2000, 2000, 2000]);
    store.saveInventory(snapshot(3000, [vm(vmA, 'alpha')]));
    assert.deepEqual([store.entity(vmB)?.removedAtSec, store.entity(vmB)?.lastSeenSec], [3000, 2000], 'seen last by the inventory of 2000');
    assert.equal(store.vms(dcId, { includeRemoved: true }).find((v) => v.id === vmB)?.lastSeenSec, 2000);
    store.close();
    const reopened = openSqliteStore(path);
    assert.deepEqual([reopened.entity(vmA)?.lastSeenSec, reopened.entity(vmB)?.lastSeenSec], [3000, 2000]);
    reopened.close();
  });

  void it('an entity another connection marked removed comes back with the next inventory that has it', () => {
    const path = join(dir, 'two-writers.db');
    const serve = openWithInventory(path);
    const collectOnce = openSqliteStore(path);
    collectOnce.saveInventory(snapshot(2000, [vm(vmA, 'alpha')]));
    assert.equal(serve.entity(vmB)?.removedAtSec, 2000);
    // Unchanged since `serve` last wrote it, but removed by the other connection meanwhile.
    serve.saveInventory(snapshot(3000, [vm(vmA, 'alpha'), vm(vmB, 'beta')]));
    assert.deepEqual([serve.entity(vmB)?.removedAtSec, serve.entity(vmB)?.lastSeenSec], [null, 3000]);
    collectOnce.close();
    serve.close();
  });

  void it('a new connection (each collect --once) compares with what is stored: changes are written, the rest is seen again', () => {
    const path = join(dir, 'reopened.db');
    openWithInventory(path).close();
    const second = openSqliteStore(path);
    second.saveInventory(snapshot(2000, [vm(vmA, 'alpha-renamed'), vm(vmB, 'beta')]));
    assert.deepEqual(second.vms(dcId).map((v) => [v.name, v.firstSeenSec, v.lastSeenSec]), [['alpha-renamed', 1000, 2000], ['beta', 1000, 2000]]);
    second.saveInventory(snapshot(2500, [vm(vmA, 'alpha-renamed')]));
    second.close();
    const third = openSqliteStore(path);
    // vmB was removed by the last inventory: the stored rows it compares with are the present ones.
    third.saveInventory(snapshot(3000, [vm(vmA, 'alpha-renamed'), vm(vmB, 'beta')]));
    assert.deepEqual(third.vms(dcId).map((v) => [v.name, v.lastSeenSec, v.removedAtSec]), [['alpha-renamed', 3000, null], ['beta', 3000, null]]);
    assert.equal(third.entity(nicId(hostId, 'vmnic1'))?.lastSeenSec, 3000);
    third.close();
  });

  void it('leaves the entities of other vCenters alone', () => {
    const store = openWithInventory();
    store.saveInventory({ vcenterId: 'vc2.example', collectedAtSec: 5000, datacenters: [], clusters: [], hosts: [], vms: [], datastores: [] });
    assert.equal(store.entity(vmA)?.removedAtSec, null);
    assert.equal(store.vms(dcId).length, 2);
    store.close();
  });
});

void describe('realtime samples', () => {
  void it('stores no duplicates when two writes overlap', () => {
    const store = openWithInventory();
    // 5-minute bucket D holds the samples ending D+20 .. D+300 (15 of them).
    const ts = Array.from({ length: 15 }, (_, i) => D + 20 * (i + 1));
    store.writeRealtime([vmBatch(vmA, ts.slice(0, 10), ts.slice(0, 10).map((_, i) => i + 1))]);
    store.writeRealtime([vmBatch(vmA, ts, ts.map((_, i) => i + 1))]);
    store.writeRealtime([vmBatch(vmA, ts, ts.map((_, i) => i + 1))]);
    for (const tier of ['5m', '30m', '2h', '1d'] as const) {
      // 1 + 2 + ... + 15 = 120
      assert.deepEqual(bucketOf(store, vmA, tier, D), { sum: 120, count: 15, min: 1, max: 15 }, tier);
    }
    assert.deepEqual([...store.highWaterMarks(vc)], [[vmA, D + 300]]);
    store.close();
  });

  void it('skips repeated timestamps inside one batch', () => {
    const store = openWithInventory();
    store.writeRealtime([vmBatch(vmA, [D + 20, D + 20, D + 40], [1, 1, 3])]);
    assert.deepEqual(bucketOf(store, vmA, '5m', D), { sum: 4, count: 2, min: 1, max: 3 });
    store.close();
  });

  void it('resumes from the high-water mark after close and reopen', () => {
    const path = join(dir, 'resume.db');
    const first = openWithInventory(path);
    first.writeRealtime([vmBatch(vmA, [D + 20, D + 40], [10, 20]), vmBatch(vmB, [D + 20], [5])]);
    first.close();
    const second = openSqliteStore(path);
    assert.deepEqual(new Map(second.highWaterMarks(vc)), new Map([[vmA, D + 40], [vmB, D + 20]]));
    assert.deepEqual(second.highWaterMarks('other-vc').size, 0);
    second.writeRealtime([vmBatch(vmA, [D + 20, D + 40, D + 60], [10, 20, 30])]);
    assert.deepEqual(bucketOf(second, vmA, '5m', D), { sum: 60, count: 3, min: 10, max: 30 });
    assert.equal(second.highWaterMarks(vc).get(vmA), D + 60);
    second.close();
  });

  void it('writes a list of batches whole or not at all', () => {
    const store = openWithInventory();
    const broken = { ...vmBatch(vmB, [D + 20], [1]), ts: null } as unknown as SampleBatch;
    assert.throws(() => store.writeRealtime([vmBatch(vmA, [D + 20], [1]), broken]));
    assert.equal(bucketOf(store, vmA, '5m', D), null);
    assert.equal(store.highWaterMarks(vc).size, 0);
    store.close();
  });

  void it('several batches of one entity in one write: each sees what the one before wrote', () => {
    const store = openWithInventory();
    store.writeRealtime([vmBatch(vmA, [D + 20], [1]), vmBatch(vmB, [D + 20], [5]), vmBatch(vmA, [D + 20, D + 40], [9, 3])]);
    assert.deepEqual(bucketOf(store, vmA, '5m', D), { sum: 4, count: 2, min: 1, max: 3 });
    assert.deepEqual(bucketOf(store, vmB, '1d', D), { sum: 5, count: 1, min: 5, max: 5 });
    assert.deepEqual(new Map(store.highWaterMarks(vc)), new Map([[vmA, D + 40], [vmB, D + 20]]));
    store.close();
  });

  void it('writes hundreds of entities in one call as it writes them one at a time', () => {
    // More entities than one multi-row statement holds, over two 5-minute and two 2-hour buckets.
    const ids = Array.from({ length: 450 }, (_, i) => entityId('vm', vc, `vm-many-${String(i)}`));
    const inventory = snapshot(1000, ids.map((id, i) => vm(id, `many-${String(i)}`)));
    const together = openSqliteStore(':memory:');
    const alone = openSqliteStore(':memory:');
    together.saveInventory(inventory);
    alone.saveInventory(inventory);
    const start = D + 7200 - 60;
    const batch = (id: string, i: number, from: number): SampleBatch =>
      vmBatch(id, [from + 20, from + 40, from + 60, from + 80], [i % 7, (i * 3) % 11, null, i / 4], [1, 2, 3, 4]);
    for (const from of [start, start + 40]) {
      together.writeRealtime(ids.map((id, i) => batch(id, i, from)));
      // The same batch twice: written entity by entity (the second copy adds nothing).
      for (const [i, id] of ids.entries()) alone.writeRealtime([batch(id, i, from), batch(id, i, from)]);
    }
    for (const id of [ids[0], ids[201], ids[449]]) {
      assert.ok(id);
      for (const tier of ['5m', '30m', '2h', '1d'] as const) {
        for (const at of [start, start + 120]) {
          const startSec = bucketStart(at, 20, { '5m': 300, '30m': 1800, '2h': 7200, '1d': 86400 }[tier]);
          assert.deepEqual(bucketOf(together, id, tier, startSec), bucketOf(alone, id, tier, startSec), `${tier} ${String(startSec)}`);
          assert.deepEqual(bucketOf(together, id, tier, startSec, 'memUsagePct'), bucketOf(alone, id, tier, startSec, 'memUsagePct'));
        }
      }
    }
    assert.deepEqual(new Map(together.highWaterMarks(vc)), new Map(alone.highWaterMarks(vc)));
    assert.deepEqual(together.latest(ids), alone.latest(ids));
    together.close();
    alone.close();
  });

  void it('skips samples of entities the inventory never saw', () => {
    const store = openWithInventory();
    const stranger = entityId('vm', vc, 'vm-999');
    store.writeRealtime([vmBatch(stranger, [D + 20], [1]), vmBatch(vmA, [D + 20], [2])]);
    assert.equal(store.entity(stranger), null);
    assert.equal(bucketOf(store, vmA, '5m', D)?.sum, 2);
    store.close();
  });
});

void describe('series', () => {
  // Samples (end timestamps) chosen to fall in distinct buckets of each tier; values by hand.
  const ts = [D + 20, D + 300, D + 320, D + 1820, D + 7220, D + 86420];
  const cpu = [10, 20, 30, 40, 50, 60];
  const mem = [1.5, null, 2.25, 4, null, 8];
  const store = openWithInventory();
  // Two cycles, so that buckets are merged across writes too.
  store.writeRealtime([vmBatch(vmA, ts.slice(0, 3), cpu.slice(0, 3), mem.slice(0, 3))]);
  store.writeRealtime([vmBatch(vmA, ts, cpu, mem)]);
  after(() => store.close());

  const expected: Record<Tier, { start: number; cpu: [number, number, number, number]; mem: [number, number, number, number] | null }[]> = {
    // [avg, min, max, count]
    '5m': [
      { start: D, cpu: [15, 10, 20, 2], mem: [1.5, 1.5, 1.5, 1] }, // D+20 and D+300 (covers D+280..D+300)
      { start: D + 300, cpu: [30, 30, 30, 1], mem: [2.25, 2.25, 2.25, 1] },
      { start: D + 600, cpu: [NaN, 0, 0, 0], mem: null }, // gap
      { start: D + 1800, cpu: [40, 40, 40, 1], mem: [4, 4, 4, 1] },
      { start: D + 7200, cpu: [50, 50, 50, 1], mem: null },
      { start: D + 86400, cpu: [60, 60, 60, 1], mem: [8, 8, 8, 1] },
    ],
    '30m': [
      { start: D, cpu: [20, 10, 30, 3], mem: [3.75 / 2, 1.5, 2.25, 2] },
      { start: D + 1800, cpu: [40, 40, 40, 1], mem: [4, 4, 4, 1] },
      { start: D + 7200, cpu: [50, 50, 50, 1], mem: null },
      { start: D + 86400, cpu: [60, 60, 60, 1], mem: [8, 8, 8, 1] },
    ],
    '2h': [
      { start: D, cpu: [25, 10, 40, 4], mem: [7.75 / 3, 1.5, 4, 3] },
      { start: D + 7200, cpu: [50, 50, 50, 1], mem: null },
      { start: D + 86400, cpu: [60, 60, 60, 1], mem: [8, 8, 8, 1] },
    ],
    '1d': [
      { start: D, cpu: [30, 10, 50, 5], mem: [7.75 / 3, 1.5, 4, 3] },
      { start: D + 86400, cpu: [60, 60, 60, 1], mem: [8, 8, 8, 1] },
    ],
  };

  for (const tier of ['5m', '30m', '2h', '1d'] as const) {
    void it(`matches hand-computed rollups in the ${tier} tier`, () => {
      for (const bucket of expected[tier]) {
        const cpuRollup = bucketOf(store, vmA, tier, bucket.start, 'cpuUsagePct');
        const memRollup = bucketOf(store, vmA, tier, bucket.start, 'memUsagePct');
        const [avg, min, max, count] = bucket.cpu;
        if (count === 0) {
          assert.equal(cpuRollup, null, `${tier} ${bucket.start - D}`);
        } else {
          assert.deepEqual(cpuRollup, { sum: avg * count, count, min, max }, `${tier} ${bucket.start - D}`);
        }
        if (bucket.mem === null) assert.equal(memRollup, null);
        else {
          const [memAvg, memMin, memMax, memCount] = bucket.mem;
          assert.equal(memRollup?.count, memCount);
          assert.equal(memRollup?.min, memMin);
          assert.equal(memRollup?.max, memMax);
          assert.ok(Math.abs((memRollup?.sum ?? NaN) / memCount - memAvg) < 1e-9);
        }
      }
    });
  }

  void it('returns one entry per bucket of the range, nulls for gaps, requested metrics only', () => {
    const data = store.series({ entityId: vmA, tier: '5m', fromSec: D - 1, toSec: D + 900, metrics: ['cpuUsagePct', 'noSuchMetric'] });
    assert.equal(data.stepSec, 300);
    assert.deepEqual(data.ts, [D, D + 300, D + 600, D + 900]);
    assert.deepEqual(data.series, [{ metric: 'cpuUsagePct', avg: [15, 30, null, null], min: [10, 30, null, null], max: [20, 30, null, null] }]);
  });

  void it('returns every metric of the kind when none is asked for', () => {
    const data = store.series({ entityId: vmA, tier: '1d', fromSec: D, toSec: D + 86400 });
    assert.equal(data.series.length, vmMetrics.length);
    assert.equal(data.series[0]?.metric, 'cpuUsagePct');
    assert.deepEqual(data.series.find((s) => s.metric === 'netRxKBps')?.avg, [null, null]);
    assert.deepEqual(data.series.find((s) => s.metric === 'cpuUsagePct')?.max, [50, 60]);
  });

  void it('gives nulls for an entity without history', () => {
    const data = store.series({ entityId: vmB, tier: '30m', fromSec: D, toSec: D + 1800, metrics: ['cpuUsagePct'] });
    assert.deepEqual(data.series, [{ metric: 'cpuUsagePct', avg: [null, null], min: [null, null], max: [null, null] }]);
  });

  void it('refuses a range of too many buckets', () => {
    assert.throws(() => store.series({ entityId: vmA, tier: '5m', fromSec: 0, toSec: D }), RangeError);
  });

  void it('gives the latest 5-minute averages of many entities at once', () => {
    const unknown = entityId('vm', vc, 'vm-404');
    const latest = store.latest([vmA, vmB, unknown]);
    assert.equal(latest.get(vmA)?.bucketSec, D + 86400);
    assert.equal(latest.get(vmA)?.values.cpuUsagePct, 60);
    assert.equal(latest.get(vmA)?.values.netRxKBps, null);
    assert.deepEqual(latest.get(vmB)?.bucketSec, null);
    assert.equal(latest.get(vmB)?.values.cpuUsagePct, null);
    assert.equal(latest.get(unknown)?.bucketSec, null);
    assert.equal(latest.size, 3);
  });
});

void describe('historical import', () => {
  void it('fills empty buckets with weighted samples, leaves realtime-filled ones, and merges later samples by weight', () => {
    const store = openWithInventory();
    store.writeRealtime([vmBatch(vmA, [D + 20, D + 40], [2, 4])]);
    // vCenter 5-minute samples ending D+300 (bucket D, already filled) and D+600 (bucket D+300).
    store.importHistorical('5m', [{ entityId: vmA, kind: 'vm', intervalSec: 300, ts: [D + 300, D + 600], values: { cpuUsagePct: [50, 20], memUsagePct: [null, 7] } }]);
    assert.deepEqual(bucketOf(store, vmA, '5m', D), { sum: 6, count: 2, min: 2, max: 4 });
    assert.deepEqual(bucketOf(store, vmA, '5m', D + 300), { sum: 300, count: 15, min: 20, max: 20 });
    assert.deepEqual(bucketOf(store, vmA, '5m', D + 300, 'memUsagePct'), { sum: 105, count: 15, min: 7, max: 7 });
    // Only the 5-minute tier, and the high-water mark does not move.
    assert.deepEqual(bucketOf(store, vmA, '30m', D), { sum: 6, count: 2, min: 2, max: 4 });
    assert.equal(store.highWaterMarks(vc).get(vmA), D + 40);
    // Realtime samples arriving into the imported bucket: (15 * 20 + 8 + 11) / 17.
    store.writeRealtime([vmBatch(vmA, [D + 320, D + 340], [8, 11])]);
    const merged = bucketOf(store, vmA, '5m', D + 300);
    assert.deepEqual(merged, { sum: 319, count: 17, min: 8, max: 20 });
    assert.equal(store.series({ entityId: vmA, tier: '5m', fromSec: D + 300, toSec: D + 300, metrics: ['cpuUsagePct'] }).series[0]?.avg[0], 319 / 17);
    // A second import does not overwrite what the first one filled.
    store.importHistorical('5m', [{ entityId: vmA, kind: 'vm', intervalSec: 300, ts: [D + 600], values: { cpuUsagePct: [99] } }]);
    assert.equal(bucketOf(store, vmA, '5m', D + 300)?.max, 20);
    store.close();
  });

  void it('fills a coarser tier, several samples and batches into one bucket', () => {
    const store = openWithInventory();
    // Unaligned 30-minute samples (as vcsim gives them), two batches of one call.
    const batch = (ts: number, value: number): SampleBatch => ({ entityId: vmA, kind: 'vm', intervalSec: 1800, ts: [ts], values: { cpuUsagePct: [value] } });
    store.importHistorical('30m', [batch(D + 1810, 10), batch(D + 1830, 30)]);
    assert.deepEqual(bucketOf(store, vmA, '30m', D), { sum: 3600, count: 180, min: 10, max: 30 });
    assert.equal(bucketOf(store, vmA, '5m', D), null);
    store.close();
  });
});

void describe('latest', () => {
  void it('follows realtime writes and imports of newer 5-minute buckets, not older ones', () => {
    const store = openWithInventory();
    store.writeRealtime([vmBatch(vmA, [D + 320, D + 340], [4, 6])]);
    assert.deepEqual(store.latest([vmA]).get(vmA), { bucketSec: D + 300, values: expect({ cpuUsagePct: 5, memUsagePct: 5 }) });
    const imported = (ts: number, value: number): SampleBatch => ({ entityId: vmA, kind: 'vm', intervalSec: 300, ts: [ts], values: { cpuUsagePct: [value] } });
    store.importHistorical('5m', [imported(D + 300, 50)]); // bucket D, older
    assert.equal(store.latest([vmA]).get(vmA)?.bucketSec, D + 300);
    store.importHistorical('5m', [imported(D + 900, 70)]); // bucket D + 600, newer
    assert.deepEqual(store.latest([vmA]).get(vmA), { bucketSec: D + 600, values: expect({ cpuUsagePct: 70 }) });
    store.importHistorical('30m', [{ ...imported(D + 3600, 90), intervalSec: 1800 }]); // another tier: no effect
    assert.equal(store.latest([vmA]).get(vmA)?.bucketSec, D + 600);
    // Realtime into the newest bucket again.
    store.writeRealtime([vmBatch(vmA, [D + 620], [100])]);
    assert.equal(store.latest([vmA]).get(vmA)?.values.cpuUsagePct, (70 * 15 + 100) / 16);
    store.close();
  });

  void it('forgets the latest bucket once retention drops it', () => {
    const store = openWithInventory();
    store.writeRealtime([vmBatch(vmA, [D + 20], [1])]);
    store.applyRetention(D + 86400);
    assert.equal(store.latest([vmA]).get(vmA)?.bucketSec, D);
    store.applyRetention(D + 3 * 86400);
    assert.equal(store.latest([vmA]).get(vmA)?.bucketSec, null);
    store.close();
  });

  void it('is filled from the stored buckets when a database of the first schema is upgraded, buckets kept', () => {
    const path = join(dir, 'upgrade.db');
    const raw = new Database(path);
    raw.exec('CREATE TABLE migrations (id TEXT PRIMARY KEY, applied_at_sec INTEGER NOT NULL)');
    raw.exec(migrations[0]?.sql ?? '');
    raw.prepare('INSERT INTO migrations VALUES (?, 0)').run(migrations[0]?.id);
    raw.prepare(`INSERT INTO entities (int_id, id, kind, vcenter_id, datacenter_id, name, first_seen_sec, last_seen_sec, info) VALUES (1, ?, 'vm', ?, ?, 'alpha', 0, 0, ?)`)
      .run(vmA, vc, dcId, JSON.stringify(vm(vmA, 'alpha')));
    const insert = raw.prepare('INSERT INTO samples_5m (entity, bucket_sec, data) VALUES (1, ?, ?)');
    insert.run(D, encodeBucket([{ sum: 3, count: 1, min: 3, max: 3 }]));
    insert.run(D + 300, encodeBucket([{ sum: 8, count: 2, min: 3, max: 5 }]));
    raw.close();
    const store = openSqliteStore(path);
    assert.deepEqual(store.latest([vmA]).get(vmA), { bucketSec: D + 300, values: expect({ cpuUsagePct: 4 }) });
    // The buckets came through the rebuild of the sample tables.
    const data = store.series({ entityId: vmA, tier: '5m', fromSec: D, toSec: D + 600, metrics: ['cpuUsagePct'] });
    assert.deepEqual(data.series[0]?.avg, [3, 4, null]);
    store.close();
  });
});

void describe('retention', () => {
  void it('drops buckets past each tier retention and keeps recent ones', () => {
    const store = openWithInventory();
    const now = D + 1000 * 86400;
    const ages = { old1d: 800 * 86400, old2h: 70 * 86400, old30m: 20 * 86400, old5m: 3 * 86400, recent: 3600 };
    const ts = Object.values(ages).map((age) => now - age);
    store.writeRealtime([vmBatch(vmA, ts, ts.map(() => 1))]);
    store.applyRetention(now);
    const has = (tier: Tier, age: number): boolean => {
      const sampleEnd = now - age;
      const step = { '5m': 300, '30m': 1800, '2h': 7200, '1d': 86400 }[tier];
      return bucketOf(store, vmA, tier, Math.floor((sampleEnd - 20) / step) * step) !== null;
    };
    assert.deepEqual(
      (['5m', '30m', '2h', '1d'] as const).map((tier) => [tier, ...Object.values(ages).map((age) => has(tier, age))]),
      [
        // 1d, 2h, 30m, 5m ages, recent
        ['5m', false, false, false, false, true],
        ['30m', false, false, false, true, true],
        ['2h', false, false, true, true, true],
        ['1d', false, true, true, true, true],
      ],
    );
    store.close();
  });

  void it('deletes entities removed longer ago than the retention, with their buckets', () => {
    const path = join(dir, 'removed.db');
    const store = openWithInventory(path);
    const dailyRows = (): number => {
      const raw = new Database(path, { readonly: true });
      const count = raw.prepare('SELECT COUNT(*) FROM samples_1d').pluck().get() as number;
      raw.close();
      return count;
    };
    const removedAt = D + 86400;
    // Both VMs vanish; vmB comes back. Late samples for both arrive ten days later (a removed
    // entity still takes samples), so their daily buckets outlive the daily tier's retention.
    store.saveInventory(snapshot(removedAt, []));
    store.saveInventory(snapshot(removedAt + 10, [vm(vmB, 'beta')]));
    const late = removedAt + 10 * 86400;
    // Two half hours each: the first is closed into the tiers' tables, the second stays open
    // in the entity row (open-half-hour.ts), and both go with the entity.
    store.writeRealtime([vmBatch(vmA, [late, late + 1800], [1, 1]), vmBatch(vmB, [late, late + 1800], [1, 1])]);
    store.applyRetention(removedAt + removedEntityRetentionSec - 1);
    assert.notEqual(store.entity(vmA), null, 'kept until its retention');
    assert.equal(dailyRows(), 2);
    store.applyRetention(removedAt + removedEntityRetentionSec + 1);
    assert.equal(store.entity(vmA), null);
    assert.notEqual(store.entity(vmB), null);
    assert.equal(dailyRows(), 1, "vmA's buckets went with it, vmB's stay");
    assert.notEqual(bucketOf(store, vmB, '1d', bucketStart(late, 20, 86400)), null);
    store.close();
  });
});

void describe('series watermark', () => {
  void it('gives the high-water mark, and a history version that imports and retention move and realtime writes do not', () => {
    const store = openSqliteStore(':memory:');
    store.saveInventory(snapshot(D, [vm(vmA, 'a')]));
    const start = store.seriesWatermark(vmA);
    assert.deepEqual(start, { historyVersion: start?.historyVersion, highWaterSec: null });
    assert.equal(store.seriesWatermark(vmB), null);

    store.writeRealtime([vmBatch(vmA, [D + 20, D + 40], [1, 2])]);
    assert.deepEqual(store.seriesWatermark(vmA), { historyVersion: start?.historyVersion, highWaterSec: D + 40 });

    store.importHistorical('30m', [{ entityId: vmA, kind: 'vm', intervalSec: 1800, ts: [D - 1800], values: { cpuUsagePct: [3] } }]);
    const imported = store.seriesWatermark(vmA)?.historyVersion ?? Number.NaN;
    assert.ok(imported > (start?.historyVersion ?? Infinity));
    store.applyRetention(D + 3600);
    assert.ok((store.seriesWatermark(vmA)?.historyVersion ?? Number.NaN) > imported);
    store.close();
  });

  void it('refuses realtime batches of samples longer than maxRealtimeIntervalSec', () => {
    const store = openSqliteStore(':memory:');
    store.saveInventory(snapshot(D, [vm(vmA, 'a')]));
    const long: SampleBatch = { ...vmBatch(vmA, [D + 300], [1]), intervalSec: maxRealtimeIntervalSec + 1 };
    assert.throws(() => store.writeRealtime([long]), /importHistorical/);
    assert.equal(store.seriesWatermark(vmA)?.highWaterSec, null);
    store.close();
  });
});

void describe('lookups while another connection writes', () => {
  void it('answers entities and marks as the file holds them, whichever connection wrote: another connection\'s commit from the next turn of the event loop, its own at once', async () => {
    const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const path = join(dir, 'two-connections.db');
    const reader = openSqliteStore(path);
    const writer = openSqliteStore(path);
    const nameOf = (id: string): string | undefined => {
      const found = reader.entity(id);
      return found?.kind === 'vm' ? found.name : undefined;
    };
    writer.saveInventory(snapshot(D, [vm(vmA, 'alpha'), vm(vmB, 'beta')]));
    await nextTurn();
    assert.equal(nameOf(vmA), 'alpha');
    assert.equal(reader.seriesWatermark(vmA)?.highWaterSec, null);
    assert.equal(reader.entity(entityId('vm', vc, 'vm-3')), null);

    writer.saveInventory(snapshot(D + 60, [vm(vmA, 'renamed'), vm(entityId('vm', vc, 'vm-3'), 'gamma')]));
    writer.writeRealtime([vmBatch(vmA, [D + 80], [1])]);
    // The data version is read once per turn (a request asks two or three times): this turn's answers hold.
    assert.equal(nameOf(vmA), 'alpha');
    await nextTurn();
    assert.equal(nameOf(vmA), 'renamed');
    assert.equal(reader.entity(vmB)?.removedAtSec, D + 60);
    assert.equal(nameOf(entityId('vm', vc, 'vm-3')), 'gamma');
    assert.equal(reader.seriesWatermark(vmA)?.highWaterSec, D + 80);

    // Its own writes too.
    reader.writeRealtime([vmBatch(vmA, [D + 100], [2])]);
    assert.equal(reader.seriesWatermark(vmA)?.highWaterSec, D + 100);
    reader.saveInventory(snapshot(D + 120, [vm(vmA, 'again')]));
    assert.equal(nameOf(vmA), 'again');
    writer.close();
    reader.close();
  });
});

void describe('database file', () => {
  void it('records its migrations and refuses a database from a newer version', () => {
    const path = join(dir, 'migrations.db');
    openSqliteStore(path).close();
    openSqliteStore(path).close(); // reopening applies nothing twice
    const raw = new Database(path);
    assert.deepEqual(raw.prepare('SELECT id FROM migrations ORDER BY rowid').pluck().all(), [
      '2026-11-28-initial',
      '2026-11-28-latest-5m',
      '2026-11-28-samples-time-first',
      '2026-11-28-history-version',
      '2026-12-01-sessions',
      '2026-12-01-login-failures',
      '2026-12-01-collector-leases',
      '2026-12-01-day-summaries',
      '2026-12-01-summary-blocks',
      '2026-12-01-open-half-hour',
      '2026-12-01-vcenter-inventories',
    ]);
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.prepare('INSERT INTO migrations (id, applied_at_sec) VALUES (?, ?)').run('2099-01-01-from-the-future', 1);
    raw.close();
    assert.throws(() => openSqliteStore(path), (error: unknown) => error instanceof DatabaseTooNewError && /2099-01-01-from-the-future/.test(error.message));
  });

  void it('applies a migration appended later, once', () => {
    const path = join(dir, 'appended.db');
    openSqliteStore(path).close();
    const later = [...migrations, { id: '2099-12-01-notes', sql: 'CREATE TABLE notes (id INTEGER PRIMARY KEY)' }];
    openSqliteStore(path, { migrations: later }).close();
    openSqliteStore(path, { migrations: later }).close();
    const raw = new Database(path);
    assert.deepEqual(raw.prepare('SELECT id FROM migrations ORDER BY rowid').pluck().all(), [...migrations.map((m) => m.id), '2099-12-01-notes']);
    assert.equal(raw.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'notes'").pluck().get(), 1);
    raw.close();
  });

  void it('keeps collection statuses and answers ping', () => {
    const store = openSqliteStore(':memory:');
    const status: CollectionStatus = {
      vcenterId: vc, lastStartSec: 10, lastEndSec: 12, lastDurationMs: 2000, lastSuccessSec: 12, lastError: null,
      counts: { datacenters: 1, clusters: 1, hosts: 1, vms: 2, datastores: 1, nics: 2, samples: 90 },
      import: { state: 'done', entitiesDone: 3, entitiesTotal: 3 },
    };
    store.saveStatus(status);
    store.saveStatus({ ...status, lastError: 'timeout' });
    assert.deepEqual(store.statuses(), [{ ...status, lastError: 'timeout' }]);
    assert.equal(store.ping(), true);
    store.close();
    assert.equal(store.ping(), false);
  });
});

void describe('sample state (for samples kept in an engine)', () => {
  void it('saves marks and open buckets all or nothing, never moves a mark back, skips unknown entities', () => {
    const store = openSqliteStore(':memory:');
    store.saveInventory(snapshot(1000, [vm(vmA, 'a'), vm(vmB, 'b')]));
    assert.deepEqual([...store.sampleStates([vmA, 'vm-unknown'])], [[vmA, { entityId: vmA, kind: 'vm', highWaterSec: null, openBucket: null }]]);
    const width = vmMetrics.length;
    const rollups = Array.from({ length: width }, (_, i) => (i === 0 ? { sum: 30, count: 3, min: 5, max: 15 } : null));
    store.saveSampleStates([
      { entityId: vmA, kind: 'vm', highWaterSec: 1300, openBucket: { startSec: 1200, rollups } },
      { entityId: 'vm-unknown', kind: 'vm', highWaterSec: 1300, openBucket: null },
    ]);
    assert.deepEqual(store.sampleStates([vmA]).get(vmA), { entityId: vmA, kind: 'vm', highWaterSec: 1300, openBucket: { startSec: 1200, rollups } });
    assert.deepEqual([...store.highWaterMarks(vc)], [[vmA, 1300]]);
    assert.equal(store.latest([vmA]).get(vmA)?.values['cpuUsagePct'], 10, 'the open bucket is the latest figure');
    store.saveSampleStates([{ entityId: vmA, kind: 'vm', highWaterSec: 1200, openBucket: null }]);
    assert.equal(store.sampleStates([vmA]).get(vmA)?.highWaterSec, 1300, 'a mark never moves back');
    assert.equal(store.sampleStates([vmA]).get(vmA)?.openBucket, null);
    store.close();
  });
});
