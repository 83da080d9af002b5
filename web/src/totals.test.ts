// Run with: node --import tsx --test web/src/totals.test.ts (pure; no browser needed).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HostRow } from '../../src/shared/api.ts';
import { cpuTotal, memTotal } from './totals.ts';

function host(id: string, figures: Partial<HostRow>): HostRow {
  return {
    id, name: id, clusterId: null, clusterName: null, connectionState: 'connected', powerState: 'poweredOn', inMaintenanceMode: false,
    overallStatus: 'green', cpuModel: null, cpuCores: 8, cpuThreads: 16, vcpusAllocated: 0, vms: 0, vmsPoweredOn: 0,
    cpuCapacityMhz: 20000, cpuUsedMhz: null, cpuUsagePct: null, memoryCapacityMB: 4096, memConsumedMB: null, memUsagePct: null,
    netRxKBps: null, netTxKBps: null, esxVersion: null, uptimeSec: null, nics: [], removed: false, collectedAt: null,
    ...figures,
  };
}

test('RAM is the capacity-weighted host memory usage, not the sum of consumed memory', () => {
  const hosts = [
    host('a', { memoryCapacityMB: 4096, memUsagePct: 50, memConsumedMB: 60000 }),
    host('b', { memoryCapacityMB: 12288, memUsagePct: 25, memConsumedMB: 90000 }),
  ];
  const ram = memTotal(hosts);
  assert.equal(ram.capacity, 16384);
  assert.equal(ram.used, 2048 + 3072);
  assert.equal(ram.pct, (5120 / 16384) * 100);
});

test('hosts without a usage count in the capacity but not in the percentage', () => {
  const ram = memTotal([host('a', { memoryCapacityMB: 1000, memUsagePct: 40 }), host('b', { memoryCapacityMB: 3000, memUsagePct: null })]);
  assert.equal(ram.capacity, 4000);
  assert.equal(ram.used, 400);
  assert.equal(ram.pct, 40);
  assert.equal(memTotal([host('a', {})]).pct, null);
  assert.equal(memTotal([]).pct, null);
});

test('CPU is used MHz over capacity, from the percentage when MHz are missing; above 100 % stays true', () => {
  const cpu = cpuTotal([
    host('a', { cpuCapacityMhz: 10000, cpuUsedMhz: 12000 }),
    host('b', { cpuCapacityMhz: 10000, cpuUsedMhz: null, cpuUsagePct: 30 }),
  ]);
  assert.equal(cpu.capacity, 20000);
  assert.equal(cpu.used, 15000);
  assert.equal(cpu.pct, 75);
  assert.equal(cpuTotal([host('a', { cpuCapacityMhz: 1000, cpuUsedMhz: 1500 })]).pct, 150);
});
