/**
 * Steady cycles of a long-lived collector (issue #12: `vscope serve` keeps its collector and its
 * session between cycles), discovery by property-collector updates against whole pages, in one
 * run on one simulator: two collectors in this process, each with its own SQLite file, take
 * turns in slots of `--period-sec` (each starts its cycles at its own offset in the period, so
 * both run every period and fetch the same new samples). Per cycle: the process's CPU
 * (`process.cpuUsage()` around `runOnce`: nothing else runs in this process meanwhile), and
 * the collector's own per-phase CPU (its debug log line "collection cycle phases").
 *
 *   node --import tsx bench/serve-cycle-bench.ts [--vms 5000] [--cycles 6] [--period-sec 20]
 *
 * No history import (`importHistory: false`): the first cycle stores the newest samples only,
 * the following ones every sample since, as a steady `serve` does once its import is done.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createCollector, type Collector } from '../src/collector/collector.ts';
import { startVcsim } from '../src/simulator/vcsim.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { collectorShape } from './collector-bench.ts';
import { median } from './stats.ts';

const { values } = parseArgs({
  options: {
    vms: { type: 'string', default: '5000' },
    cycles: { type: 'string', default: '6' },
    'period-sec': { type: 'string', default: '20' },
  },
});
const vms = Number(values.vms);
const cycles = Number(values.cycles);
const periodMs = Number(values['period-sec']) * 1000;

type Mode = 'updates' | 'pages';

interface CycleRow {
  readonly mode: Mode;
  readonly cycle: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly samples: number;
  readonly phasesCpuMs: Record<string, number>;
  readonly discovery: unknown;
  readonly load1: number;
}

const username = 'bench';
const password = 'bench';
const sim = await startVcsim({ ...collectorShape(vms), username, password });
const dir = mkdtempSync(join(tmpdir(), 'vscope-serve-bench-'));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Until the clock is `offsetMs` into a period (the next such time). */
const untilOffset = (offsetMs: number): Promise<void> => sleep((offsetMs - (Date.now() % periodMs) + periodMs) % periodMs || periodMs);

interface Runner {
  readonly mode: Mode;
  readonly collector: Collector;
  readonly store: SqliteStore;
  readonly phases: Record<string, unknown>[];
}

function runner(mode: Mode): Runner {
  const store = openSqliteStore(join(dir, `${mode}.db`));
  const phases: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'debug' },
    {
      write: (line: string) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        if (entry['msg'] === 'collection cycle phases') phases.push(entry);
      },
    },
  );
  const collector = createCollector({
    store,
    vcenters: [{ id: 'bench', url: sim.url, username, password }],
    intervalSec: 120,
    log,
    discovery: mode,
    tuning: { importHistory: false },
  });
  return { mode, collector, store, phases };
}

const runners = [runner('updates'), runner('pages')];
const rows: CycleRow[] = [];
const loadBefore = loadavg();
try {
  for (let cycle = 1; cycle <= cycles; cycle++) {
    for (const [index, r] of runners.entries()) {
      await untilOffset(((index + 0.2) * periodMs) / runners.length);
      const cpu = process.cpuUsage();
      const started = performance.now();
      const [result] = await r.collector.runOnce();
      const used = process.cpuUsage(cpu);
      if (!result?.ok) throw new Error(`${r.mode} cycle ${String(cycle)} failed: ${result?.error ?? 'no result'}`);
      const phases = r.phases.at(-1) ?? {};
      const row: CycleRow = {
        mode: r.mode,
        cycle,
        wallMs: Math.round(performance.now() - started),
        cpuMs: Math.round((used.user + used.system) / 1000),
        samples: result.counts.samples,
        phasesCpuMs: (phases['cpuMs'] ?? {}) as Record<string, number>,
        discovery: phases['discovery'] ?? null,
        load1: Math.round(loadavg()[0]! * 100) / 100,
      };
      rows.push(row);
      console.error(JSON.stringify(row));
    }
  }
} finally {
  for (const r of runners) {
    await r.collector.stop();
    r.store.close();
  }
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
}

// The second cycle still brings what came during the first one's long cycle: steady from the third.
const steady = (mode: Mode): CycleRow[] => rows.filter((r) => r.mode === mode && r.cycle > 2);
const summary = Object.fromEntries(
  (['updates', 'pages'] as const).map((mode) => {
    const list = steady(mode);
    const phase = (name: string): number => median(list.map((r) => r.phasesCpuMs[name] ?? 0));
    const first = rows.find((r) => r.mode === mode && r.cycle === 1);
    return [
      mode,
      {
        steadyCycleCpuMs: median(list.map((r) => r.cpuMs)),
        steadyDiscoveryCpuMs: phase('discoveryMs'),
        steadySaveInventoryCpuMs: phase('saveInventoryMs'),
        steadyRealtimeCpuMs: phase('realtimeMs'),
        steadyDatastoresCpuMs: phase('datastoresMs'),
        steadyWallMs: median(list.map((r) => r.wallMs)),
        firstCycleCpuMs: first?.cpuMs ?? null,
        firstDiscoveryCpuMs: first?.phasesCpuMs['discoveryMs'] ?? null,
      },
    ];
  }),
);
console.log(JSON.stringify({ vms, cycles, periodSec: periodMs / 1000, node: process.version, loadBefore, loadAfter: loadavg(), summary, rows }, null, 2));
