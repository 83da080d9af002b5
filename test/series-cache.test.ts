/**
 * The series cache answers byte for byte what the uncached route computes, through everything
 * that changes stored series: realtime writes within a bucket and across many, a history import
 * into old buckets, a rename, retention, a new bucket at the end of the period, eviction.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { vmMetrics } from '../src/shared/metrics.ts';
import type { Period } from '../src/shared/tiers.ts';
import { minGzipBytes } from '../src/server/prepared-body.ts';
import { SeriesCache } from '../src/server/series-cache.ts';
import { planSeries, seriesResponse, type SeriesParams } from '../src/server/series.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import type { SampleBatch, StoredEntity } from '../src/store/store.ts';
import { fillStore, ids, nowSec, t0, vc1Snapshot } from './fixtures/api-inventory.ts';

const dir = mkdtempSync(join(tmpdir(), 'vscope-series-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const store = openSqliteStore(join(dir, 'series.db'));
after(() => store.close());
fillStore(store);

const periods: readonly Period[] = ['day', 'week', 'month', 'year'];
const requests = (now: number): SeriesParams[] => [
  ...periods.map((period) => ({ period })),
  { period: 'day', metrics: 'netRxKBps,cpuUsagePct' },
  { from: t0 - 7200, to: now },
];

function entity(id: string): StoredEntity {
  const found = store.entity(id);
  assert.ok(found, id);
  return found;
}

/** A gzipped body's text without the spaces kept before closing brackets (the fixtures' names have none). */
const unpadded = (text: string): string => text.replace(/ +(?=\])/g, '');

/** Every request against the uncached answer (with `gzip`, as a client accepting it); returns how many bodies were checked. */
async function checkAll(cache: SeriesCache, now: number, ids_: readonly string[] = [ids.vm1, ids.esx1, ids.nic0], gzip = true): Promise<number> {
  let checked = 0;
  for (const id of ids_) {
    const current = entity(id);
    for (const params of requests(now)) {
      if (params.metrics !== undefined && current.kind !== 'vm') continue;
      const plan = planSeries(current.kind, params, now);
      const expected = JSON.stringify(await seriesResponse(store, current, plan));
      const answer = await cache.answer(current, plan, gzip);
      assert.equal(answer.json.toString('utf8'), expected, `${id} ${JSON.stringify(params)} at ${String(now)}`);
      // Gzipped for the first client accepting gzip, ready with the answer: the same JSON,
      // with spaces before some closing brackets (the room kept for spliced items).
      const zipped = answer.gzip();
      if (gzip && answer.json.length >= minGzipBytes) {
        assert.ok(zipped, 'gzipped with the first answer');
        assert.equal(unpadded(gunzipSync(zipped).toString('utf8')), expected);
      } else {
        assert.equal(zipped, null, 'compressed only when asked (and worth it)');
      }
      checked++;
    }
  }
  return checked;
}

function vmSamples(ends: readonly number[], value: (end: number) => number): SampleBatch {
  const values = Object.fromEntries(vmMetrics.map((def, m) => [def.key, ends.map((end) => value(end) + m)]));
  return { entityId: ids.vm1, kind: 'vm', intervalSec: 20, ts: ends, values };
}

const ends = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + 20 * (i + 1));

test('the cache answers what the store holds, through writes, imports, renames and retention', async () => {
  const cache = new SeriesCache(store);
  let now = nowSec;
  const first = await checkAll(cache, now);
  assert.equal(cache.stats.built, first);

  // Nothing written: served as they are.
  const { built, spliced } = cache.stats;
  await checkAll(cache, now);
  assert.deepEqual([cache.stats.built, cache.stats.spliced], [built, spliced], 'nothing written, nothing read again');

  // One more minute of vm1: its answers are spliced, the others served.
  let last = t0 + 600;
  store.writeRealtime([vmSamples(ends(last, 3), (end) => (end % 97) / 4)]);
  last += 60;
  await checkAll(cache, now);
  assert.ok(cache.stats.spliced > 0, 'spliced after a write');
  const builtBefore = cache.stats.built;

  // Samples across several 5-minute buckets, still fewer than the splice limit.
  store.writeRealtime([vmSamples(ends(last, 45), (end) => (end % 89) / 3)]);
  last += 900;
  await checkAll(cache, now);
  assert.equal(cache.stats.built, builtBefore, 'a few buckets later the answers are still spliced');

  // Two hours of samples: the day answers are rebuilt (their spliced part would be 24 buckets).
  store.writeRealtime([vmSamples(ends(last, 360), (end) => (end % 83) / 2)]);
  last += 7200;
  now = last + 30;
  await checkAll(cache, now);

  // vCenter's history fills old buckets that held nothing: every answer reflects it.
  const old = t0 - 86400;
  const imported: SampleBatch = {
    entityId: ids.vm1,
    kind: 'vm',
    intervalSec: 1800,
    ts: [old + 1800, old + 3600],
    values: { cpuUsagePct: [12.5, 37.25] },
  };
  const builtBeforeImport = cache.stats.built;
  store.importHistorical('30m', [imported]);
  await checkAll(cache, now);
  assert.ok(cache.stats.built > builtBeforeImport, 'an import rebuilds');
  const week = JSON.parse((await cache.answer(entity(ids.vm1), planSeries('vm', { period: 'week' }, now), false)).json.toString()) as {
    ts: number[];
    series: { metric: string; avg: (number | null)[] }[];
  };
  const at = week.ts.indexOf(old);
  assert.ok(at >= 0);
  assert.equal(week.series.find((series) => series.metric === 'cpuUsagePct')?.avg[at], 12.5);

  // A rename shows at once.
  const renamed = vc1Snapshot(now, false);
  store.saveInventory({ ...renamed, vms: renamed.vms.map((vm) => (vm.id === ids.vm1 ? { ...vm, name: 'vm1 "renamed" é' } : vm)) });
  await checkAll(cache, now);
  assert.match((await cache.answer(entity(ids.vm1), planSeries('vm', {}, now), false)).json.toString(), /"name":"vm1 \\"renamed\\" é"/);

  // A new day: the period ends one bucket later, the 5-minute buckets of yesterday expire.
  now += 86400;
  store.writeRealtime([vmSamples([now - 40, now - 20], () => 5)]);
  store.applyRetention(now + 3 * 86400);
  await checkAll(cache, now);
});

test('a small cache evicts and still answers right', async () => {
  const cache = new SeriesCache(store, 4096);
  for (let round = 0; round < 2; round++) await checkAll(cache, nowSec + 10_000, [ids.vm1, ids.esx1, ids.nic0, ids.ds1], false);
  assert.ok(cache.size <= 2, `held ${String(cache.size)}`);
  assert.equal(cache.stats.served, 0);
});

test('a changed body is gzipped without compressing its final buckets again', async () => {
  const cache = new SeriesCache(store);
  const vm = entity(ids.vm1);
  // After the samples the tests before wrote: the next write lands in the period's last bucket.
  const highWater = store.seriesWatermark(ids.vm1)?.highWaterSec ?? nowSec;
  const plan = planSeries('vm', { period: 'year' }, highWater + 40);
  const plain = await cache.answer(vm, plan, false);
  assert.equal(plain.gzip(), null);
  assert.equal(cache.stats.compressed, 0, 'no client asked for gzip');
  const first = (await cache.answer(vm, plan, true)).gzip();
  assert.ok(first);
  assert.equal(unpadded(gunzipSync(first).toString('utf8')), plain.json.toString('utf8'));
  assert.equal(cache.stats.compressed, 1);
  assert.ok(first.length < plain.json.length / 3, `gzipped to ${String(first.length)} of ${String(plain.json.length)} bytes`);

  // A write moves today's bucket: spliced, gzipped from the same compressed final buckets.
  store.writeRealtime([vmSamples([highWater + 20], () => 42.5)]);
  const spliced = { ...cache.stats };
  const after = await cache.answer(vm, plan, true);
  assert.equal(cache.stats.spliced, spliced.spliced + 1);
  assert.equal(cache.stats.compressed, 1, 'nothing compressed again');
  const expected = JSON.stringify(await seriesResponse(store, vm, plan));
  assert.ok(expected !== plain.json.toString('utf8'), 'the write changed the answer');
  assert.equal(unpadded(gunzipSync(after.gzip() ?? Buffer.alloc(0)).toString('utf8')), expected);
  assert.deepEqual(JSON.parse(gunzipSync(after.gzip() ?? Buffer.alloc(0)).toString('utf8')), JSON.parse(expected));
});
