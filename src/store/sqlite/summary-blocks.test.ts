import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entityId } from '../../shared/entity-id.ts';
import type { InventorySnapshot } from '../../shared/inventory.ts';
import type { VmSummaries } from '../../shared/vm-summary.ts';
import { lastFinalBlock } from './summary-blocks.ts';

const daySec = 86400;
import { openSqliteStore, type SqliteStore } from './sqlite-store.ts';

const T = 20_000 * daySec;

/** One VM's summary of one day; undefined when not stored. */
function dayOf(store: SqliteStore, vm: { id: string; numCpu: number }, day: number): VmSummaries | undefined {
  return store.mergedVmSummariesOf('2h', day, day + daySec, [vm]).get(vm.id)?.summaries;
}

void test('lastFinalBlock: a block is final once a realtime sample\'s length is past its end', () => {
  assert.equal(lastFinalBlock(T + 300, daySec), T - daySec, 'the day that ended 5 min ago');
  assert.equal(lastFinalBlock(T + 299, daySec), T - 2 * daySec, 'not one second earlier');
  assert.equal(lastFinalBlock(T + 300, 3600), T - 3600, 'the hour that ended 5 min ago');
  assert.equal(lastFinalBlock(T + 299, 3600), T - 7200);
});

void test('writeRealtime: samples in a block made delete it, and it is made again; the cycles\' samples after it do not', () => {
  const store = openSqliteStore(':memory:');
  const dc = { id: entityId('datacenter', 'vc1', 'dc'), moRef: 'dc', name: 'dc' } as unknown as InventorySnapshot['datacenters'][number];
  const vm = { id: entityId('vm', 'vc1', 'vm-1'), moRef: 'vm-1', name: 'vm-1', datacenterId: dc.id, hostId: null, clusterId: null, datastoreIds: [], powerState: 'poweredOn', numCpu: 2, memoryMB: 1024, isTemplate: false } as unknown as InventorySnapshot['vms'][number];
  store.saveInventory({ vcenterId: 'vc1', collectedAtSec: T, datacenters: [dc], clusters: [], hosts: [], vms: [vm], datastores: [] });
  const one = { id: vm.id, numCpu: 2 };
  const nowSec = T + 600;
  const sample = (endSec: number, pct: number): void => store.writeRealtime([{ entityId: vm.id, kind: 'vm', intervalSec: 20, ts: [endSec], values: { cpuUsagePct: [pct] } }]);
  // A cycle 20 minutes before: the hour before T gets a sample at its end.
  sample(T - 20, 10);
  store.fillVmSummaries(nowSec);
  assert.equal(store.mergedVmSummariesOf('5m', T - 2 * 3600, T, [one]).get(one.id)?.endSec, T, 'the hour before T is made');
  // The next cycle's samples land after it: nothing made again.
  sample(T + 580, 20);
  assert.equal(store.fillVmSummaries(nowSec), 0);
  // The history of the realtime hour, after an outage: earlier samples, below the high-water
  // mark, are not stored, and nothing is made again; a VM seen for the first time is.
  const other = { ...vm, id: entityId('vm', 'vc1', 'vm-2'), moRef: 'vm-2', name: 'vm-2' } as unknown as InventorySnapshot['vms'][number];
  store.saveInventory({ vcenterId: 'vc1', collectedAtSec: nowSec, datacenters: [dc], clusters: [], hosts: [], vms: [vm, other], datastores: [] });
  store.writeRealtime([{ entityId: other.id, kind: 'vm', intervalSec: 20, ts: [T - 1200, T - 1180], values: { cpuUsagePct: [90, 91] } }]);
  assert.equal(store.mergedVmSummariesOf('5m', T - 2 * 3600, T, [one]).get(one.id)?.endSec, T - 3600, 'the hour written into is gone');
  assert.equal(store.fillVmSummaries(nowSec), 3, 'made again: the hour, and the day of the week\'s and of the month\'s buckets');
  assert.equal(store.mergedVmSummariesOf('5m', T - 2 * 3600, T, [one]).get(one.id)?.endSec, T);
  const made = store.mergedVmSummariesOf('5m', T - 3600, T, [{ id: other.id, numCpu: 2 }]).get(other.id);
  assert.equal(made?.summaries.usage.cpuUsagePct.peak?.value, 91, 'with the new samples, in the hour made again only');
  store.close();
});

void test('fillVmSummaries: every VM gets a summary per final block, within the budget; retention drops the blocks no period reaches', () => {
  const store = openSqliteStore(':memory:');
  const vm = (moRef: string, numCpu: number): InventorySnapshot['vms'][number] =>
    ({ id: entityId('vm', 'vc1', moRef), moRef, name: moRef, datacenterId: entityId('datacenter', 'vc1', 'dc'), hostId: null, clusterId: null, datastoreIds: [], powerState: 'poweredOn', numCpu, memoryMB: 1024, isTemplate: false }) as unknown as InventorySnapshot['vms'][number];
  const dc = { id: entityId('datacenter', 'vc1', 'dc'), moRef: 'dc', name: 'dc' } as unknown as InventorySnapshot['datacenters'][number];
  store.saveInventory({ vcenterId: 'vc1', collectedAtSec: T, datacenters: [dc], clusters: [], hosts: [], vms: [vm('vm-1', 2), vm('vm-2', 4)], datastores: [] });
  const [one, two] = [entityId('vm', 'vc1', 'vm-1'), entityId('vm', 'vc1', 'vm-2')];
  store.importHistorical('2h', [{ entityId: one, kind: 'vm', intervalSec: 7200, ts: [T - 3 * daySec + 7200], values: { cpuUsagePct: [42] } }]);
  const nowSec = T + 4000;
  assert.equal(store.fillVmSummaries(nowSec, 1), 1, 'at most the blocks asked for');
  assert.equal(store.fillVmSummaries(nowSec), 26 + 8 + 31 - 1, 'the 26 hours of the day buckets, the 8 days of the week buckets and the 31 of the month buckets');
  assert.equal(store.fillVmSummaries(nowSec), 0, 'none twice');
  const month = store.mergedVmSummariesOf('2h', T - 31 * daySec, T, [{ id: one, numCpu: 2 }, { id: two, numCpu: 4 }]);
  assert.equal(month.get(one)?.endSec, T, 'every day of the month merged');
  assert.equal(month.get(two)?.endSec, T, 'a VM without buckets has (empty) summaries too');
  assert.equal(month.get(one)?.summaries.usage.cpuUsagePct.peak?.value, 42);
  assert.equal(month.get(one)?.summaries.usage.cpuUsagePct.peak?.bucketSec, T - 3 * daySec, 'the bucket holding the sample (the sample ends 2 h after its start)');
  assert.equal(dayOf(store, { id: one, numCpu: 2 }, T - 3 * daySec)?.usage.cpuUsagePct.coveredSec, 7200);
  assert.equal(dayOf(store, { id: two, numCpu: 4 }, T - 3 * daySec)?.usage.cpuUsagePct.coveredSec, 0);
  assert.equal(store.mergedVmSummariesOf('2h', T - 31 * daySec, T, [{ id: two, numCpu: 8 }]).size, 0, 'made for 4 vCPUs, not 8');
  assert.equal(store.mergedVmSummariesOf('5m', T - daySec, T, [{ id: one, numCpu: 2 }]).get(one)?.endSec, T, 'the day period in hours, up to the last final one');
  assert.equal(store.mergedVmSummariesOf('5m', T - daySec + 300, T, [{ id: one, numCpu: 2 }]).get(one)?.fromSec, T - daySec + 3600, 'from the first whole hour');
  store.applyRetention(nowSec + 10 * daySec);
  assert.equal(store.mergedVmSummariesOf('5m', T, T + 10 * daySec, [{ id: one, numCpu: 2 }]).size, 0, 'hours older than 26 dropped');
  assert.equal(store.mergedVmSummariesOf('30m', T - 31 * daySec, T + 10 * daySec, [{ id: one, numCpu: 2 }]).size, 0, 'week summaries older than 8 days dropped');
  assert.equal(store.mergedVmSummariesOf('2h', T - 31 * daySec, T + 10 * daySec, [{ id: one, numCpu: 2 }]).size, 0, 'month summaries older than 31 days dropped: the merge starts at the first day asked');
  assert.equal(store.mergedVmSummariesOf('2h', T - 21 * daySec, T + 10 * daySec, [{ id: one, numCpu: 2 }]).get(one)?.endSec, T, 'the days kept');
  store.close();
});

void test('mergedVmSummariesOf: the merge stops at the first day without a summary, or without the VM', () => {
  const store = openSqliteStore(':memory:');
  const dc = { id: entityId('datacenter', 'vc1', 'dc'), moRef: 'dc', name: 'dc' } as unknown as InventorySnapshot['datacenters'][number];
  const vm = (moRef: string): InventorySnapshot['vms'][number] =>
    ({ id: entityId('vm', 'vc1', moRef), moRef, name: moRef, datacenterId: dc.id, hostId: null, clusterId: null, datastoreIds: [], powerState: 'poweredOn', numCpu: 2, memoryMB: 1024, isTemplate: false }) as unknown as InventorySnapshot['vms'][number];
  const inventory = (vms: InventorySnapshot['vms']): InventorySnapshot => ({ vcenterId: 'vc1', collectedAtSec: T, datacenters: [dc], clusters: [], hosts: [], vms, datastores: [] });
  store.saveInventory(inventory([vm('vm-1')]));
  const one = { id: entityId('vm', 'vc1', 'vm-1'), numCpu: 2 };
  const later = { id: entityId('vm', 'vc1', 'vm-2'), numCpu: 2 };
  const nowSec = T + 4000;
  store.fillVmSummaries(nowSec);
  // vm-2 appears after the days were made; an import then writes into vm-1's day T - 5 days.
  store.saveInventory(inventory([vm('vm-1'), vm('vm-2')]));
  assert.equal(store.mergedVmSummariesOf('2h', T - 10 * daySec, T, [later]).size, 0, 'no day made with vm-2 in it');
  store.importHistorical('2h', [{ entityId: one.id, kind: 'vm', intervalSec: 7200, ts: [T - 5 * daySec + 7200], values: { cpuUsagePct: [42] } }]);
  assert.equal(store.mergedVmSummariesOf('2h', T - 10 * daySec, T, [one]).get(one.id)?.endSec, T - 5 * daySec, 'up to the day written into');
  assert.equal(store.fillVmSummaries(nowSec), 1, 'that day is made again, whole');
  const merged = store.mergedVmSummariesOf('2h', T - 10 * daySec, T, [one, later]);
  assert.equal(merged.get(one.id)?.endSec, T);
  assert.equal(merged.get(one.id)?.summaries.usage.cpuUsagePct.peak?.value, 42);
  assert.equal(merged.get(later.id)?.endSec, undefined, 'vm-2 is in the day made again only, which is not the first asked');
  assert.equal(store.mergedVmSummariesOf('2h', T - 5 * daySec, T, [later]).get(later.id)?.endSec, T - 4 * daySec, 'from that day: that day only');
  store.close();
});

void test('fillVmSummaries: blocks made a few VMs at a time are the blocks made for every VM at once', () => {
  const dc = { id: entityId('datacenter', 'vc1', 'dc'), moRef: 'dc', name: 'dc' } as unknown as InventorySnapshot['datacenters'][number];
  const vm = (n: number): InventorySnapshot['vms'][number] =>
    ({ id: entityId('vm', 'vc1', `vm-${String(n)}`), moRef: `vm-${String(n)}`, name: `vm-${String(n)}`, datacenterId: dc.id, hostId: null, clusterId: null, datastoreIds: [], powerState: 'poweredOn', numCpu: 1 + (n % 3), memoryMB: 1024, isTemplate: false }) as unknown as InventorySnapshot['vms'][number];
  const host = { id: entityId('host', 'vc1', 'host-1'), moRef: 'host-1', name: 'host-1', datacenterId: dc.id, clusterId: null, connectionState: 'connected', powerState: 'poweredOn', nics: [] } as unknown as InventorySnapshot['hosts'][number];
  const vms = Array.from({ length: 7 }, (_, n) => vm(n));
  const nowSec = T + 4000;
  const made = (vmsPerGroup: number | undefined): SqliteStore => {
    const store = openSqliteStore(':memory:', vmsPerGroup === undefined ? {} : { summaryVmsPerGroup: vmsPerGroup });
    store.saveInventory({ vcenterId: 'vc1', collectedAtSec: T, datacenters: [dc], clusters: [], hosts: [host], vms, datastores: [] });
    // VMs 0, 2, 3 and 6 have buckets (the first and the last of the groups of two, one alone), the host too.
    for (const n of [0, 2, 3, 6]) {
      const id = vms[n]?.id ?? '';
      store.importHistorical('2h', [{ entityId: id, kind: 'vm', intervalSec: 7200, ts: [T - 3 * daySec + 7200, T - daySec + 7200 * (1 + n)], values: { cpuUsagePct: [10 + n, 50 + n], cpuReadyPct: [n, 2 * n] } }]);
      store.importHistorical('30m', [{ entityId: id, kind: 'vm', intervalSec: 1800, ts: [T - 2 * daySec + 1800 * (1 + n)], values: { cpuUsagePct: [20 + n] } }]);
      store.importHistorical('5m', [{ entityId: id, kind: 'vm', intervalSec: 300, ts: [T - 3600 + 300 * (1 + n)], values: { cpuUsagePct: [30 + n] } }]);
    }
    store.importHistorical('2h', [{ entityId: host.id, kind: 'host', intervalSec: 7200, ts: [T - daySec + 7200], values: { cpuUsagePct: [99] } }]);
    assert.equal(store.fillVmSummaries(nowSec), 26 + 8 + 31);
    return store;
  };
  const grouped = made(2);
  const whole = made(undefined);
  const asked = vms.map((v) => ({ id: v.id, numCpu: v.numCpu }));
  for (const [tier, fromSec] of [['2h', T - 31 * daySec], ['30m', T - 8 * daySec], ['5m', T - daySec]] as const) {
    const ofGroups = grouped.mergedVmSummariesOf(tier, fromSec, T, asked);
    assert.equal(ofGroups.size, vms.length, `${tier}: every VM summarized`);
    assert.deepEqual(ofGroups, whole.mergedVmSummariesOf(tier, fromSec, T, asked), tier);
  }
  assert.equal(grouped.mergedVmSummariesOf('2h', T - 31 * daySec, T, asked).get(vms[6]?.id ?? '')?.summaries.usage.cpuUsagePct.peak?.value, 56, 'the last group, of one VM, has its buckets');
  assert.equal(grouped.mergedVmSummariesOf('5m', T - daySec, T, asked).get(vms[3]?.id ?? '')?.summaries.usage.cpuUsagePct.peak?.value, 33);
  assert.throws(() => openSqliteStore(':memory:', { summaryVmsPerGroup: 0 }).fillVmSummaries(nowSec), RangeError);
  grouped.close();
  whole.close();
});
