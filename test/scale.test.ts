/**
 * vscope past one machine, end to end on real parts on loopback (issue #11): two simulators as
 * two vCenters, two collectors and two front ends as real processes (`bin/vscope.js collect`,
 * `bin/vscope.js serve --no-collector`), one PostgreSQL (the shared state) and one
 * VictoriaMetrics (the samples).
 *   - a cookie from front end A reads the same rows and series on B; a restricted person's
 *     visible set holds on both; a logout on B ends the session on A;
 *   - A killed, B keeps serving;
 *   - a collector killed, the other takes its vCenters over within a minute, no sample lost or
 *     stored twice;
 *   - the database restarted, front ends and collectors recover without being restarted.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { DatacenterRow, SeriesResponse, StatusResponse, VmRow } from '../src/shared/api.ts';
import { startVcsim, type Vcsim } from '../src/simulator/vcsim.ts';
import { PromqlClient } from '../src/store/prometheus/promql.ts';
import { startEngine, type Engine } from './support/engines.ts';
import { startPostgres, type PostgresServer } from './support/postgres.ts';

const bin = fileURLToPath(new URL('../bin/vscope.js', import.meta.url));
const admin = { name: 'svc-vscope', password: 'svc-Passw0rd' };

/** A vscope process and its log so far. */
interface Process {
  readonly child: ChildProcess;
  output(): string;
  /** The URL it listens on (front ends). */
  url(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

let dir: string;
let vc1: Vcsim;
let vc2: Vcsim;
let postgres: PostgresServer;
let engine: Engine;
let env: Record<string, string>;
const processes: Process[] = [];

function start(args: readonly string[]): Process {
  const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: Process = {
    child,
    output: () => output,
    url: () => /"url":"(http:\/\/127\.0\.0\.1:\d+)"[^}]*"msg":"vscope is listening"/.exec(output)?.[1] ?? '',
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  processes.push(handle);
  return handle;
}

async function until<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function login(base: string, username: string, password: string, vcenter: string): Promise<string> {
  const response = await fetch(`${base}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password, vcenter }) });
  assert.equal(response.status, 200, await response.clone().text());
  return (response.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '';
}

async function get<T>(base: string, path: string, cookie: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${base}${path}`, { headers: { cookie } });
  return { status: response.status, body: (response.status === 200 ? await response.json() : null) as T };
}

/** Everything a person sees of one vCenter on one front end: datacenters and VM names. */
async function seen(base: string, cookie: string): Promise<{ dcs: string[]; vms: string[] }> {
  const dcs = (await get<DatacenterRow[]>(base, '/api/datacenters', cookie)).body;
  const vms: string[] = [];
  for (const dc of dcs) vms.push(...(await get<VmRow[]>(base, `/api/datacenters/${dc.id}/vms`, cookie)).body.map((vm) => vm.name));
  return { dcs: dcs.map((dc) => dc.name).sort(), vms: vms.sort() };
}

let frontA: Process;
let frontB: Process;
let collectorA: Process;
let collectorB: Process;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vscope-scale-'));
  const shape = { datacenters: 1, clusters: 1, hostsPerCluster: 2, standaloneHosts: 0, vmsPerPool: 3, datastores: 1, username: admin.name, password: admin.password };
  [vc1, vc2, postgres, engine] = await Promise.all([
    startVcsim({ ...shape, permissions: { users: [{ name: 'rita', password: 'rita-pw' }], permissions: [{ entity: 'DC0_C0_RP0_VM0', principal: 'rita', role: 'ReadOnly' }] } }),
    startVcsim(shape),
    startPostgres(),
    startEngine('victoria-metrics'),
  ]);
  const passwordFile = join(dir, 'db-password');
  writeFileSync(passwordFile, postgres.password, { mode: 0o600 });
  const config = join(dir, 'vscope.yaml');
  writeFileSync(
    config,
    ['vcenters:', ...([['vc1', vc1], ['vc2', vc2]] as const).flatMap(([id, sim]) => [`  - id: ${id}`, `    url: ${sim.url}`, `    username: ${admin.name}`, `    password: ${admin.password}`]), ''].join('\n'),
  );
  env = {
    VSCOPE_CONFIG: config,
    VSCOPE_DATABASE_URL: postgres.url,
    VSCOPE_DATABASE_PASSWORD_FILE: passwordFile,
    VSCOPE_REMOTE_WRITE_URL: engine.remoteWriteUrl,
    VSCOPE_PROMQL_URL: engine.url,
    VSCOPE_INTERVAL_SEC: '20',
    VSCOPE_LISTEN: '127.0.0.1:0',
    VSCOPE_LOG_LEVEL: 'info',
  };
  collectorA = start(['collect']);
  collectorB = start(['collect']);
  frontA = start(['serve', '--no-collector']);
  frontB = start(['serve', '--no-collector']);
  await until('both front ends listening', () => frontA.url() !== '' && frontB.url() !== '');
  // Both vCenters collected (by whichever collector holds each lease).
  const cookie = await login(frontA.url(), admin.name, admin.password, 'vc1');
  await until('a first cycle of vc1', async () => (await get<StatusResponse>(frontA.url(), '/api/status', cookie)).body.vcenters[0]?.lastSuccess);
  const cookie2 = await login(frontA.url(), admin.name, admin.password, 'vc2');
  await until('a first cycle of vc2', async () => (await get<StatusResponse>(frontA.url(), '/api/status', cookie2)).body.vcenters[0]?.lastSuccess);
});

after(async () => {
  await Promise.allSettled(processes.map((one) => one.kill('SIGKILL')));
  await Promise.allSettled([vc1?.stop(), vc2?.stop(), postgres?.destroy(), engine?.destroy()]);
  rmSync(dir, { recursive: true, force: true });
});

test('a cookie from one front end reads the same rows and series on the other', async () => {
  const cookie = await login(frontA.url(), admin.name, admin.password, 'vc1');
  const onA = await seen(frontA.url(), cookie);
  const onB = await seen(frontB.url(), cookie);
  assert.deepEqual(onB, onA);
  assert.equal(onA.vms.length, 3);
  const [dc] = (await get<DatacenterRow[]>(frontA.url(), '/api/datacenters', cookie)).body;
  const [vm] = (await get<VmRow[]>(frontA.url(), `/api/datacenters/${dc?.id ?? ''}/vms`, cookie)).body;
  assert.ok(vm, 'a VM');
  const path = `/api/entities/${vm.id}/series?period=day`;
  const [seriesA, seriesB] = await Promise.all([get<SeriesResponse>(frontA.url(), path, cookie), get<SeriesResponse>(frontB.url(), path, cookie)]);
  assert.equal(seriesA.status, 200);
  assert.deepEqual(seriesB.body.ts, seriesA.body.ts);
  assert.ok(seriesA.body.series.some((series) => series.avg.some((value) => value !== null)), 'the day has samples, from the engine');
});

test("a restricted person's visible set holds on both front ends, and a logout on one ends the session on the other", async () => {
  const cookie = await login(frontA.url(), 'rita', 'rita-pw', 'vc1');
  assert.deepEqual(await seen(frontA.url(), cookie), { dcs: ['DC0'], vms: ['DC0_C0_RP0_VM0'] });
  assert.deepEqual(await seen(frontB.url(), cookie), { dcs: ['DC0'], vms: ['DC0_C0_RP0_VM0'] });
  const out = await fetch(`${frontB.url()}/api/session`, { method: 'DELETE', headers: { cookie } });
  assert.equal(out.status, 204);
  await until('the session to end on A too', async () => (await get(frontA.url(), '/api/session', cookie)).status === 401, 10_000);
});

test('front end A killed, B keeps serving the same session', async () => {
  const cookie = await login(frontA.url(), admin.name, admin.password, 'vc2');
  await frontA.kill('SIGKILL');
  assert.equal((await get(frontB.url(), '/api/datacenters', cookie)).status, 200);
  assert.equal((await seen(frontB.url(), cookie)).vms.length, 3);
});

test('a collector killed, the other takes its vCenters over within a minute, no sample lost or stored twice', async () => {
  const cookie = await login(frontB.url(), admin.name, admin.password, 'vc1');
  const promql = new PromqlClient({ url: engine.url, version: 'test' });
  try {
    // Whichever collector holds vc1 is killed.
    const holds = (one: Process): boolean => /"vcenterId":"vc1"[^}]*"msg":"this collector now collects the vCenter"/.test(one.output());
    const victim = holds(collectorA) ? collectorA : collectorB;
    const survivor = victim === collectorA ? collectorB : collectorA;
    await victim.kill('SIGKILL');
    const killedAt = Date.now();
    const before = (await get<StatusResponse>(frontB.url(), '/api/status', cookie)).body.vcenters[0]?.lastEnd ?? 0;
    await until('vc1 collected again', async () => ((await get<StatusResponse>(frontB.url(), '/api/status', cookie)).body.vcenters[0]?.lastEnd ?? 0) > before + 1, 120_000);
    const tookMs = Date.now() - killedAt;
    assert.ok(tookMs < 60_000, `taken over in ${String(tookMs)} ms`);
    assert.match(survivor.output(), /"vcenterId":"vc1"[^}]*"msg":"this collector now collects the vCenter"/);
    // One more cycle, then every sample of a VM since the first is there once.
    await new Promise((resolve) => setTimeout(resolve, 21_000));
    const [dc] = (await get<DatacenterRow[]>(frontB.url(), '/api/datacenters', cookie)).body;
    const [vm] = (await get<VmRow[]>(frontB.url(), `/api/datacenters/${dc?.id ?? ''}/vms`, cookie)).body;
    assert.ok(vm, 'a VM');
    await engine.flush();
    const result = await promql.query(`vmware_vm_cpu_usagemhz_average{entity_id=${JSON.stringify(vm.id)}}[30m]`, Date.now() / 1000);
    const ts = (result.resultType === 'matrix' ? result.series.flatMap((one) => one.timestampsMs) : []).map((ms) => ms / 1000).sort((a, b) => a - b);
    // Raw samples start at each entity's first cycle (the hour before it goes in as history
    // rollups): they must run from before the kill to after the takeover, without a gap.
    const killedSec = killedAt / 1000;
    assert.ok(
      ts.length > 3 && (ts[0] ?? Number.POSITIVE_INFINITY) < killedSec - 20 && (ts.at(-1) ?? 0) > killedSec + 20,
      `samples from before the kill to after the takeover: ${String(ts.length)}, ${String(ts[0])} to ${String(ts.at(-1))}, killed at ${String(killedSec)}`,
    );
    for (let i = 1; i < ts.length; i++) {
      const gap = (ts[i] ?? 0) - (ts[i - 1] ?? 0);
      assert.ok(gap > 0 && gap <= 20, `no sample lost or stored twice: ${String(gap)} s between ${String(ts[i - 1])} and ${String(ts[i])}`);
    }
  } finally {
    await promql.close();
  }
});

test('the database restarted, the front end and the collector recover without being restarted', async () => {
  const cookie = await login(frontB.url(), admin.name, admin.password, 'vc2');
  await postgres.stop();
  const down = await get(frontB.url(), '/api/datacenters', cookie);
  assert.ok(down.status >= 500 || down.status === 200, `while the database is down: ${String(down.status)} (a cached session may still answer)`);
  await postgres.start();
  await until('the front end to answer again', async () => (await get(frontB.url(), '/api/datacenters', cookie)).status === 200, 60_000);
  const before = (await get<StatusResponse>(frontB.url(), '/api/status', cookie)).body.vcenters[0]?.lastEnd ?? 0;
  await until('a cycle after the restart', async () => ((await get<StatusResponse>(frontB.url(), '/api/status', cookie)).body.vcenters[0]?.lastEnd ?? 0) > before, 90_000);
  const alive = (one: Process): boolean => one.child.exitCode === null && one.child.signalCode === null;
  assert.ok(alive(frontB), 'the front end was not restarted');
  assert.ok([collectorA, collectorB].some(alive), 'the collector was not restarted');
});
