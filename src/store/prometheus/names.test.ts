import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricsByKind } from '../../shared/metrics.ts';
import { engineMetric, engineMetricByName, engineMetricTable, entityLabels, seriesLabels, type SampledKind } from './names.ts';

const sampledKinds: readonly SampledKind[] = ['host', 'nic', 'vm', 'datastore'];

void describe('engine metric table', () => {
  void it('names every sampled metric of shared/metrics.ts once, in its unit, and nothing else', () => {
    const expected = sampledKinds.flatMap((kind) => metricsByKind[kind].map((metric) => `${kind}.${metric.key}:${metric.unit}`)).sort();
    const actual = engineMetricTable.map((entry) => `${entry.kind}.${entry.key}:${entry.vscopeUnit}`).sort();
    assert.deepEqual(actual, expected);
  });

  void it('gives valid, distinct series names that say whose they are', () => {
    const names = engineMetricTable.map((entry) => entry.name);
    assert.equal(new Set(names).size, names.length);
    for (const entry of engineMetricTable) {
      assert.match(entry.name, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
      assert.equal(entry.origin, entry.name.startsWith('vmware_') ? 'vmware_exporter' : 'vscope');
      assert.ok(entry.name.startsWith(`vmware_${entry.kind}_`) || entry.name.startsWith(`vscope_${entry.kind}_`), entry.name);
      assert.equal(engineMetricByName(entry.name), entry);
      assert.equal(engineMetric(entry.kind, entry.key), entry);
    }
  });

  // What vmware_exporter would send for the same vCenter value (its raw counter units).
  const conversions: { kind: SampledKind; key: string; name: string; vscope: number; engine: number }[] = [
    { kind: 'vm', key: 'cpuUsagePct', name: 'vmware_vm_cpu_usage_average', vscope: 23.45, engine: 2345 },
    { kind: 'host', key: 'memUsagePct', name: 'vmware_host_mem_usage_average', vscope: 61.5, engine: 6150 },
    { kind: 'vm', key: 'cpuReadyMs', name: 'vmware_vm_cpu_ready_summation', vscope: 412, engine: 412 },
    { kind: 'vm', key: 'netRxKBps', name: 'vmware_vm_net_received_average', vscope: 96, engine: 96 },
    { kind: 'host', key: 'netTxKBps', name: 'vmware_host_net_bytesTx_average', vscope: 7, engine: 7 },
    { kind: 'vm', key: 'diskMaxLatencyMs', name: 'vmware_vm_disk_maxTotalLatency_latest', vscope: 3, engine: 3 },
    { kind: 'datastore', key: 'capacityGB', name: 'vmware_datastore_capacity_size', vscope: 1.5, engine: 1610612736 },
    { kind: 'datastore', key: 'provisionedGB', name: 'vmware_datastore_provisoned_size', vscope: 2, engine: 2147483648 },
    { kind: 'host', key: 'memConsumedMB', name: 'vscope_host_mem_consumed_bytes', vscope: 0.5, engine: 524288 },
    { kind: 'nic', key: 'netRxPps', name: 'vscope_nic_rx_packets_per_second', vscope: 12.25, engine: 12.25 },
    { kind: 'vm', key: 'memBalloonedMB', name: 'vmware_vm_mem_vmmemctl_average', vscope: 1.5, engine: 1536 },
    { kind: 'vm', key: 'netRxDroppedPps', name: 'vmware_vm_net_droppedRx_summation', vscope: 3 / 20, engine: 3 },
  ];
  for (const c of conversions) {
    void it(`${c.kind}.${c.key} -> ${c.name}`, () => {
      const entry = engineMetric(c.kind, c.key);
      assert.equal(entry?.name, c.name);
      assert.equal(entry?.conversion.toEngine(c.vscope), c.engine);
      assert.equal(entry?.conversion.fromEngine(c.engine), c.vscope);
    });
  }

  void it('converts back exactly every vscope value made from a vCenter integer', () => {
    for (const entry of engineMetricTable) {
      for (let raw = 0; raw <= 20_000; raw++) {
        // vscope's values: hundredths of a percent / 100, KB / 1024, or the raw integer.
        const value = entry.vscopeUnit === 'percent' ? raw / 100 : entry.vscopeUnit === 'MB' ? raw / 1024 : raw;
        const sent = entry.conversion.toEngine(value);
        const back = entry.conversion.fromEngine(sent);
        if (back !== value) assert.fail(`${entry.name}: ${value} came back as ${back}`);
        // What vmware_exporter would send: vCenter's integer itself, not one bit beside it.
        if (entry.vscopeUnit === 'percent' && sent !== raw) assert.fail(`${entry.name}: ${value} went as ${sent}, not ${raw}`);
      }
    }
  });
});

void describe('entity labels', () => {
  const base = { vcenter: 'vc1', entityId: 'id-1', datacenterName: 'DC0', clusterName: 'C1', hostName: 'esx-1.lan' };
  const cases: { kind: SampledKind; name: string; extra?: Record<string, string | null>; expected: Record<string, string> }[] = [
    {
      kind: 'vm',
      name: 'web-01',
      extra: { datastoreName: 'LocalDS_0' },
      expected: { vm_name: 'web-01', ds_name: 'LocalDS_0', host_name: 'esx-1.lan', dc_name: 'DC0', cluster_name: 'C1', vcenter: 'vc1', entity_id: 'id-1' },
    },
    { kind: 'host', name: 'esx-2.lan', expected: { host_name: 'esx-2.lan', dc_name: 'DC0', cluster_name: 'C1', vcenter: 'vc1', entity_id: 'id-1' } },
    { kind: 'nic', name: 'vmnic1', expected: { nic: 'vmnic1', host_name: 'esx-1.lan', dc_name: 'DC0', cluster_name: 'C1', vcenter: 'vc1', entity_id: 'id-1' } },
    { kind: 'datastore', name: 'LocalDS_0', expected: { ds_name: 'LocalDS_0', dc_name: 'DC0', vcenter: 'vc1', entity_id: 'id-1' } },
    { kind: 'host', name: 'standalone', extra: { clusterName: '' }, expected: { host_name: 'standalone', dc_name: 'DC0', vcenter: 'vc1', entity_id: 'id-1' } },
  ];
  for (const c of cases) {
    void it(`${c.kind} ${c.name}`, () => {
      const labels = entityLabels(c.kind, { ...base, name: c.name, ...c.extra });
      assert.deepEqual(Object.fromEntries(labels.map((label) => [label.name, label.value])), c.expected);
      const names = labels.map((label) => label.name);
      assert.deepEqual(names, [...names].sort());
    });
  }

  void it('puts __name__ first', () => {
    const metric = engineMetric('vm', 'cpuReadyMs');
    assert.ok(metric);
    assert.deepEqual(seriesLabels(metric, { ...base, name: 'x' })[0], { name: '__name__', value: 'vmware_vm_cpu_ready_summation' });
  });
});
