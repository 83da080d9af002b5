/**
 * Capacity, Contention and Compare against a month of stored history whose answers follow by
 * hand from fixtures/insights-inventory.ts (the real SQLite store, logins through a simulator):
 * as an administrator, as a person who may read two VMs, one host and one datastore, and with a
 * counting store to check what is read again when.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { CapacityResponse, CompareResponse, ContentionResponse } from '../src/shared/api.ts';
import { kindOfId } from '../src/shared/entity-id.ts';
import type { Store } from '../src/store/store.ts';
import { testApp, type TestApp } from './fixtures/api-app.ts';
import { bursts, daySec, fillInsights, ids, insightsScopes, T } from './fixtures/insights-inventory.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ vmsPerPool: 1 });
const month = 31 * daySec;

function insightsApp(wrapStore?: (real: Store) => Store): TestApp {
  return testApp({
    vcenters: [{ id: 'vc1', name: 'Lab', url: sim.current.url }],
    startMs: T * 1000,
    fill: fillInsights,
    scopeOf: (_vcenterId, username) => (username === 'ops' ? insightsScopes.ops() : insightsScopes.all()),
    ...(wrapStore === undefined ? {} : { wrapStore }),
  });
}

async function getAs<R>(t: TestApp, cookie: string, url: string): Promise<R> {
  const response = await t.app.inject({ method: 'GET', url, headers: { cookie } });
  assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
  return response.json<R>();
}

async function errorAs(t: TestApp, cookie: string, url: string): Promise<{ status: number; code: string; message: string; body: string }> {
  const response = await t.app.inject({ method: 'GET', url, headers: { cookie } });
  const { error } = response.json<{ error: { code: string; message: string } }>();
  return { status: response.statusCode, code: error.code, message: error.message, body: response.body };
}

const capacityUrl = (query = ''): string => `/api/datacenters/${ids.dc}/capacity${query}`;
const contentionUrl = (query: string): string => `/api/datacenters/${ids.dc}/contention?${query}`;

/** The complete window of a month at T: 372 two-hour buckets, the one before T still settling. */
const vmMonth = { tier: '2h', stepSec: 7200, fromSec: T - month - 7200, toSec: T - 7200 };
/** Hosts and clusters: 31 days and the bucket still filling. */
const hostMonth = { tier: '2h', stepSec: 7200, fromSec: T - month, toSec: T + 7200 };

void describe('capacity and contention as an administrator', () => {
  let t: TestApp;
  let cookie: string;
  const get = <R>(url: string): Promise<R> => getAs<R>(t, cookie, url);
  before(async () => {
    t = insightsApp();
    cookie = await t.login('alice', 'any');
  });
  after(async () => {
    await t.close();
  });

  void test('datastores: the filling one is full in 50 days at 12 GB a day, the flat one is not filling', async () => {
    const { datastores } = await get<CapacityResponse>(capacityUrl());
    assert.deepEqual(datastores.window, { tier: '2h', stepSec: 7200, fromSec: T - 30 * daySec, toSec: T });
    const [fill, flat] = datastores.rows;
    assert.deepEqual([fill?.name, flat?.name], ['ds-fill', 'ds-flat']);
    assert.deepEqual(
      {
        status: fill?.forecast.status,
        points: fill?.forecast.points,
        growth: [fill?.forecast.growthLowGBPerDay, fill?.forecast.growthGBPerDay, fill?.forecast.growthHighGBPerDay],
        fittedUsedGB: fill?.forecast.fittedUsedGB,
        daysUntilFull: fill?.forecast.daysUntilFull,
        fullAtSec: fill?.forecast.fullAtSec,
        window: fill?.forecast.window,
      },
      {
        status: 'filling',
        // 30 days of 2-hour buckets, all of them complete.
        points: 360,
        growth: [12, 12, 12],
        fittedUsedGB: 400,
        // (1,000 - 400) GB / 12 GB a day.
        daysUntilFull: 50,
        fullAtSec: T + 50 * daySec,
        window: { fromSec: T - 30 * daySec, toSec: T },
      },
    );
    assert.deepEqual([flat?.forecast.status, flat?.forecast.daysUntilFull, flat?.forecast.growthGBPerDay], ['notFilling', null, 0]);
    assert.deepEqual(fill?.provisioning, { collectedAtSec: T - 60, capacityGB: 1000, provisionedGB: 1200, provisionedPctOfCapacity: 120, overcommitRatio: 1.2, overcommittedGB: 200 });
  });

  void test('clusters: C1 peaks at 60,000 MHz when h1 bursts and fails N+1 on CPU; memory fits exactly; C2 holds', async () => {
    const { clusters } = await get<CapacityResponse>(capacityUrl());
    assert.deepEqual(clusters.window, hostMonth);
    const [c1, c2] = clusters.rows;
    assert.ok(c1 && c2);
    assert.deepEqual(
      { name: c1.name, hostIds: [...c1.hostIds].sort(), cpuNow: c1.cpuNow, cpuPeak: c1.cpuPeak, vcpus: c1.vcpus, vms: c1.vms, vcpuPerCore: c1.vcpuPerCore },
      {
        name: 'C1',
        hostIds: [ids.h1, ids.h2].sort(),
        // The newest bucket with data: 24,000 + 24,000 MHz of 80,000.
        cpuNow: { bucketSec: T - 7200, usedMhz: 48000, headroomMhz: 32000, headroomPct: 40 },
        // Stored maxima summed per bucket: 36,000 (h1's burst) + 24,000.
        cpuPeak: { bucketSec: bursts.h1Cpu, usedMhz: 60000, headroomMhz: 20000, headroomPct: 25 },
        // Powered-on VMs: idle 2 + ready 8 + busy 4 on h1, mem 4 + new 1 on h2, on 40 cores.
        vcpus: 19,
        vms: 5,
        vcpuPerCore: 0.475,
      },
    );
    assert.deepEqual(
      { ...c1.nPlusOne.cpu, biggestHostId: null },
      { survives: false, biggestHostId: null, remainingCapacityMhz: 40000, peakDemandMhz: 60000, peakBucketSec: bursts.h1Cpu, marginMhz: -20000, marginPct: -50 },
    );
    assert.ok([ids.h1, ids.h2].includes(c1.nPlusOne.cpu.biggestHostId ?? ''), 'one of its two equal hosts');
    assert.deepEqual([c1.nPlusOne.memory.survives, c1.nPlusOne.memory.marginMB, c1.nPlusOne.memory.peakDemandMB], [true, 0, 262144]);
    assert.deepEqual(
      { name: c2.name, survives: c2.nPlusOne.cpu.survives, margin: c2.nPlusOne.cpu.marginMhz, hostsLeftOut: c2.hostsLeftOut, hosts: c2.hostIds.length },
      { name: 'C2', survives: true, margin: 24000, hostsLeftOut: [ids.h5], hosts: 2 },
    );
  });

  void test('hosts: headroom now and at the peak, from the stored maxima; vCPU:core of powered-on VMs', async () => {
    const { hosts } = await get<CapacityResponse>(capacityUrl());
    assert.deepEqual(hosts.rows.map((row) => row.name), ['h1.example.com', 'h2.example.com', 'h3.example.com', 'h4.example.com', 'h5.example.com']);
    const [h1, , h3, , h5] = hosts.rows;
    assert.deepEqual(
      { cpuNow: h1?.cpuNow, cpuPeak: h1?.cpuPeak, memoryPeak: h1?.memoryPeak, vcpus: h1?.vcpus, vms: h1?.vms, vcpuPerCore: h1?.vcpuPerCore, vmsPerCore: h1?.vmsPerCore, window: h1?.window },
      {
        cpuNow: { bucketSec: T - 7200, usedMhz: 24000, headroomMhz: 16000, headroomPct: 40 },
        cpuPeak: { bucketSec: bursts.h1Cpu, usedMhz: 36000, headroomMhz: 4000, headroomPct: 10 },
        // Flat all month: the earliest bucket on a tie.
        memoryPeak: { bucketSec: T - month, usedMB: 131072, headroomMB: 131072, headroomPct: 50 },
        vcpus: 14,
        vms: 3,
        vcpuPerCore: 0.7,
        vmsPerCore: 0.15,
        window: hostMonth,
      },
    );
    // h3 carries hidden-1 (2 vCPUs); off-1 is powered off and does not count.
    assert.deepEqual([h3?.vcpus, h3?.vms], [2, 1]);
    // h5 is in maintenance and has no data: its readings are null, its capacity stands.
    assert.deepEqual([h5?.inMaintenanceMode, h5?.cpuNow, h5?.cpuPeak, h5?.cpuCapacityMhz], [true, null, null, 40000]);
  });

  void test('VM hints: idle, too many vCPUs, memory never used; the VMs without a month of data say so', async () => {
    const { vms } = await get<CapacityResponse>(capacityUrl('?period=month'));
    assert.deepEqual(vms.window, vmMonth);
    // Templates aside: idle, ready, busy, mem, new, hidden, off; new (10 days) and off (no data) lack data.
    assert.deepEqual([vms.analysed, vms.withoutEnoughData], [7, 2]);
    assert.deepEqual(
      vms.rows.map((row) => [row.name, row.hints.map((hint) => hint.kind)]),
      [
        ['hidden-1', ['idle', 'tooManyVcpus']],
        ['idle-1', ['idle']],
        ['mem-1', ['memoryNeverUsed']],
        ['ready-1', ['tooManyVcpus']],
      ],
    );
    const ready = vms.rows.find((row) => row.id === ids.vmReady)?.hints[0];
    // 12 % ready per vCPU (critical) at 10 % usage: 8 x 10 / 70 rounds up to 2 vCPUs.
    assert.deepEqual(ready, {
      kind: 'tooManyVcpus',
      severity: 'critical',
      numCpu: 8,
      suggestedVcpus: 2,
      coveragePct: 100,
      meanReadyPctPerVcpu: 12,
      peakReadyPctPerVcpu: 12,
      peakReadyBucketSec: vmMonth.fromSec,
      busiestCpuUsagePct: 10,
      busiestCpuBucketSec: vmMonth.fromSec,
    });
    // 20 % of 16,384 MB is 3,276.8 MB active; twice that, rounded up to whole GB: 7,168 MB.
    const memory = vms.rows.find((row) => row.id === ids.vmMem)?.hints[0];
    assert.deepEqual(memory && 'suggestedMemoryMB' in memory ? [memory.suggestedMemoryMB, memory.peakActiveMB] : null, [7168, 3276.8]);
    const idle = vms.rows.find((row) => row.id === ids.vmIdle);
    assert.deepEqual([idle?.hostName, idle?.clusterName], ['h1.example.com', 'C1']);
    assert.equal(vms.rules['idleCpuUsagePct'], 5);
  });

  void test('contention by peak: the worst CPU ready per vCPU first, with the hosts and datastores the worst share', async () => {
    const body = await get<ContentionResponse>(contentionUrl('period=month&metric=cpuReady&rankBy=peak'));
    assert.deepEqual(body.window, vmMonth);
    assert.deepEqual([body.unit, body.threshold, body.vmsRanked, body.vmsQuiet, body.vmsWithoutData, body.reason], ['percent', 5, 6, 0, 1, null]);
    assert.deepEqual(
      body.rows.map((row) => [row.rank, row.name, row.peak]),
      [
        [1, 'hidden-1', 40],
        [2, 'busy-1', 30],
        [3, 'ready-1', 12],
        [4, 'new-1', 1],
        [5, 'mem-1', 0.5],
        [6, 'idle-1', 0.25],
      ],
    );
    const busy = body.rows[1];
    // One 20-second sample at 30 %; the bucket's average (2.93 %) stays under 5 %.
    assert.deepEqual(
      { peakBucketSec: busy?.peakBucketSec, timeAboveSec: busy?.timeAboveSec, timeAboveByMaxSec: busy?.timeAboveByMaxSec, hostName: busy?.hostName, datastores: busy?.datastores.map((ds) => ds.name) },
      { peakBucketSec: bursts.vmBusyReady, timeAboveSec: 0, timeAboveByMaxSec: 7200, hostName: 'h1.example.com', datastores: ['ds-fill', 'ds-flat'] },
    );
    assert.equal(body.rows[2]?.timeAboveSec, 372 * 7200, 'ready-1 is above all month');
    // The top VMs are those above 5 %: hidden, busy, ready.
    assert.deepEqual(body.shared.topVmIds, [ids.vmHidden, ids.vmBusy, ids.vmReady]);
    assert.deepEqual(body.shared.hosts.map((place) => [place.name, place.topVms]), [['h1.example.com', 2], ['h3.example.com', 1]]);
    // Two each: the most shared first, then by id.
    assert.deepEqual(body.shared.datastores.map((place) => [place.name, place.topVms]).sort(), [['ds-fill', 2], ['ds-flat', 2]]);
  });

  void test('contention by time above: lasting pain first; a week ranks on 30-minute buckets', async () => {
    const month = await get<ContentionResponse>(contentionUrl('period=month&rankBy=timeAbove'));
    assert.deepEqual(month.rows.map((row) => row.name), ['hidden-1', 'ready-1', 'busy-1', 'new-1', 'mem-1', 'idle-1']);
    const week = await get<ContentionResponse>(contentionUrl('metric=cpuReady'));
    assert.deepEqual([week.period, week.rankBy, week.window.tier, week.window.stepSec], ['week', 'peak', '30m', 1800]);
    assert.deepEqual(week.rows.slice(0, 2).map((row) => [row.name, row.peak, row.peakBucketSec]), [['hidden-1', 40, T - 7 * daySec - 1800], ['busy-1', 30, bursts.vmBusyReady]]);
  });

  void test('ballooning: only the VM that ballooned is ranked, the others stayed at 0', async () => {
    const body = await get<ContentionResponse>(contentionUrl('period=month&metric=balloon'));
    assert.deepEqual(body.rows.map((row) => [row.name, row.peak, row.peakBucketSec, row.timeAboveSec]), [['mem-1', 512, bursts.vmMemBalloon, 7200]]);
    assert.deepEqual([body.unit, body.vmsRanked, body.vmsQuiet, body.vmsWithoutData, body.reason], ['MB', 1, 5, 1, null]);
  });

  void test('disk latency ranks the VM above 20 ms first', async () => {
    const body = await get<ContentionResponse>(contentionUrl('period=month&metric=diskLatency&limit=2'));
    assert.deepEqual(body.rows.map((row) => row.peak), [30, 2]);
    assert.equal(body.rows[0]?.name, 'busy-1');
    assert.deepEqual([body.vmsRanked, body.shared.topVmIds], [6, [ids.vmBusy]]);
  });

  void test('a metric no VM has figures for answers an empty ranking that says why', async () => {
    for (const metric of ['swap', 'netDrops']) {
      const body = await get<ContentionResponse>(contentionUrl(`period=day&metric=${metric}`));
      assert.deepEqual([body.rows, body.vmsRanked, body.vmsWithoutData], [[], 0, 7], metric);
      assert.match(body.reason ?? '', /No VM has .* figures in this period.*statistics level/, metric);
    }
  });

  void test('bad queries answer 400 naming the field; an unknown datacenter 404', async () => {
    for (const [url, field] of [
      [capacityUrl('?period=year'), /period/],
      [contentionUrl('metric=cpu'), /metric/],
      [contentionUrl('rankBy=worst'), /rankBy/],
      [contentionUrl('limit=0'), /limit/],
      [contentionUrl('limit=500'), /limit/],
    ] as const) {
      const error = await errorAs(t, cookie, url);
      assert.deepEqual([error.status, error.code], [400, 'bad_request'], url);
      assert.match(error.message, field, url);
    }
    for (const url of [`/api/datacenters/dc-AAAAAAAAAAAAAA/capacity`, `/api/datacenters/${ids.h1}/contention`]) {
      assert.equal((await errorAs(t, cookie, url)).status, 404, url);
    }
  });

  void test('the routes need a session', async () => {
    for (const url of [capacityUrl(), contentionUrl(''), `/api/compare?ids=${ids.vmIdle}&metric=cpuUsagePct`]) {
      assert.equal((await t.app.inject({ method: 'GET', url })).statusCode, 401, url);
    }
  });
});

void describe('compare', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    t = insightsApp();
    cookie = await t.login('alice', 'any');
  });
  after(async () => {
    await t.close();
  });

  void test('one metric of several VMs on the same buckets, in the order asked', async () => {
    const body = await getAs<CompareResponse>(t, cookie, `/api/compare?ids=${ids.vmBusy},${ids.vmIdle},${ids.vmBusy}&metric=cpuUsagePct&period=month`);
    assert.deepEqual([body.kind, body.metric, body.unit, body.period, body.stepSec, body.from, body.to], ['vm', 'cpuUsagePct', 'percent', 'month', 7200, T - month, T + 7200]);
    // 31 days of buckets and the one still filling (empty here).
    assert.equal(body.ts.length, 373);
    assert.deepEqual(body.series.map((series) => [series.entity.name, series.numCpu]), [['busy-1', 4], ['idle-1', 2]]);
    const [busy, idle] = body.series;
    assert.deepEqual([busy?.avg[0], busy?.avg.at(-1), idle?.avg[0], idle?.max[100]], [60, null, 1, 1]);
    assert.ok(body.series.every((series) => series.avg.length === body.ts.length && series.min.length === body.ts.length));
    // The CPU ready burst shows in the maximum, not the average.
    const at = body.ts.indexOf(bursts.vmBusyReady);
    const ready = await getAs<CompareResponse>(t, cookie, `/api/compare?ids=${ids.vmBusy}&metric=cpuReadyMs&period=month`);
    assert.deepEqual([ready.series[0]?.max[at], ready.series[0]?.avg[at], ready.series[0]?.min[at]], [24000, 2346.667, 800]);
  });

  void test('hosts, and a zoomed range on the finest tier that covers it', async () => {
    const from = bursts.h1Cpu - 3600;
    const body = await getAs<CompareResponse>(t, cookie, `/api/compare?ids=${ids.h1},${ids.h2}&metric=cpuUsedMhz&from=${String(from)}&to=${String(from + 3 * daySec)}`);
    assert.deepEqual([body.kind, body.period, body.stepSec, body.unit], ['host', 'custom', 1800, 'MHz']);
    const at = body.ts.indexOf(bursts.h1Cpu);
    assert.deepEqual(body.series.map((series) => series.max[at]), [36000, 24000]);
  });

  void test('refuses what cannot be compared, saying why', async () => {
    const tooMany = Array.from({ length: 21 }, (_, i) => `vm-${String(i).padStart(14, 'A')}`).join(',');
    for (const [query, message] of [
      [`ids=${ids.vmBusy},${ids.h1}&metric=cpuUsagePct`, /one kind/],
      [`ids=${ids.vmBusy}&metric=cpuUsedMhzz`, /Unknown metric/],
      [`ids=${ids.vmBusy}&metric=cpuUsagePct,memUsagePct`, /one metric/],
      [`ids=${ids.c1}&metric=cpuUsagePct`, /no history of its own/],
      [`ids=,&metric=cpuUsagePct`, /Give the ids/],
      [`ids=${tooMany}&metric=cpuUsagePct`, /at most 20/],
      [`ids=${ids.vmBusy}&metric=cpuUsagePct&period=decade`, /period/],
      [`ids=${ids.vmBusy}&metric=cpuUsagePct&from=10`, /both from and to/],
    ] as const) {
      const error = await errorAs(t, cookie, `/api/compare?${query}`);
      assert.deepEqual([error.status, error.code], [400, 'bad_request'], query);
      assert.match(error.message, message, query);
    }
    assert.equal((await errorAs(t, cookie, `/api/compare?ids=${ids.vmBusy},vm-AAAAAAAAAAAAAA&metric=cpuUsagePct`)).status, 404);
  });
});

void describe('as a person who may read two VMs, one host and one datastore', () => {
  let t: TestApp;
  let cookie: string;
  const get = <R>(url: string): Promise<R> => getAs<R>(t, cookie, url);
  before(async () => {
    t = insightsApp();
    cookie = await t.login('ops', 'any');
  });
  after(async () => {
    await t.close();
  });

  void test('capacity holds what they may read, own figures whole; a cluster seen by name only shows nothing', async () => {
    const body = await get<CapacityResponse>(capacityUrl());
    assert.deepEqual(body.datastores.rows.map((row) => row.name), ['ds-fill']);
    assert.equal(body.datastores.rows[0]?.forecast.daysUntilFull, 50);
    assert.deepEqual(body.clusters.rows, [], 'C1 is view-only: its figures are not theirs to see');
    assert.deepEqual(body.hosts.rows.map((row) => row.name), ['h1.example.com']);
    // h1's own figures count every VM on it, idle-1 too, though they may not read it.
    assert.deepEqual([body.hosts.rows[0]?.vcpus, body.hosts.rows[0]?.vms, body.hosts.rows[0]?.cpuPeak?.usedMhz, body.hosts.rows[0]?.clusterId], [14, 3, 36000, ids.c1]);
    assert.deepEqual([body.vms.analysed, body.vms.withoutEnoughData], [2, 0]);
    assert.deepEqual(body.vms.rows.map((row) => [row.name, row.hostName, row.clusterName]), [['ready-1', 'h1.example.com', 'C1']]);
  });

  void test('contention ranks only the VMs they may read, with the places they may read', async () => {
    const body = await get<ContentionResponse>(contentionUrl('period=month'));
    assert.deepEqual(body.rows.map((row) => [row.rank, row.name, row.datastores.map((ds) => ds.name)]), [[1, 'busy-1', ['ds-fill']], [2, 'ready-1', []]]);
    assert.deepEqual([body.vmsRanked, body.vmsWithoutData], [2, 0]);
    assert.deepEqual(body.shared.hosts.map((place) => [place.name, place.vmIds]), [['h1.example.com', [ids.vmBusy, ids.vmReady]]]);
    assert.deepEqual(body.shared.datastores.map((place) => [place.name, place.vmIds]), [['ds-fill', [ids.vmBusy]]]);
    assert.ok(!JSON.stringify(body).includes(ids.vmHidden) && !JSON.stringify(body).includes('hidden-1'), 'nothing of the hidden VM');
  });

  void test('compare: a hidden id answers 404 exactly like an unknown one', async () => {
    assert.equal((await get<CompareResponse>(`/api/compare?ids=${ids.vmBusy},${ids.vmReady}&metric=cpuUsagePct`)).series.length, 2);
    const unknown = await errorAs(t, cookie, `/api/compare?ids=${ids.vmBusy},vm-AAAAAAAAAAAAAA&metric=cpuUsagePct`);
    for (const hidden of [ids.vmHidden, ids.vmIdle, ids.h2, ids.dsFlat]) {
      const error = await errorAs(t, cookie, `/api/compare?ids=${ids.vmBusy},${hidden}&metric=cpuUsagePct`);
      assert.equal(error.status, 404, hidden);
      assert.equal(error.body, unknown.body, `${hidden}: same body as an unknown id`);
    }
    assert.equal((await get<CompareResponse>(`/api/compare?ids=${ids.h1}&metric=cpuUsedMhz`)).series[0]?.entity.name, 'h1.example.com');
  });

  void test('a datacenter of no visible content and another vCenter answer 404', async () => {
    assert.equal((await errorAs(t, cookie, `/api/datacenters/dc-AAAAAAAAAAAAAA/capacity`)).status, 404);
  });
});

void describe('what is read again, and when', () => {
  let t: TestApp;
  let cookie: string;
  /** store.series calls per entity kind since the last `take`. */
  let reads: Record<string, number> = {};
  const take = (): Record<string, number> => {
    const seen = reads;
    reads = {};
    return seen;
  };
  before(async () => {
    t = insightsApp((real) =>
      Object.assign(Object.create(real) as Store, {
        series: (query: Parameters<Store['series']>[0]) => {
          const kind = kindOfId(query.entityId) ?? 'unknown';
          reads[kind] = (reads[kind] ?? 0) + 1;
          return real.series(query);
        },
        // Counted per VM, as `series` is counted per entity.
        vmSummariesOf: (...args: Parameters<NonNullable<Store['vmSummariesOf']>>) => {
          for (const vm of args[2]) {
            const kind = kindOfId(vm.id) ?? 'unknown';
            reads[kind] = (reads[kind] ?? 0) + 1;
          }
          return real.vmSummariesOf?.(...args) ?? new Map();
        },
      }),
    );
    cookie = await t.login('alice', 'any');
  });
  after(async () => {
    await t.close();
  });

  void test('a repeated question is answered from the cache; another person shares the VM analyses', async () => {
    const first = await getAs<CapacityResponse>(t, cookie, capacityUrl());
    assert.equal(take()['vm'], 7, 'each VM read once (templates aside)');
    assert.deepEqual(await getAs<CapacityResponse>(t, cookie, capacityUrl()), first);
    assert.deepEqual(take(), {}, 'nothing read again');
    await getAs<ContentionResponse>(t, cookie, contentionUrl('period=month'));
    assert.equal(take()['vm'], undefined, 'the contention of the same period uses the same analyses');
    const ops = await t.login('ops', 'any');
    await getAs<CapacityResponse>(t, ops, capacityUrl());
    assert.equal(take()['vm'], undefined);
  });

  void test('new samples in the bucket still filling read hosts again, not VMs', async () => {
    const write = (endSec: number, mhz: number): void =>
      t.store.writeRealtime([
        { entityId: ids.h1, kind: 'host', intervalSec: 20, ts: [endSec], values: { cpuUsedMhz: [mhz], memConsumedMB: [131072] } },
        { entityId: ids.vmReady, kind: 'vm', intervalSec: 20, ts: [endSec], values: { cpuUsagePct: [90] } },
      ]);
    // ready-1's first realtime sample: until it came, any of its buckets could still change
    // (a collector writes a new VM's last hour), so it is read once more.
    write(T + 20, 30000);
    t.advance(60_000);
    await getAs<CapacityResponse>(t, cookie, capacityUrl());
    assert.equal(take()['vm'], 1);
    // From then on its samples land after its complete buckets.
    write(T + 40, 30000);
    const body = await getAs<CapacityResponse>(t, cookie, capacityUrl());
    const read = take();
    assert.equal(read['vm'], undefined, 'VM analyses cover complete buckets only');
    assert.ok((read['host'] ?? 0) > 0);
    assert.deepEqual(body.hosts.rows[0]?.cpuNow, { bucketSec: T, usedMhz: 30000, headroomMhz: 10000, headroomPct: 25 });
    assert.equal(body.vms.rows.find((row) => row.id === ids.vmReady)?.hints[0]?.kind, 'tooManyVcpus', 'the open bucket is not in the VM window');
  });

  void test('a write into a complete bucket of a VM reads that VM again', async () => {
    // idle-1 had no realtime sample yet: the collector may write its last hour anywhere, here
    // 10 days back, one sample at 50 % merged into the bucket's 360 imported ones at 1 %.
    const bucket = T - 10 * daySec;
    t.store.writeRealtime([{ entityId: ids.vmIdle, kind: 'vm', intervalSec: 20, ts: [bucket + 20], values: { cpuUsagePct: [50] } }]);
    const body = await getAs<CapacityResponse>(t, cookie, capacityUrl());
    assert.equal(take()['vm'], 1);
    const [idle] = body.vms.rows.find((row) => row.id === ids.vmIdle)?.hints ?? [];
    // (360 x 1 + 50) / 361 = 1.136 %: still idle, and its busiest bucket is that one now.
    assert.deepEqual(idle && idle.kind === 'idle' ? [idle.busiestCpuUsagePct, idle.busiestCpuBucketSec] : null, [1.136, bucket]);
  });

  void test('the next complete bucket reads every VM again', async () => {
    t.advance(2 * 3600_000);
    // Two hours on, the session's scope is past its refresh: log in again.
    cookie = await t.login('alice', 'any');
    const body = await getAs<ContentionResponse>(t, cookie, contentionUrl('period=month'));
    assert.equal(take()['vm'], 7);
    assert.deepEqual(body.window, { ...vmMonth, fromSec: vmMonth.fromSec + 7200, toSec: vmMonth.toSec + 7200 });
  });
});

void describe('a first look that takes long', () => {
  let t: TestApp;
  let cookie: string;
  before(async () => {
    // Every VM's series takes 4 s to come (a store across a slow network, or 5,000 VMs).
    t = insightsApp((real) =>
      Object.assign(Object.create(real) as Store, {
        series: (query: Parameters<Store['series']>[0]) =>
          kindOfId(query.entityId) === 'vm' ? new Promise((resolve) => setTimeout(() => resolve(real.series(query)), 4000)) : real.series(query),
        // A store that reads one entity at a time (as an engine does).
        vmSummariesOf: undefined,
      }),
    );
    cookie = await t.login('alice', 'any');
  });
  after(async () => {
    await t.close();
  });

  void test('answers within seconds with how far the reading is, and in full once it is done', async () => {
    const started = Date.now();
    const first = await getAs<CapacityResponse>(t, cookie, capacityUrl());
    assert.ok(Date.now() - started < 1900, 'the request did not wait for every VM');
    assert.deepEqual([first.vms.progress, first.vms.rows, first.vms.analysed], [{ vmsRead: 0, vmsToRead: 7 }, [], 0]);
    assert.equal(first.datastores.rows[0]?.forecast.daysUntilFull, 50, 'the rest of the answer is whole');
    const contention = await getAs<ContentionResponse>(t, cookie, contentionUrl('period=month'));
    assert.deepEqual([contention.rows, contention.progress], [[], { vmsRead: 0, vmsToRead: 7 }]);
    assert.match(contention.reason ?? '', /reading the period's buckets of every VM for the first time \(0 of 7 so far\)/);
    // A request waits 1.5 s at most: both answers came before the reading ends, 4 s in.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + 4300 - Date.now())));
    const done = await getAs<CapacityResponse>(t, cookie, capacityUrl());
    assert.deepEqual([done.vms.progress, done.vms.rows.length, done.vms.analysed], [null, 4, 7]);
  });
});
