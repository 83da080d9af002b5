/**
 * The collector in its worker thread (issue #4), against the simulator: what the worker
 * collects is what the main thread's store reads, status() follows the worker's cycles, stop()
 * ends the thread, and a worker that dies is restarted with its reason logged (no password).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { Collector, CycleResult } from '../src/collector/collector.ts';
import { startCollectorWorker, type CollectorWorkerOptions } from '../src/collector/worker-collector.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { useVcsim } from './support/vcsim.ts';

const login = { username: 'svc', password: 'worker-secret' } as const;
const sim = useVcsim({ ...login, vmsPerPool: 2 });
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh database, opened (so migrated) by this thread as `startVscope` does. */
function freshStore(): { store: SqliteStore; databasePath: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vscope-worker-'));
  dirs.push(dir);
  const databasePath = join(dir, 'vscope.db');
  return { store: openSqliteStore(databasePath), databasePath };
}

function options(databasePath: string, store: SqliteStore, lines: string[] = []): CollectorWorkerOptions {
  return {
    databasePath,
    vcenters: [{ id: 'vcsim', url: sim.current.url, ...login }],
    intervalSec: 60,
    // The worker logs to stdout at this level: warnings and errors only, to keep the test output readable.
    log: pino({ level: 'warn' }, { write: (line: string) => lines.push(line) }).child({ component: 'collector' }),
    fallbackStatuses: () => store.statuses(),
  };
}

/** Polls `check` until it holds; fails after `tries` polls rather than hang. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, tries = 600): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await sleep(100);
  }
  assert.fail(`never: ${what}`);
}

function only(results: readonly CycleResult[]): CycleResult {
  assert.equal(results.length, 1);
  const [result] = results;
  assert.ok(result);
  return result;
}

test('runOnce in the worker stores the inventory this thread reads, and status() follows the cycle', async () => {
  const { store, databasePath } = freshStore();
  const collector = startCollectorWorker(options(databasePath, store));
  try {
    assert.deepEqual(collector.status(), [], 'nothing stored, nothing posted yet');
    const result = only(await collector.runOnce());
    assert.equal(result.ok, true, result.error ?? '');
    // vcsim: 2 VMs in the cluster's root pool + 2 on the standalone host.
    assert.equal(result.counts.vms, 4);
    const [datacenter] = store.datacenters();
    assert.ok(datacenter, 'the datacenter, read through the main thread connection');
    assert.equal(store.vms(datacenter.id).length, 4);
    assert.ok(result.counts.samples > 0);

    const [status] = collector.status();
    assert.ok(status);
    assert.equal(status.vcenterId, 'vcsim');
    assert.deepEqual(status.counts, result.counts);
    assert.equal(status.lastSuccessSec, result.endSec);
    assert.equal(status.lastError, null);
    assert.equal(status.consecutiveFailures, 0);
    assert.equal(status.import.state, 'done');
    assert.deepEqual(store.statuses()[0]?.counts, result.counts, 'the worker saved the same status');
  } finally {
    await collector.stop();
  }
  await collector.stop();
  const late = only(await collector.runOnce());
  assert.equal(late.ok, false, 'no cycle once stopped');
  assert.match(late.error ?? '', /stopped/);
  store.close();
});

test('start() runs cycles in the worker; until it reports, status() is the stored one', async () => {
  const { store, databasePath } = freshStore();
  const first = startCollectorWorker(options(databasePath, store));
  const firstResult = only(await first.runOnce());
  await first.stop();
  assert.equal(firstResult.ok, true, firstResult.error ?? '');

  const lines: string[] = [];
  const collector: Collector = startCollectorWorker(options(databasePath, store, lines));
  try {
    // Synchronously after the start no message can have arrived: this is the store's copy.
    const [stored] = collector.status();
    assert.equal(stored?.lastSuccessSec, firstResult.endSec);
    assert.equal(stored.nextRunSec, null);
    collector.start();
    collector.start();
    // The worker schedules a next run at the end of each cycle: the stored status has none.
    await eventually('a cycle started by start()', () => collector.status()[0]?.nextRunSec != null);
    const [status] = collector.status();
    assert.ok((status?.lastStartSec ?? 0) >= firstResult.startSec);
    assert.equal(status?.lastError, null);
    assert.equal(status.counts.vms, 4);
    assert.ok(status.nextRunSec !== null && status.nextRunSec >= (status.lastStartSec ?? 0) + 60, 'the next cycle is scheduled an interval later');
  } finally {
    await collector.stop();
  }
  assert.deepEqual(
    lines.filter((line) => line.includes('"level":50')),
    [],
    'no error logged',
  );
  store.close();
});

test('a worker that dies is restarted, and its reason is logged without the password', async () => {
  const { store, databasePath } = freshStore();
  const lines: string[] = [];
  const collector = startCollectorWorker({
    ...options(databasePath, store, lines),
    entry: new URL('./fixtures/crashing-collector-worker.ts', import.meta.url),
    tuning: { retryBaseSec: 0.2 },
  });
  try {
    await eventually('the death logged', () => lines.some((line) => line.includes('the collector worker died')));
    const [death] = lines.filter((line) => line.includes('the collector worker died'));
    const logged = JSON.parse(death ?? '{}') as { level: number; component: string; err: string; restartInSec: number };
    assert.equal(logged.level, 50, 'an error');
    assert.equal(logged.component, 'collector');
    assert.match(logged.err, /simulated crash of the collector worker/);
    assert.equal(logged.restartInSec, 0.2);
    assert.ok(!lines.join('\n').includes(login.password), 'the password never shows');

    let result: CycleResult | undefined;
    await eventually('a cycle in the restarted worker', async () => {
      result = only(await collector.runOnce());
      return result.ok;
    });
    assert.equal(result?.counts.vms, 4);
    assert.equal(collector.status()[0]?.lastSuccessSec, result?.endSec);
  } finally {
    await collector.stop();
  }
  assert.equal(lines.filter((line) => line.includes('the collector worker died')).length, 1, 'one death, one restart');
  store.close();
});

test('stop() ends the thread: a process that stopped its collector exits by itself', async () => {
  const { store, databasePath } = freshStore();
  store.close();
  const script = fileURLToPath(new URL('./fixtures/collector-worker-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, databasePath, sim.current.url, login.username, login.password], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // A guard against a hang, not a timing assertion: a process that never exits fails here.
  let killed = false;
  const guard = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, 120_000);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(guard);
  assert.equal(killed, false, `the process was still running after its collector stopped; stdout: ${stdout}`);
  assert.equal(code, 0, stderr);
  const results = JSON.parse(stdout.trim()) as CycleResult[];
  assert.equal(results[0]?.ok, true, stdout);
});

test('the started worker applies retention, off the main thread', async () => {
  const { store, databasePath } = freshStore();
  const collector = startCollectorWorker({ ...options(databasePath, store), retentionEveryMs: 100 });
  try {
    only(await collector.runOnce());
    const [datacenter] = store.datacenters();
    const vm = datacenter ? store.vms(datacenter.id)[0] : undefined;
    assert.ok(vm);
    // A 5-minute bucket from a week ago: past the 2 days that tier keeps.
    const weekAgo = Math.floor(Date.now() / 1000 / 300) * 300 - 7 * 86400;
    store.importHistorical('5m', [{ entityId: vm.id, kind: 'vm', intervalSec: 300, ts: [weekAgo + 300], values: { cpuUsagePct: [42] } }]);
    const old = (): number | null =>
      store.series({ entityId: vm.id, tier: '5m', fromSec: weekAgo, toSec: weekAgo, metrics: ['cpuUsagePct'] }).series[0]?.avg[0] ?? null;
    assert.equal(old(), 42);
    collector.start();
    await eventually('the old bucket is dropped', () => old() === null);
  } finally {
    await collector.stop();
    store.close();
  }
});
