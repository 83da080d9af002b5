/**
 * Samples on a real Prometheus-compatible engine (Debian's Prometheus 2.42 and VictoriaMetrics
 * 1.79, started on loopback by test/support/engines.ts): the collector writes a simulator's
 * samples through remote write and the charts read them back with PromQL.
 *   - they arrive under vmware_exporter's names with its labels;
 *   - the series equal, bucket for bucket, what the SQLite store answers for the same samples;
 *   - vCenter's history lands, and charts prefer realtime buckets over imported ones;
 *   - an engine stopped for two cycles then started again loses nothing and stores nothing twice;
 *   - a collector killed with SIGKILL and started again loses nothing;
 *   - a sample too old for Prometheus is reported and skipped, never retried forever.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createCollector, type Collector } from '../src/collector/collector.ts';
import { metricsByKind } from '../src/shared/metrics.ts';
import { bucketStart, tierStepSec, type Tier } from '../src/shared/tiers.ts';
import { openStores, type EngineSettings, type OpenStores } from '../src/store/open.ts';
import { PromqlClient } from '../src/store/prometheus/promql.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { SampleBatch, Store } from '../src/store/store.ts';
import { engineKinds, startEngine, type Engine, type EngineKind } from './support/engines.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ datacenters: 1, clusters: 1, hostsPerCluster: 2, standaloneHosts: 0, vmsPerPool: 2, datastores: 1 });
const dir = mkdtempSync(join(tmpdir(), 'vscope-engine-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const log = pino({ level: 'silent' });

interface Harness {
  readonly engine: Engine;
  readonly stores: OpenStores;
  /** The SQLite file holding the inventory and the sample state. */
  readonly sqlite: SqliteStore;
  readonly promql: PromqlClient;
  /** Every realtime batch list the collector handed to the store, in order. */
  readonly realtime: SampleBatch[][];
  /** Every write, realtime and historical, in the order the collector made them. */
  readonly writes: ({ readonly tier: null; readonly batches: SampleBatch[] } | { readonly tier: Tier; readonly batches: SampleBatch[] })[];
  /** What the collectors of this harness logged at warn and above, one JSON line each. */
  readonly warnings: string[];
  collector(options?: { importHistory?: boolean }): Collector;
  close(): Promise<void>;
}

function settingsFor(engine: Engine, retryBudgetMs: number): EngineSettings {
  return { remoteWriteUrl: engine.remoteWriteUrl, promqlUrl: engine.url, auth: null, headers: {}, version: 'test', retryBudgetMs };
}

/** The engine's stores, with the batches that go through them recorded. */
/**
 * The engine's stores, with the batches that go through them recorded. `retryBudgetMs` is how
 * long a write retries an engine that does not answer: short where a test stops the engine, the
 * product's default where a slow machine must not turn a busy engine into a failed import.
 */
async function harness(kind: EngineKind, engineOptions: Parameters<typeof startEngine>[1] = {}, retryBudgetMs = 1500): Promise<Harness> {
  const engine = await startEngine(kind, engineOptions);
  const stores = await openStores({ sqlitePath: join(dir, `${kind}-${String(Date.now())}.db`), engine: settingsFor(engine, retryBudgetMs) }, log);
  const sqlite = stores.sqlite;
  if (sqlite === null) throw new Error('the state is in SQLite here');
  const realtime: SampleBatch[][] = [];
  const writes: Harness['writes'][number][] = [];
  const recording: Store = {
    ...stores.store,
    async writeRealtime(batches) {
      await stores.store.writeRealtime(batches);
      realtime.push([...batches]);
      writes.push({ tier: null, batches: [...batches] });
    },
    async importHistorical(tier, batches) {
      await stores.store.importHistorical(tier, batches);
      writes.push({ tier, batches: [...batches] });
    },
  };
  const promql = new PromqlClient({ url: engine.url, version: 'test' });
  const warnings: string[] = [];
  const collectorLog = pino({ level: 'warn' }, { write: (line: string) => warnings.push(line.trim()) });
  return {
    engine,
    stores,
    sqlite,
    promql,
    realtime,
    writes,
    warnings,
    collector: (options = {}) =>
      createCollector({
        store: recording,
        vcenters: [{ id: 'vcsim', url: sim.current.url, username: 'u', password: 'p' }],
        intervalSec: 60,
        log: collectorLog,
        tuning: { importHistory: options.importHistory ?? false, importBudgetMs: Number.POSITIVE_INFINITY, retryBaseSec: 1 },
      }),
    async close() {
      await promql.close();
      await stores.close();
      await engine.destroy();
    },
  };
}

/** A fresh SQLite store holding the same inventory and the given writes, in their order. */
function sqliteWith(h: Harness, writes: Harness['writes']): SqliteStore {
  const sqlite = openSqliteStore(':memory:');
  for (const vcenter of ['vcsim']) {
    const dcs = h.sqlite.datacenters({ includeRemoved: true }).filter((dc) => dc.vcenterId === vcenter);
    sqlite.saveInventory({
      vcenterId: vcenter,
      collectedAtSec: dcs[0]?.lastSeenSec ?? 0,
      datacenters: dcs,
      clusters: dcs.flatMap((dc) => h.sqlite.clusters(dc.id)),
      hosts: dcs.flatMap((dc) => h.sqlite.hosts(dc.id)),
      vms: dcs.flatMap((dc) => h.sqlite.vms(dc.id)),
      datastores: dcs.flatMap((dc) => h.sqlite.datastores(dc.id)),
    });
  }
  for (const { tier, batches } of writes) {
    if (tier === null) sqlite.writeRealtime(batches);
    else sqlite.importHistorical(tier, batches);
  }
  return sqlite;
}

const close = (a: number | null, b: number | null): boolean => (a === null ? b === null : b !== null && Math.abs(a - b) <= 0.011 * Math.max(1, Math.abs(a)));

/** The raw samples of one series of one entity over the last `rangeSec`: timestamps (s) and values. */
async function rawSamples(h: Harness, name: string, entityId: string, rangeSec = 7200): Promise<{ ts: number[]; values: number[]; labels: Record<string, string> }> {
  await h.engine.flush();
  const result = await h.promql.query(`${name}{entity_id=${JSON.stringify(entityId)}}[${String(rangeSec)}s]`, Date.now() / 1000);
  assert.equal(result.resultType, 'matrix');
  const series = result.resultType === 'matrix' ? result.series : [];
  const points = series.flatMap((one) => one.timestampsMs.map((ms, i) => [ms / 1000, one.values[i] ?? NaN] as const)).sort((a, b) => a[0] - b[0]);
  return { ts: points.map(([ts]) => ts), values: points.map(([, value]) => value), labels: { ...series[0]?.labels } };
}

/**
 * A first start with the import on `fresh` (an engine of its own): the import ends, each
 * 5-minute bucket is sent once, and the engine's tiers equal SQLite's for the same writes.
 */
async function importedHistoryLands(fresh: Harness): Promise<void> {
  const collector = fresh.collector({ importHistory: true });
  try {
    const [result] = await collector.runOnce();
    assert.equal(result?.ok, true, result?.error ?? '');
    assert.equal(result?.import.state, 'done', `the import ends; the collector warned:\n${fresh.warnings.join('\n')}`);
  } finally {
    await collector.stop();
  }
  assert.ok(fresh.writes.some((write) => write.tier !== null), 'history was imported');
  // The realtime hour and vCenter's 5-minute day both feed the 5-minute history: each bucket
  // of an entity comes from one of them only (a bucket sent twice is two samples under one
  // timestamp in an engine).
  const sentBy = new Map<string, number>();
  fresh.writes.forEach((write, index) => {
    if (write.tier !== '5m') return;
    for (const batch of write.batches) {
      for (const [metric, column] of Object.entries(batch.values)) {
        batch.ts.forEach((ts, i) => {
          if (column[i] === null || column[i] === undefined) return;
          const key = `${batch.entityId} ${metric} ${String(bucketStart(ts, batch.intervalSec, tierStepSec['5m']))}`;
          const first = sentBy.get(key);
          assert.ok(first === undefined || first === index, `the 5-minute bucket ${key} was sent by writes ${String(first)} and ${String(index)}`);
          sentBy.set(key, index);
        });
      }
    }
  });
  assert.ok(sentBy.size > 0, 'the 5-minute history was imported');
  await fresh.engine.flush();
  const sqlite = sqliteWith(fresh, fresh.writes);
  const h = fresh;
  try {
    const [dc] = h.sqlite.datacenters();
    const [vm] = h.sqlite.vms(dc?.id ?? '');
    assert.ok(vm, 'a VM');
    const nowSec = Math.floor(Date.now() / 1000);
    for (const [tier, spanSec] of [['5m', 86400], ['30m', 7 * 86400], ['2h', 30 * 86400], ['1d', 365 * 86400]] as const) {
      const step = tierStepSec[tier];
      const query = { entityId: vm.id, tier, fromSec: Math.floor((nowSec - spanSec) / step) * step, toSec: Math.floor(nowSec / step) * step, metrics: ['cpuUsagePct'] };
      const fromEngine = (await h.stores.store.series(query)).series[0];
      const fromSqlite = sqlite.series(query).series[0];
      assert.ok(fromEngine && fromSqlite, tier);
      const filled = fromSqlite.avg.filter((value) => value !== null).length;
      assert.ok(filled > 3, `${tier}: SQLite has ${String(filled)} buckets`);
      fromSqlite.avg.forEach((value, i) => assert.ok(close(value, fromEngine.avg[i] ?? null), `${tier} avg[${String(i)}]: SQLite ${String(value)}, engine ${String(fromEngine.avg[i])}`));
    }
  } finally {
    sqlite.close();
  }
}

for (const kind of engineKinds) {
  void describe(`samples on ${kind}`, () => {
    let h: Harness;
    before(async () => {
      h = await harness(kind);
    });
    after(async () => {
      await h.close();
    });

    void test('a cycle sends every sample under vmware_exporter names and labels', async () => {
      const collector = h.collector();
      try {
        const [result] = await collector.runOnce();
        assert.equal(result?.ok, true, result?.error ?? '');
      } finally {
        await collector.stop();
      }
      const [dc] = h.sqlite.datacenters();
      assert.ok(dc, 'a datacenter');
      const [vm] = h.sqlite.vms(dc.id);
      const [host] = h.sqlite.hosts(dc.id);
      assert.ok(vm && host, 'a VM and a host');
      const sent = h.realtime.flat().find((batch) => batch.entityId === vm.id);
      assert.ok(sent, 'the collector wrote the VM');
      const { ts, values, labels } = await rawSamples(h, 'vmware_vm_cpu_usage_average', vm.id);
      const expected = sent.ts.flatMap((t, i) => {
        const value = sent.values['cpuUsagePct']?.[i];
        return value === null || value === undefined ? [] : [[t, Math.round(value * 100)] as const];
      });
      assert.deepEqual(ts, expected.map(([t]) => t), 'every sample, at its vCenter timestamp');
      assert.deepEqual(values, expected.map(([, v]) => v), 'in vCenter hundredths of a percent, as vmware_exporter');
      assert.equal(labels['vm_name'], vm.name);
      assert.equal(labels['host_name'], h.sqlite.hosts(dc.id).find((one) => one.id === vm.hostId)?.name);
      assert.equal(labels['cluster_name'], 'DC0_C0');
      assert.equal(labels['dc_name'], dc.name);
      assert.equal(labels['vcenter'], 'vcsim');
      assert.equal(labels['entity_id'], vm.id);
      const hostSeries = await rawSamples(h, 'vmware_host_cpu_usagemhz_average', host.id);
      assert.equal(hostSeries.labels['host_name'], host.name);
      assert.ok(hostSeries.ts.length > 0, 'host samples too');
    });

    void test('series equal, bucket for bucket, what SQLite answers for the same samples', async () => {
      // A second cycle, so that some 5-minute buckets are complete in the engine.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const collector = h.collector();
      try {
        const [result] = await collector.runOnce();
        assert.equal(result?.ok, true, result?.error ?? '');
      } finally {
        await collector.stop();
      }
      await h.engine.flush();
      const sqlite = sqliteWith(h, h.writes);
      try {
        const [dc] = h.sqlite.datacenters();
        const entities = [...h.sqlite.vms(dc?.id ?? ''), ...h.sqlite.hosts(dc?.id ?? '')];
        const nowSec = Math.floor(Date.now() / 1000);
        let compared = 0;
        for (const entity of entities) {
          for (const tier of ['5m', '30m', '2h', '1d'] as const) {
            const step = tierStepSec[tier];
            const query = { entityId: entity.id, tier, fromSec: Math.floor((nowSec - 3 * 3600) / step) * step, toSec: Math.floor(nowSec / step) * step };
            const fromEngine = await h.stores.store.series(query);
            const fromSqlite = sqlite.series(query);
            assert.deepEqual(fromEngine.ts, fromSqlite.ts);
            for (const expected of fromSqlite.series) {
              const got = fromEngine.series.find((one) => one.metric === expected.metric);
              assert.ok(got, `${entity.name} ${expected.metric}`);
              for (const stat of ['avg', 'min', 'max'] as const) {
                expected[stat].forEach((value, i) => {
                  assert.ok(close(value, got[stat][i] ?? null), `${entity.name} ${tier} ${expected.metric} ${stat}[${String(i)}]: SQLite ${String(value)}, engine ${String(got[stat][i])}`);
                  if (value !== null) compared++;
                });
              }
            }
          }
        }
        assert.ok(compared > 100, `compared ${String(compared)} values`);
      } finally {
        sqlite.close();
      }
    });

    void test('the latest figures come from the bucket still filling, as with SQLite', async () => {
      const [dc] = h.sqlite.datacenters();
      const vms = h.sqlite.vms(dc?.id ?? '');
      const sqlite = sqliteWith(h, h.writes);
      try {
        const fromEngine = await h.stores.store.latest(vms.map((vm) => vm.id));
        const fromSqlite = sqlite.latest(vms.map((vm) => vm.id));
        for (const vm of vms) {
          assert.equal(fromEngine.get(vm.id)?.bucketSec, fromSqlite.get(vm.id)?.bucketSec);
          for (const def of metricsByKind.vm) {
            assert.ok(close(fromSqlite.get(vm.id)?.values[def.key] ?? null, fromEngine.get(vm.id)?.values[def.key] ?? null), `${vm.name} ${def.key}`);
          }
        }
      } finally {
        sqlite.close();
      }
    });

    void test("vCenter's history lands, and a chart prefers realtime buckets over imported ones", async () => {
      // A first start with the import, on an engine of its own.
      const fresh = await harness(kind, {}, 20_000);
      try {
        await importedHistoryLands(fresh);
      } finally {
        await fresh.close();
      }
    });

    void test('an engine stopped for two cycles then started again loses nothing and stores nothing twice', async () => {
      const [dc] = h.sqlite.datacenters();
      const [vm] = h.sqlite.vms(dc?.id ?? '');
      assert.ok(vm, 'a VM');
      const before = await rawSamples(h, 'vmware_vm_cpu_usagemhz_average', vm.id);
      const collector = h.collector();
      try {
        await h.engine.stop();
        // Longer than one 20 s sample in all: a sample the outage lost would leave a gap.
        for (let cycle = 0; cycle < 2; cycle++) {
          await new Promise((resolve) => setTimeout(resolve, 12_000));
          const [result] = await collector.runOnce();
          assert.equal(result?.ok, false, 'the cycle fails while the engine is down');
          assert.match(result.error ?? '', /127\.0\.0\.1|ECONNREFUSED|unavailable|reach/i);
        }
        await h.engine.restart();
        await new Promise((resolve) => setTimeout(resolve, 1500));
        const [result] = await collector.runOnce();
        assert.equal(result?.ok, true, result?.error ?? '');
      } finally {
        await collector.stop();
      }
      const afterOutage = await rawSamples(h, 'vmware_vm_cpu_usagemhz_average', vm.id);
      assert.ok(afterOutage.ts.length > before.ts.length, 'new samples arrived');
      for (let i = 1; i < afterOutage.ts.length; i++) {
        const gap = (afterOutage.ts[i] ?? 0) - (afterOutage.ts[i - 1] ?? 0);
        assert.ok(gap > 0, `no timestamp twice (at ${String(afterOutage.ts[i])})`);
        assert.ok(gap <= 20, `no sample lost: ${String(gap)} s between ${String(afterOutage.ts[i - 1])} and ${String(afterOutage.ts[i])}`);
      }
      // Nothing counted twice: each complete 5-minute rollup counts exactly the raw samples of its bucket.
      const counts = await h.promql.query(
        `vscope_rollup_count{entity_id=${JSON.stringify(vm.id)},rollup="5m",metric="vmware_vm_cpu_usagemhz_average"}[3h]`,
        Date.now() / 1000,
      );
      const rollups = counts.resultType === 'matrix' ? counts.series.flatMap((one) => one.timestampsMs.map((ms, i) => [ms / 1000 - 300, one.values[i] ?? 0] as const)) : [];
      assert.ok(rollups.length > 0, 'rollups were written');
      const rawPerBucket = new Map<number, number>();
      for (const ts of afterOutage.ts) rawPerBucket.set(bucketStart(ts, 20, 300), (rawPerBucket.get(bucketStart(ts, 20, 300)) ?? 0) + 1);
      const first = afterOutage.ts[0] ?? 0;
      for (const [bucket, count] of rollups) {
        // The raw query reaches back 2 h: older buckets may hold samples it does not see.
        if (bucket <= first) continue;
        assert.equal(count, rawPerBucket.get(bucket), `bucket ${String(bucket)}: the rollup counts ${String(count)} samples, the raw series has ${String(rawPerBucket.get(bucket))}`);
      }
    });
  });
}

void describe('a Prometheus whose out-of-order window is shorter than the history', () => {
  let h: Harness;
  before(async () => {
    h = await harness('prometheus', { outOfOrderWindow: '30m' });
  });
  after(async () => {
    await h.close();
  });

  void test('refuses old samples: the import says why in its status and goes on, never retrying them', async () => {
    const collector = h.collector({ importHistory: true });
    try {
      const started = Date.now();
      const [result] = await collector.runOnce();
      assert.equal(result?.ok, true, `the collection itself succeeds: ${result?.error ?? ''}`);
      assert.equal(result?.import.state, 'done', 'the import ends');
      assert.match(result?.import.problem ?? '', /too old|out of order|out of bounds/i);
      assert.match(result?.import.problem ?? '', /out_of_order_time_window/);
      assert.ok(Date.now() - started < 60_000, 'in bounded time');
      const stored = h.sqlite.statuses().find((status) => status.vcenterId === 'vcsim');
      assert.match(stored?.import.problem ?? '', /out_of_order_time_window/, 'kept in the stored status (/api/status shows it)');
      // The next cycle does not send the refused history again.
      const [next] = await collector.runOnce();
      assert.equal(next?.ok, true);
    } finally {
      await collector.stop();
    }
  });
});

/** `vscope collect` as a real process (the installed command), its log lines as they come. */
function collectProcess(args: string[], env: Record<string, string>): { exited: Promise<number | null>; output: () => string; kill: (signal: NodeJS.Signals) => void } {
  const bin = fileURLToPath(new URL('../bin/vscope.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'collect', ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  // A guard against a hang, not a timing assertion.
  const guard = setTimeout(() => child.kill('SIGKILL'), 240_000);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    clearTimeout(guard);
    resolve(code);
  }));
  return { exited, output: () => output, kill: (signal) => child.kill(signal) };
}

async function until(check: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

for (const kind of engineKinds) {
  void test(`a collector killed with SIGKILL and started again loses nothing on ${kind}`, async () => {
    const engine = await startEngine(kind);
    const dataDir = mkdtempSync(join(dir, 'kill-'));
    const env = {
      VSCOPE_VCENTER_URL: sim.current.url,
      VSCOPE_VCENTER_USER: 'svc',
      VSCOPE_VCENTER_PASSWORD: 'svc-password',
      VSCOPE_DATA_DIR: dataDir,
      VSCOPE_INTERVAL_SEC: '20',
      VSCOPE_REMOTE_WRITE_URL: engine.remoteWriteUrl,
      VSCOPE_PROMQL_URL: engine.url,
    };
    const promql = new PromqlClient({ url: engine.url, version: 'test' });
    const spawned: ReturnType<typeof collectProcess>[] = [];
    try {
      const first = collectProcess([], env);
      spawned.push(first);
      await until(() => first.output().includes('collection cycle done'), 'a first cycle');
      // Killed a while into its next cycles: whatever it was doing is cut short.
      await new Promise((resolve) => setTimeout(resolve, 21_000));
      first.kill('SIGKILL');
      await first.exited;
      const killedAtSec = Date.now() / 1000;
      // Down for longer than one 20 s sample.
      await new Promise((resolve) => setTimeout(resolve, 25_000));
      const second = collectProcess(['--once'], env);
      spawned.push(second);
      assert.equal(await second.exited, 0, second.output().slice(-2000));

      const db = openSqliteStore(join(dataDir, 'vscope.db'));
      const [dc] = db.datacenters();
      const [vm] = db.vms(dc?.id ?? '');
      db.close();
      assert.ok(vm, 'a VM');
      await engine.flush();
      const result = await promql.query(`vmware_vm_cpu_usagemhz_average{entity_id=${JSON.stringify(vm.id)}}[10m]`, Date.now() / 1000);
      const ts = (result.resultType === 'matrix' ? result.series.flatMap((one) => one.timestampsMs) : []).map((ms) => ms / 1000).sort((a, b) => a - b);
      // From both processes: the first one's cycles, then what the second one asked since the mark.
      assert.ok(ts.some((at) => at < killedAtSec) && ts.some((at) => at > killedAtSec), `samples from before the kill and after it: ${ts.join(', ')}`);
      assert.ok(ts.length >= 4, `samples arrived (${String(ts.length)})`);
      for (let i = 1; i < ts.length; i++) {
        const gap = (ts[i] ?? 0) - (ts[i - 1] ?? 0);
        assert.ok(gap > 0 && gap <= 20, `no sample lost or stored twice: ${String(gap)} s between ${String(ts[i - 1])} and ${String(ts[i])}`);
      }
    } finally {
      // Never leave a collector behind, whatever failed.
      for (const one of spawned) one.kill('SIGKILL');
      await Promise.allSettled(spawned.map((one) => one.exited));
      await promql.close();
      await engine.destroy();
    }
  });
}
