/**
 * A restart after hours down loses nothing vCenter still has: the collector finds its
 * high-water marks hours old, imports vCenter's 5-minute history over the gap, and leaves the
 * buckets it had filled before the outage exactly as they were.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { createCollector } from '../src/collector/collector.ts';
import { discoverInventory } from '../src/collector/discovery.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ datacenters: 1, clusters: 1, hostsPerCluster: 1, standaloneHosts: 0, vmsPerPool: 1 });

test('after a 3-hour outage the gap is filled from vCenter and earlier buckets are kept', async () => {
  const store = openSqliteStore(':memory:');
  const nowSec = Math.floor(Date.now() / 1000);
  const outageStartSec = Math.floor((nowSec - 3 * 3600) / 300) * 300;
  try {
    // Before the outage: the inventory and one full 5-minute bucket of realtime samples for the VM,
    // as an earlier run of vscope stored them.
    const client = await VsphereClient.connect({ url: sim.current.url, username: 'u', password: 'p' });
    const snapshot = await discoverInventory(client, 'vc1', outageStartSec);
    await client.logout();
    store.saveInventory(snapshot);
    const vm = snapshot.vms[0];
    assert.ok(vm);
    const before = Array.from({ length: 15 }, (_, i) => outageStartSec - 300 + 20 * (i + 1));
    store.writeRealtime([{ entityId: vm.id, kind: 'vm', intervalSec: 20, ts: before, values: { cpuUsagePct: before.map(() => 42) } }]);
    const kept = { entityId: vm.id, tier: '5m' as const, fromSec: outageStartSec - 300, toSec: outageStartSec - 300, metrics: ['cpuUsagePct'] };
    assert.deepEqual(store.series(kept).series[0]?.avg, [42]);

    // Back up: one cycle.
    const collector = createCollector({
      store,
      vcenters: [{ id: 'vc1', url: sim.current.url, username: 'u', password: 'p' }],
      intervalSec: 120,
      log: pino({ level: 'silent' }),
      tuning: { importBudgetMs: 60_000 },
    });
    try {
      const [result] = await collector.runOnce();
      assert.equal(result?.ok, true, result?.error ?? '');
    } finally {
      await collector.stop();
    }

    // The hours vscope was down are filled (from vCenter's 5-minute statistics)...
    const gap = store.series({ entityId: vm.id, tier: '5m', fromSec: outageStartSec + 300, toSec: nowSec - 3600 - 600, metrics: ['cpuUsagePct'] });
    const avg = gap.series[0]?.avg ?? [];
    assert.ok(avg.length >= 20, `${String(avg.length)} buckets in the gap`);
    const filled = avg.filter((value) => value !== null).length;
    assert.ok(filled >= avg.length - 2, `${String(filled)} of ${String(avg.length)} gap buckets filled`);
    // ...and the bucket stored before the outage is untouched.
    assert.deepEqual(store.series(kept).series[0]?.avg, [42]);
    const [rollup] = store.rollups(kept).series[0]?.rollups ?? [];
    assert.equal(rollup?.count, 15);
  } finally {
    store.close();
  }
});
