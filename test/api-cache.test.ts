/**
 * The list cache of `vscope serve`: while a cycle writes, a list may lag the store by at most
 * `listMaxStaleMs`; with the default (0) every write shows at once.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { inlineListBuilder } from '../src/server/list-builder.ts';
import type { HostRow, VmRow } from '../src/shared/api.ts';
import { testApp } from './fixtures/api-app.ts';
import { fillStore, ids, nowSec, t0 } from './fixtures/api-inventory.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ username: 'alice', password: 's3cret', vmsPerPool: 1 });

/** One more vm1 sample in a new 5-minute bucket: its latest CPU usage becomes `pct`. */
const sampleAfter = (pct: number) =>
  [{ entityId: ids.vm1, kind: 'vm' as const, intervalSec: 20, ts: [t0 + 620], values: { cpuUsagePct: [pct] } }] as const;

async function vm1CpuPct(t: ReturnType<typeof testApp>, cookie: string): Promise<number | null> {
  const response = await t.app.inject({ method: 'GET', url: `/api/datacenters/${ids.dc1}/vms`, headers: { cookie } });
  assert.equal(response.statusCode, 200);
  return response.json<VmRow[]>().find((vm) => vm.id === ids.vm1)?.cpuUsagePct ?? null;
}

/** Runs `body` against a test app on the fixture store, logged in as alice. */
async function withApp(options: Omit<Parameters<typeof testApp>[0], 'vcenters' | 'startMs' | 'fill'>, body: (t: ReturnType<typeof testApp>, cookie: string) => Promise<void>): Promise<void> {
  const t = testApp({ vcenters: [{ id: 'vc1', url: sim.current.url }], startMs: nowSec * 1000, fill: fillStore, ...options });
  try {
    await body(t, await t.login('alice', 's3cret', 'vc1'));
  } finally {
    await t.close();
  }
}

test('by default a write shows in the next list', async () => {
  await withApp({}, async (t, cookie) => {
    assert.equal(await vm1CpuPct(t, cookie), 23);
    t.store.writeRealtime(sampleAfter(90));
    assert.equal(await vm1CpuPct(t, cookie), 90);
  });
});

test('with listMaxStaleMs the list lags writes by at most that long', async () => {
  await withApp({ config: { listMaxStaleMs: 5000 } }, async (t, cookie) => {
    assert.equal(await vm1CpuPct(t, cookie), 23);
    t.store.writeRealtime(sampleAfter(90));
    t.advance(4999);
    assert.equal(await vm1CpuPct(t, cookie), 23, 'served from the list built 4.999 s ago');
    t.advance(1);
    assert.equal(await vm1CpuPct(t, cookie), 23, 'a list 5 s old is answered while it is rebuilt');
    assert.equal(await vm1CpuPct(t, cookie), 90, 'the next answer is the rebuilt list');
  });
});

test('the hosts list follows the clock (uptime) as well as the data', async () => {
  await withApp({}, async (t, cookie) => {
    const uptime = async (): Promise<number | null> => {
      const response = await t.app.inject({ method: 'GET', url: `/api/datacenters/${ids.dc1}/hosts`, headers: { cookie } });
      assert.equal(response.statusCode, 200);
      return response.json<HostRow[]>().find((host) => host.id === ids.esx1)?.uptimeSec ?? null;
    };
    const before = await uptime();
    assert.ok(before !== null);
    t.advance(10_000);
    assert.equal(await uptime(), before + 10);
  });
});

test('with listMaxStaleMs a finished cycle shows at once', async () => {
  await withApp({ config: { listMaxStaleMs: 5000 } }, async (t, cookie) => {
    assert.equal(await vm1CpuPct(t, cookie), 23);
    // A cycle writes, then ends (its status is saved): no stale answer past its end.
    t.store.writeRealtime(sampleAfter(90));
    assert.equal(await vm1CpuPct(t, cookie), 23, 'while the cycle runs, the list may lag');
    const [status] = t.store.statuses().filter((s) => s.vcenterId === 'vc1');
    assert.ok(status);
    t.store.saveStatus({ ...status, lastStartSec: nowSec, lastEndSec: nowSec + 1, lastSuccessSec: nowSec + 1 });
    assert.equal(await vm1CpuPct(t, cookie), 90, 'the cycle has ended');
  });
});

test('a stale list is answered at once, without waiting for its rebuild', async () => {
  let held: (() => void) | null = null;
  let builds = 0;
  const t = testApp({
    vcenters: [{ id: 'vc1', url: sim.current.url }],
    startMs: nowSec * 1000,
    fill: fillStore,
    config: { listMaxStaleMs: 5000 },
    // The app's own builder, held back on demand (as a worker thread busy for a while would be).
    listBuilder: (store, sessionStore) => {
      const inline = inlineListBuilder(store, sessionStore);
      return {
        async build(request) {
          builds++;
          if (builds > 1) await new Promise<void>((resolve) => (held = resolve));
          return inline.build(request);
        },
        metrics: (request) => inline.metrics(request),
        close: () => inline.close(),
      };
    },
  });
  try {
    const cookie = await t.login('alice', 's3cret', 'vc1');
    assert.equal(await vm1CpuPct(t, cookie), 23);
    t.store.writeRealtime(sampleAfter(90));
    t.advance(5000);
    assert.equal(await vm1CpuPct(t, cookie), 23, 'answered while the rebuild is held');
    assert.equal(await vm1CpuPct(t, cookie), 23, 'still, and without a second rebuild');
    assert.equal(builds, 2);
    assert.ok(held !== null, 'a rebuild is under way');
    (held as () => void)();
    let pct = await vm1CpuPct(t, cookie);
    for (let tries = 0; pct !== 90 && tries < 50; tries++) pct = await vm1CpuPct(t, cookie);
    assert.equal(pct, 90, 'the rebuilt list replaces the stale one');
    assert.equal(builds, 2);
  } finally {
    await t.close();
  }
});

test('a year series is gzipped for clients that accept it, and equal to the plain one', async () => {
  await withApp({}, async (t, cookie) => {
    const url = `/api/entities/${ids.vm1}/series?period=year`;
    const plain = await t.app.inject({ method: 'GET', url, headers: { cookie } });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['content-encoding'], undefined);
    // Gzipped for the first request that accepts it, and the same gzipped body for those that
    // follow: the same JSON (with spaces before closing brackets, room for spliced items).
    const zipped = [];
    for (let i = 0; i < 2; i++) {
      const answer = await t.app.inject({ method: 'GET', url, headers: { cookie, 'accept-encoding': 'gzip' } });
      assert.equal(answer.headers['content-encoding'], 'gzip');
      assert.match(String(answer.headers['content-type']), /^application\/json/);
      assert.deepEqual(JSON.parse(gunzipSync(answer.rawPayload).toString('utf8')), JSON.parse(plain.body));
      zipped.push(answer.rawPayload);
    }
    assert.deepEqual(zipped[1], zipped[0]);
  });
});

test('the VM list is gzipped for clients that accept it, and equal to the plain one', async () => {
  await withApp({}, async (t, cookie) => {
    const url = `/api/datacenters/${ids.dc1}/vms`;
    const plain = await t.app.inject({ method: 'GET', url, headers: { cookie } });
    assert.equal(plain.headers['content-encoding'], undefined);
    const zipped = await t.app.inject({ method: 'GET', url, headers: { cookie, 'accept-encoding': 'gzip, deflate, br' } });
    assert.equal(zipped.statusCode, 200);
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    assert.match(String(zipped.headers.vary), /accept-encoding/i);
    assert.equal(gunzipSync(zipped.rawPayload).toString('utf8'), plain.body);
    assert.ok(zipped.rawPayload.length < Buffer.byteLength(plain.body));
  });
});
