/**
 * API benchmark: latency of the two heaviest reads with 50 concurrent clients.
 *   - GET /api/datacenters/:id/vms: every VM of a datacenter with its latest figures;
 *   - GET /api/entities/:id/series?period=year: a year of daily buckets of one VM (a different
 *     VM on each request, cycling over 500).
 * And, for scale, the same clients on the lightest authenticated route (GET /api/session): the
 * floor that the framework and the machine set, whatever a route does.
 *
 * The store (SQLite, temporary file) holds a synthetic inventory of N VMs (default 5,000) on
 * N/50 hosts and N/250 datastores, the last 5 minutes of realtime samples of every VM (what the
 * list reads), and a year of daily buckets for the first 500 VMs (imported through the store's
 * own `importHistorical`, as the collector's history import does). The app is the real one, in
 * a process of its own, set up as `vscope serve` sets it up: the lists built by the list worker
 * and answered stale-while-revalidate (at most 5 s old), the series cache, gzip as browsers
 * ask; the login goes through a simulator started with a username and password.
 *
 * While the clients run, a worker thread of the server process (where `vscope serve` runs its
 * collector) writes one new 20 s sample for every VM every 2 s (cycle-writer.ts): 60 times
 * the rate of the default 2-minute cycle, so every cached series changes every 2 s.
 * Each year series is asked once before its run (`yearSeriesFirstMs`: a first, uncached answer).
 *
 * Who sees what (issue #9): every list is built for the scope of the person asking. The VM list
 * is measured once as one administrator (every VM) and once with `users` people (default 20)
 * logged in, each reading a different half of the VMs (vmListUsers: the clients take their
 * cookies in turn), after each person's first list was asked once, one at a time
 * (vmListUsers.firstMs: their scope's first build). Their scopes are given by the benchmark, as the inventory is synthetic;
 * the password goes through the simulator as in production.
 *
 * Load: wrk from Debian when installed (`apt-get install -y wrk`; C, so that it leaves the CPU
 * to the server on a small machine), else autocannon. Beside the latencies, the server reports
 * its event loop's busy share and its CPU per request, which do not depend on the machine's load.
 *
 * Run: `node --import tsx bench/api-bench.ts [--vms 5000] [--seconds 10] [--no-writes]`
 * (VSCOPE_BENCH_CPU_PROF=DIR writes a CPU profile of the server process.)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance as perfHooks } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { buildApp } from '../src/server/app.ts';
import { vsphereAuthenticator } from '../src/server/auth.ts';
import type { InventorySnapshot } from '../src/shared/inventory.ts';
import { startVcsim } from '../src/simulator/vcsim.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { workerListBuilder } from '../src/server/list-builder.ts';
import { startWorker } from '../src/worker-thread.ts';
import type { CycleWriterData } from './cycle-writer.ts';
import { random } from './stats.ts';
import { runWrk as runWrkProcess, type WrkRequest } from './wrk.ts';
import { syntheticInventory, vmBatch } from './synthetic.ts';
import { snapshotScope, withScopes } from '../test/support/scoped-auth.ts';

export interface ApiBenchOptions {
  /** Number of VMs; default 5000. */
  readonly vms?: number;
  /** Duration of each autocannon run, seconds; default 10. */
  readonly seconds?: number;
  /** Concurrent clients; default 50. */
  readonly connections?: number;
  /** VMs given a year of daily buckets (the series run cycles over them); default 500. */
  readonly historyVms?: number;
  /** Write cycles while the clients run (default true); false shows what the writes cost. */
  readonly writes?: boolean;
  /** People with different visible sets for the VM-list run with several users; default 20. */
  readonly users?: number;
  /** Progress lines; silent by default. */
  readonly progress?: (line: string) => void;
}

export interface LatencyResult {
  readonly url: string;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requestsPerSec: number;
  readonly requests: number;
  /** Non-2xx answers plus connection errors: 0 for a valid run. */
  readonly failures: number;
  readonly bodyBytes: number;
  /** Share of the run the server's main thread (the event loop answering requests) was busy, %. */
  readonly serverLoopBusyPct: number;
  /** Main-thread busy time per answered request, µs: the server's own cost, whatever the machine's load. */
  readonly serverLoopUsPerRequest: number;
  /** CPU of the whole server process (main thread, list worker, cycle writer) per request, µs. */
  readonly serverCpuUsPerRequest: number;
  /** The server's event-loop delay during the run (how late a 1 ms timer fired), p99 and max, ms: its own stalls, beside the machine's. */
  readonly serverLoopDelayP99Ms: number;
  readonly serverLoopDelayMaxMs: number;
}

const eventLoopUtilization = (): { active: number; idle: number } => perfHooks.eventLoopUtilization();

/** What the server process reports on request: its main thread's busy time and its CPU, cumulative. */
interface ServerUsage {
  readonly loopActiveMs: number;
  readonly loopIdleMs: number;
  readonly cpuMs: number;
  /** Event-loop delay since the previous report, ms. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
}

export interface ApiBenchResult {
  readonly vms: number;
  readonly hosts: number;
  readonly datastores: number;
  readonly historyVms: number;
  readonly connections: number;
  readonly seconds: number;
  readonly generator: 'wrk' | 'autocannon';
  /** Whether cycles were written during the runs. */
  readonly writes: boolean;
  readonly fillMs: number;
  /** The same clients on the lightest authenticated route (GET /api/session): the framework's and the machine's floor. */
  readonly floor: LatencyResult;
  /** Each year series asked once, one at a time, before the run: the mean time of a first (uncached) answer, ms. */
  readonly yearSeriesFirstMs: number;
  readonly vmList: LatencyResult;
  /** The VM list with `users` people of different visible sets asking in turn. */
  readonly vmListUsers: LatencyResult & { readonly users: number; readonly vmsPerUser: number; readonly firstMs: { readonly mean: number; readonly max: number } };
  readonly yearSeries: LatencyResult;
}

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  latency: { p50: number; p99: number };
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  headers?: Record<string, string>;
  requests?: { method: string; setupRequest?: (request: { path: string; headers?: Record<string, string> }) => { path: string; headers?: Record<string, string> } }[];
}) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;

const nowSec = Math.floor(Date.now() / 1000);

/** Inventory, 5 minutes of realtime samples for every VM, a year of daily buckets for the first `historyVms`. */
function fill(store: SqliteStore, snapshot: InventorySnapshot, historyVms: number): void {
  store.saveInventory(snapshot);
  const next = random(1);
  const realtimeTs = Array.from({ length: 15 }, (_, i) => nowSec - 300 + 20 * (i + 1));
  const dayTs = Array.from({ length: 366 }, (_, i) => (Math.floor(nowSec / 86400) - 365 + i) * 86400 + 86400);
  const chunk = 250;
  for (let start = 0; start < snapshot.vms.length; start += chunk) {
    const vms = snapshot.vms.slice(start, start + chunk);
    store.writeRealtime(vms.map((vm) => vmBatch(vm, 20, realtimeTs, next)));
    const withHistory = vms.slice(0, Math.max(0, historyVms - start));
    if (withHistory.length > 0) store.importHistorical('1d', withHistory.map((vm) => vmBatch(vm, 86400, dayTs, next)));
  }
}

type BenchRequest = WrkRequest;

/** What one load run measured, whichever generator ran it. */
interface LoadResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly failures: number;
}

/** wrk (bench/wrk.ts), reduced to what this benchmark reports. */
async function runWrk(url: string, headers: Record<string, string>, requests: readonly BenchRequest[], connections: number, seconds: number): Promise<LoadResult> {
  const { p50Ms, p99Ms, requests: answered, requestsPerSec, failures } = await runWrkProcess(url, headers, requests, connections, seconds);
  return { p50Ms, p99Ms, requests: answered, requestsPerSec, failures };
}

/** Runs autocannon (in this process), where wrk is not installed. */
async function runAutocannon(url: string, headers: Record<string, string>, requests: readonly BenchRequest[], connections: number, seconds: number): Promise<LoadResult> {
  let index = 0;
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    headers,
    requests: [
      {
        method: 'GET',
        setupRequest: (request) => {
          index = (index + 1) % requests.length;
          const next = requests[index];
          return { ...request, path: next?.path ?? '/', headers: { ...headers, ...(next?.cookie === undefined ? {} : { cookie: next.cookie }) } };
        },
      },
    ],
  });
  return {
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    requests: result.requests.total,
    requestsPerSec: Math.round(result.requests.average),
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** The load generator: wrk from Debian when installed (`apt-get install -y wrk`), else autocannon. */
function loadGenerator(): 'wrk' | 'autocannon' {
  return spawnSync('wrk', ['--version']).error === undefined ? 'wrk' : 'autocannon';
}

async function run(
  generator: 'wrk' | 'autocannon',
  server: BenchServer,
  label: string,
  connections: number,
  seconds: number,
  requests: readonly (BenchRequest | string)[],
): Promise<LatencyResult> {
  const { url, cookie } = server.ready;
  const paths = requests.map((request) => (typeof request === 'string' ? { path: request } : request));
  const first = paths[0] ?? { path: '/' };
  const probe = await fetch(`${url}${first.path}`, { headers: { cookie: first.cookie ?? cookie } });
  const body = await probe.text();
  if (!probe.ok) throw new Error(`${first.path} answered ${String(probe.status)}: ${body.slice(0, 200)}`);
  // Browsers always offer gzip; the server sends its cached bodies gzipped.
  const headers = { cookie, 'accept-encoding': 'gzip' };
  const before = await server.usage();
  const result = await (generator === 'wrk' ? runWrk : runAutocannon)(url, headers, paths, connections, seconds);
  const after = await server.usage();
  const loopActiveMs = after.loopActiveMs - before.loopActiveMs;
  const loopMs = loopActiveMs + after.loopIdleMs - before.loopIdleMs;
  const answered = Math.max(1, result.requests);
  return {
    url: label,
    ...result,
    bodyBytes: Buffer.byteLength(body),
    serverLoopBusyPct: Math.round((loopActiveMs / loopMs) * 100),
    serverLoopUsPerRequest: Math.round((loopActiveMs * 1000) / answered),
    serverCpuUsPerRequest: Math.round(((after.cpuMs - before.cpuMs) * 1000) / answered),
    serverLoopDelayP99Ms: after.loopDelayP99Ms,
    serverLoopDelayMaxMs: after.loopDelayMaxMs,
  };
}

/** Starts the cycle writer (cycle-writer.ts) in a worker thread; `stop` resolves with the cycles it wrote. */
function writeCyclesContinuously(databasePath: string, vms: number): { stop(): Promise<number> } {
  const data: CycleWriterData = { databasePath, vms, startSec: nowSec };
  const worker = startWorker(new URL('./cycle-writer.ts', import.meta.url), { workerData: data });
  const done = new Promise<number>((resolve, reject) => {
    worker.once('message', (message: { cycles: number }) => resolve(message.cycles));
    worker.once('error', reject);
  });
  return {
    async stop() {
      worker.postMessage('stop');
      const cycles = await done;
      await worker.terminate();
      return cycles;
    },
  };
}

/** What the server process reports once it listens. */
interface ServerReady {
  readonly url: string;
  readonly cookie: string;
  readonly fillMs: number;
  readonly hosts: number;
  readonly datastores: number;
  readonly datacenterId: string;
  readonly historyVmIds: readonly string[];
  /** The cookies of the people of different visible sets, and how many VMs each may read (the first one's). */
  readonly userCookies: readonly string[];
  readonly vmsPerUser: number;
}

/**
 * Person `index` of the multi-user run reads half of the VMs, a different half for each person
 * (index 0 to 19 give 20 distinct sets), their hosts and every datastore.
 */
function userScope(snapshot: InventorySnapshot, index: number): ReturnType<typeof snapshotScope> {
  const vmIndex = new Map(snapshot.vms.map((vm, i) => [vm.id, i]));
  const hostIndex = new Map(snapshot.hosts.map((host, i) => [host.id, i]));
  return snapshotScope(snapshot, (entity) => {
    if (entity.kind === 'vm') return ((vmIndex.get(entity.id) ?? 0) * 7 + index) % 20 < 10;
    if (entity.kind === 'host') return ((hostIndex.get(entity.id) ?? 0) + index) % 2 === 0;
    return entity.kind === 'datastore';
  });
}

async function logIn(url: string, username: string, password: string): Promise<string> {
  const login = await fetch(`${url}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  if (!login.ok || cookie === '') throw new Error(`login of ${username} failed: ${String(login.status)}`);
  return cookie;
}

/**
 * The server side, run in its own process (`--serve`) so that autocannon and the server do not
 * share one event loop: fills the store, starts the simulator and the app, logs in, prints
 * one ServerReady JSON line, and cleans up on SIGTERM.
 */
async function serve(vmCount: number, historyVms: number, writes: boolean, users: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vscope-api-bench-'));
  const databasePath = join(dir, 'bench.db');
  const store = openSqliteStore(databasePath);
  // Any login is accepted by this simulator: the people's passwords still go through vCenter.
  const sim = await startVcsim({ vmsPerPool: 1 });
  const snapshot = syntheticInventory(vmCount);
  const fillStart = performance.now();
  fill(store, snapshot, historyVms);
  const fillMs = Math.round(performance.now() - fillStart);
  const listBuilder = workerListBuilder(databasePath, pino({ level: 'warn' }, pino.destination(2)));
  const app = buildApp({
    store,
    sessionStore: store,
    loginLimiter: store,
    listBuilder,
    auth: withScopes(vsphereAuthenticator([{ id: 'bench', name: 'Bench', url: sim.url }]), (_vcenterId, username) => {
      const person = /^user-(\d+)$/.exec(username);
      return person ? userScope(snapshot, Number(person[1])) : snapshotScope(snapshot);
    }),
    log: pino({ level: 'warn' }, pino.destination(2)),
    config: { intervalSec: 120, version: 'bench', sessionIdleSec: 3600, sessionMaxSec: 3600, secureCookies: false, listMaxStaleMs: 5000 },
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  const cycles = writes ? writeCyclesContinuously(databasePath, vmCount) : { stop: () => Promise.resolve(0) };
  const stop = async (): Promise<void> => {
    const written = await cycles.stop();
    process.stderr.write(`the cycle writer wrote ${String(written)} cycles of ${String(vmCount)} VMs\n`);
    await app.close();
    await listBuilder.close();
    await sim.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  const cookie = await logIn(url, 'bench', 'bench-password');
  const userCookies: string[] = [];
  for (let i = 0; i < users; i++) userCookies.push(await logIn(url, `user-${String(i)}`, 'bench-password'));
  const firstUserScope = userScope(snapshot, 0);
  const ready: ServerReady = {
    userCookies,
    vmsPerUser: snapshot.vms.filter((vm) => firstUserScope.canRead(vm.id)).length,
    url,
    cookie,
    fillMs,
    hosts: snapshot.hosts.length,
    datastores: snapshot.datastores.length,
    datacenterId: snapshot.datacenters[0]?.id ?? '',
    historyVmIds: snapshot.vms.slice(0, historyVms).map((vm) => vm.id),
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  loopDelay.enable();
  // Each line on stdin asks for the usage so far (see ServerUsage).
  createInterface({ input: process.stdin }).on('line', () => {
    const loop = eventLoopUtilization();
    const cpu = process.cpuUsage();
    const usage: ServerUsage = {
      loopActiveMs: loop.active,
      loopIdleMs: loop.idle,
      cpuMs: (cpu.user + cpu.system) / 1000,
      loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      loopDelayMaxMs: Math.round(loopDelay.max / 1e4) / 100,
    };
    loopDelay.reset();
    process.stdout.write(`${JSON.stringify(usage)}\n`);
  });
}

interface BenchServer {
  readonly child: ChildProcess;
  readonly ready: ServerReady;
  usage(): Promise<ServerUsage>;
}

/** Starts the server process and resolves once it reports ready. */
function startServer(vmCount: number, historyVms: number, writes: boolean, users: number): Promise<BenchServer> {
  const script = fileURLToPath(import.meta.url);
  const nodeFlags = [
    ...(process.env.VSCOPE_BENCH_CPU_PROF === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', process.env.VSCOPE_BENCH_CPU_PROF]),
    // Extra flags for the server process only, for example --trace-gc to see its pauses.
    ...(process.env.VSCOPE_BENCH_SERVER_FLAGS ?? '').split(' ').filter((flag) => flag !== ''),
  ];
  const child = spawn(process.execPath, [...nodeFlags, '--import', 'tsx', script, '--serve', '--vms', String(vmCount), '--history-vms', String(historyVms), '--users', String(users), ...(writes ? [] : ['--no-writes'])], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  // Lines other than the server's JSON reports (--trace-gc prints to stdout) go to stderr.
  lines.on('line', (line) => (line.startsWith('{') ? waiting.shift()?.(line) : process.stderr.write(`${line}\n`)));
  const nextLine = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));
  const usage = async (): Promise<ServerUsage> => {
    const answer = nextLine();
    child.stdin.write('usage\n');
    return JSON.parse(await answer) as ServerUsage;
  };
  return new Promise((resolve, reject) => {
    nextLine().then((line) => resolve({ child, ready: JSON.parse(line) as ServerReady, usage }), reject);
    child.once('exit', (code) => reject(new Error(`the server process exited (${String(code)}) before it was ready`)));
  });
}

export async function benchApi(options: ApiBenchOptions = {}): Promise<ApiBenchResult> {
  const vmCount = options.vms ?? 5000;
  const seconds = options.seconds ?? 10;
  const connections = options.connections ?? 50;
  const historyVms = Math.min(vmCount, options.historyVms ?? 500);
  const progress = options.progress ?? (() => undefined);
  const writes = options.writes ?? true;
  const users = options.users ?? 20;
  const generator = loadGenerator();
  const server = await startServer(vmCount, historyVms, writes, users);
  const { child, ready } = server;
  try {
    progress(`filled ${String(vmCount)} VMs (${String(historyVms)} with a year of daily buckets) in ${String(ready.fillMs)} ms`);
    progress(`GET /api/session (the floor), ${String(connections)} clients, ${String(seconds)} s, ${generator}`);
    const floor = await run(generator, server, '/api/session', connections, seconds, ['/api/session']);
    // A server that has run a while has answered each series before: ask each once first.
    const seriesPaths = ready.historyVmIds.map((id) => `/api/entities/${id}/series?period=year`);
    const firstStart = performance.now();
    for (const path of seriesPaths) {
      const answer = await fetch(`${ready.url}${path}`, { headers: { cookie: ready.cookie, 'accept-encoding': 'gzip' } });
      if (!answer.ok) throw new Error(`${path} answered ${String(answer.status)}`);
      await answer.arrayBuffer();
    }
    const yearSeriesFirstMs = Math.round(((performance.now() - firstStart) / seriesPaths.length) * 10) / 10;
    progress(`first answers of ${String(seriesPaths.length)} year series: ${String(yearSeriesFirstMs)} ms each`);
    progress(`GET /api/entities/:id/series?period=year, ${String(connections)} clients, ${String(seconds)} s`);
    const yearSeries = await run(
      generator,
      server,
      '/api/entities/:id/series?period=year',
      connections,
      seconds,
      seriesPaths,
    );
    // Let the server finish what the first run left in flight.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    progress(`GET /api/datacenters/:id/vms, ${String(connections)} clients, ${String(seconds)} s`);
    const vmList = await run(generator, server, '/api/datacenters/:id/vms', connections, seconds, [
      `/api/datacenters/${ready.datacenterId}/vms`,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    // Each person's first list (their scope's first build), one at a time, as a person logging in
    // meets it; then the run, where every list is built and only rebuilt as the data moves.
    const firstListMs: number[] = [];
    for (const userCookie of ready.userCookies) {
      const started = performance.now();
      const answer = await fetch(`${ready.url}/api/datacenters/${ready.datacenterId}/vms`, { headers: { cookie: userCookie, 'accept-encoding': 'gzip' } });
      if (!answer.ok) throw new Error(`a person's VM list answered ${String(answer.status)}`);
      await answer.arrayBuffer();
      firstListMs.push(performance.now() - started);
    }
    const vmListUsersFirstMs = { mean: Math.round((firstListMs.reduce((a, b) => a + b, 0) / firstListMs.length) * 10) / 10, max: Math.round(Math.max(...firstListMs) * 10) / 10 };
    progress(`first VM list of each of ${String(users)} people: ${String(vmListUsersFirstMs.mean)} ms each, at most ${String(vmListUsersFirstMs.max)}`);
    progress(`GET /api/datacenters/:id/vms as ${String(users)} people of different visible sets (${String(ready.vmsPerUser)} VMs each), ${String(connections)} clients, ${String(seconds)} s`);
    const vmListUsers = {
      ...(await run(
        generator,
        server,
        `/api/datacenters/:id/vms (${String(users)} people)`,
        connections,
        seconds,
        ready.userCookies.map((userCookie) => ({ path: `/api/datacenters/${ready.datacenterId}/vms`, cookie: userCookie })),
      )),
      users,
      vmsPerUser: ready.vmsPerUser,
      firstMs: vmListUsersFirstMs,
    };
    return {
      vms: vmCount,
      hosts: ready.hosts,
      datastores: ready.datastores,
      historyVms,
      connections,
      seconds,
      generator,
      writes,
      fillMs: ready.fillMs,
      floor,
      yearSeriesFirstMs,
      vmList,
      vmListUsers,
      yearSeries,
    };
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): number | undefined => {
    const at = process.argv.indexOf(`--${name}`);
    const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
    return Number.isFinite(value) && value > 0 ? value : undefined;
  };
  const vms = arg('vms');
  const seconds = arg('seconds');
  if (process.argv.includes('--serve')) {
    serve(vms ?? 5000, arg('history-vms') ?? 500, !process.argv.includes('--no-writes'), arg('users') ?? 20).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  } else {
    benchApi({
      ...(vms === undefined ? {} : { vms }),
      ...(seconds === undefined ? {} : { seconds }),
      writes: !process.argv.includes('--no-writes'),
      progress: (line) => console.error(line),
    }).then(
      (result) => console.log(JSON.stringify(result, null, 2)),
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
  }
}
