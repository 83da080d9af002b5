import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgument, SoapFault, TransportError } from '../vsphere/errors.ts';
import {
  datastoreSpaceBatch,
  insideWindow,
  realtimeWindow,
  resolveMetrics,
  runPerfPlan,
  toBatches,
  type PerfPlan,
  type PerfTarget,
  type ResolvedMetrics,
} from './performance.ts';
import type { PerfCounterInfo, PerfEntityResult, PerfQuerySpec } from './vsphere-api.ts';

const counter = (id: number, level = 1): PerfCounterInfo => ({ id, group: '', name: '', rollup: '', unit: '', statsType: '', level });

const metrics: ResolvedMetrics = {
  host: [{ key: 'cpuUsagePct', counterId: 2, conversion: 'hundredthsToPercent', level: 1 }],
  vm: [
    { key: 'cpuUsagePct', counterId: 2, conversion: 'hundredthsToPercent', level: 1 },
    { key: 'netRxPps', counterId: 146, conversion: 'perInterval', level: 2 },
  ],
  nic: [{ key: 'netRxKBps', counterId: 148, conversion: 'identity', level: 2 }],
  datastore: [],
};

const host: PerfTarget = {
  kind: 'host',
  entity: { type: 'HostSystem', value: 'host-1' },
  entityId: 'h-1',
  nics: [
    { device: 'vmnic0', id: 'n-0' },
    { device: 'vmnic1', id: 'n-1' },
  ],
};
const vm = (n: number): PerfTarget => ({ kind: 'vm', entity: { type: 'VirtualMachine', value: `vm-${String(n)}` }, entityId: `vm-id-${String(n)}`, nics: [] });

void test('resolveMetrics takes the first offered counter and skips metrics without one', () => {
  const resolved = resolveMetrics(
    new Map([
      ['cpu.usage.average', counter(2)],
      ['net.received.average', counter(148, 2)], // the fallback of net.bytesRx.average
    ]),
  );
  assert.deepEqual(
    resolved.host.map((m) => [m.key, m.counterId]),
    [
      ['cpuUsagePct', 2],
      ['netRxKBps', 148],
    ],
  );
  assert.deepEqual(resolved.datastore, []); // space metrics come from properties
});

void test('realtimeWindow: since the mark, at most the hour vCenter keeps, maxSample always set (3 spare for clock skew)', () => {
  const now = 100_000;
  const cases: [string, number | undefined, { startSec: number; maxSample: number }][] = [
    ['no mark: the whole hour', undefined, { startSec: now - 3600, maxSample: 180 }],
    ['mark two minutes ago', now - 120, { startSec: now - 120, maxSample: 10 }],
    ['mark older than the hour', now - 7200, { startSec: now - 3600, maxSample: 180 }],
    ['mark now', now, { startSec: now, maxSample: 4 }],
    ['mark ahead of our clock', now + 30, { startSec: now, maxSample: 4 }],
  ];
  for (const [name, mark, expected] of cases) assert.deepEqual(realtimeWindow(mark, now), expected, name);
  // When the history import brings the hour, an entity without a recent mark gets its newest samples only.
  assert.deepEqual(realtimeWindow(undefined, now, true), { startSec: now - 40, maxSample: 6 });
  assert.deepEqual(realtimeWindow(now - 7200, now, true), { startSec: now - 40, maxSample: 6 });
  assert.deepEqual(realtimeWindow(now - 120, now, true), { startSec: now - 120, maxSample: 10 });
});

void test('toBatches merges several results for one entity by timestamp, in time order whatever order they come in', () => {
  // Two answers for one host (its metrics split over two queries), the second one newest first.
  const first: PerfEntityResult = {
    entity: host.entity,
    samples: [
      { tsSec: 1000, intervalSec: 20 },
      { tsSec: 1020, intervalSec: 20 },
    ],
    series: [{ counterId: 2, instance: '', values: [1000, 2000] }],
  };
  const second: PerfEntityResult = {
    entity: host.entity,
    samples: [
      { tsSec: 1040, intervalSec: 20 },
      { tsSec: 1020, intervalSec: 20 },
    ],
    series: [
      { counterId: 2, instance: '', values: [4000, 2000] },
      { counterId: 148, instance: 'vmnic0', values: [40, 20] },
    ],
  };
  const plan: PerfPlan = { intervalSec: 20, targets: [host], metrics, window: () => ({ startSec: 0, maxSample: 3 }) };
  let written: ReturnType<typeof toBatches> = [];
  return runPerfPlan({ queryPerf: () => Promise.resolve([first, second]) }, plan, { entitiesPerQuery: 10, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 1_000_000 }, (b) => {
    written = b;
  }).then(() => {
    const byId = new Map(written.map((b) => [b.entityId, b]));
    assert.deepEqual(byId.get('h-1'), { entityId: 'h-1', kind: 'host', intervalSec: 20, ts: [1000, 1020, 1040], values: { cpuUsagePct: [10, 20, 40] } });
    assert.deepEqual(byId.get('n-0'), { entityId: 'n-0', kind: 'nic', intervalSec: 20, ts: [1020, 1040], values: { netRxKBps: [20, 40] } });
  });
});

void test('toBatches routes aggregate and NIC instances, converts units, orders by time and drops unalignable series', () => {
  const result: PerfEntityResult = {
    entity: host.entity,
    samples: [
      { tsSec: 1000, intervalSec: 20 },
      { tsSec: 1020, intervalSec: 20 },
    ],
    series: [
      { counterId: 2, instance: '', values: [1250, -1] },
      { counterId: 148, instance: 'vmnic0', values: [10, 20] },
      { counterId: 148, instance: 'vmnic1', values: [5] }, // shorter than the samples
      { counterId: 999, instance: '', values: [1, 2] }, // not asked for
    ],
  };
  const plan: PerfPlan = { intervalSec: 20, targets: [host], metrics, window: () => ({ startSec: 0, maxSample: 2 }) };
  const prepared = [{ target: host, specs: [], routes: new Map() }];
  assert.deepEqual(toBatches(prepared, [result], 20), []); // no routes, nothing placed
  let written: ReturnType<typeof toBatches> = [];
  return runPerfPlan({ queryPerf: () => Promise.resolve([result]) }, plan, { entitiesPerQuery: 10, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 1_000_000 }, (b) => {
    written = b;
  }).then(() => {
    const byId = new Map(written.map((b) => [b.entityId, b]));
    assert.deepEqual(byId.get('h-1'), { entityId: 'h-1', kind: 'host', intervalSec: 20, ts: [1000, 1020], values: { cpuUsagePct: [12.5, null] } });
    assert.deepEqual(byId.get('n-0')?.values, { netRxKBps: [10, 20] });
    assert.equal(byId.get('n-0')?.kind, 'nic');
    assert.equal(byId.has('n-1'), false);
  });
});

/** A QueryPerf stand-in with a size limit: vcsim has none, so the split path needs this. */
function limitedClient(maxMetricIds: number, fault: () => Error) {
  const calls: number[] = [];
  return {
    calls,
    queryPerf(specs: readonly PerfQuerySpec[]): Promise<PerfEntityResult[]> {
      const size = specs.reduce((n, s) => n + s.metricIds.length, 0);
      calls.push(specs.length);
      if (size > maxMetricIds) return Promise.reject(fault());
      return Promise.resolve(
        specs.map((s) => ({
          entity: s.entity,
          samples: [{ tsSec: 2000, intervalSec: 20 }],
          series: s.metricIds.map((m) => ({ counterId: m.counterId, instance: m.instance, values: [100] })),
        })),
      );
    },
  };
}

void test('a query refused as too large is split in half until it passes; every entity is still collected', async () => {
  const client = limitedClient(4, () => new InvalidArgument('InvalidArgument', 'vpxd.stats.maxQueryMetrics exceeded'));
  const targets = Array.from({ length: 8 }, (_, i) => vm(i));
  const plan: PerfPlan = { intervalSec: 20, targets, metrics, window: () => ({ startSec: 0, maxSample: 1 }) };
  const written: string[] = [];
  const result = await runPerfPlan(client, plan, { entitiesPerQuery: 8, metricsPerQuery: 64, concurrency: 2, valuesPerQuery: 1_000_000 }, (batches) => {
    written.push(...batches.map((b) => b.entityId));
  });
  assert.deepEqual(written.sort(), targets.map((t) => t.entityId).sort());
  assert.equal(result.skippedEntities, 0);
  assert.deepEqual(client.calls, [8, 4, 2, 2, 4, 2, 2]);
});

void test('one entity refused alone is skipped; the metric split keeps one entity together', async () => {
  // metricsPerQuery 1 puts each VM's two metrics in two specs; a limit of 1 refuses any pair.
  const client = limitedClient(1, () => new SoapFault('SystemError', 'response too large'));
  const plan: PerfPlan = { intervalSec: 20, targets: [vm(1)], metrics, window: () => ({ startSec: 0, maxSample: 1 }) };
  const written: { id: string; keys: string[] }[] = [];
  await runPerfPlan(client, plan, { entitiesPerQuery: 1, metricsPerQuery: 1, concurrency: 1, valuesPerQuery: 1_000_000 }, (batches) => {
    written.push(...batches.map((b) => ({ id: b.entityId, keys: Object.keys(b.values).sort() })));
  });
  // Split into its two specs, merged back into one batch with both metrics.
  assert.deepEqual(written, [{ id: 'vm-id-1', keys: ['cpuUsagePct', 'netRxPps'] }]);

  const refusing = limitedClient(0, () => new InvalidArgument('ManagedObjectNotFound', 'gone'));
  const skipped = await runPerfPlan(refusing, { ...plan, targets: [vm(1), vm(2)] }, { entitiesPerQuery: 2, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 1_000_000 }, () => {
    assert.fail('nothing to write');
  });
  assert.equal(skipped.skippedEntities, 2);
});

void test('a transport failure fails the whole run (no split storm against a dead vCenter)', async () => {
  let calls = 0;
  const client = {
    queryPerf: (): Promise<PerfEntityResult[]> => {
      calls += 1;
      return Promise.reject(new TransportError('timeout', 'the vCenter did not answer'));
    },
  };
  const plan: PerfPlan = { intervalSec: 20, targets: [vm(1), vm(2), vm(3)], metrics, window: () => ({ startSec: 0, maxSample: 1 }) };
  await assert.rejects(runPerfPlan(client, plan, { entitiesPerQuery: 3, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 1_000_000 }, () => {}), TransportError);
  assert.equal(calls, 1);
});

void test('datastoreSpaceBatch: one sample of space figures at the cycle time, with any IO values', () => {
  const batch = datastoreSpaceBatch(
    {
      kind: 'datastore',
      id: 'ds-1',
      vcenterId: 'vc',
      moRef: 'ds',
      name: 'DS',
      datacenterId: 'dc',
      type: 'VMFS',
      capacityGB: 100,
      freeGB: 40,
      provisionedGB: 90,
      accessible: true,
      maintenanceMode: null,
      overallStatus: 'green',
      hostIds: [],
      vmIds: [],
    },
    5000,
    { readKBps: 12 },
  );
  assert.deepEqual(batch, {
    entityId: 'ds-1',
    kind: 'datastore',
    intervalSec: 20,
    ts: [5000],
    values: { capacityGB: [100], usedGB: [60], freeGB: [40], provisionedGB: [90], readKBps: [12] },
  });
});

void test('long windows put fewer entities in one query (valuesPerQuery), never none', async () => {
  const sizes: number[] = [];
  const client = {
    queryPerf: (specs: readonly PerfQuerySpec[]): Promise<PerfEntityResult[]> => {
      sizes.push(specs.length);
      return Promise.resolve([]);
    },
  };
  const targets = Array.from({ length: 10 }, (_, i) => vm(i));
  // Two metrics x 100 samples = 200 values per VM; 600 per query -> groups of 3.
  const plan: PerfPlan = { intervalSec: 300, targets, metrics, window: () => ({ startSec: 0, maxSample: 100 }) };
  await runPerfPlan(client, plan, { entitiesPerQuery: 50, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 600 }, () => {});
  assert.deepEqual(sizes, [3, 3, 3, 1]);
  sizes.length = 0;
  await runPerfPlan(client, plan, { entitiesPerQuery: 50, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 10 }, () => {});
  assert.deepEqual(sizes, Array.from({ length: 10 }, () => 1));
});

void test('per-disk counters are asked for every instance and combined: summed, latencies by their highest', async () => {
  const resolved = resolveMetrics(
    new Map([
      ['virtualDisk.read.average', { ...counter(173, 2), group: 'virtualDisk' }],
      ['virtualDisk.totalReadLatency.average', { ...counter(175), group: 'virtualDisk' }],
      ['cpu.usage.average', { ...counter(2), group: 'cpu' }],
    ]),
  );
  const disk = resolved.vm.filter((m) => m.instances);
  assert.deepEqual(
    disk.map((m) => [m.key, m.instances?.combine]),
    [
      ['diskReadKBps', 'sum'],
      ['diskReadLatencyMs', 'max'],
    ],
  );
  let asked: PerfQuerySpec[] = [];
  const client = {
    queryPerf: (specs: readonly PerfQuerySpec[]): Promise<PerfEntityResult[]> => {
      asked = [...specs];
      return Promise.resolve([
        {
          entity: vm(1).entity,
          samples: [{ tsSec: 100, intervalSec: 20 }],
          series: [
            { counterId: 173, instance: 'scsi0:0', values: [30] },
            { counterId: 173, instance: 'scsi0:1', values: [12] },
            { counterId: 175, instance: 'scsi0:0', values: [4] },
            { counterId: 175, instance: 'scsi0:1', values: [9] },
            { counterId: 2, instance: '', values: [5000] },
          ],
        },
      ]);
    },
  };
  const written: ReturnType<typeof toBatches> = [];
  await runPerfPlan(
    client,
    { intervalSec: 20, targets: [vm(1)], metrics: resolved, window: () => ({ startSec: 0, maxSample: 1 }) },
    { entitiesPerQuery: 50, metricsPerQuery: 64, concurrency: 1, valuesPerQuery: 1_000_000 },
    (b) => {
      written.push(...b);
    },
  );
  assert.deepEqual(
    asked[0]?.metricIds.map((m) => `${String(m.counterId)}|${m.instance}`).sort(),
    ['173|*', '175|*', '2|'],
  );
  assert.deepEqual(written[0]?.values, { cpuUsagePct: [50], diskReadKBps: [42], diskReadLatencyMs: [9] });
});

void test('insideWindow keeps what QueryPerf promises (start exclusive, end inclusive) and never misplaces a short series', () => {
  const result: PerfEntityResult = {
    entity: host.entity,
    samples: [1000, 1020, 1040, 1060].map((tsSec) => ({ tsSec, intervalSec: 20 })),
    series: [
      { counterId: 2, instance: '', values: [1, 2, 3, 4] },
      { counterId: 3, instance: '', values: [7, 8, 9] }, // shorter than the samples
    ],
  };
  assert.equal(insideWindow(result, { startSec: 990, endSec: 1060 }), result, 'all inside: the same answer');
  assert.equal(insideWindow(result, undefined), result);
  const clipped = insideWindow(result, { startSec: 1000, endSec: 1040 });
  assert.deepEqual(clipped.samples.map((sample) => sample.tsSec), [1020, 1040]);
  assert.deepEqual(clipped.series[0]?.values, [2, 3]);
  assert.deepEqual(clipped.series[1]?.values, [], 'a short series stays unplaceable, even when as long as what is kept');
  assert.deepEqual(insideWindow(result, { startSec: 1040 }).samples.map((sample) => sample.tsSec), [1060], 'no end: up to now');
});
