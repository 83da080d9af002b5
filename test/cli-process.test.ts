/**
 * `vscope collect --once` and `vscope serve` as real processes against the simulator:
 * exit codes, a database that holds the collected data, and a clean stop on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { collectorHeapLimitMb } from '../src/collect-thread.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { useVcsim } from './support/vcsim.ts';

const cli = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
/** The installed command: it registers tsx programmatically, which workers do not inherit. */
const bin = fileURLToPath(new URL('../bin/vscope.js', import.meta.url));
const sim = useVcsim({ username: 'svc', password: 'collector-secret', vmsPerPool: 2 });
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vscope-cli-'));
  dirs.push(dir);
  return dir;
}

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node --import tsx src/cli.ts ...args`, or `node bin/vscope.js ...args` with `viaBin`. */
function vscope(
  args: string[],
  env: Record<string, string>,
  onStdout?: (text: string, stop: () => void) => void,
  viaBin = false,
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, viaBin ? [bin, ...args] : ['--import', 'tsx', cli, ...args], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onStdout?.(stdout, () => child.kill('SIGTERM'));
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    // A guard against a hang (e.g. a collector that never reports a cycle), not a timing assertion.
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function envFor(dir: string, password: string): Record<string, string> {
  return {
    VSCOPE_VCENTER_URL: sim.current.url,
    VSCOPE_VCENTER_USER: 'svc',
    VSCOPE_VCENTER_PASSWORD: password,
    VSCOPE_DATA_DIR: dir,
    VSCOPE_LISTEN: '127.0.0.1:0',
  };
}

test('collect --once stores the inventory and samples, then exits 0', async () => {
  const dir = dataDir();
  const run = await vscope(['collect', '--once'], envFor(dir, 'collector-secret'));
  assert.equal(run.code, 0, run.stderr);
  const store = openSqliteStore(join(dir, 'vscope.db'));
  try {
    const datacenters = store.datacenters();
    assert.equal(datacenters.length, 1);
    const vms = store.vms(datacenters[0]?.id ?? '');
    // vcsim: 2 VMs in the cluster's root pool + 2 on the standalone host.
    assert.equal(vms.length, 4);
    const latest = store.latest(vms.map((vm) => vm.id));
    assert.ok([...latest.values()].every((figures) => figures.bucketSec !== null), 'every VM has samples');
    assert.equal(store.statuses()[0]?.lastError, null);
  } finally {
    store.close();
  }
  assert.ok(!run.stdout.includes('collector-secret') && !run.stderr.includes('collector-secret'), 'the password never shows');
});

test('collect runs in a worker thread with a limited old generation, and stops on SIGTERM with exit code 0', async () => {
  let stopping = false;
  const run = await vscope(['collect'], { ...envFor(dataDir(), 'collector-secret'), VSCOPE_LOG_LEVEL: 'debug' }, (text, stop) => {
    if (!stopping && text.includes('"msg":"collection cycle done"')) {
      stopping = true;
      stop();
    }
  });
  assert.equal(run.code, 0, run.stderr);
  const lines = run.stdout.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { msg: string; heapLimitMb?: number });
  const started = lines.find((line) => line.msg === 'collector thread started');
  // The heap's limit is the old generation's and the young one's (48 MB); Node's default is 4 GB on a machine of 16 GB or more.
  const limitMb = collectorHeapLimitMb(1);
  assert.ok(started?.heapLimitMb !== undefined && started.heapLimitMb >= limitMb && started.heapLimitMb < limitMb + 64, `heap limit ${String(started?.heapLimitMb)} MB`);
  // Exit code 0 comes from the worker once its collector stopped: a signal not passed on leaves it running.
  assert.ok(lines.some((line) => line.msg === 'stopping'), 'the main thread saw the signal');
});

test('collect --once exits 1 with the reason when vCenter refuses the login', async () => {
  const run = await vscope(['collect', '--once'], envFor(dataDir(), 'wrong-secret'));
  assert.equal(run.code, 1);
  assert.match(run.stderr, /login|credential|password/i);
  assert.ok(!run.stderr.includes('wrong-secret'), 'the password never shows');
});

test('an invalid setting stops vscope with exit code 2 naming the field', async () => {
  const run = await vscope(['serve'], { ...envFor(dataDir(), 'collector-secret'), VSCOPE_INTERVAL_SEC: '5' });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /VSCOPE_INTERVAL_SEC/);
});

test('serve answers, then stops cleanly on SIGTERM with exit code 0', async () => {
  const dir = dataDir();
  let url: string | null = null;
  let healthz: number | null = null;
  const run = await vscope(['serve'], { ...envFor(dir, 'collector-secret'), VSCOPE_LOG_LEVEL: 'info' }, (text, stop) => {
    const match = /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^}]*"msg":"vscope is listening"/.exec(text);
    if (match?.[1] && url === null) {
      url = match[1];
      void fetch(`${url}/healthz`)
        .then((response) => {
          healthz = response.status;
        })
        .finally(stop);
    }
  });
  assert.ok(url, `listening line in ${run.stdout.slice(0, 2000)}`);
  assert.equal(healthz, 200);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /"msg":"stopped"/);
  const db = new Database(join(dir, 'vscope.db'), { readonly: true });
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  } finally {
    db.close();
  }
});

test('serve through bin/vscope.js collects in its worker thread, logging cycles as the collector', async () => {
  const dir = dataDir();
  let stopping = false;
  const run = await vscope(
    ['serve'],
    { ...envFor(dir, 'collector-secret'), VSCOPE_LOG_LEVEL: 'info' },
    (text, stop) => {
      if (!stopping && text.includes('"msg":"collection cycle done"')) {
        stopping = true;
        stop();
      }
    },
    true,
  );
  assert.equal(run.code, 0, run.stderr);
  const cycleDone = run.stdout.split('\n').find((line) => line.includes('"msg":"collection cycle done"'));
  assert.ok(cycleDone, `a cycle in ${run.stdout.slice(0, 2000)}`);
  const logged = JSON.parse(cycleDone) as { component?: string; vcenter?: string; vms?: number };
  assert.equal(logged.component, 'collector');
  assert.equal(typeof logged.vcenter, 'string', 'the line names its vCenter');
  assert.equal(logged.vms, 4);
  assert.ok(!run.stdout.includes('collector-secret') && !run.stderr.includes('collector-secret'), 'the password never shows');
  const store = openSqliteStore(join(dir, 'vscope.db'));
  try {
    const [datacenter] = store.datacenters();
    assert.ok(datacenter, 'the worker stored the inventory');
    assert.equal(store.vms(datacenter.id).length, 4);
    assert.equal(store.statuses()[0]?.lastError, null);
  } finally {
    store.close();
  }
});
