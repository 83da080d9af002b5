/**
 * Collector benchmark: steady-state cycle time against the bare SOAP calls that fetch the same
 * data (the lower bound), the first cycle with its history import, and the peak RSS.
 * Targets (issue): a cycle within 1.5x the lower bound; peak RSS under 300 MB at 5,000 VMs.
 *
 *   node --import tsx bench/collector-bench.ts [vms...]      (default: 500 5000)
 *
 * Cycles run back to back, so each fetches the samples of a few seconds; the lower bound asks
 * for the same windows. vcsim runs in its own process: its memory is not counted.
 *
 * Run it with Node's default heap flags, like vscope itself: V8 grows its heap to a few times
 * the live data before collecting, so peak RSS follows what a cycle keeps alive. SOAP results
 * are read into values while the response is scanned (no element tree), strings kept from a
 * response are copied out of it, query groups are prepared as they are taken, and SQLite's
 * page cache is 16 MiB: the heap stays near 100 MB through the 5,000-VM history import.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { createCollector } from '../src/collector/collector.ts';
import { datastorePaths, hostPaths, readObjects, vmPaths } from '../src/collector/discovery.ts';
import { defaultQueryTuning, realtimeWindow, resolveMetrics } from '../src/collector/performance.ts';
import { runPool } from '../src/collector/pool.ts';
import type { PerfQuerySpec } from '../src/collector/vsphere-api.ts';
import { startVcsim, type VcsimOptions } from '../src/simulator/vcsim.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { asMoRef, asString } from '../src/vsphere/values.ts';
import { median } from './stats.ts';

export interface CollectorBenchResult {
  readonly vms: number;
  readonly hosts: number;
  /** Whether the first cycle imported the history (a year of it, into every tier). */
  readonly importHistory: boolean;
  readonly shape: VcsimOptions;
  /** First cycle: discovery, the hour of realtime samples and the whole history import, ms. */
  readonly firstCycleMs: number;
  /** Median of the steady-state cycles (second onward), ms. */
  readonly steadyCycleMs: number;
  /** Median time of the bare retrieve + QueryPerf calls for the same data, ms. */
  readonly lowerBoundMs: number;
  /** steadyCycleMs / lowerBoundMs; target <= 1.5. */
  readonly ratio: number;
  /** Peak resident set size of this process over the collector's cycles, MB; target < 300 at 5,000 VMs. */
  readonly peakRssMB: number;
}

/** A vcsim shape of about `vms` VMs: 10 hosts per cluster, 100 to 500 VMs per cluster. */
export function shapeFor(vms: number): VcsimOptions {
  const clusters = vms >= 2000 ? 10 : 5;
  return { datacenters: 1, clusters, hostsPerCluster: 10, standaloneHosts: 0, pools: 0, vmsPerPool: Math.ceil(vms / clusters), datastores: 4 };
}

/**
 * The SOAP calls of a steady cycle without any processing or storing: the same views, the VM
 * properties in the same chunks (so that their memory stays below the collector's), the same
 * realtime windows, the same batching and concurrency.
 */
async function bareCalls(client: VsphereClient, concurrency: number, perQuery: number): Promise<number> {
  const started = performance.now();
  const [dc] = await client.retrieve('Datacenter', ['name']);
  if (!dc) throw new Error('no datacenter');
  const [, hosts, vms] = await Promise.all([
    client.retrieve('ClusterComputeResource', ['name'], dc.obj),
    client.retrieve('HostSystem', hostPaths, dc.obj),
    client.retrieve('VirtualMachine', [], dc.obj).then((list) => readObjects(client, 'VirtualMachine', list.map((o) => o.obj), vmPaths, 500)),
    client.retrieve('Datastore', datastorePaths, dc.obj),
  ]);
  const metrics = resolveMetrics(await client.perfCounters());
  const nowSec = Math.floor(Date.now() / 1000);
  const window = realtimeWindow(nowSec - 3, nowSec);
  const specs: PerfQuerySpec[] = [];
  for (const host of hosts) {
    const nics = Array.isArray(host.props['config.network.pnic']) ? (host.props['config.network.pnic'] as Record<string, unknown>[]) : [];
    const metricIds = [
      ...metrics.host.map((m) => ({ counterId: m.counterId, instance: '' })),
      ...nics.flatMap((nic) => metrics.nic.map((m) => ({ counterId: m.counterId, instance: asString(nic['device']) ?? '' }))),
    ];
    specs.push({ entity: host.obj, metricIds, intervalSec: 20, ...window });
  }
  for (const vm of vms) {
    if (asString(vm.props['runtime.powerState']) !== 'poweredOn' || !asMoRef(vm.props['runtime.host'])) continue;
    specs.push({ entity: vm.obj, metricIds: metrics.vm.map((m) => ({ counterId: m.counterId, instance: '' })), intervalSec: 20, ...window });
  }
  const groups: PerfQuerySpec[][] = [];
  for (let i = 0; i < specs.length; i += perQuery) groups.push(specs.slice(i, i + perQuery));
  await runPool(groups, concurrency, async (group) => {
    await client.queryPerf(group, { entitiesPerQuery: group.length, concurrency: 1 });
  });
  return performance.now() - started;
}

/**
 * @param opts.vms about how many VMs the simulator holds
 * @param opts.cycles steady-state cycles measured (default 5), each followed by the bare calls
 * @param opts.importHistory run the whole history import in the first cycle (default true)
 */
export async function benchCollector(opts: { vms: number; cycles?: number; importHistory?: boolean }): Promise<CollectorBenchResult> {
  const shape = shapeFor(opts.vms);
  const cycles = opts.cycles ?? 5;
  const sim = await startVcsim(shape, 300_000);
  const dir = mkdtempSync(join(tmpdir(), 'vscope-bench-collector-'));
  const store = openSqliteStore(join(dir, 'bench.db'));
  const log = pino({ level: 'warn' });
  const vcenter = { id: 'bench', url: sim.url, username: 'bench', password: 'bench' };
  const importHistory = opts.importHistory ?? true;
  const collector = createCollector({
    store,
    vcenters: [vcenter],
    intervalSec: 120,
    log,
    tuning: { importBudgetMs: Number.POSITIVE_INFINITY, importHistory },
  });
  try {
    const [first] = await collector.runOnce();
    if (!first?.ok) throw new Error(`first cycle failed: ${first?.error ?? 'no result'}`);
    const steady: number[] = [];
    for (let i = 0; i < cycles; i++) {
      const [result] = await collector.runOnce();
      if (!result?.ok) throw new Error(`cycle failed: ${result?.error ?? 'no result'}`);
      steady.push(result.durationMs);
    }
    // Measured before the bare calls run in this same process.
    const peakRssMB = Math.round(process.resourceUsage().maxRSS / 1024);
    const bare: number[] = [];
    const client = await VsphereClient.connect({ url: sim.url, username: 'bench', password: 'bench' });
    try {
      for (let i = 0; i < cycles; i++) bare.push(await bareCalls(client, defaultQueryTuning.concurrency, defaultQueryTuning.entitiesPerQuery));
    } finally {
      await client.logout();
    }
    const steadyCycleMs = median(steady);
    const lowerBoundMs = median(bare);
    return {
      vms: first.counts.vms,
      hosts: first.counts.hosts,
      importHistory,
      shape,
      firstCycleMs: first.durationMs,
      steadyCycleMs: Math.round(steadyCycleMs),
      lowerBoundMs: Math.round(lowerBoundMs),
      ratio: Math.round((steadyCycleMs / lowerBoundMs) * 100) / 100,
      peakRssMB,
    };
  } finally {
    await collector.stop();
    store.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  for (const vms of sizes.length > 0 ? sizes : [500, 5000]) {
    console.log(JSON.stringify(await benchCollector({ vms })));
  }
}
