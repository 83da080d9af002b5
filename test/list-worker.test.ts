/**
 * The list worker of `vscope serve`: the same bodies as the in-thread builder, read through its
 * own connection to the database file, and a clean end.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { buildList, buildMetrics, DatacenterDataCache, workerListBuilder, type ListRequest, type MetricsRequest } from '../src/server/list-builder.ts';
import type { VmRow } from '../src/shared/api.ts';
import { shows, vmRows } from '../src/server/views.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { fillStore, fixtureScopes, ids, t0 } from './fixtures/api-inventory.ts';

const dir = mkdtempSync(join(tmpdir(), 'vscope-list-worker-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the worker builds what the app would build in its own thread, and sees later writes', async () => {
  const path = join(dir, 'lists.db');
  const store = openSqliteStore(path);
  fillStore(store);
  const all = fixtureScopes.all('vc1');
  const vm1only = fixtureScopes.vm1only();
  store.saveScope(all.stored);
  store.saveScope(vm1only.stored);
  const builder = workerListBuilder(path, pino({ level: 'silent' }));
  try {
    let gzipped = 0;
    for (const list of ['vms', 'hosts', 'datastores'] as const) {
      for (const includeRemoved of [false, true]) {
        const request: ListRequest = { list, datacenterId: ids.dc1, includeRemoved, nowSec: t0 + 700, scopeId: all.id };
        const [fromWorker, inThread] = [await builder.build(request), await buildList(store, request, all)];
        assert.equal(fromWorker.json.toString('utf8'), inThread.json.toString('utf8'), `${list} ${String(includeRemoved)}`);
        // Small bodies go as they are; others gzipped, to the same text.
        assert.equal(fromWorker.gzip === null, inThread.gzip === null);
        if (fromWorker.gzip) gzipped++;
        if (fromWorker.gzip) assert.equal(gunzipSync(fromWorker.gzip).toString('utf8'), inThread.json.toString('utf8'));
      }
    }
    assert.ok(gzipped > 0, 'the VM lists are big enough to be gzipped');
    // The worker reads the scope the request names: web-1 alone, its host hidden, its cluster seen by name.
    const scoped = JSON.parse((await builder.build({ list: 'vms', datacenterId: ids.dc1, includeRemoved: true, nowSec: t0 + 700, scopeId: vm1only.id })).json.toString()) as VmRow[];
    assert.deepEqual(
      scoped.map((vm) => [vm.name, vm.hostId, vm.hostName, vm.clusterName, vm.datastores.length]),
      [['web-1', null, null, 'C1', 0]],
    );
    assert.deepEqual(JSON.parse((await builder.build({ list: 'hosts', datacenterId: ids.dc1, includeRemoved: false, nowSec: t0 + 700, scopeId: vm1only.id })).json.toString()), []);
    await assert.rejects(builder.build({ list: 'vms', datacenterId: ids.dc1, includeRemoved: false, nowSec: t0 + 700, scopeId: 'no-such-scope' }), /not stored/);
    store.writeRealtime([{ entityId: ids.vm1, kind: 'vm', intervalSec: 20, ts: [t0 + 620], values: { cpuUsagePct: [77] } }]);
    const vms = JSON.parse((await builder.build({ list: 'vms', datacenterId: ids.dc1, includeRemoved: false, nowSec: t0 + 700, scopeId: all.id })).json.toString()) as VmRow[];
    assert.equal(vms.find((vm) => vm.id === ids.vm1)?.cpuUsagePct, 77, 'a write committed by another connection');
    await assert.rejects(builder.build({ list: 'vms', datacenterId: 'dc-nope', includeRemoved: false, nowSec: t0 + 700, scopeId: all.id }), /no datacenter dc-nope/);

    // The Prometheus exposition, with the statuses the main thread hands over.
    const metricsRequest: MetricsRequest = {
      vcenters: [{ id: 'vc1', name: 'VC One' }],
      statuses: store.statuses(),
      nowSec: t0 + 700,
      intervalSec: 120,
    };
    const fromWorker = await builder.metrics(metricsRequest);
    const inThread = await buildMetrics(store, metricsRequest);
    assert.equal(fromWorker.json.toString('utf8'), inThread.json.toString('utf8'));
    assert.match(fromWorker.json.toString('utf8'), /^vmware_vm_cpu_usage_average\{.*entity_id=".*,vm_name="web-1"\} 7700$/m);
    assert.ok(fromWorker.gzip);
    assert.equal(gunzipSync(fromWorker.gzip).toString('utf8'), inThread.json.toString('utf8'));
  } finally {
    await builder.close();
    await builder.close();
    store.close();
  }
});

test('a worker that dies fails the requests in flight, and the next request starts another', async () => {
  const folder = join(dir, 'not-yet');
  const path = join(folder, 'lists.db');
  const builder = workerListBuilder(path, pino({ level: 'silent' }));
  const all = fixtureScopes.all('vc1');
  const request: ListRequest = { list: 'vms', datacenterId: ids.dc1, includeRemoved: false, nowSec: t0 + 700, scopeId: all.id };
  try {
    // The folder does not exist: the worker cannot open the database and exits.
    await assert.rejects(builder.build(request), /the list worker stopped/);
    mkdirSync(folder);
    const store = openSqliteStore(path);
    fillStore(store);
    store.saveScope(all.stored);
    store.close();
    const vms = JSON.parse((await builder.build(request)).json.toString()) as VmRow[];
    assert.ok(vms.some((vm) => vm.id === ids.vm1));
  } finally {
    await builder.close();
  }
});

test('the lists of every scope are built from one read of the datacenter per data version', async () => {
  const store = openSqliteStore(join(dir, 'shared-data.db'));
  try {
    fillStore(store);
    const datacenters = new DatacenterDataCache(store);
    const first = await datacenters.get(ids.dc1, false);
    assert.equal(await datacenters.get(ids.dc1, false), first, 'the same version: the same read');
    assert.notEqual(await datacenters.get(ids.dc1, true), first, 'removed entities included: another read');
    const all = fixtureScopes.all('vc1');
    const vm1only = fixtureScopes.vm1only();
    const request: ListRequest = { list: 'vms', datacenterId: ids.dc1, includeRemoved: false, nowSec: t0 + 700, scopeId: all.id };
    // A narrow scope first reads some figures and rows; a wide one then reads the rest; each the
    // same text as built alone, and as JSON.stringify of the rows (the rows' texts are shared).
    for (const scope of [vm1only, all, vm1only]) {
      const shared = (await buildList(store, request, scope, datacenters)).json.toString();
      assert.equal(shared, (await buildList(store, request, scope)).json.toString());
      const data = await datacenters.get(ids.dc1, false);
      const rows = await vmRows(data, data.vms.filter((vm) => shows(scope, vm)), scope);
      assert.equal(shared, JSON.stringify(rows));
    }
    assert.deepEqual(
      (JSON.parse((await buildList(store, request, vm1only, datacenters)).json.toString()) as VmRow[]).map((vm) => [vm.name, vm.hostName]),
      [['web-1', null]],
      'a hidden host stays hidden after a wide scope made the row that names it',
    );
    store.writeRealtime([{ entityId: ids.vm1, kind: 'vm', intervalSec: 20, ts: [t0 + 640], values: { cpuUsagePct: [55] } }]);
    assert.notEqual(await datacenters.get(ids.dc1, false), first, 'a write: read again');
    const vms = JSON.parse((await buildList(store, request, all, datacenters)).json.toString()) as VmRow[];
    assert.equal(vms.find((vm) => vm.id === ids.vm1)?.cpuUsagePct, 55);
    await assert.rejects(datacenters.get('dc-nope', false), /no datacenter dc-nope/);
  } finally {
    store.close();
  }
});
