/**
 * Engine benchmark (issue #10): samples in a Prometheus-compatible engine against SQLite, with
 * Debian's Prometheus 2.42 and VictoriaMetrics 1.79 started on loopback for the run.
 *   - write: one collection cycle's samples of N VMs (default 5,000: 15 metrics x 6 realtime
 *     samples each, as a 2-minute cycle brings) through each store's writeRealtime, timed and
 *     with the CPU it took; samples per CPU-second of the writing process (for an engine:
 *     encoding, snappy, HTTP; the engine's own CPU is its process, not counted);
 *   - year series: a year of daily history for `historyVms` VMs (default 200) imported through
 *     each store's importHistorical (vCenter's 1-day interval), then `series` of a year for a
 *     random one of them (the realtime samples of the cycle merged into its newest bucket), p50 /
 *     p99 over `queries` asked by `concurrency` at once.
 * The collector's whole cycle with an engine against SQLite is in collector-bench.ts.
 *
 * Run: `node --import tsx bench/engine-bench.ts [--vms 5000] [--history-vms 200] [--queries 400]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { tierStepSec } from '../src/shared/tiers.ts';
import { openStores, type OpenStores } from '../src/store/open.ts';
import type { SampleBatch } from '../src/store/store.ts';
import { startEngine, type Engine, type EngineKind } from '../test/support/engines.ts';
import { median, random } from './stats.ts';
import { syntheticInventory, vmBatch } from './synthetic.ts';

export interface EngineBenchRow {
  readonly store: 'sqlite' | EngineKind;
  /** One cycle of every VM's samples written, wall ms and CPU ms of this process. */
  readonly cycleWriteMs: number;
  readonly cycleWriteCpuMs: number;
  readonly samplesPerCycle: number;
  /** Samples per CPU-second of the writing process. */
  readonly samplesPerCpuSec: number;
  /** Importing a year of daily history for the history VMs, wall ms. */
  readonly historyImportMs: number;
  readonly yearSeriesP50Ms: number;
  readonly yearSeriesP99Ms: number;
}

export interface EngineBenchResult {
  readonly vms: number;
  readonly historyVms: number;
  readonly queries: number;
  readonly concurrency: number;
  readonly rows: readonly EngineBenchRow[];
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** The writes of one store: a year of history for the first VMs, then one cycle of every VM. */
async function benchWrites(label: EngineBenchRow['store'], stores: OpenStores, vms: number, historyVms: number): Promise<Omit<EngineBenchRow, 'yearSeriesP50Ms' | 'yearSeriesP99Ms'>> {
  const snapshot = syntheticInventory(vms);
  await stores.store.saveInventory(snapshot);
  const nowSec = snapshot.collectedAtSec;
  const next = random(11);

  // A year of daily history for the first VMs, as the import writes it (vCenter's 1-day interval).
  const dayTs = Array.from({ length: 365 }, (_, i) => (Math.floor(nowSec / 86400) - 365 + i) * 86400 + 86400);
  const importStart = performance.now();
  const withHistory = snapshot.vms.slice(0, historyVms);
  for (let at = 0; at < withHistory.length; at += 50) {
    await stores.store.importHistorical('1d', withHistory.slice(at, at + 50).map((vm) => vmBatch(vm, 86400, dayTs, next)));
  }
  const historyImportMs = Math.round(performance.now() - importStart);

  // One cycle: 6 realtime samples of every VM, written in groups of 50 as the collector does.
  const cycleTs = Array.from({ length: 6 }, (_, i) => nowSec - 120 + 20 * (i + 1));
  const batches: SampleBatch[][] = [];
  for (let at = 0; at < snapshot.vms.length; at += 50) batches.push(snapshot.vms.slice(at, at + 50).map((vm) => vmBatch(vm, 20, cycleTs, next)));
  const samplesPerCycle = snapshot.vms.length * cycleTs.length * (Object.keys(batches[0]?.[0]?.values ?? {}).length);
  const cpuBefore = process.cpuUsage();
  const writeStart = performance.now();
  for (const group of batches) await stores.store.writeRealtime(group);
  const cycleWriteMs = Math.round(performance.now() - writeStart);
  const cpu = process.cpuUsage(cpuBefore);
  const cycleWriteCpuMs = Math.round((cpu.user + cpu.system) / 1000);

  return {
    store: label,
    cycleWriteMs,
    cycleWriteCpuMs,
    samplesPerCycle,
    samplesPerCpuSec: Math.round(samplesPerCycle / (cycleWriteCpuMs / 1000)),
    historyImportMs,
  };
}

export async function benchEngines(options: { vms?: number; historyVms?: number; queries?: number; concurrency?: number; progress?: (line: string) => void } = {}): Promise<EngineBenchResult> {
  const vms = options.vms ?? 5000;
  const historyVms = options.historyVms ?? 200;
  const queries = options.queries ?? 400;
  const concurrency = options.concurrency ?? 8;
  const progress = options.progress ?? (() => undefined);
  const log = pino({ level: 'warn' }, pino.destination(2));
  const dir = mkdtempSync(join(tmpdir(), 'vscope-engine-bench-'));
  const rows: EngineBenchRow[] = [];
  try {
    progress('SQLite');
    const sqlite = await openStores({ sqlitePath: join(dir, 'sqlite.db'), engine: null }, log);
    try {
      const writes = await benchWrites('sqlite', sqlite, vms, historyVms);
      const timed = await benchQueries('sqlite', sqlite, vms, historyVms, queries, concurrency);
      rows.push({ ...writes, yearSeriesP50Ms: timed.p50, yearSeriesP99Ms: timed.p99 });
    } finally {
      await sqlite.close();
    }
    for (const kind of ['victoria-metrics', 'prometheus'] as const) {
      progress(kind);
      const engine: Engine = await startEngine(kind);
      const stores = await openStores(
        { sqlitePath: join(dir, `${kind}.db`), engine: { remoteWriteUrl: engine.remoteWriteUrl, promqlUrl: engine.url, auth: null, headers: {}, version: 'bench' } },
        log,
      );
      try {
        const writes = await benchWrites(kind, stores, vms, historyVms);
        // Queries once the engine made everything searchable.
        await engine.flush();
        const timed = await benchQueries(kind, stores, vms, historyVms, queries, concurrency);
        rows.push({ ...writes, yearSeriesP50Ms: timed.p50, yearSeriesP99Ms: timed.p99 });
      } finally {
        await stores.close();
        await engine.destroy();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { vms, historyVms, queries, concurrency, rows };
}

/** Year series of random history VMs, `concurrency` at a time: p50 and p99, ms. */
async function benchQueries(label: string, stores: OpenStores, vms: number, historyVms: number, queries: number, concurrency: number): Promise<{ p50: number; p99: number }> {
  const snapshot = syntheticInventory(vms);
  const withHistory = snapshot.vms.slice(0, historyVms);
  const nowSec = snapshot.collectedAtSec;
  const step = tierStepSec['1d'];
  const times: number[] = [];
  let asked = 0;
  const pick = random(5);
  const worker = async (): Promise<void> => {
    while (asked < queries) {
      asked++;
      const vm = withHistory[Math.floor(pick() * withHistory.length)];
      if (vm === undefined) continue;
      const started = performance.now();
      const answer = await stores.store.series({ entityId: vm.id, tier: '1d', fromSec: Math.floor((nowSec - 366 * 86400) / step) * step, toSec: Math.floor(nowSec / step) * step });
      times.push(performance.now() - started);
      if (!answer.series.some((series) => series.avg.some((value) => value !== null))) throw new Error(`${label}: an empty year for ${vm.id}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { p50: Math.round(median(times) * 10) / 10, p99: Math.round(percentile(times, 99) * 10) / 10 };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string): number | undefined => {
    const at = process.argv.indexOf(`--${name}`);
    const value = at >= 0 ? Number(process.argv[at + 1]) : NaN;
    return Number.isFinite(value) && value > 0 ? value : undefined;
  };
  const vms = arg('vms');
  const historyVms = arg('history-vms');
  const queries = arg('queries');
  benchEngines({
    ...(vms === undefined ? {} : { vms }),
    ...(historyVms === undefined ? {} : { historyVms }),
    ...(queries === undefined ? {} : { queries }),
    progress: (line) => console.error(line),
  }).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
