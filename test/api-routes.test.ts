/**
 * Every data route's shape and values against the hand-made inventory of
 * fixtures/api-inventory.ts (the real SQLite store), logged in through a simulator.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type {
  DatacenterRow,
  DatastoreRow,
  EntityDetail,
  HostRow,
  SeriesResponse,
  StatusResponse,
  VmRow,
} from '../src/shared/api.ts';
import { entityId } from '../src/shared/entity-id.ts';
import { vmMetrics } from '../src/shared/metrics.ts';
import { declaredRoutes } from '../src/server/app.ts';
import { statusResponse } from '../src/server/status.ts';
import { nextTurn } from '../src/store/contract/subject.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { CollectionStatus, Store } from '../src/store/store.ts';
import { testApp, type TestApp } from './fixtures/api-app.ts';
import { fillStore, ids, nowSec, t0 } from './fixtures/api-inventory.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ username: 'alice', password: 's3cret', vmsPerPool: 1 });

let t: TestApp;
let cookie: string;

async function get<T>(url: string): Promise<T> {
  const response = await t.app.inject({ method: 'GET', url, headers: { cookie } });
  assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
  return response.json<T>();
}

async function errorOf(url: string): Promise<{ status: number; code: string; message: string }> {
  const response = await t.app.inject({ method: 'GET', url, headers: { cookie } });
  const { error } = response.json<{ error: { code: string; message: string } }>();
  return { status: response.statusCode, code: error.code, message: error.message };
}

void describe('API routes', () => {
before(async () => {
    // vc1 is the simulator; vc2 exists in the store but this user's session is on vc1.
    t = testApp({
      vcenters: [
        { id: 'vc1', name: 'Lab', url: sim.current.url },
        { id: 'vc2', name: 'Other', url: 'http://127.0.0.1:1/sdk' },
      ],
      startMs: nowSec * 1000,
      fill: fillStore,
    });
    cookie = await t.login('alice', 's3cret', 'vc1');
  });
  after(async () => {
    await t.close();
  });

  void describe('inventory lists', () => {
    void test('datacenters: only those of the session vCenter, with live counts', async () => {
      assert.deepEqual(await get<DatacenterRow[]>('/api/datacenters'), [
        { id: ids.dc1, name: 'DC1', vcenterId: 'vc1', clusters: 1, hosts: 2, vms: 3, datastores: 2, collectedAt: nowSec - 60 },
      ]);
    });

    void test('hosts: derived counts from their VMs, figures of the latest bucket, NICs, uptime', async () => {
      const hosts = await get<HostRow[]>(`/api/datacenters/${ids.dc1}/hosts`);
      assert.deepEqual(hosts.map((host) => host.name), ['esx1.example.com', 'esx2.example.com']);
      const [esx1, esx2] = hosts;
      assert.ok(esx1 && esx2);
      assert.deepEqual(
        {
          clusterName: esx1.clusterName,
          vcpusAllocated: esx1.vcpusAllocated,
          vms: esx1.vms,
          vmsPoweredOn: esx1.vmsPoweredOn,
          cpuUsagePct: esx1.cpuUsagePct,
          cpuUsedMhz: esx1.cpuUsedMhz,
          memUsagePct: esx1.memUsagePct,
          memConsumedMB: esx1.memConsumedMB,
          netRxKBps: esx1.netRxKBps,
          netTxKBps: esx1.netTxKBps,
          uptimeSec: esx1.uptimeSec,
          cpuCapacityMhz: esx1.cpuCapacityMhz,
          removed: esx1.removed,
          collectedAt: esx1.collectedAt,
        },
        {
          clusterName: 'C1',
          vcpusAllocated: 6, // web-1 (4) + db-1 (2); old-vm was removed
          vms: 2,
          vmsPoweredOn: 1,
          cpuUsagePct: 50,
          cpuUsedMhz: 21000,
          memUsagePct: 25,
          memConsumedMB: 65536,
          netRxKBps: 300,
          netTxKBps: null,
          uptimeSec: 86400,
          cpuCapacityMhz: 42000,
          removed: false,
          collectedAt: t0 + 120,
        },
      );
      assert.deepEqual(esx1.nics, [
        { id: ids.nic0, device: 'vmnic0', linkSpeedMbps: 10000, mac: '00:50:56:00:00:01', netRxKBps: 120, netTxKBps: 80, netRxPps: null, netTxPps: null },
        { id: ids.nic1, device: 'vmnic1', linkSpeedMbps: null, mac: null, netRxKBps: null, netTxKBps: null, netRxPps: null, netTxPps: null },
      ]);
      // esx2 only holds a template: no VMs, no vCPUs; standalone, boot time unknown, no samples.
      assert.deepEqual(
        [esx2.clusterName, esx2.vms, esx2.vcpusAllocated, esx2.uptimeSec, esx2.cpuUsagePct, esx2.inMaintenanceMode],
        [null, 0, 0, null, null, true],
      );
    });

    void test('vms: names of host, cluster and datastores; CPU ready per vCPU; removed ones only on request', async () => {
      const vms = await get<VmRow[]>(`/api/datacenters/${ids.dc1}/vms`);
      assert.deepEqual(vms.map((vm) => vm.name).sort(), ['db-1', 'template-debian', 'web-1']);
      const web = vms.find((vm) => vm.id === ids.vm1);
      assert.ok(web);
      assert.deepEqual(
        {
          hostId: web.hostId,
          hostName: web.hostName,
          clusterName: web.clusterName,
          datastores: web.datastores,
          numCpu: web.numCpu,
          cpuUsagePct: web.cpuUsagePct,
          cpuReadyMs: web.cpuReadyMs,
          cpuReadyPctPerVcpu: web.cpuReadyPctPerVcpu,
          netRxKBps: web.netRxKBps,
          netTxKBps: web.netTxKBps,
          snapshotCount: web.snapshotCount,
          ipAddress: web.ipAddress,
          removed: web.removed,
        },
        {
          hostId: ids.esx1,
          hostName: 'esx1.example.com',
          clusterName: 'C1',
          datastores: [
            { id: ids.ds1, name: 'ds1' },
            { id: ids.ds2, name: 'ds2' },
          ],
          numCpu: 4,
          cpuUsagePct: 23, // latest bucket t0+300 holds samples 16..30
          cpuReadyMs: 800,
          cpuReadyPctPerVcpu: 1, // 800 ms / 20 000 ms = 4 %, over 4 vCPUs
          netRxKBps: 40,
          netTxKBps: null,
          snapshotCount: 2,
          ipAddress: '10.0.0.11',
          removed: false,
        },
      );
      const template = vms.find((vm) => vm.id === ids.tpl);
      assert.equal(template?.isTemplate, true);
      assert.equal(template.clusterName, null);

      const all = await get<VmRow[]>(`/api/datacenters/${ids.dc1}/vms?removed=true`);
      const gone = all.find((vm) => vm.id === ids.gone);
      assert.equal(all.length, 4);
      assert.equal(gone?.removed, true);
      assert.equal(gone.collectedAt, t0, 'last seen by the first inventory');
    });

    void test('datastores: used, percentages and counts', async () => {
      const datastores = await get<DatastoreRow[]>(`/api/datacenters/${ids.dc1}/datastores`);
      const byName = new Map(datastores.map((ds) => [ds.name, ds]));
      const ds1 = byName.get('ds1');
      const ds2 = byName.get('ds2');
      assert.ok(ds1 && ds2);
      assert.deepEqual(
        [ds1.capacityGB, ds1.freeGB, ds1.usedGB, ds1.provisionedGB, ds1.usedPct, ds1.provisionedPct, ds1.vms, ds1.hosts, ds1.readKBps, ds1.writeKBps],
        [1000, 250, 750, 900, 75, 90, 2, 2, 500, null],
      );
      assert.deepEqual([ds2.type, ds2.usedGB, ds2.usedPct, ds2.provisionedPct, ds2.vms, ds2.hosts], ['NFS', 50, 50, 60, 2, 1]);
    });

    void test('another vCenter\'s datacenter is hidden; unknown or malformed ids are 404; bad flags 400', async () => {
      for (const list of ['hosts', 'vms', 'datastores']) {
        assert.equal((await errorOf(`/api/datacenters/${ids.dc2}/${list}`)).status, 404);
        assert.equal((await errorOf(`/api/datacenters/${entityId('datacenter', 'vc1', 'nope')}/${list}`)).status, 404);
        assert.equal((await errorOf(`/api/datacenters/${ids.vm1}/${list}`)).status, 404, 'a VM id is not a datacenter');
        assert.equal((await errorOf(`/api/datacenters/not-an-id/${list}`)).status, 404);
      }
      const bad = await errorOf(`/api/datacenters/${ids.dc1}/vms?removed=yes`);
      assert.equal(bad.status, 400);
      assert.match(bad.message, /removed/);
    });
  });

  void describe('entity details', () => {
    void test('a VM with its host, cluster and datastores', async () => {
      const detail = await get<EntityDetail>(`/api/entities/${ids.vm1}`);
      assert.equal(detail.kind, 'vm');
      assert.equal(detail.name, 'web-1');
      assert.deepEqual(detail.datacenter, { id: ids.dc1, kind: 'datacenter', name: 'DC1' });
      assert.deepEqual(detail.related, {
        host: [{ id: ids.esx1, kind: 'host', name: 'esx1.example.com' }],
        cluster: [{ id: ids.c1, kind: 'cluster', name: 'C1' }],
        datastores: [
          { id: ids.ds1, kind: 'datastore', name: 'ds1' },
          { id: ids.ds2, kind: 'datastore', name: 'ds2' },
        ],
      });
      assert.equal((detail.row as VmRow).cpuUsagePct, 23);
      assert.deepEqual(detail.metrics.map((metric) => metric.metric), vmMetrics.map((def) => def.key));
      assert.equal(detail.metrics.find((metric) => metric.metric === 'cpuReadyMs')?.unit, 'ms');
    });

    void test('a host with its VMs, NICs and datastores', async () => {
      const detail = await get<EntityDetail>(`/api/entities/${ids.esx1}`);
      const names = (key: string) => (detail.related[key] ?? []).map((link) => link.name).sort();
      assert.deepEqual(names('vms'), ['db-1', 'web-1']);
      assert.deepEqual(names('nics'), ['vmnic0', 'vmnic1']);
      assert.deepEqual(names('datastores'), ['ds1', 'ds2']);
      assert.deepEqual(names('cluster'), ['C1']);
      assert.equal((detail.row as HostRow).vcpusAllocated, 6);
    });

    void test('a datastore with its VMs and hosts; a NIC with its host', async () => {
      const ds = await get<EntityDetail>(`/api/entities/${ids.ds1}`);
      assert.deepEqual((ds.related.vms ?? []).map((link) => link.id).sort(), [ids.vm1, ids.vm2].sort());
      assert.deepEqual((ds.related.hosts ?? []).map((link) => link.id).sort(), [ids.esx1, ids.esx2].sort());
      assert.equal((ds.row as DatastoreRow).usedPct, 75);

      const nic = await get<EntityDetail>(`/api/entities/${ids.nic0}`);
      assert.equal(nic.kind, 'nic');
      assert.equal(nic.name, 'vmnic0');
      assert.deepEqual(nic.related, { host: [{ id: ids.esx1, kind: 'host', name: 'esx1.example.com' }] });
      assert.deepEqual(nic.datacenter, { id: ids.dc1, kind: 'datacenter', name: 'DC1' });
    });

    void test('a removed VM still has its detail, marked removed', async () => {
      const detail = await get<EntityDetail>(`/api/entities/${ids.gone}`);
      assert.equal((detail.row as VmRow).removed, true);
    });

    void test('entities of another vCenter and unknown ids are 404', async () => {
      for (const id of [ids.vm9, ids.esx9, ids.dc2, entityId('vm', 'vc1', 'vm-999'), 'vm-short', '..%2F..%2Fetc']) {
        assert.equal((await errorOf(`/api/entities/${id}`)).status, 404, id);
        assert.equal((await errorOf(`/api/entities/${id}/series`)).status, 404, id);
      }
    });
  });

  void describe('series', () => {
    const url = (query: string) => `/api/entities/${ids.vm1}/series?${query}`;

    void test('a day: 289 five-minute buckets ending now, hand-computed rollups, null gaps', async () => {
      const series = await get<SeriesResponse>(url('period=day&metrics=cpuUsagePct,netRxKBps'));
      assert.equal(series.period, 'day');
      assert.equal(series.stepSec, 300);
      assert.equal(series.from, nowSec - 86400);
      assert.equal(series.to, nowSec + 300);
      assert.equal(series.ts.length, 289);
      assert.ok(series.ts.every((ts, i) => ts === series.from + 300 * i), 'ascending, every bucket present');
      assert.deepEqual(series.entity, { id: ids.vm1, kind: 'vm', name: 'web-1' });
      const [cpu, rx] = series.series;
      assert.ok(cpu && rx);
      assert.deepEqual([cpu.metric, cpu.unit, rx.metric, rx.unit], ['cpuUsagePct', 'percent', 'netRxKBps', 'KBps']);
      const at = series.ts.indexOf(t0);
      assert.equal(at, 276);
      // Bucket t0: samples 1..15; bucket t0+300: samples 16..30.
      assert.deepEqual([cpu.avg[at], cpu.min[at], cpu.max[at]], [8, 1, 15]);
      assert.deepEqual([cpu.avg[at + 1], cpu.min[at + 1], cpu.max[at + 1]], [23, 16, 30]);
      assert.deepEqual([rx.avg[at], rx.avg[at + 1]], [null, 40]);
      const nonNull = cpu.avg.filter((value) => value !== null).length;
      assert.equal(nonNull, 2);
    });

    void test('a week in 30-minute buckets and a year in days hold one bucket of all 30 samples', async () => {
      const week = await get<SeriesResponse>(url('period=week&metrics=cpuUsagePct'));
      assert.equal(week.stepSec, 1800);
      assert.equal(week.ts.length, 337);
      const at = week.ts.indexOf(t0);
      assert.deepEqual([week.series[0]?.avg[at], week.series[0]?.min[at], week.series[0]?.max[at]], [15.5, 1, 30]);

      const year = await get<SeriesResponse>(url('period=year&metrics=cpuUsagePct'));
      assert.equal(year.stepSec, 86400);
      const day = Math.floor(t0 / 86400) * 86400;
      const atDay = year.ts.indexOf(day);
      assert.ok(atDay >= 0);
      assert.deepEqual([year.series[0]?.avg[atDay], year.series[0]?.max[atDay]], [15.5, 30]);
    });

    void test('from/to choose the tier by span; default metrics are all of the kind', async () => {
      const custom = await get<SeriesResponse>(url(`from=${String(t0)}&to=${String(t0 + 600)}`));
      assert.equal(custom.period, 'custom');
      assert.equal(custom.stepSec, 300);
      assert.deepEqual(custom.ts, [t0, t0 + 300]);
      assert.deepEqual([custom.from, custom.to], [t0, t0 + 600]);
      assert.deepEqual(custom.series.map((series) => series.metric), vmMetrics.map((def) => def.key));
      const ready = custom.series.find((series) => series.metric === 'cpuReadyMs');
      assert.deepEqual(ready?.avg, [800, 800]);

      const tenDays = await get<SeriesResponse>(url(`from=${String(t0 - 10 * 86400)}&to=${String(t0)}&metrics=cpuUsagePct`));
      assert.equal(tenDays.stepSec, 1800, '10 days is 2880 five-minute buckets: too many; 30-minute ones');
    });

    void test('bad series queries are 400s saying what is allowed', async () => {
      const unknown = await errorOf(url('metrics=cpuUsagePct,bogus'));
      assert.equal(unknown.status, 400);
      assert.match(unknown.message, /"bogus"/);
      assert.match(unknown.message, /allowed: cpuUsagePct, cpuUsedMhz, cpuReadyMs/);
      const cases = [
        'period=decade',
        `from=${String(t0)}`,
        `from=${String(t0)}&to=${String(t0)}`,
        `from=${String(t0 + 10)}&to=${String(t0)}`,
        `from=${String(t0 - 732 * 86400)}&to=${String(t0)}`,
        `from=1.5&to=${String(t0)}`,
        `from=-5&to=${String(t0)}`,
        `from=abc&to=${String(t0)}`,
        'metrics=',
        'period=day&period=week',
      ];
      for (const query of cases) assert.equal((await errorOf(url(query))).status, 400, query);
      assert.equal((await errorOf(`/api/entities/${ids.dc1}/series`)).status, 400, 'datacenters have no history');
    });
  });

  void describe('status, health, OpenAPI', () => {
    void test('status: the session vCenter only, fresh until 3 intervals pass', async () => {
      const status = await get<StatusResponse>('/api/status');
      assert.equal(status.version, '0.1.0-test');
      assert.equal(status.intervalSec, 120);
      assert.equal(status.nowSec, nowSec);
      assert.equal(status.vcenters.length, 1);
      const [vc1] = status.vcenters;
      assert.deepEqual(
        [vc1?.id, vc1?.name, vc1?.lastSuccess, vc1?.lastDurationMs, vc1?.stale, vc1?.counts.vms, vc1?.import.state],
        ['vc1', 'Lab', nowSec - 60, 5000, false, 3, 'done'],
      );
      t.advance(301_000); // the last success is now 361 s old: over 3 x 120 s
      try {
        assert.equal((await get<StatusResponse>('/api/status')).vcenters[0]?.stale, true);
      } finally {
        t.advance(-301_000);
      }
    });

    void test('stale when the last cycle failed, even if a success is recent', () => {
      const base: CollectionStatus = {
        vcenterId: 'a',
        lastStartSec: 990,
        lastEndSec: 1000,
        lastDurationMs: 1,
        lastSuccessSec: 1000,
        lastError: null,
        counts: { datacenters: 0, clusters: 0, hosts: 0, vms: 0, datastores: 0, nics: 0, samples: 0 },
        import: { state: 'done', entitiesDone: 0, entitiesTotal: 0 },
      };
      const stale = (status: CollectionStatus) =>
        statusResponse({ version: 'x', intervalSec: 120, nowSec: 1010, vcenters: [{ id: 'a', name: 'A' }], statuses: [status], counts: {} }).vcenters[0]?.stale;
      assert.equal(stale(base), false);
      assert.equal(stale({ ...base, lastEndSec: 1005, lastError: 'boom' }), true, 'failed after the last success');
      assert.equal(stale({ ...base, lastSuccessSec: null }), true, 'never succeeded');
      assert.equal(
        statusResponse({ version: 'x', intervalSec: 120, nowSec: 1010, vcenters: [{ id: 'b', name: 'B' }], statuses: [base], counts: {} }).vcenters[0]?.stale,
        true,
        'no status at all',
      );
    });

    void test('healthz answers 503 once the store is gone', async () => {
      const other = testApp({ vcenters: [], startMs: nowSec * 1000 });
      assert.equal((await other.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      other.store.close();
      const down = await other.app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(down.statusCode, 503);
      assert.deepEqual(down.json(), { ok: false });
      await other.app.close();
    });

    void test('with a store dataVersion, the VM list is cached until the version changes', async () => {
      let version = 1;
      const cached = testApp({
        vcenters: [{ id: 'vc1', url: sim.current.url }],
        startMs: nowSec * 1000,
        fill: fillStore,
        // The real store plus a version this test moves by hand.
        wrapStore: (real) => Object.assign(Object.create(real) as Store, { dataVersion: () => version }),
      });
      try {
        const session = await cached.login();
        const names = async (): Promise<string[]> => {
          const response = await cached.app.inject({ method: 'GET', url: `/api/datacenters/${ids.dc1}/vms`, headers: { cookie: session } });
          assert.equal(response.statusCode, 200);
          assert.match(String(response.headers['content-type']), /^application\/json/);
          return response.json<VmRow[]>().map((vm) => vm.name).sort();
        };
        assert.deepEqual(await names(), ['db-1', 'template-debian', 'web-1']);
        // A new inventory without db-1: unseen while the version stands still, seen once it moves.
        const [dc] = cached.store.datacenters();
        assert.ok(dc);
        const vms = cached.store.vms(dc.id).filter((vm) => vm.name !== 'db-1');
        cached.store.saveInventory({
          vcenterId: 'vc1',
          collectedAtSec: nowSec,
          datacenters: [dc],
          clusters: cached.store.clusters(dc.id),
          hosts: cached.store.hosts(dc.id),
          vms,
          datastores: cached.store.datastores(dc.id),
        });
        assert.deepEqual(await names(), ['db-1', 'template-debian', 'web-1']);
        version++;
        assert.deepEqual(await names(), ['template-debian', 'web-1']);
      } finally {
        await cached.close();
      }
    });

    void test('the real store invalidates cached lists: on its own writes and on another connection\'s', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vscope-api-'));
      const path = join(dir, 'vscope.db');
      const writer = openSqliteStore(path);
      fillStore(writer);
      const cached = testApp({ vcenters: [{ id: 'vc1', url: sim.current.url }], startMs: nowSec * 1000, wrapStore: () => openSqliteStore(path) });
      try {
        const session = await cached.login();
        const names = async (): Promise<string[]> => {
          const response = await cached.app.inject({ method: 'GET', url: `/api/datacenters/${ids.dc1}/datastores`, headers: { cookie: session } });
          return response.json<DatastoreRow[]>().map((ds) => ds.name).sort();
        };
        assert.deepEqual(await names(), ['ds1', 'ds2']);
        const [dc] = writer.datacenters();
        assert.ok(dc);
        // Another connection (a collector in another process) drops ds2.
        writer.saveInventory({
          vcenterId: 'vc1',
          collectedAtSec: nowSec,
          datacenters: [dc],
          clusters: writer.clusters(dc.id),
          hosts: writer.hosts(dc.id),
          vms: writer.vms(dc.id),
          datastores: writer.datastores(dc.id).filter((ds) => ds.name !== 'ds2'),
        });
        // inject answers in this turn of the event loop; a request comes in a turn of its own,
        // from which another connection's commit shows (SQLite reads its data version once per turn).
        await nextTurn();
        assert.deepEqual(await names(), ['ds1']);
      } finally {
        await cached.close();
        writer.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    void test('an unexpected error is logged with its cause; the client sees a generic 500', async () => {
      const broken = testApp({
        vcenters: [{ id: 'vc1', url: sim.current.url }],
        startMs: nowSec * 1000,
        fill: fillStore,
        // The real store, except that one read fails like a corrupt database would.
        wrapStore: (real) =>
          new Proxy(real, {
            get(target, property, receiver) {
              if (property === 'vms') return () => {
                throw new Error('SQLITE_CORRUPT: database disk image is malformed');
              };
              const value: unknown = Reflect.get(target, property, receiver);
              return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
            },
          }),
      });
      try {
        const session = await broken.login();
        const response = await broken.app.inject({ method: 'GET', url: `/api/datacenters/${ids.dc1}/vms`, headers: { cookie: session } });
        assert.equal(response.statusCode, 500);
        assert.deepEqual(response.json(), { error: { code: 'internal', message: 'Internal error; the server log has the details.' } });
        assert.ok(!response.body.includes('SQLITE'), 'no internal detail reaches the client');
        const logged = broken.logs.map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message?: string } });
        assert.ok(logged.some((line) => line.level === 50 && line.err?.message?.includes('SQLITE_CORRUPT') === true), 'logged at error level with the cause');
      } finally {
        await broken.close();
      }
    });

    void test('the OpenAPI document describes every declared route', async () => {
      const doc = await get<{ openapi: string; paths: Record<string, Record<string, unknown>> }>('/api/openapi.json');
      assert.equal(doc.openapi, '3.1.0');
      const routes = declaredRoutes(t.app).filter((route) => route.method !== 'HEAD');
      assert.ok(routes.length >= 13, `found ${String(routes.length)} routes`);
      for (const route of routes) {
        const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
        assert.ok(doc.paths[path]?.[route.method.toLowerCase()], `${route.method} ${path} is missing from the OpenAPI document`);
      }
    });
  });
});
