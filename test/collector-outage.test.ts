/**
 * Outages. A restart after hours down loses nothing vCenter still has: the collector finds its
 * high-water marks hours old, imports vCenter's 5-minute history over the gap, and leaves the
 * buckets it had filled before the outage exactly as they were. And a vCenter that goes away
 * while the collector runs (a real simulator, stopped and started again on the same port) is
 * collected again within one interval of its return, however far its cycles backed off.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import pino from 'pino';
import { createCollector } from '../src/collector/collector.ts';
import { discoverInventory } from '../src/collector/discovery.ts';
import { vcsimBinary } from '../src/simulator/vcsim.ts';
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

/** A free loopback port (taken, then released for the simulator). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address && typeof address === 'object');
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return address.port;
}

const started: ChildProcess[] = [];
after(() => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The simulator as a process of its own on `port`; resolves once it serves. */
async function simulatorOn(port: number): Promise<{ stop: () => Promise<void> }> {
  const child = spawn(await vcsimBinary(), ['-l', `127.0.0.1:${String(port)}`, '-dc=1', '-cluster=1', '-host=1', '-standalone-host=0', '-vm=1', '-tls=false'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(child);
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('{')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`vcsim exited with ${String(code)} before serving`)));
  });
  return {
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

test('a vCenter back after an outage is collected within one interval, although its cycles backed off to four', async () => {
  const intervalSec = 3;
  const port = await freePort();
  const url = `http://127.0.0.1:${String(port)}/sdk`;
  let sim = await simulatorOn(port);
  const store = openSqliteStore(':memory:');
  // Cycles back off 0.5, 1, 2, 4, 8 then 12 s (four intervals) after failures in a row.
  const collector = createCollector({
    store,
    vcenters: [{ id: 'vc1', url, username: 'u', password: 'p' }],
    intervalSec,
    log: pino({ level: 'silent' }),
    tuning: { retryBaseSec: 0.5, importHistory: false },
  });
  const status = (): NonNullable<ReturnType<typeof collector.status>[number]> => {
    const found = collector.status()[0];
    assert.ok(found);
    return found;
  };
  const until = async (what: string, done: () => boolean, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`${what} did not happen within ${String(timeoutMs)} ms: ${JSON.stringify(status())}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  try {
    collector.start();
    await until('a first cycle', () => status().lastSuccessSec !== null, 30_000);

    await sim.stop();
    // Down long enough that the cycles' backoff reached 8 s, then right after an attempt (a
    // failed cycle or probe): the old schedule would wait 12 s (four intervals) for the next one.
    await until('five failed cycles', () => status().consecutiveFailures >= 5, 60_000);
    const attemptAt = status().nextRunSec;
    await until('the next attempt', () => status().nextRunSec !== attemptAt, 30_000);
    assert.ok(status().consecutiveFailures >= 5, 'the cycles are backing off (8 s and more)');
    const outageEndSec = Date.now() / 1000;
    sim = await simulatorOn(port);
    const backMs = performance.now();
    await until('a cycle after the return', () => (status().lastSuccessSec ?? 0) >= Math.floor(outageEndSec), 30_000);
    const resumedAfterSec = (performance.now() - backMs) / 1000;
    // One interval for the next probe, and the cycle itself (a second or so on a busy machine).
    assert.ok(resumedAfterSec <= intervalSec + 2.5, `collected ${resumedAfterSec.toFixed(1)} s after vCenter's return`);
    assert.equal(status().consecutiveFailures, 0);
    assert.equal(status().lastError, null);
  } finally {
    await collector.stop();
    store.close();
    await sim.stop();
  }
});
