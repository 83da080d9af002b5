/**
 * Insights benchmark (issue 13): GET /api/datacenters/:id/capacity?period=month and
 * GET /api/datacenters/:id/contention?period=month at N VMs (default 5,000), cold and warm.
 * Target: under 200 ms each with a warm cache, under 2 s cold.
 *
 * The store (SQLite, temporary file) holds the synthetic inventory of bench/synthetic.ts (N VMs
 * on N/50 hosts and N/250 datastores) with 26 hours of 5-minute buckets for every VM and host
 * and a month of 2-hour buckets for every VM, host and
 * datastore, imported through the store's own `importHistorical` as the collector's history
 * import does, then the last 5 minutes of realtime samples of every VM and host (what a running
 * collector has written: every high-water mark is recent), then the block summaries the collector
 * makes once its import is done (`fillVmSummaries`, timed: `daySummaries`). The app is the real one, asked
 * through `inject` (no sockets: the figures are the answers' own cost), logged in through a
 * simulator. The clock stands still during the run.
 *
 * Measured, in ms:
 *   - `coldFirstMs`: the first answer of a fresh app (nothing cached). Past 1.5 s of reading
 *     it answers with its progress (hosts, clusters and datastores whole, VM parts pending);
 *   - `coldMs`: from that first request until an answer holds every VM (asked again every
 *     half second): every VM's month read once;
 *   - `warm`: the same question again, same data (median of `runs`);
 *   - `afterCycle`: after one collection cycle's writes (a new sample for every VM and host, in
 *     the bucket still filling): the data version moved, the VM analyses stand;
 *   - `otherPerson`: the first answer for a second person (their own scope) after the above;
 *   - `day`: the day period's cold answers (5-minute buckets, hourly summaries), first and whole;
 *   - `readAllVmsMs`: store.series of the month for every VM, one after the other: the floor
 *     of a cold answer with the store's per-entity reads;
 *   - `datastoreFitMs`: one fill forecast (30 days of 2-hour buckets), to check the cost the
 *     capacity math's author measured for thousands of datastores.
 *
 * Run: `node --import tsx bench/insights-bench.ts [--vms 5000] [--runs 20] [--db FILE]`
 * (`--db` keeps the filled database in FILE and reuses it when it exists).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { buildApp } from '../src/server/app.ts';
import { vsphereAuthenticator } from '../src/server/auth.ts';
import { forecastDatastoreFill } from '../src/shared/capacity.ts';
import type { InventorySnapshot } from '../src/shared/inventory.ts';
import { startVcsim } from '../src/simulator/vcsim.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { SampleBatch } from '../src/store/store.ts';
import { snapshotScope, withScopes } from '../test/support/scoped-auth.ts';
import { median, random } from './stats.ts';
import { syntheticInventory, vmBatch } from './synthetic.ts';

export interface InsightsBenchOptions {
  readonly vms?: number;
  /** Warm answers measured per question; default 20. */
  readonly runs?: number;
  /** Keep the filled database here (and reuse it when present). */
  readonly db?: string;
  readonly progress?: (line: string) => void;
}

interface Timings {
  readonly coldFirstMs: number;
  /** Whether that first answer was already whole. */
  readonly coldFirstWhole: boolean;
  readonly coldMs: number;
  readonly warmMs: number;
  readonly afterCycleMs: number;
  readonly otherPersonMs: number;
  readonly bodyBytes: number;
}

export interface InsightsBenchResult {
  readonly vms: number;
  readonly hosts: number;
  readonly datastores: number;
  /** 2-hour buckets stored per entity. */
  readonly bucketsPerEntity: number;
  readonly fillSeconds: number | null;
  readonly capacity: Timings;
  /** Contention's cold answer in a fresh app of its own (not after capacity's). */
  readonly contention: Timings;
  /** The first contention answer right after the capacity one: the VM analyses are shared. */
  readonly contentionAfterCapacityMs: number;
  /** The day period (5-minute buckets, hourly summaries), cold in a fresh app each: first answer and whole. */
  readonly day: { readonly capacity: { readonly coldFirstMs: number; readonly coldFirstWhole: boolean; readonly coldMs: number }; readonly contention: { readonly coldFirstMs: number; readonly coldFirstWhole: boolean; readonly coldMs: number } };
  /** The collector's step after its import (`fillVmSummaries`): blocks summarized (0 when a reused database has them) and its time. */
  readonly daySummaries: { readonly days: number; readonly ms: number };
  readonly readAllVmsMs: number;
  readonly datastoreFitMs: number;
  readonly rssMB: number;
  readonly loadAverage: readonly [number, number];
}

const stepSec = 7200;
const bucketsPerEntity = 31 * 12 + 1;

const round = (ms: number): number => Math.round(ms * 10) / 10;

/** A host's or datastore's samples of `intervalSec` ending at `ends`: busy hosts, datastores growing 2 GB a bucket. */
function hostOrDatastoreBatch(entityId: string, kind: 'host' | 'datastore', intervalSec: number, ends: readonly number[], next: () => number): SampleBatch {
  const values: Record<string, number[]> =
    kind === 'host'
      ? { cpuUsagePct: ends.map(() => 30 + next() * 40), cpuUsedMhz: ends.map(() => 30000 + next() * 40000), memUsagePct: ends.map(() => 60), memConsumedMB: ends.map(() => 600000 + next() * 100000) }
      : { usedGB: ends.map((_, i) => 10000 + i * 2 + next() * 3), capacityGB: ends.map(() => 16384), freeGB: ends.map(() => 4096), provisionedGB: ends.map(() => 14000) };
  return { entityId, kind, intervalSec, ts: ends, values };
}

function fill(store: SqliteStore, snapshot: InventorySnapshot, nowSec: number, progress: (line: string) => void): void {
  store.saveInventory(snapshot);
  const next = random(13);
  const lastEnd = Math.floor(nowSec / stepSec) * stepSec;
  const ends = Array.from({ length: bucketsPerEntity - 1 }, (_, i) => lastEnd - (bucketsPerEntity - 2 - i) * stepSec);
  for (let start = 0; start < snapshot.vms.length; start += 250) {
    store.importHistorical('2h', snapshot.vms.slice(start, start + 250).map((vm) => vmBatch(vm, stepSec, ends, next)));
    if (start % 1000 === 0) progress(`imported a month of 2-hour buckets for ${String(start + 250)} VMs`);
  }
  store.importHistorical('2h', [
    ...snapshot.hosts.map((host) => hostOrDatastoreBatch(host.id, 'host', stepSec, ends, next)),
    ...snapshot.datastores.map((ds) => hostOrDatastoreBatch(ds.id, 'datastore', stepSec, ends, next)),
  ]);
  // The day's 5-minute buckets (26 hours, as the 5-minute tier keeps 2 days), for the day period.
  const lastFive = Math.floor((nowSec - 300) / 300) * 300;
  const fiveCount = (26 * 3600) / 300;
  const fiveEnds = Array.from({ length: fiveCount }, (_, i) => lastFive - (fiveCount - 1 - i) * 300);
  for (let start = 0; start < snapshot.vms.length; start += 250) {
    store.importHistorical('5m', snapshot.vms.slice(start, start + 250).map((vm) => vmBatch(vm, 300, fiveEnds, next)));
    if (start % 1000 === 0) progress(`imported a day of 5-minute buckets for ${String(start + 250)} VMs`);
  }
  store.importHistorical('5m', snapshot.hosts.map((host) => hostOrDatastoreBatch(host.id, 'host', 300, fiveEnds, next)));
  writeCycle(store, snapshot, Array.from({ length: 15 }, (_, i) => nowSec - 300 + 20 * (i + 1)), next);
}

/** One cycle's realtime samples for every powered-on VM and every host. */
function writeCycle(store: SqliteStore, snapshot: InventorySnapshot, ends: readonly number[], next: () => number): void {
  const vms = snapshot.vms.filter((vm) => vm.powerState === 'poweredOn');
  for (let start = 0; start < vms.length; start += 250) store.writeRealtime(vms.slice(start, start + 250).map((vm) => vmBatch(vm, 20, ends, next)));
  store.writeRealtime(snapshot.hosts.map((host) => hostOrDatastoreBatch(host.id, 'host', 20, ends, next)));
}

export async function benchInsights(options: InsightsBenchOptions = {}): Promise<InsightsBenchResult> {
  const vmCount = options.vms ?? 5000;
  const runs = options.runs ?? 20;
  const progress = options.progress ?? (() => undefined);
  const loadBefore = loadavg()[0] ?? 0;
  const snapshot = syntheticInventory(vmCount);
  const datacenterId = snapshot.datacenters[0]?.id ?? '';
  const tempDir = options.db === undefined ? mkdtempSync(join(tmpdir(), 'vscope-insights-bench-')) : null;
  const path = options.db ?? join(tempDir ?? '.', 'bench.db');
  const reuse = options.db !== undefined && existsSync(path);
  // Any login: the persons' scopes come from the synthetic inventory (scoped-auth.ts).
  const sim = await startVcsim({ vmsPerPool: 1 });
  try {
    // The clock of the run: the filled data ends now; a reused database keeps its own "now".
    const store = openSqliteStore(path);
    const clockFile = `${path}.now`;
    const nowSec = reuse && existsSync(clockFile) ? Number(readFileSync(clockFile, 'utf8')) : Math.floor(Date.now() / 1000);
    let fillSeconds: number | null = null;
    if (!reuse) {
      const started = performance.now();
      fill(store, snapshot, nowSec, progress);
      fillSeconds = Math.round((performance.now() - started) / 100) / 10;
      writeFileSync(clockFile, String(nowSec));
      progress(`filled in ${String(fillSeconds)} s`);
    }
    // What the collector does once its history import is done: summarize the final days.
    const summariesStarted = performance.now();
    const summaryDaysMade = store.fillVmSummaries(nowSec);
    const daySummariesMs = round(performance.now() - summariesStarted);
    progress(`${String(summaryDaysMade)} days summarized in ${String(daySummariesMs)} ms`);
    const everyone = snapshotScope(snapshot);
    // The second person may read half the VMs (and every host and datastore).
    const half = snapshotScope(snapshot, (entity) => entity.kind !== 'vm' || entity.id.charCodeAt(entity.id.length - 1) % 2 === 0);
    const makeApp = () =>
      buildApp({
        store,
        sessionStore: store,
        loginLimiter: store,
        auth: withScopes(vsphereAuthenticator([{ id: 'bench', name: 'Bench', url: sim.url }]), (_vcenterId, username) => (username === 'half' ? half : everyone)),
        log: pino({ level: 'silent' }),
        now: () => nowSec * 1000,
        config: { intervalSec: 120, version: 'bench', sessionIdleSec: 3600, sessionMaxSec: 3600, secureCookies: false },
      });
    const login = async (app: ReturnType<typeof makeApp>, username: string): Promise<string> => {
      const response = await app.inject({ method: 'POST', url: '/api/session', payload: { username, password: 'bench-password' } });
      const cookie = response.cookies.find((candidate) => candidate.name === 'vscope_session');
      if (response.statusCode !== 200 || cookie === undefined) throw new Error(`login failed: ${String(response.statusCode)} ${response.body}`);
      return `vscope_session=${cookie.value}`;
    };
    const timed = async (app: ReturnType<typeof makeApp>, cookie: string, url: string): Promise<{ ms: number; bytes: number; whole: boolean }> => {
      const started = performance.now();
      const response = await app.inject({ method: 'GET', url, headers: { cookie } });
      const ms = performance.now() - started;
      if (response.statusCode !== 200) throw new Error(`${url}: ${String(response.statusCode)} ${response.body.slice(0, 300)}`);
      const body = response.json<{ progress?: unknown; vms?: { progress: unknown } }>();
      return { ms, bytes: response.rawPayload.length, whole: (body.vms?.progress ?? body.progress ?? null) === null };
    };
    /** The first answer, then asked again every half second until whole. */
    const cold = async (app: ReturnType<typeof makeApp>, cookie: string, url: string): Promise<{ first: { ms: number; whole: boolean }; ms: number; bytes: number }> => {
      const started = performance.now();
      const first = await timed(app, cookie, url);
      let last = first;
      while (!last.whole) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        last = await timed(app, cookie, url);
      }
      return { first, ms: performance.now() - started, bytes: last.bytes };
    };
    const capacityUrl = `/api/datacenters/${datacenterId}/capacity?period=month`;
    const contentionUrl = `/api/datacenters/${datacenterId}/contention?period=month&metric=cpuReady&rankBy=peak`;

    const measure = async (
      app: ReturnType<typeof makeApp>,
      cookie: string,
      url: string,
      first: { first: { ms: number; whole: boolean }; ms: number; bytes: number },
    ): Promise<Omit<Timings, 'afterCycleMs' | 'otherPersonMs'>> => {
      const warm: number[] = [];
      for (let run = 0; run < runs; run++) warm.push((await timed(app, cookie, url)).ms);
      return { coldFirstMs: round(first.first.ms), coldFirstWhole: first.first.whole, coldMs: round(first.ms), warmMs: round(median(warm)), bodyBytes: first.bytes };
    };

    // Capacity first, in a fresh app; then contention in the same app (shared analyses).
    const first = makeApp();
    const cookie = await login(first, 'bench');
    progress('capacity, cold');
    const capacityCold = await cold(first, cookie, capacityUrl);
    const capacity = await measure(first, cookie, capacityUrl, capacityCold);
    progress(`capacity: first answer ${String(capacity.coldFirstMs)} ms, whole after ${String(capacity.coldMs)} ms, warm ${String(capacity.warmMs)} ms`);
    const contentionAfterCapacity = await timed(first, cookie, contentionUrl);

    // Contention cold in a fresh app of its own.
    const second = makeApp();
    const cookie2 = await login(second, 'bench');
    const contentionCold = await cold(second, cookie2, contentionUrl);
    const contention = await measure(second, cookie2, contentionUrl, contentionCold);
    progress(`contention: first answer ${String(contention.coldFirstMs)} ms, whole after ${String(contention.coldMs)} ms, warm ${String(contention.warmMs)} ms`);

    // The day period, cold, each in a fresh app.
    const dayCold = async (url: string): Promise<{ coldFirstMs: number; coldFirstWhole: boolean; coldMs: number }> => {
      const app = makeApp();
      const result = await cold(app, await login(app, 'bench'), url);
      await app.close();
      return { coldFirstMs: round(result.first.ms), coldFirstWhole: result.first.whole, coldMs: round(result.ms) };
    };
    const day = {
      capacity: await dayCold(`/api/datacenters/${datacenterId}/capacity?period=day`),
      contention: await dayCold(`/api/datacenters/${datacenterId}/contention?period=day&metric=cpuReady&rankBy=peak`),
    };
    progress(`day: capacity ${JSON.stringify(day.capacity)}, contention ${JSON.stringify(day.contention)}`);

    // One collection cycle later (same clock: its samples land in the bucket still filling).
    writeCycle(store, snapshot, [nowSec - 10], random(99));
    const capacityAfterCycle = await timed(first, cookie, capacityUrl);
    const contentionAfterCycle = await timed(second, cookie2, contentionUrl);
    const other = await login(first, 'half');
    const capacityOther = await timed(first, other, capacityUrl);
    const other2 = await login(second, 'half');
    const contentionOther = await timed(second, other2, contentionUrl);

    // The floor of a cold answer: every VM's month, one store read each.
    const fromSec = Math.floor((nowSec - 31 * 86400) / stepSec) * stepSec;
    const readStart = performance.now();
    for (const vm of snapshot.vms) store.series({ entityId: vm.id, tier: '2h', fromSec, toSec: fromSec + 371 * stepSec, metrics: ['cpuUsagePct', 'cpuReadyMs', 'memUsagePct', 'diskReadKBps', 'diskWriteKBps', 'netRxKBps', 'netTxKBps'] });
    const readAllVmsMs = performance.now() - readStart;

    const ds = snapshot.datastores[0];
    const used = ds ? store.series({ entityId: ds.id, tier: '2h', fromSec, toSec: fromSec + 372 * stepSec, metrics: ['usedGB'] }) : null;
    const fitRuns = 200;
    const fitStart = performance.now();
    for (let run = 0; run < fitRuns && used !== null; run++) {
      const series = used.series[0];
      if (series) forecastDatastoreFill({ capacityGB: 16384, usedGB: { stepSec: used.stepSec, ts: used.ts, avg: series.avg, max: series.max } }, nowSec);
    }
    const datastoreFitMs = (performance.now() - fitStart) / fitRuns;

    await first.close();
    await second.close();
    store.close();
    return {
      vms: vmCount,
      hosts: snapshot.hosts.length,
      datastores: snapshot.datastores.length,
      bucketsPerEntity,
      fillSeconds,
      daySummaries: { days: summaryDaysMade, ms: daySummariesMs },
      capacity: { ...capacity, afterCycleMs: round(capacityAfterCycle.ms), otherPersonMs: round(capacityOther.ms) },
      contention: { ...contention, afterCycleMs: round(contentionAfterCycle.ms), otherPersonMs: round(contentionOther.ms) },
      contentionAfterCapacityMs: round(contentionAfterCapacity.ms),
      day,
      readAllVmsMs: round(readAllVmsMs),
      datastoreFitMs: Math.round(datastoreFitMs * 100) / 100,
      rssMB: Math.round(process.memoryUsage().rss / 1024 / 1024),
      loadAverage: [Math.round(loadBefore * 100) / 100, Math.round((loadavg()[0] ?? 0) * 100) / 100],
    };
  } finally {
    await sim.stop();
    if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true });
  }
}

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const db = argument('--db');
  const result = await benchInsights({
    vms: Number(argument('--vms') ?? 5000),
    runs: Number(argument('--runs') ?? 20),
    ...(db === undefined ? {} : { db }),
    progress: (line) => console.error(line),
  });
  console.log(JSON.stringify(result, null, 2));
}
