/**
 * Store benchmark: size on disk after a simulated year, realtime insert throughput, and query
 * times, for N VMs (default 500).
 *
 * Run: `node --import tsx bench/store-bench.ts [--vms 5000] [--path file.db] [--keep]`
 *
 * How it simulates a year: every tier is filled with the buckets it holds in steady state
 * after a year of collection: 5-minute buckets for 2 days, 30-minute for 14, 2-hour for 62,
 * daily for 365 (their retention, the daily tier's cut at the year simulated). Feeding a year
 * of 20-second samples through `writeRealtime` would take hours, so these buckets are encoded
 * with the store's own codec (bucket-codec.ts) and inserted into its own tables in time order
 * (all VMs' bucket t, then t + step...), as the collector produces them, full counts included
 * (15, 90, 360 and 4320 samples). Values look like vCenter's: integers for MHz, KB/s, ms and
 * IOPS, hundredths for percentages, twentieths for packets per second, each VM's level drawn
 * from a log-normal spread, with min/max around every average.
 *
 * How values are counted: one metric's avg/min/max triple in one bucket counts as 3 stored
 * values; bytes per value = the whole database file (inventory, indexes and free space
 * included, after a WAL checkpoint) / (bucket rows x metrics per VM x 3).
 *
 * Throughput is measured separately on the real write path: an hour of 2-minute cycles of
 * realtime samples (6 per VM per cycle, every VM metric) through `writeRealtime`, on top of the
 * year-old database.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { entityId } from '../src/shared/entity-id.ts';
import type { InventorySnapshot, VmInfo } from '../src/shared/inventory.ts';
import { vmMetrics } from '../src/shared/metrics.ts';
import type { Rollup } from '../src/shared/rollup.ts';
import { tierStepSec, tiers, type Tier } from '../src/shared/tiers.ts';
import { encodeBucket } from '../src/store/sqlite/bucket-codec.ts';
import { sampleTable } from '../src/store/sqlite/migrations.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { SampleBatch } from '../src/store/store.ts';
import { median, random } from './stats.ts';

export interface StoreBenchOptions {
  /** Number of VMs; default 500. */
  readonly vms?: number;
  /** Database file; a temporary one (deleted afterwards) by default. */
  readonly path?: string;
  /** Keep the database file; default false. */
  readonly keep?: boolean;
  /** Random seed; default 1. */
  readonly seed?: number;
  /** Progress lines; silent by default. */
  readonly progress?: (line: string) => void;
}

export interface StoreBenchResult {
  readonly vms: number;
  readonly metricsPerVm: number;
  /** Days of buckets held per tier after the simulated year. */
  readonly daysPerTier: Readonly<Record<Tier, number>>;
  readonly rowsPerTier: Readonly<Record<Tier, number>>;
  /** Bucket rows x metrics x 3 (avg, min, max). */
  readonly storedValues: number;
  readonly dbBytes: number;
  readonly bytesPerValue: number;
  /** Bytes of the sample tables alone (dbstat), per stored value. */
  readonly sampleBytesPerValue: number;
  readonly fillSeconds: number;
  readonly realtime: {
    readonly cycles: number;
    readonly samples: number;
    readonly seconds: number;
    /** CPU time of this process over the same writes (user + system): less sensitive to a busy machine. */
    readonly cpuSeconds: number;
    readonly samplesPerSec: number;
    readonly valuesPerSec: number;
    /** Median time of one 2-minute cycle's writeRealtime for all VMs. */
    readonly cycleMs: number;
  };
  /** Median ms of one series query (all VM metrics) over the tier's period: day, week, month, year. */
  readonly seriesMs: Readonly<Record<Tier, number>>;
  /** Median ms of `latest` for every VM at once. */
  readonly latestAllMs: number;
  readonly retentionMs: number;
  /** 1-minute load average before and after the run: timings above are only as quiet as the machine. */
  readonly loadAverage: readonly [number, number];
}

const daysPerTier: Record<Tier, number> = { '5m': 2, '30m': 14, '2h': 62, '1d': 365 };
const countPerTier: Record<Tier, number> = { '5m': 15, '30m': 90, '2h': 360, '1d': 4320 };
const periodBuckets: Record<Tier, number> = { '5m': 288, '30m': 336, '2h': 372, '1d': 366 };

/** Typical level (median over VMs) and resolution of each VM metric, in vmMetrics order. */
const profiles: Record<string, { readonly median: number; readonly resolution: number; readonly cap?: number }> = {
  cpuUsagePct: { median: 8, resolution: 0.01, cap: 100 },
  cpuUsedMhz: { median: 400, resolution: 1 },
  cpuReadyMs: { median: 40, resolution: 1 },
  memUsagePct: { median: 20, resolution: 0.01, cap: 100 },
  netRxKBps: { median: 50, resolution: 1 },
  netTxKBps: { median: 40, resolution: 1 },
  netRxPps: { median: 80, resolution: 0.05 },
  netTxPps: { median: 60, resolution: 0.05 },
  diskReadKBps: { median: 100, resolution: 1 },
  diskWriteKBps: { median: 150, resolution: 1 },
  diskReadIops: { median: 10, resolution: 1 },
  diskWriteIops: { median: 15, resolution: 1 },
  diskReadLatencyMs: { median: 2, resolution: 1 },
  diskWriteLatencyMs: { median: 3, resolution: 1 },
  diskMaxLatencyMs: { median: 6, resolution: 1 },
};

const quantize = (value: number, resolution: number): number => Math.round(value / resolution) * resolution;

function inventory(vcenterId: string, vmCount: number, collectedAtSec: number): InventorySnapshot {
  const dcId = entityId('datacenter', vcenterId, 'datacenter-1');
  const vms = Array.from({ length: vmCount }, (_, i): VmInfo => ({
    kind: 'vm', id: entityId('vm', vcenterId, `vm-${i}`), vcenterId, moRef: `vm-${i}`, name: `vm-${String(i).padStart(5, '0')}`,
    datacenterId: dcId, hostId: null, clusterId: null, datastoreIds: [], powerState: 'poweredOn', overallStatus: 'green',
    guestOs: 'ubuntu64Guest', ipAddress: `10.0.${Math.floor(i / 250)}.${i % 250}`, numCpu: 2, memoryMB: 4096,
    diskProvisionedGB: 60, diskUsedGB: 25, toolsRunningStatus: 'guestToolsRunning', toolsVersionStatus: 'guestToolsCurrent',
    toolsVersion: '12352', faultToleranceState: 'notConfigured', snapshotCount: 0, isTemplate: false,
  }));
  return {
    vcenterId, collectedAtSec,
    datacenters: [{ kind: 'datacenter', id: dcId, vcenterId, moRef: 'datacenter-1', name: 'DC' }],
    clusters: [], hosts: [], vms, datastores: [],
  };
}

/** A VM's level of each metric: log-normal around the profile's median; a quarter idle at zero. */
function vmLevels(next: () => number): number[] {
  return vmMetrics.map((metric) => {
    const profile = profiles[metric.key] ?? { median: 1, resolution: 1 };
    if (next() < 0.25 && !metric.key.endsWith('Pct')) return 0;
    const normal = Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next());
    return Math.min(profile.cap ?? Infinity, profile.median * Math.exp(normal));
  });
}

/** One bucket's rollups: an average near the level, a dip and a peak around it. */
function bucketRollups(levels: readonly number[], count: number, next: () => number): Rollup[] {
  return vmMetrics.map((metric, i) => {
    const profile = profiles[metric.key] ?? { median: 1, resolution: 1 };
    const level = levels[i] ?? 0;
    const cap = profile.cap ?? Infinity;
    const avg = Math.min(cap, quantize(level * (0.6 + 0.8 * next()), profile.resolution));
    const min = quantize(avg * (1 - 0.9 * next()), profile.resolution);
    const max = Math.min(cap, quantize(avg * (1 + 2 * next()), profile.resolution));
    // A sum of `count` values of that resolution is itself a multiple of the resolution.
    const sum = quantize(avg * count, profile.resolution);
    return { sum, count, min: Math.min(min, avg), max: Math.max(max, avg) };
  });
}

export async function benchStore(options: StoreBenchOptions = {}): Promise<StoreBenchResult> {
  const vmCount = options.vms ?? 500;
  const progress = options.progress ?? (() => undefined);
  const next = random(options.seed ?? 1);
  const tempDir = options.path === undefined ? mkdtempSync(join(tmpdir(), 'vscope-store-bench-')) : null;
  const path = options.path ?? join(tempDir ?? '.', 'bench.db');
  const vcenterId = 'bench-vc';
  // "Now": a day boundary; the simulated year ends there.
  const nowSec = 86400 * 20600;
  const loadBefore = loadavg()[0] ?? 0;

  try {
    const store = openSqliteStore(path);
    store.saveInventory(inventory(vcenterId, vmCount, nowSec));
    const vmIds = inventory(vcenterId, vmCount, nowSec).vms.map((vm) => vm.id);
    const levels = vmIds.map(() => vmLevels(next));

    // Fill: the steady state of every tier, in time order, through the store's codec and tables.
    const raw = new Database(path);
    // The fill is set-up, not what is measured: no fsync, a large cache.
    raw.pragma('synchronous = OFF');
    raw.pragma('cache_size = -262144');
    const intIds = new Map(raw.prepare<[], { id: string; int_id: number }>('SELECT id, int_id FROM entities').all().map((row) => [row.id, row.int_id]));
    const fillStart = performance.now();
    const rowsPerTier = {} as Record<Tier, number>;
    for (const tier of tiers) {
      const stepSec = tierStepSec[tier];
      const insert = raw.prepare<[number, number, Buffer]>(`INSERT INTO ${sampleTable(tier)} (entity, bucket_sec, data) VALUES (?, ?, ?)`);
      const buckets = (daysPerTier[tier] * 86400) / stepSec;
      const writeSlices = raw.transaction((startSecs: readonly number[]) => {
        for (const startSec of startSecs) {
          vmIds.forEach((id, vm) => insert.run(intIds.get(id) ?? 0, startSec, encodeBucket(bucketRollups(levels[vm] ?? [], countPerTier[tier], next))));
        }
      });
      const starts = Array.from({ length: buckets }, (_, b) => nowSec - (buckets - b) * stepSec);
      for (let first = 0; first < starts.length; first += 24) writeSlices(starts.slice(first, first + 24));
      rowsPerTier[tier] = buckets * vmCount;
      progress(`filled ${tier}: ${rowsPerTier[tier]} rows`);
      // Long synchronous phases: let a runner's timers and output through between them.
      await yieldToEventLoop();
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    raw.pragma('wal_checkpoint(TRUNCATE)');
    const rowsTotal = Object.values(rowsPerTier).reduce((a, b) => a + b, 0);
    const storedValues = rowsTotal * vmMetrics.length * 3;
    const dbBytes = statSync(path).size;
    const sampleBytes = raw
      .prepare<[], { bytes: number }>(`SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name LIKE 'samples_%' OR name LIKE 'sqlite_autoindex_samples_%'`)
      .get()?.bytes ?? 0;
    raw.close();
    progress(`size: ${dbBytes} bytes, ${(dbBytes / storedValues).toFixed(2)} bytes per stored value`);

    // Realtime: an hour of 2-minute cycles on the real write path.
    const cycles = 30;
    const cycleTimes: number[] = [];
    let cpuMicros = 0;
    for (let cycle = 0; cycle < cycles; cycle++) {
      const ts = Array.from({ length: 6 }, (_, k) => nowSec + cycle * 120 + 20 * (k + 1));
      const batches: SampleBatch[] = vmIds.map((id, vm) => ({
        entityId: id, kind: 'vm', intervalSec: 20, ts,
        values: Object.fromEntries(vmMetrics.map((metric, i) => {
          const resolution = profiles[metric.key]?.resolution ?? 1;
          const level = levels[vm]?.[i] ?? 0;
          return [metric.key, ts.map(() => quantize(level * (0.5 + next()), resolution))];
        })),
      }));
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      store.writeRealtime(batches);
      const cpu = process.cpuUsage(cpuStart);
      cpuMicros += cpu.user + cpu.system;
      cycleTimes.push(performance.now() - start);
    }
    const realtimeSeconds = cycleTimes.reduce((a, b) => a + b, 0) / 1000;
    const samples = cycles * 6 * vmCount;
    progress(`realtime: ${samples} samples in ${realtimeSeconds.toFixed(2)} s`);

    // Queries: one period of each tier, all metrics, for random VMs.
    const seriesMs = {} as Record<Tier, number>;
    for (const tier of tiers) {
      const times: number[] = [];
      for (let q = 0; q < 50; q++) {
        const id = vmIds[Math.floor(next() * vmIds.length)] ?? '';
        const fromSec = nowSec - periodBuckets[tier] * tierStepSec[tier];
        const start = performance.now();
        store.series({ entityId: id, tier, fromSec, toSec: nowSec });
        times.push(performance.now() - start);
      }
      seriesMs[tier] = median(times);
    }
    const latestTimes: number[] = [];
    for (let q = 0; q < 5; q++) {
      const start = performance.now();
      store.latest(vmIds);
      latestTimes.push(performance.now() - start);
    }
    const retentionStart = performance.now();
    store.applyRetention(nowSec + 86400);
    const retentionMs = performance.now() - retentionStart;
    store.close();

    return {
      vms: vmCount,
      metricsPerVm: vmMetrics.length,
      daysPerTier,
      rowsPerTier,
      storedValues,
      dbBytes,
      bytesPerValue: dbBytes / storedValues,
      sampleBytesPerValue: sampleBytes / storedValues,
      fillSeconds,
      realtime: {
        cycles,
        samples,
        seconds: realtimeSeconds,
        cpuSeconds: cpuMicros / 1e6,
        samplesPerSec: samples / realtimeSeconds,
        valuesPerSec: (samples * vmMetrics.length) / realtimeSeconds,
        cycleMs: median(cycleTimes),
      },
      seriesMs,
      latestAllMs: median(latestTimes),
      retentionMs,
      loadAverage: [loadBefore, loadavg()[0] ?? 0],
    };
  } finally {
    if (tempDir !== null && !options.keep) rmSync(tempDir, { recursive: true, force: true });
  }
}

const script = process.argv[1];
if (script !== undefined && import.meta.url === pathToFileURL(script).href) {
  const arg = (name: string): string | undefined => {
    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 ? process.argv[index + 1] : undefined;
  };
  const vms = Number(arg('vms') ?? 500);
  if (!Number.isInteger(vms) || vms < 1) throw new Error('--vms takes a positive integer');
  const path = arg('path');
  const result = await benchStore({
    vms,
    ...(path === undefined ? {} : { path }),
    keep: process.argv.includes('--keep'),
    progress: (line) => console.error(line),
  });
  console.log(JSON.stringify(result, null, 2));
}
