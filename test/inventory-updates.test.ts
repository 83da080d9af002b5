/**
 * Discovery by property-collector updates (src/collector/inventory-updates.ts) against the
 * simulator: after each change made through the SOAP API (rename, power off, destroy, create),
 * the inventory kept by updates equals a full discovery of the same state. Run against vcsim
 * with `-permissions` (tools/vcsim/updates.go: vCenter's updates, paged by maxObjectUpdates)
 * and against govmomi's own collector (which reports fewer changes: see the quirks in
 * DEVELOPERS.md). Also: a lost session and a datacenter added start over with a full read, and
 * the collector keeps its inventory by updates across cycles.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { createCollector } from '../src/collector/collector.ts';
import { LeaseKeeper } from '../src/collector/leases.ts';
import { discoverInventory, OnceLogger } from '../src/collector/discovery.ts';
import { InventoryWatch } from '../src/collector/inventory-updates.ts';
import type { InventorySnapshot } from '../src/shared/inventory.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { asArray, asMoRef, asString, moRefXml, textXml, xmlEscape, type MoRef } from '../src/vsphere/values.ts';
import { useVcsim, type VcsimHandle } from './support/vcsim.ts';

const log = pino({ level: 'silent' });
const shape = { datacenters: 2, clusters: 2, hostsPerCluster: 2, standaloneHosts: 1, pools: 0, vmsPerPool: 3, datastores: 2 };
const admin = { username: 'admin', password: 'admin-pw' };

/** Lists sorted by id: the property collector gives no order. */
function canonical(snapshot: InventorySnapshot): Omit<InventorySnapshot, 'collectedAtSec'> {
  const byId = <T extends { id: string }>(list: readonly T[]): T[] => [...list].sort((a, b) => a.id.localeCompare(b.id));
  return {
    vcenterId: snapshot.vcenterId,
    datacenters: byId(snapshot.datacenters),
    clusters: byId(snapshot.clusters),
    hosts: byId(snapshot.hosts),
    vms: byId(snapshot.vms).map((vm) => ({ ...vm })),
    datastores: byId(snapshot.datastores).map((ds) => ({ ...ds, hostIds: [...ds.hostIds].sort(), vmIds: [...ds.vmIds].sort() })),
  };
}

/** Changes the simulator's inventory through the vSphere API, as an administrator would. */
class Operator {
  constructor(private readonly client: VsphereClient) {}

  async task(method: string, ref: MoRef, args = ''): Promise<unknown> {
    const task = asMoRef(await this.client.call(method, ref, args));
    assert.ok(task, `${method} returned a task`);
    return this.client.waitForTask(task);
  }

  vm(moRef: string): MoRef {
    return { type: 'VirtualMachine', value: moRef };
  }

  /** CreateVM_Task in `datacenter`'s VM folder, in the pool of the first cluster, on its first datastore. */
  async createVm(datacenter: string, name: string): Promise<MoRef> {
    const dc = await this.client.properties({ type: 'Datacenter', value: datacenter }, ['vmFolder', 'datastore']);
    const folder = asMoRef(dc.props['vmFolder']);
    const datastore = asMoRef(asArray(dc.props['datastore'])[0]);
    assert.ok(folder && datastore);
    const dsName = asString((await this.client.properties(datastore, ['name'])).props['name']);
    const [cluster] = await this.client.retrieve('ClusterComputeResource', ['resourcePool'], { type: 'Datacenter', value: datacenter });
    const pool = asMoRef(cluster?.props['resourcePool']);
    assert.ok(pool && dsName !== null);
    const config =
      `<config>${textXml('name', name)}${textXml('guestId', 'otherGuest')}` +
      `<files>${textXml('vmPathName', `[${dsName}] ${name}/${name}.vmx`)}</files>${textXml('numCPUs', 2)}${textXml('memoryMB', 256)}</config>`;
    const created = asMoRef(await this.task('CreateVM_Task', folder, config + moRefXml('pool', pool)));
    assert.ok(created, 'CreateVM_Task returned the VM');
    return created;
  }
}

async function connect(sim: VcsimHandle, username: string, password: string): Promise<VsphereClient> {
  return VsphereClient.connect({ url: sim.current.url, username, password });
}

/**
 * The scenario: a first full read, then changes one by one, each time the updated inventory
 * against a full discovery of the same state. `compare` strips what the simulator does not
 * report (none with -permissions).
 */
function scenario(sim: VcsimHandle, credentials: { username: string; password: string }, compare: (s: InventorySnapshot) => unknown, vcenterLike: boolean): void {
  void test('the inventory kept by updates equals a full discovery after each change', async () => {
    const watched = await connect(sim, credentials.username, credentials.password);
    const reader = await connect(sim, credentials.username, credentials.password);
    const operator = new Operator(reader);
    // Three objects per answer: the first state and the larger changes come in several pages.
    const watch = new InventoryWatch({ once: new OnceLogger(log), maxObjectUpdates: 3 });
    const full = async (): Promise<unknown> => compare(await discoverInventory(reader, 'vc1', 1));
    const incremental = async (): Promise<unknown> => compare(await watch.discover(watched, 'vc1', 1));
    try {
      assert.deepEqual(await incremental(), await full());
      assert.equal(watch.stats?.mode, 'full');
      assert.ok((watch.stats?.objectUpdates ?? 0) > 0);
      // tools/vcsim pages as vCenter does (truncated); govmomi answers everything at once.
      if (vcenterLike) assert.ok((watch.stats?.answers ?? 0) > 10, `answers: ${String(watch.stats?.answers)}`);

      // Nothing changed: no object update, the same inventory.
      assert.deepEqual(await incremental(), await full());
      assert.deepEqual({ mode: watch.stats?.mode, objectUpdates: watch.stats?.objectUpdates }, { mode: 'updates', objectUpdates: 0 });

      const before = await discoverInventory(reader, 'vc1', 1);
      const dc = before.datacenters[0];
      assert.ok(dc);
      const vms = before.vms.filter((vm) => vm.datacenterId === dc.id && vm.powerState === 'poweredOn');
      const [renamed, stopped, destroyed] = vms;
      assert.ok(renamed && stopped && destroyed);

      await operator.task('Rename_Task', operator.vm(renamed.moRef), textXml('newName', 'renamed <by> "updates"'));
      const afterRename = await incremental();
      assert.equal(watch.stats?.mode, 'updates');
      assert.deepEqual(afterRename, await full());
      assert.ok((watch.stats?.objectUpdates ?? 0) > 0);
      const stored = (await watch.discover(watched, 'vc1', 1)).vms.find((vm) => vm.id === renamed.id);
      assert.equal(stored?.name, 'renamed <by> "updates"');

      await operator.task('PowerOffVM_Task', operator.vm(stopped.moRef));
      assert.deepEqual(await incremental(), await full());
      assert.equal(watch.stats?.mode, 'updates');
      assert.equal((await watch.discover(watched, 'vc1', 1)).vms.find((vm) => vm.id === stopped.id)?.powerState, 'poweredOff');

      await operator.task('PowerOffVM_Task', operator.vm(destroyed.moRef));
      // govmomi's collector (without -permissions) breaks the connection when a VM modified
      // since the last call is destroyed (see DEVELOPERS.md): the power-off is read first.
      if (!vcenterLike) await watch.discover(watched, 'vc1', 1);
      await operator.task('Destroy_Task', operator.vm(destroyed.moRef));
      const afterDestroy = await watch.discover(watched, 'vc1', 1);
      assert.equal(watch.stats?.mode, 'updates');
      assert.ok(!afterDestroy.vms.some((vm) => vm.id === destroyed.id), 'the destroyed VM is gone');
      assert.deepEqual(compare(afterDestroy), await full());

      const created = await operator.createVm(dc.moRef, 'made-by-updates-test');
      const afterCreate = await watch.discover(watched, 'vc1', 1);
      assert.equal(watch.stats?.mode, 'updates');
      const made = afterCreate.vms.find((vm) => vm.moRef === created.value);
      assert.equal(made?.name, 'made-by-updates-test');
      assert.equal(made?.numCpu, 2);
      assert.equal(made?.datacenterId, dc.id);
      assert.deepEqual(compare(afterCreate), await full());
      assert.equal(afterCreate.vms.length, before.vms.length);
    } finally {
      await watch.close();
      await watched.logout();
      await reader.logout();
    }
  });

  void test('a lost session starts over with a full read, and the inventory stays right', async () => {
    const watched = await connect(sim, credentials.username, credentials.password);
    const reader = await connect(sim, credentials.username, credentials.password);
    const watch = new InventoryWatch({ once: new OnceLogger(log), maxObjectUpdates: 50 });
    try {
      await watch.discover(watched, 'vc1', 1);
      assert.equal(watch.stats?.mode, 'full');
      await watch.discover(watched, 'vc1', 1);
      assert.equal(watch.stats?.mode, 'updates');
      // The session ends behind the client's back (as a vCenter restart or an idle timeout would).
      const cookie = watched.sessionCookie;
      assert.ok(cookie);
      const logout = `<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><Logout xmlns="urn:vim25">${moRefXml('_this', watched.serviceContent.sessionManager)}</Logout></soapenv:Body></soapenv:Envelope>`;
      const response = await fetch(watched.url, { method: 'POST', headers: { 'content-type': 'text/xml', cookie }, body: logout });
      assert.equal(response.status, 200);
      await response.text();
      // Changed while no session watched: the new filters must see it.
      const [vm] = await reader.retrieve('VirtualMachine', []);
      assert.ok(vm);
      const operator = new Operator(reader);
      await operator.task('Rename_Task', vm.obj, textXml('newName', 'renamed-while-logged-out'));

      const generation = watched.sessionGeneration;
      const after = await watch.discover(watched, 'vc1', 1);
      assert.ok(watched.sessionGeneration > generation, 'the client logged in again');
      assert.equal(watch.stats?.mode, 'full');
      assert.deepEqual(compare(after), compare(await discoverInventory(reader, 'vc1', 1)));
      assert.equal(after.vms.find((v) => v.moRef === vm.obj.value)?.name, 'renamed-while-logged-out');
      // And updates again from there.
      await watch.discover(watched, 'vc1', 1);
      assert.equal(watch.stats?.mode, 'updates');
    } finally {
      await watch.close();
      await watched.logout();
      await reader.logout();
    }
  });
}

void describe('with vCenter-like updates (vcsim -permissions)', () => {
  const sim = useVcsim({ ...shape, ...admin, permissions: { users: [], permissions: [] } });
  scenario(sim, admin, canonical, true);

  void test('a datacenter added starts over with a full read that includes it', async () => {
    const watched = await connect(sim, admin.username, admin.password);
    const watch = new InventoryWatch({ once: new OnceLogger(log) });
    try {
      const first = await watch.discover(watched, 'vc1', 1);
      const root = watched.serviceContent.rootFolder;
      const made = asMoRef(await watched.call('CreateDatacenter', root, textXml('name', 'DC-added')));
      assert.ok(made);
      const after = await watch.discover(watched, 'vc1', 1);
      assert.equal(watch.stats?.mode, 'full');
      assert.match(watch.stats?.reason ?? '', /datacenters changed/);
      assert.equal(after.datacenters.length, first.datacenters.length + 1);
      assert.ok(after.datacenters.some((dc) => dc.name === 'DC-added'));
      assert.deepEqual(canonical(after), canonical(await discoverInventory(watched, 'vc1', 1)));
      await watched.call('Destroy_Task', made).then((task) => {
        const ref = asMoRef(task);
        return ref ? watched.waitForTask(ref) : undefined;
      });
      const removed = await watch.discover(watched, 'vc1', 1);
      assert.equal(watch.stats?.mode, 'full');
      assert.equal(removed.datacenters.length, first.datacenters.length);

      // close() destroys the collector and its filters (the session lives on).
      const collector = watch.stats?.collector;
      assert.ok(collector);
      await watched.waitForUpdatesEx(collector, '', { maxWaitSeconds: 0, maxObjectUpdates: 1 });
      await watch.close();
      await assert.rejects(watched.waitForUpdatesEx(collector, '', { maxWaitSeconds: 0, maxObjectUpdates: 1 }), /ManagedObjectNotFound/);
    } finally {
      await watch.close();
      await watched.logout();
    }
  });

  void test('the collector keeps its inventory by updates across cycles', async () => {
    const store = openSqliteStore(':memory:');
    const lines: string[] = [];
    const captured = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const target = { id: 'vc1', url: sim.current.url, ...admin, pageSize: 10 };
    const collector = createCollector({ store, vcenters: [target], intervalSec: 120, log: captured, tuning: { importHistory: false } });
    const reader = await connect(sim, admin.username, admin.password);
    try {
      const modes = (): unknown[] =>
        lines.flatMap((line) => {
          const entry = JSON.parse(line) as { msg?: string; discovery?: { mode?: string } };
          return entry.msg === 'collection cycle phases' ? [entry.discovery?.mode] : [];
        });
      const [first] = await collector.runOnce();
      assert.equal(first?.ok, true, first?.error ?? '');
      const [vm] = await reader.retrieve('VirtualMachine', []);
      assert.ok(vm);
      await new Operator(reader).task('Rename_Task', vm.obj, textXml('newName', xmlEscape('renamed-between-cycles')));
      const [second] = await collector.runOnce();
      assert.equal(second?.ok, true, second?.error ?? '');
      assert.deepEqual(modes(), ['full', 'updates']);
      const id = (await discoverInventory(reader, 'vc1', 1)).vms.find((v) => v.moRef === vm.obj.value)?.id;
      assert.ok(id);
      const entity = store.entity(id);
      assert.equal(entity?.kind === 'vm' ? entity.name : null, 'renamed-between-cycles');
    } finally {
      await collector.stop();
      await reader.logout();
      store.close();
    }
  });
  void test('a collector that loses its lease stands by, drops its filters, and reads everything when it holds the lease again', async () => {
    const store = openSqliteStore(':memory:');
    const lines: string[] = [];
    const captured = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
    const clock = { nowMs: Date.now() };
    const a = new LeaseKeeper({ store, holderId: 'a', ttlSec: 30, nowMs: () => clock.nowMs });
    const b = new LeaseKeeper({ store, holderId: 'b', ttlSec: 30, nowMs: () => clock.nowMs });
    const target = { id: 'vc-lease', url: sim.current.url, ...admin };
    const collector = createCollector({ store, vcenters: [target], intervalSec: 120, log: captured, lease: a, tuning: { importHistory: false } });
    const reader = await connect(sim, admin.username, admin.password);
    const modes = (): unknown[] =>
      lines.flatMap((line) => {
        const entry = JSON.parse(line) as { msg?: string; discovery?: { mode?: string } };
        return entry.msg === 'collection cycle phases' ? [entry.discovery?.mode] : [];
      });
    try {
      assert.equal((await collector.runOnce())[0]?.ok, true);
      assert.equal((await collector.runOnce())[0]?.ok, true);
      assert.deepEqual(modes(), ['full', 'updates']);
      // B takes the lapsed lease over; A stands by.
      clock.nowMs += 31_000;
      assert.equal(await b.hold('vc-lease'), true);
      assert.equal((await collector.runOnce())[0]?.standby, true);
      // Changed while A stood by, then A holds the lease again.
      const [vm] = await reader.retrieve('VirtualMachine', []);
      assert.ok(vm);
      await new Operator(reader).task('Rename_Task', vm.obj, textXml('newName', 'renamed-during-standby'));
      clock.nowMs += 31_000;
      const [back] = await collector.runOnce();
      assert.equal(back?.ok, true, back?.error ?? '');
      assert.deepEqual(modes(), ['full', 'updates', 'full']);
      const id = (await discoverInventory(reader, 'vc-lease', 1)).vms.find((v) => v.moRef === vm.obj.value)?.id;
      assert.ok(id);
      const entity = store.entity(id);
      assert.equal(entity?.kind === 'vm' ? entity.name : null, 'renamed-during-standby');
    } finally {
      await collector.stop();
      await reader.logout();
      store.close();
    }
  });
});

void describe("with govmomi's own updates (vcsim without -permissions)", () => {
  const sim = useVcsim(shape);
  // govmomi's collector reports no change of reference lists (Datastore.vm) nor of a local
  // datastore's free space (it follows the disk of the machine): compared without them.
  const reported = (snapshot: InventorySnapshot): unknown => {
    const c = canonical(snapshot);
    return { ...c, datastores: c.datastores.map((ds) => ({ ...ds, vmIds: [], freeGB: 0, provisionedGB: 0 })) };
  };
  scenario(sim, { username: 'any', password: 'any' }, reported, false);

  void test("a connection broken by govmomi's collector starts over with a full read", async () => {
    const watched = await connect(sim, 'any', 'any');
    const reader = await connect(sim, 'any', 'any');
    const watch = new InventoryWatch({ once: new OnceLogger(log) });
    try {
      await watch.discover(watched, 'vc1', 1);
      const [vm] = (await discoverInventory(reader, 'vc1', 1)).vms.filter((v) => v.powerState === 'poweredOn');
      assert.ok(vm);
      const operator = new Operator(reader);
      await operator.task('PowerOffVM_Task', operator.vm(vm.moRef));
      await operator.task('Destroy_Task', operator.vm(vm.moRef));
      const after = await watch.discover(watched, 'vc1', 1);
      assert.equal(watch.stats?.mode, 'full');
      assert.ok(!after.vms.some((v) => v.id === vm.id));
      assert.deepEqual(reported(after), reported(await discoverInventory(reader, 'vc1', 1)));
    } finally {
      await watch.close();
      await watched.logout();
      await reader.logout();
    }
  });
});
