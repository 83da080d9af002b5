/**
 * Scale benchmark (issue #11 §4): vscope past one machine, every part a real process on
 * loopback (vcsim, PostgreSQL 15 and VictoriaMetrics 1.79 from Debian, `bin/vscope.js`).
 *
 * 1. API, the same 50 clients (wrk, closed loop) on the same inventory and data:
 *    - "sqlite": ONE front end (`vscope serve --no-collector`) on SQLite, the embedded default;
 *    - "postgres": TWO front ends on PostgreSQL (shared state) and VictoriaMetrics (samples),
 *      25 clients on each at the same time, with one cookie (any front end answers any request).
 *    Each setup holds what a real collection brought: `vscope collect --once` from one simulator
 *    of N VMs (default 5,000, collector-bench's shape: 1 datacenter, 10 clusters of 10 hosts),
 *    which also imports vCenter's year of history; its time is reported. The people log in
 *    through the simulator (any login works on one started without an account; that person
 *    sees everything), and the benchmark checks that the lists and series they read hold the
 *    collected rows and a year of history before it measures. No collector runs while the
 *    clients do, in either setup. Measured: GET /api/datacenters/:id/vms (every VM of the
 *    datacenter) and GET /api/entities/:id/series?period=year (a different VM on each
 *    request, cycling over `seriesVms`, each asked once per front end first, as a front end
 *    that has run a while has). Beside the latencies, the CPU per answered request of the
 *    front ends, of PostgreSQL (postmaster and backends) and of VictoriaMetrics, from /proc:
 *    figures that depend far less on the machine's load than the p99.
 * 2. Collection with two collectors (`vscope collect`, both configured with every vCenter; the
 *    leases decide who collects which) for 1, 2, 3, 4 simulated vCenters of `vcenterVms` VMs
 *    each (default 500), 20-second cycles (the shortest allowed), a fresh database and engine
 *    for each count: the time from the collectors' start until every vCenter completed its first
 *    cycle (discovery and the hour of realtime samples, then the history import for half the
 *    interval), until every vCenter's history import was done (it goes on over the next
 *    cycles), the steady cycles after that (from the collectors' `collection cycle done` log
 *    lines), and which collector collected which vCenter.
 * 3. The machine: `nproc`, the CPU model, `uptime` before and after.
 *
 * Every process and temporary folder is removed at the end, also on failure or a signal.
 *
 * Run: `node --import tsx bench/scale-bench.ts [--vms 5000] [--seconds 10] [--series-vms 500]
 *   [--vcenter-vms 500] [--vcenters 4] [--later-cycles 2] [--only api|collection]`
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { runCollectOnce, type VcenterTarget } from '../src/collector/collector.ts';
import { discoverInventory } from '../src/collector/discovery.ts';
import { HistoryImporter, importableIntervals } from '../src/collector/history-import.ts';
import { defaultQueryTuning, resolveMetrics, vmTarget } from '../src/collector/performance.ts';
import type { DatacenterRow, SeriesResponse, VmRow } from '../src/shared/api.ts';
import { startVcsim, type Vcsim, type VcsimOptions } from '../src/simulator/vcsim.ts';
import { openStores, type StoreSettings } from '../src/store/open.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { freePort, startEngine, type Engine } from '../test/support/engines.ts';
import { startPostgres, type PostgresServer } from '../test/support/postgres.ts';
import { shapeFor } from './collector-bench.ts';
import { cpuMs, pidWithArgument, startVscope, stopAll, type LogLine, type VscopeProcess } from './processes.ts';
import { median } from './stats.ts';
import { mergeRuns, runWrk, type MergedLatency, type WrkRequest, type WrkResult } from './wrk.ts';

export interface ScaleBenchOptions {
  /** VMs of the API part's simulator; default 5000. */
  readonly vms?: number;
  /** Seconds of each wrk run; default 10. */
  readonly seconds?: number;
  /** Clients, split evenly over the front ends of a setup; default 50. */
  readonly connections?: number;
  /** VMs the year-series run cycles over; default 500. */
  readonly seriesVms?: number;
  /** VMs of each simulated vCenter of the collection part; default 500. */
  readonly vcenterVms?: number;
  /** Up to how many vCenters the collection part goes; default 4. */
  readonly vcenters?: number;
  /** Steady cycles per vCenter to wait for once its history import is done; default 2. */
  readonly laterCycles?: number;
  /** Run one part only. */
  readonly only?: 'api' | 'collection';
  readonly progress?: (line: string) => void;
}

export interface MachineInfo {
  readonly nproc: number;
  readonly cpuModel: string;
  readonly memoryGB: number;
  readonly node: string;
  readonly uptimeBefore: string;
  readonly uptimeAfter: string;
}

/** The collection that filled one setup (see collectInto). */
export interface CollectionResult {
  /** The collector's first cycle (discovery, the hour of realtime samples of every entity, datastores), ms. */
  readonly cycleMs: number;
  readonly samples: number;
  /** vCenter's year interval (365 daily samples) of the history VMs, through the collector's importer, ms. */
  readonly historyImportMs: number;
  /** The VMs with a year of history: the year-series run cycles over them. */
  readonly historyVmIds: readonly string[];
}

/** CPU per answered request of the server side, µs (null: not part of the setup). */
export interface CpuPerRequest {
  readonly frontEndsUs: number;
  readonly databaseUs: number | null;
  readonly engineUs: number | null;
}

export interface LoadRun {
  /** The clients of every front end together (merged latency distribution). */
  readonly combined: MergedLatency;
  /** One wrk per front end, run at the same time. */
  readonly perFrontEnd: readonly Omit<WrkResult, 'quantilesUs'>[];
  readonly cpuPerRequest: CpuPerRequest;
  readonly bodyBytes: number;
}

export interface SetupResult {
  readonly setup: 'sqlite' | 'postgres';
  readonly frontEnds: number;
  readonly collection: CollectionResult;
  /** What the logged-in person reads, checked before the runs. */
  readonly check: { readonly vmRows: number; readonly vmRowsWithCpu: number; readonly yearBuckets: number; readonly yearBucketsWithData: number };
  /** The first (uncached) answer of each year series, one at a time, mean per front end, ms. */
  readonly yearSeriesFirstMs: readonly number[];
  readonly vmList: LoadRun;
  readonly yearSeries: LoadRun;
}

export interface ApiPartResult {
  readonly vms: number;
  readonly hosts: number;
  readonly datastores: number;
  readonly shape: VcsimOptions;
  readonly connections: number;
  readonly seconds: number;
  readonly seriesVms: number;
  readonly simulatorStartMs: number;
  readonly setups: readonly SetupResult[];
}

export interface CollectionRow {
  readonly vcenters: number;
  /** From the collectors' spawn until every vCenter completed its first cycle, s. */
  readonly firstCycleAllSec: number;
  /** Each vCenter's first cycle as its collector timed it (discovery, the hour of samples, datastores, then history import for up to half the interval), ms. */
  readonly firstCycleMs: Readonly<Record<string, number>>;
  /** Of which the history import, ms. */
  readonly firstCycleImportMs: Readonly<Record<string, number>>;
  /** The cycles after the first, every vCenter: how many, their whole time (with the import step, while it lasts), ms. */
  readonly laterCycles: number;
  readonly laterCycleMedianMs: number;
  readonly laterCycleMaxMs: number;
  /** The same cycles without their history import step: the collection itself, ms. */
  readonly laterCollectionMedianMs: number;
  readonly laterCollectionMaxMs: number;
  readonly laterCollectionMedianMsPerVcenter: Readonly<Record<string, number>>;
  /** Entities of each vCenter whose history was imported when the collectors stopped ("done/total"). */
  readonly importAtEnd: Readonly<Record<string, string>>;
  /** History import rate over the row, every vCenter together, entities per minute. */
  readonly importEntitiesPerMin: number;
  /** From the spawn to the stop of the collectors, s. */
  readonly elapsedSec: number;
  /** Which vCenters each collector collected (a vCenter under both was handed over). */
  readonly split: Readonly<Record<string, readonly string[]>>;
  /** Cycles that failed (not counting a collector waiting for a lease). */
  readonly failedCycles: number;
}

export interface CollectionPartResult {
  readonly vcenterVms: number;
  readonly shape: VcsimOptions;
  readonly intervalSec: number;
  readonly collectors: 2;
  readonly rows: readonly CollectionRow[];
}

export interface ScaleBenchResult {
  readonly machine: MachineInfo;
  readonly api: ApiPartResult | null;
  readonly collection: CollectionPartResult | null;
  readonly totalSec: number;
}

const login = { username: 'bench', password: 'bench-password' };
const intervalSec = 20;

function uptime(): string {
  return spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
}

function machineBefore(): Omit<MachineInfo, 'uptimeAfter'> {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  return {
    nproc: Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()),
    cpuModel: model,
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    uptimeBefore: uptime(),
  };
}

/** Everything to undo, last first; each step runs even when an earlier one failed. */
class Cleanup {
  readonly #steps: { readonly name: string; readonly run: () => Promise<void> | void }[] = [];
  readonly #dirs = new Set<string>();
  readonly #pids = new Set<number>();

  constructor() {
    // However the process ends, nothing stays: simulators killed, folders removed. (PostgreSQL
    // and the engine harnesses and processes.ts do the same for theirs.)
    process.once('exit', () => this.now());
  }

  add(name: string, run: () => Promise<void> | void): void {
    this.#steps.push({ name, run });
  }

  dir(prefix: string): string {
    const dir = mkdtempSync(join(os.tmpdir(), prefix));
    this.#dirs.add(dir);
    this.add(`remove ${dir}`, () => {
      rmSync(dir, { recursive: true, force: true });
      this.#dirs.delete(dir);
    });
    return dir;
  }

  simulator(sim: Vcsim): Vcsim {
    this.#pids.add(sim.pid);
    this.add(`stop the simulator ${String(sim.pid)}`, async () => {
      await sim.stop();
      this.#pids.delete(sim.pid);
    });
    return sim;
  }

  async runAll(): Promise<string[]> {
    const failures: string[] = [];
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        await step.run();
      } catch (error) {
        failures.push(`${step.name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return failures;
  }

  /** Synchronous last resort (exit, signal). */
  now(): void {
    for (const pid of this.#pids) {
      try {
        // SIGTERM: the simulator then removes its datastore folders by itself.
        process.kill(pid, 'SIGTERM');
      } catch {
        // Gone already.
      }
    }
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}

async function until<T>(what: string, check: () => Promise<T | null | undefined | false> | T | null | undefined | false, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const value = await check();
      if (value !== null && value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${String(timeoutMs)} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

function vcenterYaml(vcenters: readonly { readonly id: string; readonly url: string }[]): string {
  return ['vcenters:', ...vcenters.flatMap(({ id, url }) => [`  - id: ${id}`, `    url: ${url}`, `    username: ${login.username}`, `    password: ${login.password}`]), ''].join('\n');
}

/** The settings of processes on PostgreSQL (shared state) and VictoriaMetrics (samples). */
function sharedEnv(postgres: PostgresServer, database: string, engine: Engine, passwordFile: string): Record<string, string> {
  return {
    VSCOPE_DATABASE_URL: postgres.urlOf(database),
    VSCOPE_DATABASE_PASSWORD_FILE: passwordFile,
    VSCOPE_REMOTE_WRITE_URL: engine.remoteWriteUrl,
    VSCOPE_PROMQL_URL: engine.url,
  };
}

/**
 * A real collection from the simulator into one setup's stores, in this process, with the same
 * settings as the setup's processes: the collector's own first cycle (inventory, the hour of
 * realtime samples, datastores) without its history import, then vCenter's year interval (what
 * a year chart reads) for `historyVms` VMs through the collector's own HistoryImporter.
 * (`vscope collect --once` imports every interval for every entity: see the file's comment.)
 */
async function collectInto(settings: StoreSettings, target: VcenterTarget, historyVms: number): Promise<CollectionResult> {
  const log = pino({ level: 'warn' }, pino.destination(2));
  const stores = await openStores(settings, log);
  try {
    const [cycle] = await runCollectOnce({ store: stores.store, vcenters: [target], log, tuning: { importHistory: false } });
    if (cycle === undefined || !cycle.ok) throw new Error(`the collection failed: ${cycle?.error ?? 'no result'}`);
    const client = await VsphereClient.connect({ url: target.url, username: target.username, password: target.password, log });
    try {
      const nowSec = Math.floor(Date.now() / 1000);
      const snapshot = await discoverInventory(client, target.id, nowSec, { log });
      const metrics = resolveMetrics(await client.perfCounters(), log);
      const intervals = importableIntervals(await client.historicalIntervals()).filter((interval) => interval.samplingPeriodSec === 86_400);
      const vms = spread([...snapshot.vms].filter((vm) => !vm.isTemplate).sort((a, b) => a.id.localeCompare(b.id)), historyVms);
      const importer = new HistoryImporter(log);
      importer.enqueue(vms.map(vmTarget), nowSec);
      const started = performance.now();
      await importer.step({
        client,
        store: stores.store,
        metrics,
        intervals,
        nowSec,
        tuning: defaultQueryTuning,
        present: new Set(vms.map((vm) => vm.id)),
        budgetMs: Number.POSITIVE_INFINITY,
        abandoned: () => false,
      });
      const progress = importer.progress();
      if (progress.state !== 'done' || progress.entitiesDone !== vms.length || progress.problem !== undefined) throw new Error(`the year's import did not complete: ${JSON.stringify(progress)}`);
      return { cycleMs: cycle.durationMs, samples: cycle.counts.samples, historyImportMs: Math.round(performance.now() - started), historyVmIds: vms.map((vm) => vm.id) };
    } finally {
      await client.logout();
    }
  } finally {
    await stores.close();
  }
}

interface FrontEnd {
  readonly process: VscopeProcess;
  readonly url: string;
}

/** `vscope serve --no-collector` on a free port; resolves once /healthz answers 200. */
async function startFrontEnd(name: string, env: Record<string, string>): Promise<FrontEnd> {
  const port = await freePort();
  // warn, as api-bench runs its app: at info a front end logs every request.
  const frontEnd = startVscope(name, ['serve', '--no-collector'], { ...env, VSCOPE_LISTEN: `127.0.0.1:${String(port)}`, VSCOPE_LOG_LEVEL: 'warn' });
  const url = `http://127.0.0.1:${String(port)}`;
  await until(
    `${name} to answer /healthz`,
    async () => {
      if (!frontEnd.alive()) throw new Error(`${name} exited:\n${frontEnd.tail().slice(-3000)}`);
      const answer = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await answer.arrayBuffer();
      return answer.status === 200;
    },
    90_000,
  );
  return { process: frontEnd, url };
}

async function logIn(url: string): Promise<string> {
  const answer = await fetch(`${url}/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(login) });
  const cookie = (answer.headers.get('set-cookie') ?? '').split(';', 1)[0] ?? '';
  if (!answer.ok || cookie === '') throw new Error(`the login on ${url} failed: ${String(answer.status)} ${(await answer.text()).slice(0, 300)}`);
  return cookie;
}

async function getJson<T>(url: string, cookie: string): Promise<T> {
  const answer = await fetch(url, { headers: { cookie } });
  if (!answer.ok) throw new Error(`${url} answered ${String(answer.status)}: ${(await answer.text()).slice(0, 300)}`);
  return (await answer.json()) as T;
}

/** What the person reads on one front end: the datacenters' VM lists and one VM's year. */
async function readAsPerson(url: string, cookie: string, probeId: string): Promise<{ dcs: DatacenterRow[]; vms: VmRow[]; check: SetupResult['check'] }> {
  const dcs = await getJson<DatacenterRow[]>(`${url}/api/datacenters`, cookie);
  const vms: VmRow[] = [];
  for (const dc of dcs) vms.push(...(await getJson<VmRow[]>(`${url}/api/datacenters/${dc.id}/vms`, cookie)));
  const year = await getJson<SeriesResponse>(`${url}/api/entities/${probeId}/series?period=year`, cookie);
  const withData = year.ts.filter((_, i) => year.series.some((series) => series.avg[i] !== null && series.avg[i] !== undefined)).length;
  return { dcs, vms, check: { vmRows: vms.length, vmRowsWithCpu: vms.filter((vm) => vm.cpuUsagePct !== null).length, yearBuckets: year.ts.length, yearBucketsWithData: withData } };
}

/** The processes whose CPU a setup's requests cost. */
interface CpuSources {
  readonly frontEnds: readonly number[];
  /** The postmaster: its backends are its children. */
  readonly database: number | null;
  readonly engine: number | null;
}

function cpuNow(sources: CpuSources): { frontEnds: number; database: number | null; engine: number | null } {
  return {
    frontEnds: sources.frontEnds.reduce((sum, pid) => sum + cpuMs(pid), 0),
    database: sources.database === null ? null : cpuMs(sources.database, true),
    engine: sources.engine === null ? null : cpuMs(sources.engine),
  };
}

/** One load run: a wrk per front end at the same time, the clients split evenly. */
async function loadRun(frontEnds: readonly FrontEnd[], cookie: string, requests: readonly WrkRequest[], connections: number, seconds: number, cpu: CpuSources): Promise<LoadRun> {
  const first = requests[0];
  if (first === undefined) throw new Error('no request to run');
  // Browsers always offer gzip; the front ends send their cached bodies gzipped.
  const headers = { cookie, 'accept-encoding': 'gzip' };
  const probe = await fetch(`${frontEnds[0]?.url ?? ''}${first.path}`, { headers: { cookie } });
  const body = await probe.text();
  if (!probe.ok) throw new Error(`${first.path} answered ${String(probe.status)}: ${body.slice(0, 200)}`);
  const before = cpuNow(cpu);
  const runs = await Promise.all(frontEnds.map((frontEnd) => runWrk(frontEnd.url, headers, requests, Math.round(connections / frontEnds.length), seconds)));
  const after = cpuNow(cpu);
  const answered = Math.max(1, runs.reduce((sum, run) => sum + run.requests, 0));
  const perRequest = (b: number | null, a: number | null): number | null => (a === null || b === null ? null : Math.round(((a - b) * 1000) / answered));
  return {
    combined: mergeRuns(runs),
    perFrontEnd: runs.map(({ quantilesUs: _quantiles, ...rest }) => rest),
    cpuPerRequest: {
      frontEndsUs: perRequest(before.frontEnds, after.frontEnds) ?? 0,
      databaseUs: perRequest(before.database, after.database),
      engineUs: perRequest(before.engine, after.engine),
    },
    bodyBytes: Buffer.byteLength(body),
  };
}

/** Every VM spread over the list, `count` of them (the series run's entities). */
function spread<T>(items: readonly T[], count: number): T[] {
  if (items.length <= count) return [...items];
  const step = items.length / count;
  return Array.from({ length: count }, (_, i) => items[Math.floor(i * step)]).filter((item): item is T => item !== undefined);
}

/** Logs in on the first front end, checks what each shows, warms the series, runs both loads. */
async function measureSetup(
  setup: SetupResult['setup'],
  frontEnds: readonly FrontEnd[],
  collection: CollectionResult,
  options: { readonly connections: number; readonly seconds: number; readonly expectedVms: number },
  cpu: CpuSources,
  progress: (line: string) => void,
): Promise<SetupResult> {
  const [firstFrontEnd] = frontEnds;
  if (firstFrontEnd === undefined) throw new Error('no front end');
  // One login; the cookie works on every front end of the setup (shared sessions).
  const cookie = await logIn(firstFrontEnd.url);
  let read: Awaited<ReturnType<typeof readAsPerson>> | null = null;
  for (const frontEnd of frontEnds) {
    const seen = await readAsPerson(frontEnd.url, cookie, collection.historyVmIds[0] ?? '');
    if (seen.check.vmRows !== options.expectedVms) throw new Error(`${setup}: ${frontEnd.url} lists ${String(seen.check.vmRows)} VMs, not the ${String(options.expectedVms)} collected`);
    if (seen.check.vmRowsWithCpu < seen.check.vmRows * 0.9) throw new Error(`${setup}: only ${String(seen.check.vmRowsWithCpu)} of ${String(seen.check.vmRows)} VMs show a CPU figure`);
    if (seen.check.yearBucketsWithData < 300) throw new Error(`${setup}: a VM's year holds ${String(seen.check.yearBucketsWithData)} days of data: the history was not imported`);
    read ??= seen;
  }
  if (read === null) throw new Error('nothing read');
  progress(`${setup}: ${String(read.check.vmRows)} VMs listed (${String(read.check.vmRowsWithCpu)} with a CPU figure), a VM's year holds ${String(read.check.yearBucketsWithData)} of ${String(read.check.yearBuckets)} days`);
  const listed = new Set(read.vms.map((vm) => vm.id));
  const missing = collection.historyVmIds.filter((id) => !listed.has(id));
  if (missing.length > 0) throw new Error(`${setup}: ${String(missing.length)} VMs with history are not in the lists`);
  const seriesPaths = collection.historyVmIds.map((id) => ({ path: `/api/entities/${id}/series?period=year` }));
  const yearSeriesFirstMs: number[] = [];
  for (const frontEnd of frontEnds) {
    const started = performance.now();
    for (const { path } of seriesPaths) {
      const answer = await fetch(`${frontEnd.url}${path}`, { headers: { cookie, 'accept-encoding': 'gzip' } });
      if (!answer.ok) throw new Error(`${path} answered ${String(answer.status)}`);
      await answer.arrayBuffer();
    }
    yearSeriesFirstMs.push(Math.round(((performance.now() - started) / seriesPaths.length) * 10) / 10);
  }
  progress(`${setup}: first answers of ${String(seriesPaths.length)} year series: ${yearSeriesFirstMs.join(' / ')} ms each`);
  const listPaths = read.dcs.map((dc) => ({ path: `/api/datacenters/${dc.id}/vms` }));
  progress(`${setup}: GET /api/datacenters/:id/vms, ${String(options.connections)} clients on ${String(frontEnds.length)} front end(s), ${String(options.seconds)} s`);
  const vmList = await loadRun(frontEnds, cookie, listPaths, options.connections, options.seconds, cpu);
  // Let the front ends finish what the first run left in flight.
  await new Promise((resolve) => setTimeout(resolve, 2000));
  progress(`${setup}: GET /api/entities/:id/series?period=year, ${String(options.connections)} clients, ${String(options.seconds)} s`);
  const yearSeries = await loadRun(frontEnds, cookie, seriesPaths, options.connections, options.seconds, cpu);
  return { setup, frontEnds: frontEnds.length, collection, check: read.check, yearSeriesFirstMs, vmList, yearSeries };
}

/** The pid of PostgreSQL's postmaster (first line of its postmaster.pid). */
function postmasterPid(postgres: PostgresServer): number | null {
  try {
    return Number(readFileSync(join(postgres.folder, 'data', 'postmaster.pid'), 'utf8').split('\n', 1)[0]);
  } catch {
    return null;
  }
}

async function apiPart(options: Required<Omit<ScaleBenchOptions, 'only' | 'progress'>>, postgres: PostgresServer, passwordFile: string, cleanup: Cleanup, progress: (line: string) => void): Promise<ApiPartResult> {
  const shape = shapeFor(options.vms);
  const dir = cleanup.dir('vscope-scale-api-');
  const simStart = performance.now();
  const [sim, engine] = await Promise.all([startVcsim(shape, 600_000).then((one) => cleanup.simulator(one)), startEngine('victoria-metrics')]);
  cleanup.add('remove the API part engine', () => engine.destroy());
  const simulatorStartMs = Math.round(performance.now() - simStart);
  const expectedVms = (shape.clusters ?? 1) * (shape.vmsPerPool ?? 0) * (shape.datacenters ?? 1);
  progress(`simulator of ${String(expectedVms)} VMs ready in ${String(simulatorStartMs)} ms`);
  const config = join(dir, 'vscope.yaml');
  writeFileSync(config, vcenterYaml([{ id: 'bench', url: sim.url }]), { mode: 0o600 });
  const database = await postgres.createDatabase('vscope_scale_api');
  const env = {
    sqlite: { VSCOPE_CONFIG: config, VSCOPE_DATA_DIR: join(dir, 'sqlite') },
    postgres: { VSCOPE_CONFIG: config, VSCOPE_DATA_DIR: join(dir, 'postgres'), ...sharedEnv(postgres, database, engine, passwordFile) },
  };
  const target: VcenterTarget = { id: 'bench', url: sim.url, username: login.username, password: login.password };
  const sqliteSettings: StoreSettings = { sqlitePath: join(dir, 'sqlite', 'vscope.db'), engine: null };
  mkdirSync(join(dir, 'sqlite'));
  const sqlite = await collectInto(sqliteSettings, target, options.seriesVms);
  progress(`SQLite: first cycle ${String(sqlite.cycleMs)} ms (${String(sqlite.samples)} samples), a year of ${String(sqlite.historyVmIds.length)} VMs imported in ${String(sqlite.historyImportMs)} ms`);
  const postgresSettings: StoreSettings = {
    sqlitePath: join(dir, 'postgres', 'vscope.db'),
    engine: { remoteWriteUrl: engine.remoteWriteUrl, promqlUrl: engine.url, auth: null, headers: {}, version: 'bench' },
    database: { url: postgres.urlOf(database), password: postgres.password, poolSize: 10 },
  };
  const shared = await collectInto(postgresSettings, target, options.seriesVms);
  progress(`PostgreSQL + VictoriaMetrics: first cycle ${String(shared.cycleMs)} ms, a year of ${String(shared.historyVmIds.length)} VMs imported in ${String(shared.historyImportMs)} ms`);
  const collected = { sqlite, postgres: shared };
  await engine.flush();
  // The lists and series are all the front ends need from here on: the simulator only answers logins.
  const setups: SetupResult[] = [];
  const runOptions = { connections: options.connections, seconds: options.seconds, expectedVms };
  {
    const frontEnd = await startFrontEnd('front end (SQLite)', env.sqlite);
    try {
      setups.push(await measureSetup('sqlite', [frontEnd], collected.sqlite, runOptions, { frontEnds: [frontEnd.process.pid], database: null, engine: null }, progress));
    } finally {
      await frontEnd.process.stop();
    }
  }
  {
    const frontEnds = await Promise.all([startFrontEnd('front end A (PostgreSQL)', env.postgres), startFrontEnd('front end B (PostgreSQL)', env.postgres)]);
    try {
      const cpu = { frontEnds: frontEnds.map((one) => one.process.pid), database: postmasterPid(postgres), engine: pidWithArgument(engine.dataDir) };
      setups.push(await measureSetup('postgres', frontEnds, collected.postgres, runOptions, cpu, progress));
    } finally {
      await Promise.all(frontEnds.map((one) => one.process.stop()));
    }
  }
  return {
    vms: expectedVms,
    hosts: (shape.clusters ?? 1) * (shape.hostsPerCluster ?? 0) * (shape.datacenters ?? 1),
    datastores: shape.datastores ?? 1,
    shape,
    connections: options.connections,
    seconds: options.seconds,
    seriesVms: options.seriesVms,
    simulatorStartMs,
    setups,
  };
}

/** A `collection cycle done` line of one collector, with the phases it logged just before. */
interface CycleSeen {
  readonly collector: string;
  readonly vcenter: string;
  readonly timeMs: number;
  readonly durationMs: number;
  /** The part of the cycle spent on the history import (its budget: half the interval), ms. */
  readonly importMs: number;
  readonly importDone: number;
  readonly importTotal: number;
}

const round = (value: number): number => Math.round(value);

/** Two collectors on `count` vCenters until every one has its first cycle and `laterCycles` more. */
async function collectionRow(count: number, sims: readonly Vcsim[], postgres: PostgresServer, passwordFile: string, laterCycles: number, cleanup: Cleanup, progress: (line: string) => void): Promise<CollectionRow> {
  const dir = cleanup.dir(`vscope-scale-collect-${String(count)}-`);
  const vcenters = sims.slice(0, count).map((sim, i) => ({ id: `vc${String(i + 1)}`, url: sim.url }));
  const config = join(dir, 'vscope.yaml');
  writeFileSync(config, vcenterYaml(vcenters), { mode: 0o600 });
  const database = await postgres.createDatabase(`vscope_scale_collect_${String(count)}`);
  const engine = await startEngine('victoria-metrics');
  const cycles: CycleSeen[] = [];
  let failedCycles = 0;
  // debug: each cycle's phases (`collection cycle phases`) come just before its `collection cycle done`.
  const env = { VSCOPE_CONFIG: config, VSCOPE_DATA_DIR: dir, VSCOPE_INTERVAL_SEC: String(intervalSec), VSCOPE_LOG_LEVEL: 'debug', ...sharedEnv(postgres, database, engine, passwordFile) };
  const startedMs = Date.now();
  const collectors = ['A', 'B'].map((name) => {
    const phases = new Map<string, number>();
    return startVscope(`collector ${name}`, ['collect'], env, (line: LogLine) => {
      if (line.msg === 'collection cycle failed') failedCycles++;
      if (typeof line.vcenter !== 'string') return;
      if (line.msg === 'collection cycle phases') phases.set(line.vcenter, typeof line.importMs === 'number' ? line.importMs : 0);
      if (line.msg !== 'collection cycle done') return;
      const progressOf = (line.import ?? {}) as { entitiesDone?: unknown; entitiesTotal?: unknown };
      cycles.push({
        collector: name,
        vcenter: line.vcenter,
        timeMs: line.time ?? Date.now(),
        durationMs: Number(line.durationMs),
        importMs: phases.get(line.vcenter) ?? 0,
        importDone: Number(progressOf.entitiesDone ?? 0),
        importTotal: Number(progressOf.entitiesTotal ?? 0),
      });
    });
  });
  const ofVcenter = (vcenter: string): CycleSeen[] => cycles.filter((cycle) => cycle.vcenter === vcenter);
  try {
    let reported = -1;
    await until(
      `a first cycle and ${String(laterCycles)} more of each of ${String(count)} vCenters`,
      () => {
        for (const collector of collectors) if (!collector.alive()) throw new Error(`${collector.name} exited:\n${collector.tail().slice(-3000)}`);
        const first = vcenters.filter((vcenter) => ofVcenter(vcenter.id).length > 0).length;
        const ready = vcenters.filter((vcenter) => ofVcenter(vcenter.id).length > laterCycles).length;
        if (first * 100 + ready > reported) {
          reported = first * 100 + ready;
          progress(`  ${String(Math.round((Date.now() - startedMs) / 1000))} s: ${String(first)} of ${String(count)} vCenter(s) through a first cycle, ${String(ready)} through ${String(laterCycles)} more`);
        }
        return ready === vcenters.length;
      },
      // The first cycles (an hour of samples of every VM) share the machine with the simulators.
      240_000 + count * 120_000,
      1000,
    );
  } finally {
    await Promise.all(collectors.map((collector) => collector.stop()));
    await engine.destroy();
  }
  const elapsedMin = (Date.now() - startedMs) / 60_000;
  const later = vcenters.map((vcenter) => ({ vcenter: vcenter.id, cycles: ofVcenter(vcenter.id).slice(1) }));
  const allLater = later.flatMap((one) => one.cycles);
  const collectionMs = (cycle: CycleSeen): number => cycle.durationMs - cycle.importMs;
  const last = (vcenter: string): CycleSeen | undefined => ofVcenter(vcenter).at(-1);
  const split: Record<string, string[]> = {};
  for (const collector of ['A', 'B']) split[`collector ${collector}`] = vcenters.map((v) => v.id).filter((id) => cycles.some((cycle) => cycle.collector === collector && cycle.vcenter === id));
  const importedEntities = vcenters.reduce((sum, v) => sum + (last(v.id)?.importDone ?? 0), 0);
  return {
    vcenters: count,
    firstCycleAllSec: Math.round((Math.max(...vcenters.map((v) => ofVcenter(v.id)[0]?.timeMs ?? Number.NaN)) - startedMs) / 100) / 10,
    firstCycleMs: Object.fromEntries(vcenters.map((v) => [v.id, ofVcenter(v.id)[0]?.durationMs ?? Number.NaN])),
    firstCycleImportMs: Object.fromEntries(vcenters.map((v) => [v.id, ofVcenter(v.id)[0]?.importMs ?? Number.NaN])),
    laterCycles: allLater.length,
    laterCycleMedianMs: round(median(allLater.map((cycle) => cycle.durationMs))),
    laterCycleMaxMs: Math.max(...allLater.map((cycle) => cycle.durationMs)),
    laterCollectionMedianMs: round(median(allLater.map(collectionMs))),
    laterCollectionMaxMs: Math.max(...allLater.map(collectionMs)),
    laterCollectionMedianMsPerVcenter: Object.fromEntries(later.map((one) => [one.vcenter, round(median(one.cycles.map(collectionMs)))])),
    importAtEnd: Object.fromEntries(vcenters.map((v) => [v.id, `${String(last(v.id)?.importDone ?? 0)}/${String(last(v.id)?.importTotal ?? 0)}`])),
    importEntitiesPerMin: round(importedEntities / elapsedMin),
    elapsedSec: round(elapsedMin * 60),
    split,
    failedCycles,
  };
}

async function collectionPart(options: Required<Omit<ScaleBenchOptions, 'only' | 'progress'>>, postgres: PostgresServer, passwordFile: string, cleanup: Cleanup, progress: (line: string) => void): Promise<CollectionPartResult> {
  const shape = shapeFor(options.vcenterVms);
  const sims = await Promise.all(Array.from({ length: options.vcenters }, () => startVcsim(shape, 300_000).then((sim) => cleanup.simulator(sim))));
  const rows: CollectionRow[] = [];
  for (let count = 1; count <= options.vcenters; count++) {
    progress(`collection: ${String(count)} vCenter(s) of ${String(options.vcenterVms)} VMs, 2 collectors`);
    const row = await collectionRow(count, sims, postgres, passwordFile, options.laterCycles, cleanup, progress);
    progress(
      `  first cycles all done at ${String(row.firstCycleAllSec)} s; later cycles ${String(row.laterCycleMedianMs)} ms (max ${String(row.laterCycleMaxMs)}), ` +
        `without the import ${String(row.laterCollectionMedianMs)} ms (max ${String(row.laterCollectionMaxMs)}); import ${JSON.stringify(row.importAtEnd)}; split ${JSON.stringify(row.split)}`,
    );
    rows.push(row);
  }
  return { vcenterVms: options.vcenterVms, shape, intervalSec, collectors: 2, rows };
}

export async function benchScale(options: ScaleBenchOptions = {}): Promise<ScaleBenchResult> {
  const started = performance.now();
  const progress = options.progress ?? (() => undefined);
  const resolved = {
    vms: options.vms ?? 5000,
    seconds: options.seconds ?? 10,
    connections: options.connections ?? 50,
    seriesVms: options.seriesVms ?? 500,
    vcenterVms: options.vcenterVms ?? 500,
    vcenters: options.vcenters ?? 4,
    laterCycles: options.laterCycles ?? 2,
  };
  const machine = machineBefore();
  progress(`machine: ${String(machine.nproc)} x ${machine.cpuModel}; ${machine.uptimeBefore}`);
  const cleanup = new Cleanup();
  // On a signal: processes stopped, simulators told to stop, folders removed (the exit
  // handlers), then exit. `on`, not `once`: the PostgreSQL and engine harnesses raise the signal
  // again after their own cleanup, which must not kill this process before its own.
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    progress(`${signal}: cleaning up`);
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const failures: string[] = [];
  let api: ApiPartResult | null = null;
  let collection: CollectionPartResult | null = null;
  try {
    const postgres = await startPostgres();
    cleanup.add('remove PostgreSQL', () => postgres.destroy());
    const passwordFile = join(cleanup.dir('vscope-scale-secrets-'), 'db-password');
    writeFileSync(passwordFile, postgres.password, { mode: 0o600 });
    // Each part removes what it started before the next begins (the 5,000-VM simulator would
    // take CPU from the collection part).
    if (options.only !== 'collection') {
      const part = new Cleanup();
      try {
        api = await apiPart(resolved, postgres, passwordFile, part, progress);
        // Printed at once: a later failure of the collection part does not lose it.
        progress(`api part: ${JSON.stringify(api)}`);
      } finally {
        failures.push(...(await part.runAll()));
      }
    }
    if (options.only !== 'api') {
      const part = new Cleanup();
      try {
        collection = await collectionPart(resolved, postgres, passwordFile, part, progress);
      } finally {
        failures.push(...(await part.runAll()));
      }
    }
  } finally {
    failures.push(...(await cleanup.runAll()));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (failures.length > 0) progress(`cleanup problems:\n  ${failures.join('\n  ')}`);
  }
  return { machine: { ...machine, uptimeAfter: uptime() }, api, collection, totalSec: Math.round((performance.now() - started) / 1000) };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): number | undefined => {
    const at = process.argv.indexOf(`--${name}`);
    const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
    return Number.isFinite(value) && value > 0 ? value : undefined;
  };
  const onlyAt = process.argv.indexOf('--only');
  const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
  if (only !== undefined && only !== 'api' && only !== 'collection') {
    console.error('--only takes api or collection');
    process.exit(2);
  }
  const numeric = { vms: arg('vms'), seconds: arg('seconds'), seriesVms: arg('series-vms'), vcenterVms: arg('vcenter-vms'), vcenters: arg('vcenters'), laterCycles: arg('later-cycles') };
  benchScale({
    ...Object.fromEntries(Object.entries(numeric).filter(([, value]) => value !== undefined)),
    ...(only === undefined ? {} : { only }),
    progress: (line) => console.error(line),
  }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
