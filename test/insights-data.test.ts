/**
 * The insights' caches against the real SQLite store (fixtures/insights-inventory.ts): the
 * hosts' and datastores' series kept by their final buckets answer exactly what the store
 * answers, through realtime writes, a window moving on and a history import; VM analyses equal
 * an analysis made from scratch.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { completeWindow } from '../src/shared/insights.ts';
import { analyseVm, FinalBucketCache, vmAnalysisMetrics, VmAnalysisCache } from '../src/server/insights-data.ts';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { kindOfId } from '../src/shared/entity-id.ts';
import { tierStepSec } from '../src/shared/tiers.ts';
import { maxRealtimeIntervalSec } from '../src/store/store.ts';
import { daySec, fillInsights, ids, T } from './fixtures/insights-inventory.ts';

const step = 7200;

void describe('FinalBucketCache', () => {
  void it('gives what the store gives, through writes, a moving window and an import', () => {
    const store = openSqliteStore(':memory:');
    fillInsights(store);
    const cache = new FinalBucketCache(store);
    const metrics = ['cpuUsedMhz', 'memConsumedMB'];
    const check = async (fromSec: number, toSec: number, what: string): Promise<void> => {
      const expected = store.series({ entityId: ids.h1, tier: '2h', fromSec, toSec: toSec - step, metrics });
      assert.deepEqual(await cache.series(ids.h1, '2h', metrics, fromSec, toSec), expected, what);
    };
    return (async () => {
      await check(T - 31 * daySec, T + step, 'first answer');
      await check(T - 31 * daySec, T + step, 'from what it kept');
      store.writeRealtime([{ entityId: ids.h1, kind: 'host', intervalSec: 20, ts: [T + 20, T + 40], values: { cpuUsedMhz: [1000, 3000], memConsumedMB: [10, 10] } }]);
      await check(T - 31 * daySec, T + step, 'a new sample in the bucket still filling');
      // Two hours on: the window moves by a bucket; the bucket of T is final once the mark passes it.
      store.writeRealtime([{ entityId: ids.h1, kind: 'host', intervalSec: 20, ts: [T + step + 400], values: { cpuUsedMhz: [5000], memConsumedMB: [20] } }]);
      await check(T - 31 * daySec + step, T + 2 * step, 'the window moved on');
      // new-1 has 10 days of history and, from now on, a high-water mark: its buckets before the
      // mark are kept as final; then vCenter's history fills one of them, 20 days back.
      store.writeRealtime([{ entityId: ids.vmNew, kind: 'vm', intervalSec: 20, ts: [T + 20], values: { cpuUsagePct: [5] } }]);
      const vmMetrics = ['cpuUsagePct'];
      const vmCheck = async (what: string): Promise<void> => {
        const expected = store.series({ entityId: ids.vmNew, tier: '2h', fromSec: T - 31 * daySec, toSec: T, metrics: vmMetrics });
        assert.deepEqual(await cache.series(ids.vmNew, '2h', vmMetrics, T - 31 * daySec, T + step), expected, what);
      };
      await vmCheck('a VM with a gap');
      store.importHistorical('2h', [{ entityId: ids.vmNew, kind: 'vm', intervalSec: step, ts: [T - 20 * daySec + step], values: { cpuUsagePct: [77] } }]);
      await vmCheck('after an import into a bucket it kept (the history version moved)');
      store.close();
    })();
  });
});

void describe('VmAnalysisCache', () => {
  void it('holds the analysis of each VM made from its series, and reads none again while nothing changed', async () => {
    const store = openSqliteStore(':memory:');
    fillInsights(store);
    const dc = store.datacenters()[0];
    assert.ok(dc);
    const vms = store.vms(dc.id).filter((vm) => !vm.isTemplate);
    const cache = new VmAnalysisCache(store, { chunk: 2 });
    const answer = await cache.analyses('vc1', dc.id, 'month', vms, T);
    assert.equal(answer.complete, true);
    assert.equal(cache.stats.vmsRead, vms.length);
    const window = completeWindow('month', T, maxRealtimeIntervalSec);
    for (const vm of vms) {
      const data = store.series({ entityId: vm.id, tier: '2h', fromSec: window.fromSec, toSec: window.toSec - step, metrics: vmAnalysisMetrics });
      const kept = answer.analyses?.byVm.get(vm.id);
      assert.deepEqual(kept, analyseVm(vm, data, window, kept?.key ?? ''), vm.name);
    }
    const again = await cache.analyses('vc1', dc.id, 'month', vms, T + 60);
    assert.equal(again.analyses, answer.analyses, 'the same analyses, kept');
    assert.equal(cache.stats.vmsRead, vms.length);
    store.close();
  });
});

/** Deep equality with numbers equal to 6 significant digits (summaries keep 32-bit floats), times (…Sec, …At) exact. */
function assertClose(actual: unknown, expected: unknown, path = ''): void {
  if (typeof expected === 'number' && typeof actual === 'number' && /(Sec|At)$/.test(path)) {
    assert.equal(actual, expected, `${path}: a time, exact`);
  } else if (typeof expected === 'number' && typeof actual === 'number') {
    assert.ok(Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${path}: ${String(actual)} against ${String(expected)}`);
  } else if (expected !== null && typeof expected === 'object' && actual !== null && typeof actual === 'object') {
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), path);
    for (const key of Object.keys(expected)) assertClose((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], `${path}.${key}`);
  } else {
    assert.deepEqual(actual, expected, path);
  }
}

/** The store as the insights see it, with the span of every bucket read of a VM (`series` and `vmSummariesOf`). */
function watchReads(store: SqliteStore): { watched: SqliteStore; spans: number[] } {
  const spans: number[] = [];
  const watched = Object.assign(Object.create(store) as SqliteStore, {
    series: (query: Parameters<SqliteStore['series']>[0]) => {
      if (kindOfId(query.entityId) === 'vm') spans.push(query.toSec + tierStepSec[query.tier] - query.fromSec);
      return store.series(query);
    },
    vmSummariesOf: (...args: Parameters<SqliteStore['vmSummariesOf']>) => {
      for (const range of args[1]) spans.push(range.toSec - range.fromSec);
      return store.vmSummariesOf(...args);
    },
  });
  return { watched, spans };
}

void describe('VmAnalysisCache with block summaries', () => {
  void it('a month: answers what the buckets answer, reading the buckets of the partial days only; an import is summarized again', async () => {
    const store = openSqliteStore(':memory:');
    fillInsights(store);
    const made = store.fillVmSummaries(T);
    assert.ok(made >= 30, `days made: ${String(made)}`);
    assert.equal(store.fillVmSummaries(T), 0, 'nothing twice');
    const dc = store.datacenters()[0];
    assert.ok(dc);
    const vms = store.vms(dc.id).filter((vm) => !vm.isTemplate);
    const { watched, spans } = watchReads(store);
    const window = completeWindow('month', T, maxRealtimeIntervalSec);
    const check = async (nowSec: number, what: string): Promise<void> => {
      spans.length = 0;
      const answer = await new VmAnalysisCache(watched, { chunk: 3 }).analyses('vc1', dc.id, 'month', vms, nowSec);
      for (const vm of vms) {
        const data = store.series({ entityId: vm.id, tier: '2h', fromSec: window.fromSec, toSec: window.toSec - step, metrics: vmAnalysisMetrics });
        const kept = answer.analyses?.byVm.get(vm.id);
        assertClose(kept, analyseVm(vm, data, window, kept?.key ?? ''), `${what}, ${vm.name}`);
      }
    };
    await check(T, 'from the summaries');
    assert.ok(spans.length > 0 && Math.max(...spans) < daySec, `only the partial days' buckets are read (longest read ${String(Math.max(...spans) / 3600)} h)`);
    // vCenter's history fills a bucket 20 days back (new-1 has 10 days of its own): that day is
    // read from the buckets until summarized again.
    const vm = vms.find((one) => one.id === ids.vmNew);
    assert.ok(vm);
    store.importHistorical('2h', [{ entityId: vm.id, kind: 'vm', intervalSec: step, ts: [T - 20 * daySec + 3 * step], values: { cpuUsagePct: [99], cpuReadyMs: [9000] } }]);
    assert.equal(store.mergedVmSummariesOf('2h', T - 21 * daySec, T - 19 * daySec, [vm]).get(vm.id)?.endSec, T - 20 * daySec, 'the summary of the day written into is gone');
    await check(T, 'after the import, before the day is summarized again');
    assert.equal(store.fillVmSummaries(T), 1, 'that day only is made again');
    await check(T, 'summarized again');
    store.close();
  });

  void it('a day: hourly summaries and the partial hours\' buckets answer what the 5-minute buckets answer', async () => {
    const store = openSqliteStore(':memory:');
    fillInsights(store);
    const dc = store.datacenters()[0];
    assert.ok(dc);
    const vms = store.vms(dc.id).filter((vm) => !vm.isTemplate);
    // 26 hours of 5-minute buckets, values varying so that the busiest and peak buckets fall in
    // different hours per VM and metric; now is not on an hour.
    const nowSec = T + 2 * 3600 + 1500;
    const ends = Array.from({ length: (26 * 3600) / 300 }, (_, i) => nowSec - 600 - 26 * 3600 + (i + 1) * 300);
    store.importHistorical(
      '5m',
      vms.map((vm, k) => ({
        entityId: vm.id,
        kind: 'vm' as const,
        intervalSec: 300,
        ts: ends,
        values: {
          cpuUsagePct: ends.map((end) => ((end / 300) * (k + 3)) % 97),
          cpuReadyMs: ends.map((end) => ((end / 300) * (k + 7)) % 4001),
          memUsagePct: ends.map((end) => ((end / 300) * (k + 1)) % 61),
          diskMaxLatencyMs: ends.map((end) => ((end / 300) * (k + 5)) % 43),
          netRxKBps: ends.map((end) => ((end / 300) * (k + 2)) % 500),
        },
      })),
    );
    assert.ok(store.fillVmSummaries(nowSec) >= 24, 'the hours made');
    const { watched, spans } = watchReads(store);
    const window = completeWindow('day', nowSec, maxRealtimeIntervalSec);
    const answer = await new VmAnalysisCache(watched, { chunk: 3 }).analyses('vc1', dc.id, 'day', vms, nowSec);
    for (const vm of vms) {
      const data = store.series({ entityId: vm.id, tier: '5m', fromSec: window.fromSec, toSec: window.toSec - 300, metrics: vmAnalysisMetrics });
      const kept = answer.analyses?.byVm.get(vm.id);
      assertClose(kept, analyseVm(vm, data, window, kept?.key ?? ''), vm.name);
    }
    // The first partial hour, and the hours after the last final one (65 minutes and more).
    assert.ok(spans.length > 0 && Math.max(...spans) <= 3 * 3600, `only the partial hours' buckets are read (longest read ${String(Math.max(...spans) / 60)} min)`);
    store.close();
  });
});
