/**
 * The InventoryStore contract: what every implementation answers, the same way. Registered
 * once per implementation by its contract test file (sqlite/sqlite-contract.test.ts,
 * postgres/postgres-contract.test.ts). Expected values are written out by hand.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InventorySnapshot } from '../../shared/inventory.ts';
import type { CollectionStatus, InventoryStore, StoredEntity } from '../store.ts';
import {
  berlin, clusterA, clusterB, dsLyon, dsParis, host, hostBerlin, hostLyon, hostParis, lyon, nicLyon0, nicParis0, nicParis1, paris, parisVms,
  vc1, vc1Snapshot, vc2, vc2Snapshot, vm, vmAlpha, vmAlphaUpper, vmBerlin, vmBeta, vmDup1, vmDup2, vmLyon, vmTools,
} from './fixtures.ts';
import { nextTurn, versionOf, withSubject, type OpenSubject } from './subject.ts';

/** Each kind's ids, sorted, so that presentIds (which promises no order) compares exactly. */
function sortedIds(byKind: Readonly<Partial<Record<string, readonly string[]>>>): Record<string, string[]> {
  return Object.fromEntries(Object.entries(byKind).map(([kind, ids]) => [kind, [...(ids ?? [])].sort()]));
}

/** The snapshot without the Lyon datacenter and everything in it. */
function withoutLyon(snapshot: InventorySnapshot): InventorySnapshot {
  return {
    ...snapshot,
    datacenters: snapshot.datacenters.filter((dc) => dc.id !== lyon),
    hosts: snapshot.hosts.filter((h) => h.id !== hostLyon),
    vms: snapshot.vms.filter((v) => v.id !== vmLyon),
    datastores: snapshot.datastores.filter((d) => d.id !== dsLyon),
  };
}

/** The name of an entity that has one (every kind but NICs). */
function nameOf(entity: StoredEntity | null | undefined): string | undefined {
  return entity && 'name' in entity ? entity.name : undefined;
}


function status(vcenterId: string, lastError: string | null): CollectionStatus {
  return {
    vcenterId, lastStartSec: 100, lastEndSec: 112, lastDurationMs: 12_000, lastSuccessSec: lastError === null ? 112 : 50, lastError,
    counts: { datacenters: 2, clusters: 2, hosts: 2, vms: 7, datastores: 2, nics: 3, samples: 1234 },
    import: { state: 'running', entitiesDone: 4, entitiesTotal: 13 },
  };
}

export function inventoryStoreContract(name: string, open: OpenSubject<InventoryStore>): void {
  void describe(`InventoryStore contract: ${name}`, () => {
    void it('lists each datacenter\'s entities of every kind by name, then id, in byte order', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        await store.saveInventory(vc2Snapshot(1100));
        assert.deepEqual((await store.datacenters()).map((dc) => [dc.name, dc.vcenterId, dc.firstSeenSec, dc.lastSeenSec, dc.removedAtSec]), [
          ['Berlin', vc2, 1100, 1100, null],
          ['Paris', vc1, 1000, 1000, null],
          ['lyon', vc1, 1000, 1000, null],
        ]);
        assert.deepEqual((await store.clusters(paris)).map((c) => c.name), ['Cluster-A', 'cluster-b']);
        assert.deepEqual((await store.vms(paris)).map((v) => [v.name, v.id]), [
          ['Alpha', vmAlphaUpper],
          ['_tools', vmTools],
          ['alpha', vmAlpha],
          ['beta', vmBeta],
          ['dup', vmDup1],
          ['dup', vmDup2],
        ]);
        assert.deepEqual((await store.vms(lyon)).map((v) => v.id), [vmLyon]);
        assert.deepEqual((await store.vms(berlin)).map((v) => v.id), [vmBerlin]);
        assert.deepEqual((await store.hosts(paris)).map((h) => [h.name, h.nics.map((nic) => nic.device)]), [['esx-paris', ['vmnic0', 'vmnic1']]]);
        assert.deepEqual((await store.hosts(berlin)).map((h) => [h.name, h.nics.length]), [['esx-berlin', 0]]);
        assert.deepEqual((await store.datastores(paris)).map((d) => [d.name, d.capacityGB, d.freeGB, d.vmIds]), [['ds-paris', 2048, 1024.5, [vmBeta]]]);
        assert.deepEqual(await store.clusters(lyon), []);
        assert.deepEqual(await store.vms('dc-unknown0000000'), []);
        // Every field comes back as it was given, lifecycle beside it.
        assert.deepEqual((await store.vms(paris))[0], { ...parisVms[1], firstSeenSec: 1000, lastSeenSec: 1000, removedAtSec: null });
      }));

    void it('finds any entity by id, NICs included, every field as given', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        const lifecycle = { firstSeenSec: 1000, lastSeenSec: 1000, removedAtSec: null };
        assert.deepEqual(await store.entity(vmBeta), {
          kind: 'vm', id: vmBeta, vcenterId: vc1, moRef: `moref-${vmBeta}`, name: 'beta', datacenterId: paris, hostId: hostParis, clusterId: clusterB,
          datastoreIds: [dsParis], powerState: 'poweredOn', overallStatus: 'green', guestOs: 'Debian GNU/Linux 12 (64-bit)', ipAddress: '10.0.0.7',
          numCpu: 2, memoryMB: 4096, diskProvisionedGB: 40, diskUsedGB: 12.5, toolsRunningStatus: 'guestToolsRunning',
          toolsVersionStatus: 'guestToolsCurrent', toolsVersion: '12352', faultToleranceState: 'notConfigured', snapshotCount: 0, isTemplate: false,
          ...lifecycle,
        });
        assert.deepEqual(await store.entity(nicParis1), {
          kind: 'nic', id: nicParis1, hostId: hostParis, device: 'vmnic1', linkSpeedMbps: 25000, mac: '00:50:56:00:00:01', driver: 'ixgben', ...lifecycle,
        });
        assert.deepEqual(await store.entity(hostParis), { ...host(hostParis, vc1, paris, 'esx-paris', ['vmnic0', 'vmnic1'], clusterB), ...lifecycle });
        assert.deepEqual(await store.entity(paris), { kind: 'datacenter', id: paris, vcenterId: vc1, moRef: 'datacenter-1', name: 'Paris', ...lifecycle });
        assert.deepEqual(await store.entity(clusterA), {
          kind: 'cluster', id: clusterA, vcenterId: vc1, moRef: 'domain-c2', name: 'Cluster-A', datacenterId: paris, ...lifecycle,
        });
        assert.equal(nameOf(await store.entity(dsLyon)), 'ds-lyon');
        assert.equal(await store.entity('vm-AAAAAAAAAAAAAA'), null);
      }));

    void it('gives the ids of each kind a datacenter holds now, NICs in their host\'s datacenter', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        await store.saveInventory(vc2Snapshot(1000));
        assert.deepEqual(sortedIds(await store.presentIds(paris)), sortedIds({
          cluster: [clusterA, clusterB],
          host: [hostParis],
          nic: [nicParis0, nicParis1],
          vm: [vmBeta, vmAlphaUpper, vmTools, vmAlpha, vmDup1, vmDup2],
          datastore: [dsParis],
        }));
        assert.deepEqual(sortedIds(await store.presentIds(lyon)), { host: [hostLyon], nic: [nicLyon0], vm: [vmLyon], datastore: [dsLyon] });
        assert.deepEqual(sortedIds(await store.presentIds(berlin)), { host: [hostBerlin], vm: [vmBerlin] });
        assert.deepEqual(await store.presentIds('dc-unknown0000000'), {});
      }));

    void it('marks what a snapshot lacks removed (once), and un-removes what comes back', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        // The same inventory again: everything was seen at 1500.
        await store.saveInventory(vc1Snapshot(1500));
        assert.deepEqual([(await store.entity(vmBeta))?.firstSeenSec, (await store.entity(vmBeta))?.lastSeenSec], [1000, 1500]);
        // Next cycle: beta gone, alpha renamed, vmnic1 gone, Lyon (and all it holds) gone.
        const renamed = vm(vmAlpha, vc1, paris, 'alpha-2', hostParis, { snapshotCount: 3 });
        const second = vc1Snapshot(2000, { parisVms: [renamed, ...parisVms.filter((v) => v.id !== vmBeta && v.id !== vmAlpha)], parisNics: ['vmnic0'] });
        await store.saveInventory(withoutLyon(second));

        assert.deepEqual((await store.vms(paris)).map((v) => v.name), ['Alpha', '_tools', 'alpha-2', 'dup', 'dup']);
        assert.deepEqual((await store.vms(paris, { includeRemoved: true })).map((v) => [v.name, v.removedAtSec]), [
          ['Alpha', null], ['_tools', null], ['alpha-2', null], ['beta', 2000], ['dup', null], ['dup', null],
        ]);
        const gone = await store.entity(vmBeta);
        assert.deepEqual([gone?.firstSeenSec, gone?.lastSeenSec, gone?.removedAtSec], [1000, 1500, 2000], 'last seen by the inventory before');
        assert.deepEqual([nameOf(await store.entity(vmAlpha)), (await store.entity(vmAlpha))?.lastSeenSec], ['alpha-2', 2000]);
        assert.equal((await store.entity(nicParis1))?.removedAtSec, 2000);
        assert.deepEqual([(await store.entity(nicParis0))?.removedAtSec, (await store.entity(nicParis0))?.lastSeenSec], [null, 2000]);
        assert.deepEqual((await store.datacenters()).map((dc) => dc.name), ['Paris']);
        assert.deepEqual((await store.datacenters({ includeRemoved: true })).map((dc) => [dc.name, dc.removedAtSec]), [['Paris', null], ['lyon', 2000]]);
        assert.deepEqual(await store.vms(lyon), []);
        assert.deepEqual((await store.vms(lyon, { includeRemoved: true })).map((v) => [v.id, v.removedAtSec]), [[vmLyon, 2000]]);
        assert.deepEqual(await store.presentIds(lyon), {});
        assert.deepEqual(sortedIds(await store.presentIds(paris)), sortedIds({
          cluster: [clusterA, clusterB], host: [hostParis], nic: [nicParis0], vm: [vmAlphaUpper, vmTools, vmAlpha, vmDup1, vmDup2], datastore: [dsParis],
        }));

        // A third cycle that still lacks them keeps when they were first missed.
        await store.saveInventory(withoutLyon({ ...second, collectedAtSec: 2500 }));
        assert.equal((await store.entity(vmBeta))?.removedAtSec, 2000);
        assert.deepEqual([(await store.entity(lyon))?.removedAtSec, (await store.entity(lyon))?.lastSeenSec], [2000, 1500]);
        assert.deepEqual([(await store.entity(vmAlpha))?.firstSeenSec, (await store.entity(vmAlpha))?.lastSeenSec], [1000, 2500]);

        // Everything comes back.
        await store.saveInventory(vc1Snapshot(3000));
        const back = await store.entity(vmBeta);
        assert.deepEqual([back?.firstSeenSec, back?.lastSeenSec, back?.removedAtSec, nameOf(back)], [1000, 3000, null, 'beta']);
        assert.deepEqual([(await store.entity(nicParis1))?.removedAtSec, (await store.entity(lyon))?.removedAtSec], [null, null]);
        assert.equal((await store.vms(paris)).length, 6);
        assert.deepEqual((await store.datacenters()).map((dc) => dc.name), ['Paris', 'lyon']);
      }));

    void it('touches only the vCenter of the snapshot', () =>
      withSubject(open, async ({ store }) => {
        await store.saveInventory(vc1Snapshot(1000));
        await store.saveInventory(vc2Snapshot(1000));
        await store.saveInventory({ vcenterId: vc2, collectedAtSec: 5000, datacenters: [], clusters: [], hosts: [], vms: [], datastores: [] });
        assert.deepEqual([(await store.entity(vmBerlin))?.removedAtSec, (await store.entity(berlin))?.removedAtSec], [5000, 5000]);
        const untouched = await store.entity(vmBeta);
        assert.deepEqual([untouched?.lastSeenSec, untouched?.removedAtSec], [1000, null]);
        assert.deepEqual((await store.datacenters()).map((dc) => dc.name), ['Paris', 'lyon']);
        assert.equal((await store.vms(paris)).length, 6);
      }));

    void it('brings back an entity that another connection marked removed', () =>
      withSubject(open, async ({ store, other }) => {
        await store.saveInventory(vc1Snapshot(1000));
        const collector = await other();
        await collector.saveInventory(vc1Snapshot(2000, { parisVms: parisVms.filter((v) => v.id !== vmBeta) }));
        assert.equal((await store.entity(vmBeta))?.removedAtSec, 2000);
        // The same rows this connection wrote last, but removed by the other one meanwhile.
        await store.saveInventory(vc1Snapshot(3000));
        const back = await collector.entity(vmBeta);
        assert.deepEqual([back?.removedAtSec, back?.lastSeenSec], [null, 3000]);
      }));

    void it('keeps one collection status per vCenter, the last saved, listed by vCenter id', () =>
      withSubject(open, async ({ store, other }) => {
        assert.deepEqual(await store.statuses(), []);
        await store.saveStatus(status(vc2, null));
        await store.saveStatus(status(vc1, null));
        await store.saveStatus(status(vc1, 'timeout'));
        assert.deepEqual(await store.statuses(), [status(vc1, 'timeout'), status(vc2, null)]);
        assert.deepEqual(await (await other()).statuses(), [status(vc1, 'timeout'), status(vc2, null)]);
      }));

    void it('moves dataVersion with every write of inventory or statuses, through this connection or another, not with reads', () =>
      withSubject(open, async ({ store, other }) => {
        const start = await versionOf(store);
        await store.vms(paris);
        await store.entity(vmBeta);
        await store.statuses();
        assert.equal(await versionOf(store), start, 'reads leave it');
        await store.saveInventory(vc1Snapshot(1000));
        const afterInventory = await versionOf(store);
        assert.notEqual(afterInventory, start);
        // The same snapshot again is a write all the same (every entity was seen again).
        await store.saveInventory(vc1Snapshot(1000));
        const again = await versionOf(store);
        assert.notEqual(again, afterInventory);
        await store.saveStatus(status(vc1, null));
        const afterStatus = await versionOf(store);
        assert.notEqual(afterStatus, again);
        const elsewhere = await other();
        await elsewhere.saveInventory(vc2Snapshot(1000));
        await nextTurn();
        const afterOther = await versionOf(store);
        assert.notEqual(afterOther, afterStatus, 'another connection\'s inventory');
        await elsewhere.saveStatus(status(vc2, null));
        await nextTurn();
        assert.notEqual(await versionOf(store), afterOther, 'another connection\'s status');
      }));

    void it('answers ping while open', () =>
      withSubject(open, async ({ store }) => {
        assert.equal(await store.ping(), true);
      }));
  });
}
