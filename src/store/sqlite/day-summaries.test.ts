import assert from 'node:assert/strict';
import { test } from 'node:test';
import { entityId } from '../../shared/entity-id.ts';
import type { InventorySnapshot } from '../../shared/inventory.ts';
import { decodeVmSummaries, type StoredDaySummary, type VmSummaries } from '../../shared/vm-summary.ts';
import { daySec, lastFinalDay } from './day-summaries.ts';
import { openSqliteStore } from './sqlite-store.ts';

const T = 20_000 * daySec;

/** One VM's summary of one day, decoded; undefined when not stored. */
function dayOf(days: ReadonlyMap<string, readonly StoredDaySummary[]>, vmId: string, day: number): VmSummaries | undefined {
  const found = days.get(vmId)?.find((one) => one.daySec === day);
  return found && decodeVmSummaries(found.bytes, found.daySec);
}

void test('lastFinalDay: a day is final once the realtime hour and a sample length are past its end', () => {
  assert.equal(lastFinalDay(T + 3900), T - daySec, 'the day that ended 65 min ago');
  assert.equal(lastFinalDay(T + 3899), T - 2 * daySec, 'not one minute earlier');
});

void test('fillDaySummaries: every VM gets a summary per final day, within the budget; retention drops the days no period reaches', () => {
  const store = openSqliteStore(':memory:');
  const vm = (moRef: string, numCpu: number): InventorySnapshot['vms'][number] =>
    ({ id: entityId('vm', 'vc1', moRef), moRef, name: moRef, datacenterId: entityId('datacenter', 'vc1', 'dc'), hostId: null, clusterId: null, datastoreIds: [], powerState: 'poweredOn', numCpu, memoryMB: 1024, isTemplate: false }) as unknown as InventorySnapshot['vms'][number];
  const dc = { id: entityId('datacenter', 'vc1', 'dc'), moRef: 'dc', name: 'dc' } as unknown as InventorySnapshot['datacenters'][number];
  store.saveInventory({ vcenterId: 'vc1', collectedAtSec: T, datacenters: [dc], clusters: [], hosts: [], vms: [vm('vm-1', 2), vm('vm-2', 4)], datastores: [] });
  const [one, two] = [entityId('vm', 'vc1', 'vm-1'), entityId('vm', 'vc1', 'vm-2')];
  store.importHistorical('2h', [{ entityId: one, kind: 'vm', intervalSec: 7200, ts: [T - 3 * daySec + 7200], values: { cpuUsagePct: [42] } }]);
  const nowSec = T + 4000;
  assert.equal(store.fillDaySummaries(nowSec, 1), 1, 'at most the days asked for');
  assert.equal(store.fillDaySummaries(nowSec), 8 + 31 - 1, 'the 8 days of the week buckets and the 31 of the month buckets');
  assert.equal(store.fillDaySummaries(nowSec), 0, 'none twice');
  const days = store.daySummariesOf('2h', T - 31 * daySec, T, [one, two]);
  assert.equal(days.get(one)?.length, 31);
  assert.equal(days.get(two)?.length, 31, 'a VM without buckets has (empty) summaries too');
  assert.equal(dayOf(days, one, T - 3 * daySec)?.usage.cpuUsagePct.peak?.value, 42);
  assert.equal(dayOf(days, one, T - 3 * daySec)?.usage.cpuUsagePct.peak?.bucketSec, T - 3 * daySec, 'the bucket holding the sample');
  assert.equal(dayOf(days, two, T - 3 * daySec)?.numCpu, 4);
  assert.equal(dayOf(days, two, T - 3 * daySec)?.usage.cpuUsagePct.coveredSec, 0);
  assert.equal(store.daySummariesOf('5m', T - daySec, T, [one]).size, 0, 'the day period reads its buckets');
  store.applyRetention(nowSec + 10 * daySec);
  assert.equal(store.daySummariesOf('30m', T - 31 * daySec, T + 10 * daySec, [one]).get(one)?.length ?? 0, 0, 'week summaries older than 8 days dropped');
  assert.equal(store.daySummariesOf('2h', T - 31 * daySec, T + 10 * daySec, [one]).get(one)?.length, 31 - 10, 'month summaries older than 31 days dropped');
  store.close();
});
