/**
 * The collector against the simulator and the real SQLite store: inventory, realtime samples
 * without duplicates across cycles and restarts, history import, inventory changes made through
 * the SOAP API, a dead vCenter beside a working one, and the backoff on an injected clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pino from 'pino';
import { createCollector, runCollectOnce, type Collector } from '../src/collector/collector.ts';
import { discoverInventory, readObjects } from '../src/collector/discovery.ts';
import { LeaseKeeper } from '../src/collector/leases.ts';
import { entityId } from '../src/shared/entity-id.ts';
import { tierStepSec, type Tier } from '../src/shared/tiers.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { CollectionStatus, SampleBatch, Store } from '../src/store/store.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { asArray, asMoRef, asNumber, asString, textXml, type MoRef } from '../src/vsphere/values.ts';
import { useVcsim } from './support/vcsim.ts';

const shape = { datacenters: 2, clusters: 1, hostsPerCluster: 2, standaloneHosts: 1, pools: 0, vmsPerPool: 2, datastores: 1 };
const sim = useVcsim(shape);
const log = pino({ level: 'silent' });
const dir = mkdtempSync(join(tmpdir(), 'vscope-collector-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const nowSec = (): number => Math.floor(Date.now() / 1000);
const target = (id = 'vc1'): { id: string; url: string; username: string; password: string } => ({
  id,
  url: sim.current.url,
  username: 'collector',
  password: 'secret-pw',
});

async function connect(): Promise<VsphereClient> {
  return VsphereClient.connect({ url: sim.current.url, username: 'test', password: 'test' });
}

/** Sum of the sample weights of one metric over a tier's buckets, and the buckets themselves. */
function buckets(store: SqliteStore, id: string, tier: Tier, fromSec: number, toSec: number, metric = 'cpuUsagePct'): Map<number, number> {
  const rollups = store.rollups({ entityId: id, tier, fromSec, toSec, metrics: [metric] });
  const out = new Map<number, number>();
  rollups.ts.forEach((ts, i) => {
    const r = rollups.series[0]?.rollups[i];
    if (r) out.set(ts, r.count);
  });
  return out;
}

const sum = (m: Map<number, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${String(address.port)}/sdk`;
}

void describe('collector against vcsim', () => {
  const dbPath = join(dir, 'vscope.db');
  let store: SqliteStore;
  let collector: Collector;

  void test('discovery finds every object of the simulator with its fields', async () => {
    const client = await connect();
    try {
      const snapshot = await discoverInventory(client, 'vc1', 1234);
      const dcs = shape.datacenters;
      assert.equal(snapshot.collectedAtSec, 1234);
      assert.equal(snapshot.datacenters.length, dcs);
      assert.equal(snapshot.clusters.length, dcs * shape.clusters);
      assert.equal(snapshot.hosts.length, dcs * (shape.clusters * shape.hostsPerCluster + shape.standaloneHosts));
      // This govmomi puts VMs in each cluster's root pool and on each standalone host (child pools stay empty).
      assert.equal(snapshot.vms.length, dcs * shape.vmsPerPool * (shape.clusters + shape.standaloneHosts));
      assert.equal(snapshot.datastores.length, dcs * shape.datastores);
      // VM properties read in chunks of 3 (several calls per datacenter) give the same inventory.
      assert.deepEqual(await discoverInventory(client, 'vc1', 1234, { vmChunkSize: 3 }), snapshot);
      // A VM deleted between the listing and the reading is left out, the others are read.
      const refs = snapshot.vms.map((vm): MoRef => ({ type: 'VirtualMachine', value: vm.moRef }));
      const gone: MoRef = { type: 'VirtualMachine', value: 'vm-does-not-exist' };
      const read = await readObjects(client, 'VirtualMachine', [...refs.slice(0, 3), gone, ...refs.slice(3)], ['name'], 4);
      assert.deepEqual(read.map((o) => o.obj.value), refs.map((r) => r.value));

      const rawHosts = await client.retrieve('HostSystem', ['name', 'parent', 'summary.hardware.numCpuCores', 'summary.hardware.cpuMhz', 'config.network.pnic']);
      for (const raw of rawHosts) {
        const host = snapshot.hosts.find((h) => h.moRef === raw.obj.value);
        assert.ok(host, raw.obj.value);
        assert.equal(host.id, entityId('host', 'vc1', raw.obj.value));
        assert.equal(host.name, asString(raw.props['name']));
        assert.equal(host.cpuCores, asNumber(raw.props['summary.hardware.numCpuCores']));
        assert.equal(host.cpuCapacityMhz, host.cpuCores * (asNumber(raw.props['summary.hardware.cpuMhz']) ?? NaN));
        assert.ok(host.memoryCapacityMB > 0 && host.cpuThreads >= host.cpuCores);
        assert.equal(host.connectionState, 'connected');
        const parent = asMoRef(raw.props['parent']);
        assert.equal(host.clusterId, parent?.type === 'ClusterComputeResource' ? entityId('cluster', 'vc1', parent.value) : null);
        const devices = asArray(raw.props['config.network.pnic']).map((p) => asString((p as Record<string, unknown>)['device']));
        assert.deepEqual(host.nics.map((n) => n.device), devices);
        assert.ok(host.nics.length > 0);
        for (const nic of host.nics) {
          assert.match(nic.device, /^vmnic\d+$/);
          assert.ok((nic.linkSpeedMbps ?? 0) > 0, `${nic.device} link speed`);
          assert.match(nic.mac ?? '', /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
          assert.equal(nic.hostId, host.id);
        }
        assert.ok(snapshot.datacenters.some((dc) => dc.id === host.datacenterId));
      }
      assert.equal(snapshot.hosts.filter((h) => h.clusterId === null).length, dcs * shape.standaloneHosts);

      const rawVms = await client.retrieve('VirtualMachine', ['name', 'runtime.host', 'summary.config.numCpu', 'summary.config.memorySizeMB', 'runtime.powerState']);
      for (const raw of rawVms) {
        const vm = snapshot.vms.find((v) => v.moRef === raw.obj.value);
        assert.ok(vm, raw.obj.value);
        assert.equal(vm.name, asString(raw.props['name']));
        assert.equal(vm.numCpu, asNumber(raw.props['summary.config.numCpu']));
        assert.equal(vm.memoryMB, asNumber(raw.props['summary.config.memorySizeMB']));
        assert.equal(vm.powerState, asString(raw.props['runtime.powerState']));
        const host = snapshot.hosts.find((h) => h.moRef === asMoRef(raw.props['runtime.host'])?.value);
        assert.ok(host);
        assert.equal(vm.hostId, host.id);
        assert.equal(vm.clusterId, host.clusterId);
        assert.equal(vm.datacenterId, host.datacenterId);
        assert.equal(vm.faultToleranceState, 'notConfigured'); // vcsim leaves it unset
        assert.equal(vm.snapshotCount, 0);
        assert.equal(vm.isTemplate, false);
        assert.ok(vm.datastoreIds.length > 0);
        assert.ok(vm.datastoreIds.every((id) => snapshot.datastores.some((ds) => ds.id === id)));
      }

      const rawDs = await client.retrieve('Datastore', ['summary.name', 'summary.type', 'summary.capacity', 'summary.freeSpace']);
      for (const raw of rawDs) {
        const ds = snapshot.datastores.find((d) => d.moRef === raw.obj.value);
        assert.ok(ds, raw.obj.value);
        assert.equal(ds.name, asString(raw.props['summary.name']));
        assert.equal(ds.type, asString(raw.props['summary.type']));
        const gb = 1024 ** 3;
        assert.ok(Math.abs(ds.capacityGB - (asNumber(raw.props['summary.capacity']) ?? NaN) / gb) < 0.001);
        assert.ok(Math.abs(ds.freeGB - (asNumber(raw.props['summary.freeSpace']) ?? NaN) / gb) < 0.001);
        assert.ok(ds.capacityGB > 0 && ds.provisionedGB >= ds.capacityGB - ds.freeGB - 0.001);
        assert.ok(ds.hostIds.length > 0 && ds.vmIds.length > 0);
        // Each VM lists the datastore of its own datacenter.
        for (const vmId of ds.vmIds) assert.equal(snapshot.vms.find((v) => v.id === vmId)?.datacenterId, ds.datacenterId);
      }
    } finally {
      await client.logout();
    }
  });

  void test('a first cycle stores the inventory, the last hour of samples, NIC traffic, datastore space and a year of history', async () => {
    store = openSqliteStore(dbPath);
    collector = createCollector({ store, vcenters: [target()], intervalSec: 120, log, tuning: { importBudgetMs: 60_000 } });
    const [result] = await collector.runOnce();
    assert.ok(result);
    assert.equal(result.ok, true, result.error ?? '');
    assert.equal(result.counts.vms, 8);
    assert.equal(result.counts.hosts, 6);
    assert.ok(result.counts.samples > 0);
    assert.deepEqual(result.import, { state: 'done', entitiesDone: 6 + 8 + 2, entitiesTotal: 6 + 8 + 2 });

    const status = store.statuses().find((s) => s.vcenterId === 'vc1');
    assert.ok(status);
    assert.equal(status.lastError, null);
    assert.equal(status.lastSuccessSec, result.endSec);
    assert.equal(status.counts.nics, result.counts.nics);
    assert.equal(status.import.state, 'done');

    const dc = store.datacenters()[0];
    assert.ok(dc);
    const host = store.hosts(dc.id)[0];
    const vm = store.vms(dc.id)[0];
    const ds = store.datastores(dc.id)[0];
    assert.ok(host && vm && ds);
    const now = nowSec();

    // Realtime: the last hour of 20-second samples. A full 5-minute bucket of them counts 15,
    // like one imported 5-minute sample, but holds 15 different values (min < max).
    const mark = store.highWaterMarks('vc1').get(host.id);
    assert.ok(mark !== undefined && mark >= result.startSec - 60, 'realtime samples moved the mark');
    const hour = store.rollups({ entityId: host.id, tier: '5m', fromSec: now - 3600, toSec: now, metrics: ['cpuUsagePct'] });
    const rollups = hour.series[0]?.rollups ?? [];
    assert.ok(rollups.every((r) => r === null || r.count <= 16), 'at most one sample per 20 s');
    const realtimeBuckets = rollups.filter((r) => r !== null && r.count >= 14 && r.min < r.max).length;
    assert.ok(realtimeBuckets >= 10, `buckets of realtime samples in the hour: ${String(realtimeBuckets)}`);

    const nic = host.nics[0];
    assert.ok(nic);
    const nicLatest = store.latest([nic.id]).get(nic.id);
    assert.equal(typeof nicLatest?.values['netRxKBps'], 'number');
    const dsLatest = store.latest([ds.id]).get(ds.id);
    assert.ok(dsLatest);
    assert.ok(Math.abs((dsLatest.values['capacityGB'] ?? NaN) - ds.capacityGB) < 0.01);
    assert.ok(Math.abs((dsLatest.values['usedGB'] ?? NaN) - (ds.capacityGB - ds.freeGB)) < 0.01);

    // History: each tier filled from the matching historical interval.
    const spans: Record<Tier, number> = { '5m': 86400, '30m': 7 * 86400, '2h': 30 * 86400, '1d': 365 * 86400 };
    for (const [tier, span] of Object.entries(spans) as [Tier, number][]) {
      const filled = buckets(store, vm.id, tier, now - span, now).size;
      const expected = span / tierStepSec[tier];
      assert.ok(filled >= expected * 0.95, `${tier}: ${String(filled)} of ${String(expected)} buckets`);
    }
  });

  void test('a second cycle adds only the new samples (no duplicates)', async () => {
    const dc = store.datacenters()[0];
    const host = dc ? store.hosts(dc.id)[0] : undefined;
    assert.ok(host);
    const markBefore = store.highWaterMarks('vc1').get(host.id);
    assert.ok(markBefore !== undefined);
    const now = nowSec();
    const before = buckets(store, host.id, '5m', now - 2 * 86400, now + 600);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const [result] = await collector.runOnce();
    assert.equal(result?.ok, true);
    const after = buckets(store, host.id, '5m', now - 2 * 86400, now + 600);
    // New samples end after the mark, so they start at most 20 s before it.
    const markBucket = Math.floor((markBefore - 20) / 300) * 300;
    for (const [ts, count] of before) if (ts < markBucket) assert.equal(after.get(ts), count, `bucket ${String(ts)} unchanged`);
    const added = sum(after) - sum(before);
    // A second or two passed: one or two new 20-second samples at most, never the hour again.
    assert.ok(added >= 0 && added <= 2, `added ${String(added)}`);
    assert.ok((store.highWaterMarks('vc1').get(host.id) ?? 0) >= markBefore);

    // Datastore IO comes from the 5-minute interval, written with the space figures of a cycle.
    // vcsim omits zero values (a series it cannot align is dropped), so look across both cycles.
    const datastores = store.datastores(dc?.id ?? '');
    const io = datastores.flatMap((ds) => {
      const r = buckets(store, ds.id, '5m', now - 600, now + 600, 'writeKBps');
      return [...r.values()];
    });
    if (io.length === 0) {
      // vcsim drops a zero from a series (Go's omitempty) and its generated figures are zero in
      // some 5-minute slots: then no series can be aligned and the collector rightly stores
      // nothing. Only then is an empty result right: ask vcsim what the collector was given.
      const client = await connect();
      try {
        const write = (await client.perfCounters()).get('datastore.write.average');
        assert.ok(write, 'vcsim has datastore.write.average');
        const answers = await client.queryPerf(
          datastores.map((ds) => ({ entity: { type: 'Datastore', value: ds.moRef }, metricIds: [{ counterId: write.id, instance: '' }], intervalSec: 300, startSec: now - 600, maxSample: 1 })),
        );
        const usable = answers.filter((answer) => answer.series.some((series) => series.values.length === answer.samples.length && answer.samples.length > 0));
        assert.equal(usable.length, 0, `vcsim gave ${String(usable.length)} datastores a write figure, yet none was stored`);
      } finally {
        await client.logout();
      }
    }
  });

  void test('a new collector on the same database resumes from the high-water marks', async () => {
    await collector.stop();
    store.close();
    store = openSqliteStore(dbPath);
    const dc = store.datacenters()[0];
    const vm = dc ? store.vms(dc.id)[0] : undefined;
    assert.ok(vm);
    const now = nowSec();
    const before = buckets(store, vm.id, '5m', now - 2 * 86400, now + 600);
    const yearBefore = buckets(store, vm.id, '1d', now - 366 * 86400, now + 86400);
    collector = createCollector({ store, vcenters: [target()], intervalSec: 120, log });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const [result] = await collector.runOnce();
    assert.equal(result?.ok, true);
    // Nothing to import again: the marks are recent.
    assert.deepEqual(result?.import, { state: 'done', entitiesDone: 0, entitiesTotal: 0 });
    const after = buckets(store, vm.id, '5m', now - 2 * 86400, now + 600);
    const added = sum(after) - sum(before);
    assert.ok(added >= 0 && added <= 2, `added ${String(added)}`);
    const yearAfter = buckets(store, vm.id, '1d', now - 366 * 86400, now + 86400);
    assert.equal(sum(yearAfter) - sum(yearBefore), added);
  });

  void test('a VM renamed, one powered off and one destroyed show as such after the next cycle', async () => {
    const client = await connect();
    const dc = store.datacenters()[0];
    assert.ok(dc);
    const [renamed, stopped, destroyed] = store.vms(dc.id);
    assert.ok(renamed && stopped && destroyed);
    const ref = (moRef: string): MoRef => ({ type: 'VirtualMachine', value: moRef });
    const run = async (method: string, moRef: string, args = ''): Promise<void> => {
      const task = asMoRef(await client.call(method, ref(moRef), args));
      assert.ok(task, `${method} returned a task`);
      await client.waitForTask(task);
    };
    try {
      await run('Rename_Task', renamed.moRef, textXml('newName', 'renamed-by-test'));
      await run('PowerOffVM_Task', stopped.moRef);
      await run('PowerOffVM_Task', destroyed.moRef);
      await run('Destroy_Task', destroyed.moRef);
    } finally {
      await client.logout();
    }
    const [result] = await collector.runOnce();
    assert.equal(result?.ok, true);
    const r = store.entity(renamed.id);
    assert.equal(r?.kind === 'vm' ? r.name : null, 'renamed-by-test');
    assert.equal(r?.removedAtSec, null);
    const s = store.entity(stopped.id);
    assert.equal(s?.kind === 'vm' ? s.powerState : null, 'poweredOff');
    const d = store.entity(destroyed.id);
    assert.ok(d?.removedAtSec !== null && d?.removedAtSec !== undefined);
    assert.ok(!store.vms(dc.id).some((v) => v.id === destroyed.id));
    assert.equal(result?.counts.vms, 7);
  });

  void test('a dead vCenter fails its own cycle; the working one is collected', async () => {
    await collector.stop();
    const lines: string[] = [];
    const captured = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const dead = { id: 'dead', url: await closedPortUrl(), username: 'collector', password: 'secret-pw' };
    const results = await runCollectOnce({ store, vcenters: [target('vc2'), dead], log: captured });
    const ok = results.find((r) => r.vcenterId === 'vc2');
    const failed = results.find((r) => r.vcenterId === 'dead');
    assert.equal(ok?.ok, true);
    assert.equal(ok?.counts.vms, 7);
    assert.equal(failed?.ok, false);
    assert.ok(failed?.error && failed.error.length > 0);
    const stored = store.statuses().find((s) => s.vcenterId === 'dead');
    assert.equal(stored?.lastError, failed?.error);
    assert.equal(stored?.lastSuccessSec, null);
    assert.ok(lines.some((line) => line.includes('collection cycle failed')));
    assert.ok(!lines.some((line) => line.includes('secret-pw')), 'no password in the logs');
    store.close();
  });

  void test('failed cycles back off exponentially on the injected clock, capped at four intervals; an unreachable vCenter is probed every interval meanwhile', async () => {
    const memory = openSqliteStore(':memory:');
    let clock = 1_000_000;
    const dead = { id: 'dead', url: await closedPortUrl(), username: 'u', password: 'p' };
    const c = createCollector({ store: memory, vcenters: [dead], intervalSec: 60, log, now: () => clock, tuning: { retryBaseSec: 15 } });
    const cycleDelays: number[] = [];
    const attemptDelays: number[] = [];
    for (let i = 0; i < 6; i++) {
      const [result] = await c.runOnce();
      assert.equal(result?.ok, false);
      const status = c.status()[0];
      assert.ok(status?.nextRunSec !== null && status?.nextRunSec !== undefined && status.nextCycleSec !== null);
      assert.equal(status.consecutiveFailures, i + 1);
      cycleDelays.push(status.nextCycleSec - clock);
      attemptDelays.push(status.nextRunSec - clock);
      clock += 1000;
    }
    assert.deepEqual(cycleDelays, [15, 30, 60, 120, 240, 240]);
    assert.deepEqual(attemptDelays, [15, 30, 60, 60, 60, 60]);
    assert.equal(memory.statuses()[0]?.lastStartSec, clock - 1000);
    await c.stop();
    memory.close();
  });

  void test('a first start stores the inventory and newest samples first, then imports the history with its progress shown', async () => {
    const memory = openSqliteStore(':memory:');
    const lines: { msg: string }[] = [];
    const captured = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as { msg: string }) });
    const seen: { state: string; done: number; total: number; latest: boolean; success: boolean }[] = [];
    const c: Collector = createCollector({
      store: memory,
      vcenters: [target('vc5')],
      intervalSec: 120,
      log: captured,
      tuning: { importBudgetMs: 60_000, entitiesPerQuery: 2, concurrency: 1 },
      onStatusChange: () => {
        const status = c.status()[0];
        // A running VM (an earlier test powered one off: it has no samples).
        const vm = memory.datacenters().flatMap((dc) => memory.vms(dc.id)).find((v) => v.powerState === 'poweredOn');
        if (!status || !vm) return;
        seen.push({
          state: status.import.state,
          done: status.import.entitiesDone,
          total: status.import.entitiesTotal,
          latest: memory.latest([vm.id]).get(vm.id)?.bucketSec !== null,
          success: status.lastSuccessSec !== null,
        });
      },
    });
    try {
      const [result] = await c.runOnce();
      assert.equal(result?.ok, true, result?.error ?? '');
      // The cycle itself asked for the newest samples only (a few per entity), not the hour.
      const entities = (result?.counts.hosts ?? 0) + (result?.counts.vms ?? 0);
      assert.ok((result?.counts.samples ?? 0) <= entities * 6, `${String(result?.counts.samples)} samples for ${String(entities)} entities`);
      const messages = lines.map((l) => l.msg);
      assert.ok(messages.indexOf('current figures stored') >= 0 && messages.indexOf('current figures stored') < messages.indexOf('history import done'), messages.join(' | '));
      // While the import ran (chunks of 4 entities), the status said so, with the current figures already stored.
      const running = seen.filter((s) => s.state === 'running');
      assert.ok(running.length >= 2, JSON.stringify(seen));
      assert.ok(running.every((s) => s.latest && s.success), JSON.stringify(running));
      assert.ok(running.some((s) => s.done > 0 && s.done < s.total), JSON.stringify(running));
      assert.deepEqual(seen.at(-1), { state: 'done', done: entities + (result?.counts.datastores ?? 0), total: entities + (result?.counts.datastores ?? 0), latest: true, success: true });
      // Then the final days of the imported month are summarized for the insights, every VM.
      assert.ok(messages.indexOf('VM summaries made') > messages.indexOf('history import done'), messages.join(' | '));
      const vms = memory.datacenters().flatMap((dc) => memory.vms(dc.id));
      const today = Math.floor(nowSec() / 86400) * 86400;
      const summarized = memory.mergedVmSummariesOf('2h', today - 20 * 86400, today - 2 * 86400, vms);
      assert.deepEqual(vms.map((vm) => summarized.get(vm.id)?.endSec), vms.map(() => today - 2 * 86400), 'a summary per VM and day');
    } finally {
      await c.stop();
      memory.close();
    }
  });

  void test('stop() during a cycle abandons it before it writes anything', async () => {
    const memory = openSqliteStore(':memory:');
    const c = createCollector({ store: memory, vcenters: [target('vc4')], intervalSec: 120, log });
    const running = c.runOnce();
    await c.stop();
    const [result] = await running;
    assert.equal(result?.ok, false);
    assert.match(result?.error ?? '', /abandoned/);
    assert.deepEqual(memory.statuses(), []);
    assert.deepEqual(memory.datacenters(), []);
    memory.close();
  });

  void test('a lease that lapses during a cycle stops its writes there; the collector that took it over collects', async () => {
    const memory = openSqliteStore(':memory:');
    // The keepers' clock: moved past the time to live during A's cycle, as when A's renewals
    // do not come back (a busy database) while its cycle goes on.
    const clock = { nowMs: Date.now() };
    const a = new LeaseKeeper({ store: memory, holderId: 'a', ttlSec: 30, nowMs: () => clock.nowMs });
    const b = new LeaseKeeper({ store: memory, holderId: 'b', ttlSec: 30, nowMs: () => clock.nowMs });
    let writesOfA = 0;
    let writesAfterLapse = 0;
    let lapsed = false;
    const storeOfA: Store = Object.assign(Object.create(memory) as Store, {
      saveStatus: (status: CollectionStatus): void => {
        if (lapsed) writesAfterLapse++;
        memory.saveStatus(status);
      },
      writeRealtime: async (batches: readonly SampleBatch[]): Promise<void> => {
        if (lapsed) writesAfterLapse++;
        memory.writeRealtime(batches);
        writesOfA++;
        if (writesOfA === 1) {
          clock.nowMs += 31_000;
          lapsed = true;
          assert.equal(await b.hold('vc5'), true, 'B takes the lapsed lease over');
        }
      },
    });
    const collectorA = createCollector({ store: storeOfA, vcenters: [target('vc5')], intervalSec: 120, log, lease: a, tuning: { importHistory: false } });
    const collectorB = createCollector({ store: memory, vcenters: [target('vc5')], intervalSec: 120, log, lease: b, tuning: { importHistory: false } });
    try {
      const [resultA] = await collectorA.runOnce();
      assert.equal(resultA?.standby, true, `A stands by: ${resultA?.error ?? ''}`);
      assert.equal(writesOfA, 1, 'A wrote nothing after its lease lapsed');
      assert.equal(writesAfterLapse, 0, 'not even its status');
      assert.deepEqual(memory.statuses(), [], 'A saved no status of a cycle it did not finish');
      const [resultB] = await collectorB.runOnce();
      assert.equal(resultB?.ok, true, resultB?.error ?? '');
      assert.equal(memory.statuses()[0]?.lastError, null);
    } finally {
      await collectorA.stop();
      await collectorB.stop();
      memory.close();
    }
  });

  void test('start() runs cycles on schedule and stop() ends them', async () => {
    const memory = openSqliteStore(':memory:');
    const c = createCollector({ store: memory, vcenters: [target('vc3')], intervalSec: 1, log, tuning: { importBudgetMs: 0 } });
    c.start();
    const deadline = Date.now() + 30_000;
    let successes = new Set<number>();
    while (Date.now() < deadline && successes.size < 2) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const s = c.status()[0];
      if (s?.lastSuccessSec !== null && s?.lastSuccessSec !== undefined && s.lastStartSec !== null) successes = new Set([...successes, s.lastStartSec]);
    }
    await c.stop();
    assert.ok(successes.size >= 2, 'two scheduled cycles ran');
    const frozen = memory.statuses()[0];
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.deepEqual(memory.statuses()[0], frozen, 'no cycle after stop()');
    memory.close();
  });
});
