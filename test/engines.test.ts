/**
 * The engine layer against real engines: Debian's Prometheus 2.42 and VictoriaMetrics 1.79 on
 * loopback (test/support/engines.ts). What is written with remote write is read back with PromQL
 * and compared with what vscope's SQLite bucket rule (shared/tiers.ts bucketStart) computes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rollupOf, type Rollup } from '../src/shared/rollup.ts';
import { bucketStart } from '../src/shared/tiers.ts';
import { EngineUnavailable, SampleTooOld } from '../src/store/prometheus/errors.ts';
import { engineMetric, seriesLabels, type EngineMetricDef, type EntityContext } from '../src/store/prometheus/names.ts';
import { PromqlClient, bucketColumns, bucketRange, rawBucketQueries, rollupBucketQueries, type MatrixSeries } from '../src/store/prometheus/promql.ts';
import { RemoteWriteClient, type Series } from '../src/store/prometheus/remote-write.ts';
import { bucketRollups, rollupSeries } from '../src/store/prometheus/rollups.ts';
import { engineKinds, useEngine, type Engine, type EngineHandle, type EngineKind } from './support/engines.ts';

const daySec = 86_400;
/** Midnight UTC two days ago: whole days of test data end before now. */
const baseSec = Math.floor(Date.now() / 1000 / daySec) * daySec - 2 * daySec;

function metric(kind: 'vm', key: string): EngineMetricDef {
  const found = engineMetric(kind, key);
  if (!found) throw new Error(`no engine metric for ${kind}.${key}`);
  return found;
}

function vmContext(entityId: string): EntityContext {
  return { vcenter: 'vc-test', entityId, name: `vm ${entityId}`, hostName: 'esx-1', clusterName: 'C0', datacenterName: 'DC0', datastoreName: 'LocalDS_0' };
}

/** Realtime samples every 20 s, ends in (fromSec, toSec], values exact in binary (quarters). */
function realtime(fromSec: number, toSec: number, value: (endSec: number) => number): { ts: number[]; values: number[] } {
  const ts: number[] = [];
  const values: number[] = [];
  for (let end = fromSec + 20; end <= toSec; end += 20) {
    ts.push(end);
    values.push(value(end));
  }
  return { ts, values };
}

function rawSeries(def: EngineMetricDef, context: EntityContext, ts: readonly number[], vscopeValues: readonly number[]): Series {
  return { labels: seriesLabels(def, context), timestampsMs: ts.map((sec) => sec * 1000), values: vscopeValues.map((value) => def.conversion.toEngine(value)) };
}

/** SQLite's rule, applied by hand to samples: bucket start -> rollup. */
function sqliteBuckets(ts: readonly number[], values: readonly number[], intervalSec: number, stepSec: number): Map<number, Rollup> {
  const groups = new Map<number, number[]>();
  ts.forEach((end, i) => {
    const start = bucketStart(end, intervalSec, stepSec);
    groups.set(start, [...(groups.get(start) ?? []), values[i] as number]);
  });
  const rollups = new Map<number, Rollup>();
  for (const [start, group] of groups) {
    const rollup = rollupOf(group);
    if (rollup) rollups.set(start, rollup);
  }
  return rollups;
}

/** Raw samples of a selector over (fromSec, toSec], through an instant query of a range selector. */
async function readRaw(reader: PromqlClient, selector: string, fromSec: number, toSec: number): Promise<MatrixSeries[]> {
  const result = await reader.query(`${selector}[${toSec - fromSec}s]`, toSec);
  assert.equal(result.resultType, 'matrix');
  return result.resultType === 'matrix'
    ? result.series.map((series) => {
        const keep = series.timestampsMs.map((ms) => ms > fromSec * 1000);
        return { labels: series.labels, timestampsMs: series.timestampsMs.filter((_, i) => keep[i]), values: series.values.filter((_, i) => keep[i]) };
      })
    : [];
}

function clients(engine: Engine, retry: { initialDelayMs: number; maxDelayMs: number; maxElapsedMs: number } = { initialDelayMs: 50, maxDelayMs: 500, maxElapsedMs: 60_000 }) {
  return {
    writer: new RemoteWriteClient({ url: engine.remoteWriteUrl, version: 'test', retry, maxSamplesPerRequest: 500 }),
    reader: new PromqlClient({ url: engine.url, version: 'test' }),
  };
}

function useClients(handle: EngineHandle): { readonly writer: RemoteWriteClient; readonly reader: PromqlClient } {
  let made: ReturnType<typeof clients> | undefined;
  after(async () => {
    await made?.writer.close();
    await made?.reader.close();
  });
  return {
    get writer() {
      made ??= clients(handle.current);
      return made.writer;
    },
    get reader() {
      made ??= clients(handle.current);
      return made.reader;
    },
  };
}

function describeEngine(kind: EngineKind): void {
  void describe(kind, () => {
    const engine = useEngine(kind);
    const made = useClients(engine);

    void it('gives back a VM\'s samples with their names, labels, timestamps and values', async () => {
      const context = vmContext(`${kind}-roundtrip`);
      const defs = [metric('vm', 'cpuReadyMs'), metric('vm', 'cpuUsagePct'), metric('vm', 'netRxKBps')];
      const { ts } = realtime(baseSec, baseSec + 600, () => 0);
      const written = defs.map((def, d) => rawSeries(def, context, ts, ts.map((_, i) => (d === 1 ? (i * 37) / 100 : i * 1.25 + d))));
      const summary = await made.writer.write(written);
      assert.equal(summary.samples, 3 * ts.length);
      await engine.current.flush();

      const read = await readRaw(made.reader, `{entity_id="${context.entityId}"}`, baseSec, baseSec + 600);
      const byName = new Map(read.map((series) => [series.labels['__name__'], series]));
      assert.equal(read.length, defs.length);
      for (const [d, series] of written.entries()) {
        const def = defs[d] as EngineMetricDef;
        const got = byName.get(def.name);
        assert.ok(got, `${def.name} came back`);
        assert.deepEqual(got.labels, Object.fromEntries(series.labels.map((label) => [label.name, label.value])));
        assert.deepEqual(got.timestampsMs, series.timestampsMs);
        assert.deepEqual(got.values, series.values);
      }
      // Percent went as hundredths: vscope's values come back exactly through fromEngine.
      const usage = byName.get('vmware_vm_cpu_usage_average');
      assert.deepEqual(usage?.values.map((value) => defs[1]?.conversion.fromEngine(value)), ts.map((_, i) => (i * 37) / 100));
    });

    void it('answers avg, min and max per bucket as SQLite buckets the same samples', async () => {
      const context = vmContext(`${kind}-buckets`);
      const def = metric('vm', 'cpuReadyMs');
      // Three hours, a value per 20 s; samples end exactly on every bucket edge.
      const { ts, values } = realtime(baseSec, baseSec + 3 * 3600, (end) => ((end / 20) % 17) * 0.25);
      await made.writer.write([rawSeries(def, context, ts, values)]);
      await engine.current.flush();

      for (const stepSec of [300, 1800]) {
        const range = bucketRange(baseSec, baseSec + 3 * 3600, stepSec);
        assert.ok(range);
        const queries = rawBucketQueries([def.name], context.entityId, stepSec);
        const [avg, min, max] = await Promise.all(
          (['avg', 'min', 'max'] as const).map(async (stat) => bucketColumns(await made.reader.queryRange(queries[stat], range), range).get(def.name)),
        );
        const expected = sqliteBuckets(ts, values, 20, stepSec);
        range.bucketStartsSec.forEach((start, i) => {
          const rollup = expected.get(start) ?? null;
          assert.equal(min?.[i] ?? null, rollup?.min ?? null, `min of bucket ${start} (step ${stepSec})`);
          assert.equal(max?.[i] ?? null, rollup?.max ?? null, `max of bucket ${start} (step ${stepSec})`);
          const average = avg?.[i] ?? null;
          if (rollup === null) assert.equal(average, null);
          // Prometheus 2.42's avg_over_time is an incremental mean, not sum / count: last bits may differ.
          else assert.ok(average !== null && Math.abs(average - rollup.sum / rollup.count) < 1e-12, `avg of bucket ${start}: ${average}`);
        });
        // By hand, for the first bucket: ends baseSec+20 .. baseSec+300 hold values for end/20 = 1..15.
        if (stepSec === 300) {
          const firstValues = Array.from({ length: 15 }, (_, k) => (((baseSec + 20 * (k + 1)) / 20) % 17) * 0.25);
          assert.equal(min?.[0], Math.min(...firstValues));
          assert.equal(max?.[0], Math.max(...firstValues));
          assert.equal(expected.get(baseSec)?.count, 15);
        }
      }
    });

    void it('merges 5-minute rollups exactly into coarser buckets, with the tier\'s own history', async () => {
      const context = vmContext(`${kind}-rollups`);
      const def = metric('vm', 'cpuUsagePct');
      const realtimeFrom = baseSec + 6 * 3600;
      const { ts, values } = realtime(realtimeFrom, realtimeFrom + 6 * 3600, (end) => ((end / 20) % 29) * 0.5);
      const engineValues = values.map((value) => def.conversion.toEngine(value));
      // Before the realtime samples: one vCenter 30-minute sample (tier 30m) and one daily one (tier 1d).
      const history30m = bucketRollups([baseSec + 1800], [def.conversion.toEngine(12.5)], 1800, 1800);
      const history1d = bucketRollups([baseSec], [def.conversion.toEngine(40)], daySec, daySec);
      await made.writer.write([
        ...rollupSeries(def, context, bucketRollups(ts, engineValues, 20, 300), '5m'),
        ...rollupSeries(def, context, history30m, 'history_30m'),
        ...rollupSeries(def, context, history1d, 'history_1d'),
      ]);
      await engine.current.flush();

      const range = bucketRange(baseSec, realtimeFrom + 6 * 3600, 1800);
      assert.ok(range);
      const queries = rollupBucketQueries(context.entityId, '30m', 1800);
      const columns = Object.fromEntries(
        await Promise.all(
          (['sum', 'count', 'min', 'max'] as const).map(async (stat) => [stat, bucketColumns(await made.reader.queryRange(queries[stat], range), range).get(def.name)] as const),
        ),
      );
      const expected = sqliteBuckets(ts, engineValues, 20, 1800);
      // The 30-minute history sample ending at baseSec + 1800 is SQLite's 30m bucket baseSec, weight 90.
      expected.set(baseSec, { sum: def.conversion.toEngine(12.5) * 90, count: 90, min: 1250, max: 1250 });
      range.bucketStartsSec.forEach((start, i) => {
        const rollup = expected.get(start) ?? null;
        for (const stat of ['sum', 'count', 'min', 'max'] as const) {
          assert.equal(columns[stat]?.[i] ?? null, rollup?.[stat] ?? null, `${stat} of bucket ${start}`);
        }
      });
    });

    void it('accepts samples a year old and gives them back', async () => {
      const context = vmContext(`${kind}-old`);
      const def = metric('vm', 'cpuReadyMs');
      const yearAgo = baseSec - 365 * daySec;
      const { ts, values } = realtime(yearAgo, yearAgo + 3600, (end) => (end / 20) % 5);
      // As a history import runs: after realtime collection already wrote a recent sample of the
      // series (a brand-new series would take old samples in order on Prometheus, window or not).
      await made.writer.write([rawSeries(def, context, [baseSec + daySec], [1])]);
      await made.writer.write([rawSeries(def, context, ts, values)]);
      await engine.current.flush();
      const [series] = await readRaw(made.reader, `${def.name}{entity_id="${context.entityId}"}`, yearAgo, yearAgo + 3600);
      assert.deepEqual(series?.timestampsMs, ts.map((sec) => sec * 1000));
      assert.deepEqual(series?.values, values);
    });

    void it('stores samples written twice once', async () => {
      const context = vmContext(`${kind}-twice`);
      const def = metric('vm', 'cpuReadyMs');
      const { ts, values } = realtime(baseSec + 12 * 3600, baseSec + 13 * 3600, (end) => (end / 20) % 7);
      const series = rawSeries(def, context, ts, values);
      await made.writer.write([series]);
      await made.writer.write([series]);
      await engine.current.flush();
      const [read] = await readRaw(made.reader, `${def.name}{entity_id="${context.entityId}"}`, baseSec + 12 * 3600, baseSec + 13 * 3600);
      assert.equal(read?.timestampsMs.length, ts.length);
      const counted = await made.reader.query(`count_over_time(${def.name}{entity_id="${context.entityId}"}[3600s])`, baseSec + 13 * 3600);
      assert.deepEqual(counted.resultType === 'vector' ? counted.series[0]?.values : null, [ts.length]);
    });

    void it('keeps retrying while the engine is stopped, and loses and duplicates nothing once it is back', { timeout: 60_000 }, async () => {
      const context = vmContext(`${kind}-outage`);
      const def = metric('vm', 'cpuReadyMs');
      const fromSec = baseSec + 14 * 3600;
      const { ts, values } = realtime(fromSec, fromSec + 1200, (end) => (end / 20) % 11);
      const half = ts.length / 2;
      await made.writer.write([rawSeries(def, context, ts.slice(0, half), values.slice(0, half))]);
      await engine.current.stop();
      let retries = 0;
      const outage = new RemoteWriteClient({
        url: engine.current.remoteWriteUrl,
        version: 'test',
        maxSamplesPerRequest: 7,
        retry: { initialDelayMs: 50, maxDelayMs: 400, maxElapsedMs: 60_000 },
        onRetry: () => retries++,
      });
      // As a collector would: from its unmoved high-water mark, so a few samples go twice.
      const pending = outage.write([rawSeries(def, context, ts.slice(half - 5), values.slice(half - 5))]);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await engine.current.restart();
      const summary = await pending;
      await outage.close();
      assert.ok(retries > 0 && summary.retries === retries, `${retries} retries`);
      await engine.current.flush();
      const [read] = await readRaw(made.reader, `${def.name}{entity_id="${context.entityId}"}`, fromSec, fromSec + 1200);
      assert.deepEqual(read?.timestampsMs, ts.map((sec) => sec * 1000));
      assert.deepEqual(read?.values, values);
    });
  });
}

for (const kind of engineKinds) describeEngine(kind);

void describe('Prometheus with a 10-minute out-of-order window', () => {
  const engine = useEngine('prometheus', { outOfOrderWindow: '10m' });
  let writer: RemoteWriteClient | undefined;
  let retries = 0;
  before(() => {
    writer = new RemoteWriteClient({ url: engine.current.remoteWriteUrl, version: 'test', onRetry: () => retries++ });
  });
  after(async () => {
    await writer?.close();
  });

  void it('refuses a day-old sample with SampleTooOld at once, never retrying it', { timeout: 10_000 }, async () => {
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const labels = [{ name: '__name__', value: 'vmware_vm_cpu_ready_summation' }, { name: 'entity_id', value: 'vm-late' }];
    await writer?.write([{ labels, timestampsMs: [nowMs], values: [1] }]);
    await assert.rejects(writer?.write([{ labels, timestampsMs: [nowMs - daySec * 1000], values: [2] }]) ?? Promise.resolve(), (error: unknown) => {
      assert.ok(error instanceof SampleTooOld, String(error));
      assert.equal(error.status, 500);
      assert.match(error.engineMessage, /too old sample/);
      return true;
    });
    assert.equal(retries, 0);
  });
});

void describe('VictoriaMetrics and the newest 30 seconds', () => {
  const engine = useEngine('victoria-metrics');

  void it('shows a sample written seconds ago only with nocache=1, which the client sends by default', async () => {
    const { writer, reader } = clients(engine.current);
    const plain = new PromqlClient({ url: engine.current.url, version: 'test', noCache: false });
    const nowSec = Math.floor(Date.now() / 1000);
    await writer.write([{ labels: [{ name: '__name__', value: 'vscope_fresh' }], timestampsMs: [(nowSec - 5) * 1000], values: [42] }]);
    await engine.current.flush();
    const value = async (client: PromqlClient): Promise<number | null> => {
      const answer = await client.query('vscope_fresh', nowSec);
      return answer.resultType === 'vector' ? (answer.series[0]?.values[0] ?? null) : null;
    };
    assert.equal(await value(reader), 42);
    // Without it, 1.79 evaluates at now - 30 s (-search.latencyOffset), before the sample.
    assert.equal(await value(plain), null);
    await Promise.all([writer.close(), reader.close(), plain.close()]);
  });
});

void describe('VictoriaMetrics without -dedup.minScrapeInterval', () => {
  const engine = useEngine('victoria-metrics', { dedupInterval: null });

  void it('keeps both copies of a retried write: the engine setting vscope needs', async () => {
    const { writer, reader } = clients(engine.current);
    const labels = [{ name: '__name__', value: 'vmware_vm_cpu_ready_summation' }, { name: 'entity_id', value: 'vm-dup' }];
    const series: Series = { labels, timestampsMs: [(baseSec + 20) * 1000, (baseSec + 40) * 1000], values: [1, 2] };
    await writer.write([series]);
    await writer.write([series]);
    await engine.current.flush();
    const counted = await reader.query('count_over_time(vmware_vm_cpu_ready_summation{entity_id="vm-dup"}[1h])', baseSec + 60);
    assert.deepEqual(counted.resultType === 'vector' ? counted.series[0]?.values : null, [4]);
    await writer.close();
    await reader.close();
  });
});

void describe('an engine that never comes back', () => {
  const engine = useEngine('victoria-metrics');

  void it('fails the write with EngineUnavailable once the retry budget is spent', { timeout: 10_000 }, async () => {
    await engine.current.stop();
    const { writer, reader } = clients(engine.current, { initialDelayMs: 20, maxDelayMs: 100, maxElapsedMs: 500 });
    await assert.rejects(
      writer.write([{ labels: [{ name: '__name__', value: 'x' }], timestampsMs: [1000], values: [1] }]),
      (error: unknown) => error instanceof EngineUnavailable && error.attempts > 1,
    );
    await writer.close();
    await reader.close();
  });
});
