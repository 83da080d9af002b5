/**
 * Who sees what, end to end against the permission-enforcing simulator (tools/vcsim
 * -permissions): vscope asks vCenter with each person's own session, and every route answers
 * what vCenter allows them, no more. The collector reads everything as the administrator.
 *
 * Inventory: DC0 and DC1, each 2 clusters x 2 hosts, 4 VMs in each cluster's root pool.
 *   ann:  ReadOnly on cluster DC0_C0                 -> DC0_C0's 2 hosts and 4 VMs; DC0 seen
 *   bob:  through group team-b, ReadOnly on /DC1     -> all of DC1
 *   cid:  ReadOnly on DC0_C0, NoAccess on DC0_C0_RP0_VM1 -> DC0_C0 less that VM
 *   dan:  no permission at all                       -> refused at login
 *   eve:  ReadOnly on DC0's VM folder, not propagated -> DC0 only view-only (its ancestor), nothing
 *         vscope shows is readable: refused at login (tells view-only from readable)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { DatacenterRow, DatastoreRow, EntityDetail, HostRow, StatusResponse, VmRow } from '../src/shared/api.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { moRefXml, textXml } from '../src/vsphere/values.ts';
import type { VcsimPermissions } from '../src/simulator/vcsim.ts';
import { apiLogin, type ApiClient } from './support/api-client.ts';
import { launchBrowser, screenshot, type BrowserSession } from './support/browser.ts';
import { testLogin, useStack } from './support/stack.ts';

const permissions: VcsimPermissions = {
  users: [
    { name: 'ann', password: 'ann-pw' },
    { name: 'bob', password: 'bob-pw', groups: ['team-b'] },
    { name: 'cid', password: 'cid-pw' },
    { name: 'dan', password: 'dan-pw' },
    { name: 'eve', password: 'eve-pw' },
  ],
  permissions: [
    { entity: '/DC0/host/DC0_C0', principal: 'ann', role: 'ReadOnly', propagate: true },
    { entity: '/DC1', group: 'team-b', role: 'ReadOnly', propagate: true },
    { entity: '/DC0/host/DC0_C0', principal: 'cid', role: 'ReadOnly', propagate: true },
    { entity: 'DC0_C0_RP0_VM1', principal: 'cid', role: 'NoAccess', propagate: false },
    { entity: '/DC0/vm', principal: 'eve', role: 'ReadOnly', propagate: false },
  ],
};

// A short scope refresh, so that a change of permissions shows within the test.
const stack = useStack(
  { datacenters: 2, clusters: 2, hostsPerCluster: 2, standaloneHosts: 0, vmsPerPool: 4, datastores: 1, permissions },
  { VSCOPE_SESSION_SCOPE_REFRESH_SEC: '10' },
);

const range = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i)}`);
const c0Vms = range('DC0_C0_RP0_VM', 4);
const c0Hosts = range('DC0_C0_H', 2);
const dc1Vms = [...range('DC1_C0_RP0_VM', 4), ...range('DC1_C1_RP0_VM', 4)];
const dc1Hosts = [...range('DC1_C0_H', 2), ...range('DC1_C1_H', 2)];

async function login(username: string, password: string): Promise<ApiClient> {
  return apiLogin(stack.current.vscope.url, username, password);
}

const names = <T extends { name: string }>(rows: readonly T[]): string[] => rows.map((row) => row.name).sort();

interface Seen {
  readonly datacenters: string[];
  readonly vms: string[];
  readonly hosts: string[];
  readonly datastores: string[];
}

/** Everything one person's lists show, over every datacenter they are given. */
async function seenBy(client: ApiClient): Promise<Seen & { rows: { dcs: DatacenterRow[]; vms: VmRow[]; hosts: HostRow[]; datastores: DatastoreRow[] } }> {
  const dcs = await client.get<DatacenterRow[]>('/api/datacenters');
  const vms: VmRow[] = [];
  const hosts: HostRow[] = [];
  const datastores: DatastoreRow[] = [];
  for (const dc of dcs) {
    vms.push(...(await client.get<VmRow[]>(`/api/datacenters/${dc.id}/vms`)));
    hosts.push(...(await client.get<HostRow[]>(`/api/datacenters/${dc.id}/hosts`)));
    datastores.push(...(await client.get<DatastoreRow[]>(`/api/datacenters/${dc.id}/datastores`)));
  }
  return { datacenters: names(dcs), vms: names(vms), hosts: names(hosts), datastores: names(datastores), rows: { dcs, vms, hosts, datastores } };
}

async function statusOf(client: ApiClient, path: string): Promise<number> {
  return (await fetch(`${stack.current.vscope.url}${path}`, { headers: { cookie: client.cookie } })).status;
}

let adminView: Awaited<ReturnType<typeof seenBy>>;

before(async () => {
  await stack.ready;
  adminView = await seenBy(await login(testLogin.username, testLogin.password));
});

void describe('each person sees what vCenter lets their account read', () => {
  void test('the administrator sees everything', () => {
    assert.deepEqual(adminView.datacenters, ['DC0', 'DC1']);
    assert.equal(adminView.vms.length, 16);
    assert.equal(adminView.hosts.length, 8);
  });

  void test('ann (ReadOnly on one cluster) sees that cluster, its datacenter, nothing of DC1', async () => {
    const ann = await seenBy(await login('ann', 'ann-pw'));
    assert.deepEqual(ann.datacenters, ['DC0']);
    assert.deepEqual(ann.vms, c0Vms);
    assert.deepEqual(ann.hosts, c0Hosts);
    // The datastore is a child of the datastore folder, not of the cluster: not readable.
    assert.deepEqual(ann.datastores, []);
    const [dc] = ann.rows.dcs;
    assert.deepEqual({ clusters: dc?.clusters, hosts: dc?.hosts, vms: dc?.vms, datastores: dc?.datastores }, { clusters: 1, hosts: 2, vms: 4, datastores: 0 });
    // Relations to what she may not read are left out; her hosts' own figures stay whole.
    for (const vm of ann.rows.vms) {
      assert.equal(vm.clusterName, 'DC0_C0');
      assert.ok(vm.hostName !== null && c0Hosts.includes(vm.hostName), `${vm.name}: its host ${String(vm.hostName)} is hers`);
      assert.deepEqual(vm.datastores, [], `${vm.name}: no datastore shown`);
    }
    const adminHost = adminView.rows.hosts.find((host) => host.name === 'DC0_C0_H0');
    assert.equal(ann.rows.hosts.find((host) => host.name === 'DC0_C0_H0')?.vms, adminHost?.vms, 'a host counts all of its VMs');
  });

  void test('bob (ReadOnly on DC1 through his group) sees all of DC1 and nothing of DC0', async () => {
    const bob = await seenBy(await login('bob', 'bob-pw'));
    assert.deepEqual(bob.datacenters, ['DC1']);
    assert.deepEqual(bob.vms, dc1Vms.sort());
    assert.deepEqual(bob.hosts, dc1Hosts.sort());
    assert.equal(bob.datastores.length, 1);
  });

  void test('cid (a NoAccess below a ReadOnly) does not see that VM', async () => {
    const cid = await seenBy(await login('cid', 'cid-pw'));
    assert.deepEqual(cid.vms, c0Vms.filter((name) => name !== 'DC0_C0_RP0_VM1'));
  });

  for (const [username, why] of [
    ['dan', 'no permission'],
    ['eve', 'a datacenter seen only as the ancestor of a folder'],
  ] as const) {
    void test(`${username} (${why}) is refused at login with the reason, and gets no session`, async () => {
      const response = await fetch(`${stack.current.vscope.url}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: `${username}-pw` }),
      });
      assert.equal(response.status, 403);
      assert.match(await response.text(), /no read permission in vCenter vcsim/);
      assert.equal(response.headers.get('set-cookie'), null);
    });
  }

  void test('what a person may not read answers 404 like an unknown id, on detail and series', async () => {
    const ann = await login('ann', 'ann-pw');
    const unknown = await fetch(`${stack.current.vscope.url}/api/entities/vm-AAAAAAAAAAAAAA`, { headers: { cookie: ann.cookie } });
    const unknownBody = await unknown.text();
    const hidden = adminView.rows.vms.filter((vm) => !c0Vms.includes(vm.name));
    assert.ok(hidden.length > 0, 'some VMs are hidden from ann');
    for (const vm of [...hidden, ...adminView.rows.hosts.filter((host) => !c0Hosts.includes(host.name))]) {
      for (const path of [`/api/entities/${vm.id}`, `/api/entities/${vm.id}/series?period=day`]) {
        const answer = await fetch(`${stack.current.vscope.url}${path}`, { headers: { cookie: ann.cookie } });
        assert.equal(answer.status, 404, path);
        assert.equal(await answer.text(), unknownBody, `${path} answers like an unknown id`);
      }
    }
    const dc1 = adminView.rows.dcs.find((dc) => dc.name === 'DC1');
    assert.ok(dc1, 'DC1 exists');
    assert.equal(await statusOf(ann, `/api/datacenters/${dc1.id}/vms`), 404);
    // Her own VM opens, with its readable relations only.
    const mine = adminView.rows.vms.find((vm) => vm.name === 'DC0_C0_RP0_VM0');
    assert.ok(mine, 'DC0_C0_RP0_VM0 exists');
    const detail = await ann.get<EntityDetail>(`/api/entities/${mine.id}`);
    assert.deepEqual(detail.related['datastores'], []);
    assert.equal(detail.related['host']?.length, 1);
    assert.equal(await statusOf(ann, `/api/entities/${mine.id}/series?period=day`), 200);
    const status = await ann.get<StatusResponse>('/api/status');
    assert.deepEqual(status.vcenters[0]?.counts, { datacenters: 1, clusters: 1, hosts: 2, vms: 4, datastores: 0 });
  });

  void test('a permission changed in vCenter shows after the next refresh', async () => {
    const ann = await login('ann', 'ann-pw');
    assert.ok((await seenBy(ann)).vms.includes('DC0_C0_RP0_VM2'), 'VM2 is hers before');
    // The administrator removes her access to one VM, over SOAP, as in the vSphere Client.
    const admin = await VsphereClient.connect({ url: stack.current.sim.url, username: testLogin.username, password: testLogin.password });
    try {
      const [vm] = (await admin.retrieve('VirtualMachine', ['name'])).filter((object) => object.props['name'] === 'DC0_C0_RP0_VM2');
      assert.ok(vm, 'DC0_C0_RP0_VM2 exists');
      const manager = admin.serviceContent.all['authorizationManager'];
      assert.ok(manager, 'an AuthorizationManager');
      const roles = (await admin.properties(manager, ['roleList'])).props['roleList'];
      const noAccess = (roles as { name?: string; roleId?: string }[]).find((role) => role.name === 'NoAccess')?.roleId;
      assert.ok(noAccess !== undefined, 'the NoAccess role');
      await admin.call(
        'SetEntityPermissions',
        manager,
        moRefXml('entity', vm.obj) +
          `<permission>${moRefXml('entity', vm.obj)}${textXml('principal', 'ann')}${textXml('group', false)}${textXml('roleId', noAccess)}${textXml('propagate', false)}</permission>`,
      );
    } finally {
      await admin.logout();
    }
    // Within one refresh period (10 s here) plus the refresh timer's tick.
    const deadline = Date.now() + 30_000;
    let vms = (await seenBy(ann)).vms;
    while (vms.includes('DC0_C0_RP0_VM2') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      vms = (await seenBy(ann)).vms;
    }
    assert.deepEqual(vms, c0Vms.filter((name) => name !== 'DC0_C0_RP0_VM2'), 'gone from her list once the scope was asked again');
  });
});

void describe('in a real browser', () => {
  let browser: BrowserSession;
  before(async () => {
    await stack.ready;
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  void test('bob logs in and sees only his datacenter and its VMs', async () => {
    const page = await browser.newPage();
    await page.goto(stack.current.vscope.url);
    await page.getByTestId('login-username').fill('bob');
    await page.getByTestId('login-password').fill('bob-pw');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('user-name').waitFor();
    const dc1 = adminView.rows.dcs.find((dc) => dc.name === 'DC1');
    assert.ok(dc1, 'DC1 exists');
    await page.goto(`${stack.current.vscope.url}/#/dc/${dc1.id}/vms`);
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid="vm-table"] tbody tr[data-id]').length === n, dc1Vms.length);
    const shown = await page.locator('[data-testid="vm-table"] tbody tr[data-id]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));
    const bobVms = adminView.rows.vms.filter((vm) => dc1Vms.includes(vm.name)).map((vm) => vm.id);
    assert.deepEqual(shown.sort(), bobVms.sort());
    // The datacenter selector offers DC1 alone.
    const options = await page.locator('[data-testid="dc-select"] option').allTextContents();
    assert.deepEqual(options.map((text) => text.trim()), ['DC1']);
    await screenshot(page, 'visibility-restricted-vms');
  });

  void test('dan is told at the login form why he cannot get in', async () => {
    const page = await browser.newPage();
    await page.goto(stack.current.vscope.url);
    await page.getByTestId('login-username').fill('dan');
    await page.getByTestId('login-password').fill('dan-pw');
    await page.getByTestId('login-submit').click();
    const error = page.getByTestId('login-error');
    await error.waitFor();
    assert.match((await error.textContent()) ?? '', /no read permission in vCenter vcsim/);
    await screenshot(page, 'visibility-no-permission');
  });
});
