/**
 * Every route as a restricted person sees it, against the hand-made inventory of
 * fixtures/api-inventory.ts: `vm1only` may read web-1 alone, and sees DC1 and C1 by name
 * (their ancestors). What vCenter itself answers is tested in visibility.test.ts against the
 * permission-enforcing simulator; here the expected rows follow from the fixture by hand.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DatacenterRow, EntityDetail, SeriesResponse, StatusResponse, VmRow } from '../src/shared/api.ts';
import { Scope } from '../src/shared/visibility.ts';
import { testApp, type TestApp } from './fixtures/api-app.ts';
import { fillStore, fixtureScopes, ids, nowSec } from './fixtures/api-inventory.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ vmsPerPool: 1 });

/** Who may see what: `carol` web-1 only; `dave` nothing readable (DC1 view-only); `erin` a scope vCenter cannot answer. */
function scopeOf(vcenterId: string, username: string): Scope {
  if (username === 'carol') return fixtureScopes.vm1only();
  if (username === 'dave') return Scope.of(vcenterId, [], [{ type: 'Datacenter', value: 'datacenter-1' }]);
  return fixtureScopes.all(vcenterId);
}

let t: TestApp;
let cookie: string;

async function get<T>(url: string): Promise<T> {
  const response = await t.app.inject({ method: 'GET', url, headers: { cookie } });
  assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
  return response.json<T>();
}

async function status(url: string): Promise<number> {
  return (await t.app.inject({ method: 'GET', url, headers: { cookie } })).statusCode;
}

void describe('a person who may read one VM', () => {
  before(async () => {
    t = testApp({ vcenters: [{ id: 'vc1', name: 'Lab', url: sim.current.url }], startMs: nowSec * 1000, fill: fillStore, scopeOf });
    cookie = await t.login('carol', 'any');
  });
  after(async () => {
    await t.close();
  });

  void test('sees its datacenter with the counts of what it may read', async () => {
    const rows = await get<DatacenterRow[]>('/api/datacenters');
    assert.deepEqual(
      rows.map(({ id, name, clusters, hosts, vms, datastores }) => ({ id, name, clusters, hosts, vms, datastores })),
      [{ id: ids.dc1, name: 'DC1', clusters: 1, hosts: 0, vms: 1, datastores: 0 }],
    );
  });

  void test('lists only its VM, without the host and datastores it may not see', async () => {
    const vms = await get<VmRow[]>(`/api/datacenters/${ids.dc1}/vms`);
    assert.deepEqual(
      vms.map((vm) => ({ id: vm.id, hostId: vm.hostId, hostName: vm.hostName, clusterId: vm.clusterId, clusterName: vm.clusterName, datastores: vm.datastores })),
      [{ id: ids.vm1, hostId: null, hostName: null, clusterId: ids.c1, clusterName: 'C1', datastores: [] }],
    );
    // Its own figures stay whole.
    assert.equal(vms[0]?.cpuUsagePct, 23);
    assert.equal(vms[0]?.numCpu, 4);
    assert.deepEqual(await get(`/api/datacenters/${ids.dc1}/hosts`), []);
    assert.deepEqual(await get(`/api/datacenters/${ids.dc1}/datastores`), []);
    assert.deepEqual(
      (await get<VmRow[]>(`/api/datacenters/${ids.dc1}/vms?removed=true`)).map((vm) => vm.id),
      [ids.vm1],
      'removed VMs it may not read stay hidden too',
    );
  });

  void test('hidden entities answer 404 exactly like unknown ones, on detail and series', async () => {
    const unknown = await t.app.inject({ method: 'GET', url: '/api/entities/vm-AAAAAAAAAAAAAA', headers: { cookie } });
    assert.equal(unknown.statusCode, 404);
    for (const id of [ids.vm2, ids.tpl, ids.esx1, ids.esx2, ids.nic0, ids.ds1, ids.ds2, ids.gone, ids.vm9, ids.dc2, ids.esx9]) {
      for (const url of [`/api/entities/${id}`, `/api/entities/${id}/series?period=day`]) {
        const hidden = await t.app.inject({ method: 'GET', url, headers: { cookie } });
        assert.equal(hidden.statusCode, 404, url);
        assert.equal(hidden.body, unknown.body, `${url}: same body as an unknown id`);
      }
    }
    assert.equal(await status(`/api/datacenters/${ids.dc2}/vms`), 404, 'another vCenter');
  });

  void test('its VM opens, with only the relations it may see', async () => {
    const detail = await get<EntityDetail>(`/api/entities/${ids.vm1}`);
    assert.deepEqual(detail.related, { host: [], cluster: [{ id: ids.c1, kind: 'cluster', name: 'C1' }], datastores: [] });
    assert.equal(detail.datacenter?.id, ids.dc1);
    const series = await get<SeriesResponse>(`/api/entities/${ids.vm1}/series?period=day`);
    assert.ok(series.ts.length > 0);
    // Its cluster, seen by name, opens with only what it may see inside.
    const cluster = await get<EntityDetail>(`/api/entities/${ids.c1}`);
    assert.deepEqual(cluster.related, { hosts: [], vms: [{ id: ids.vm1, kind: 'vm', name: 'web-1' }] });
    const datacenter = await get<EntityDetail>(`/api/entities/${ids.dc1}`);
    assert.deepEqual(datacenter.related, { clusters: [{ id: ids.c1, kind: 'cluster', name: 'C1' }], hosts: [], datastores: [] });
  });

  void test('the status counts only what it may read, and gives the import as a share', async () => {
    const body = await get<StatusResponse>('/api/status');
    assert.deepEqual(body.vcenters.map((v) => ({ id: v.id, counts: v.counts, import: v.import })), [
      { id: 'vc1', counts: { datacenters: 1, clusters: 1, hosts: 0, vms: 1, datastores: 0 }, import: { state: 'done', percentDone: 100, problem: null } },
    ]);
  });
});

void describe('a person who may read nothing', () => {
  before(() => {
    t = testApp({ vcenters: [{ id: 'vc1', name: 'Lab', url: sim.current.url }], startMs: nowSec * 1000, fill: fillStore, scopeOf });
  });
  after(async () => {
    await t.close();
  });

  void test('is refused at login with a clear message, and gets no session', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'dave', password: 'any' } });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json<{ error: { code: string } }>().error.code, 'no_permission');
    assert.match(response.json<{ error: { message: string } }>().error.message, /no read permission in vCenter Lab/);
    assert.equal(response.cookies.length, 0);
  });
});

void describe('a vCenter that cannot say what a person may see', () => {
  let loggedOut = 0;
  before(() => {
    t = testApp({
      vcenters: [{ id: 'vc1', name: 'Lab', url: sim.current.url }],
      startMs: nowSec * 1000,
      fill: fillStore,
      wrapAuth: (real) => ({
        vcenters: () => real.vcenters(),
        async login(vcenterId, username, password) {
          const login = await real.login(vcenterId, username, password);
          return {
            scope: () => Promise.reject(new Error('HasUserPrivilegeOnEntities: the service is busy')),
            logout: async () => {
              loggedOut++;
              await login.logout();
            },
          };
        },
      }),
    });
  });
  after(async () => {
    await t.close();
  });

  void test('fails the login closed: 503 that says why, no session, the vSphere session logged out', async () => {
    const response = await t.app.inject({ method: 'POST', url: '/api/session', payload: { username: 'erin', password: 'any' } });
    assert.equal(response.statusCode, 503);
    assert.match(response.json<{ error: { message: string } }>().error.message, /could not say what your account may see/);
    assert.equal(response.cookies.length, 0);
    assert.equal(loggedOut, 1);
    assert.ok(!response.body.includes('service is busy'), 'the internal reason stays in the log');
  });
});
