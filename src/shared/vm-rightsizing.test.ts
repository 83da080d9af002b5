import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BucketSeries } from './bucket-series.ts';
import { vmRightSizing, type VmHint, type VmUsageInput } from './vm-rightsizing.ts';

/** Ten 300-second buckets, 0 to 3000: one gap is exactly 90 % coverage. */
const period = { fromSec: 0, toSec: 3000 };
const ts = Array.from({ length: 10 }, (_, k) => k * 300);

/** A series of ten buckets: `avg` repeated when a number, `max` defaults to `avg`. */
function series(avg: number | (number | null)[], max?: number | (number | null)[]): BucketSeries {
  const column = (value: number | (number | null)[]): (number | null)[] => (Array.isArray(value) ? value : ts.map(() => value));
  return { stepSec: 300, ts, avg: column(avg), max: column(max ?? avg) };
}

/** With one value changed at bucket `k`. */
function withAt(value: number | null, k: number, base: number): (number | null)[] {
  return ts.map((_, index) => (index === k ? value : base));
}

/**
 * An idle 4-vCPU, 8 GB VM: CPU 1 % on average with 30 % bursts, disk 10 + 20 KB/s, network
 * 2 + 3 KB/s, CPU ready 0.125 % per vCPU, active memory peaking at 50 %.
 */
const idleVm: VmUsageInput = {
  vmId: 'vm-1',
  powerState: 'poweredOn',
  numCpu: 4,
  memoryMB: 8192,
  cpuUsagePct: series(1, 30),
  cpuReadyMs: series(100),
  memUsagePct: series(40, 50),
  diskReadKBps: series(10),
  diskWriteKBps: series(20),
  netRxKBps: series(2),
  netTxKBps: series(3),
};

const idleHint: VmHint = {
  kind: 'idle',
  coveragePct: 100,
  busiestCpuUsagePct: 1,
  busiestCpuBucketSec: 0,
  busiestDiskKBps: 30,
  busiestDiskBucketSec: 0,
  busiestNetKBps: 5,
  busiestNetBucketSec: 0,
};

/** A busy 8-vCPU VM waiting on CPU ready: 6.25 % per vCPU (10,000 ms per 20 s / 8), CPU at 20 %. */
const waitingVm: VmUsageInput = {
  ...idleVm,
  vmId: 'vm-2',
  numCpu: 8,
  cpuUsagePct: series(20, 60),
  cpuReadyMs: series(10_000, withAt(16_000, 5, 12_000)),
  diskReadKBps: series(500),
};

function hintsOf(vm: VmUsageInput): readonly VmHint[] {
  return vmRightSizing(vm, period).hints;
}

void describe('vmRightSizing: idle', () => {
  const cases: { name: string; vm: VmUsageInput; expected: readonly VmHint[] }[] = [
    { name: 'powered on and quiet all period, bursts and all', vm: idleVm, expected: [idleHint] },
    { name: 'powered off is not idle', vm: { ...idleVm, powerState: 'poweredOff' }, expected: [] },
    {
      name: 'one gap (90 % coverage) is still enough, busiest buckets named',
      vm: { ...idleVm, cpuUsagePct: series(withAt(4.9, 7, 1).map((v, k) => (k === 2 ? null : v)), 30) },
      expected: [{ ...idleHint, coveragePct: 90, busiestCpuUsagePct: 4.9, busiestCpuBucketSec: 2100 }],
    },
    { name: 'two gaps (80 % coverage) are not', vm: { ...idleVm, netRxKBps: series(withAt(null, 0, 2).map((v, k) => (k === 9 ? null : v))) }, expected: [] },
    { name: 'CPU exactly at 5 % in one bucket is not idle', vm: { ...idleVm, cpuUsagePct: series(withAt(5, 4, 1), 30) }, expected: [] },
    { name: 'disk exactly at 100 KB/s in one bucket is not idle', vm: { ...idleVm, diskWriteKBps: series(withAt(90, 3, 20)) }, expected: [] },
    { name: 'network exactly at 20 KB/s in one bucket is not idle', vm: { ...idleVm, netTxKBps: series(withAt(18, 6, 3)) }, expected: [] },
    { name: 'no data at all gives no hint', vm: { ...idleVm, cpuUsagePct: series(ts.map(() => null)) }, expected: [] },
  ];
  for (const c of cases) void it(c.name, () => assert.deepEqual(hintsOf(c.vm), c.expected));
});

void describe('vmRightSizing: too many vCPUs', () => {
  const hint = {
    kind: 'tooManyVcpus',
    severity: 'warning',
    numCpu: 8,
    // ceil(8 * 20 / 70) = ceil(2.29) = 3.
    suggestedVcpus: 3,
    coveragePct: 100,
    meanReadyPctPerVcpu: 6.25,
    // 16,000 ms / 20,000 ms * 100 / 8 = 10 %.
    peakReadyPctPerVcpu: 10,
    peakReadyBucketSec: 1500,
    busiestCpuUsagePct: 20,
    busiestCpuBucketSec: 0,
  } as const;
  const cases: { name: string; vm: VmUsageInput; expected: readonly VmHint[] }[] = [
    { name: 'high ready per vCPU, low usage', vm: waitingVm, expected: [hint] },
    // 8,000 ms / 20,000 ms * 100 / 8 = 5 %: the warning starts there.
    { name: 'ready exactly at 5 % per vCPU is worth a look', vm: { ...waitingVm, cpuReadyMs: series(8000, withAt(16_000, 5, 12_000)) }, expected: [{ ...hint, meanReadyPctPerVcpu: 5 }] },
    { name: 'ready under 5 % is not', vm: { ...waitingVm, cpuReadyMs: series(7999, withAt(16_000, 5, 12_000)) }, expected: [] },
    {
      name: 'mean ready over 10 % is critical',
      vm: { ...waitingVm, cpuReadyMs: series(withAt(21_000, 0, 16_000), 21_000) },
      // Mean (21,000 + 9 * 16,000) / 10 = 16,500 ms: 10.3125 % per vCPU.
      expected: [{ ...hint, severity: 'critical', meanReadyPctPerVcpu: 10.3125, peakReadyPctPerVcpu: 13.125, peakReadyBucketSec: 0 }],
    },
    { name: 'mean ready exactly 10 % is a warning', vm: { ...waitingVm, cpuReadyMs: series(16_000) }, expected: [{ ...hint, meanReadyPctPerVcpu: 10, peakReadyBucketSec: 0 }] },
    { name: 'usage exactly at 40 % is not low', vm: { ...waitingVm, cpuUsagePct: series(withAt(40, 8, 20), 60) }, expected: [] },
    {
      // ceil(8 * 39 / 70) = ceil(4.46) = 5.
      name: 'usage just under 40 % suggests 5 of 8',
      vm: { ...waitingVm, cpuUsagePct: series(withAt(39, 8, 20), 60) },
      expected: [{ ...hint, suggestedVcpus: 5, busiestCpuUsagePct: 39, busiestCpuBucketSec: 2400 }],
    },
    // 1,250 ms / 20,000 ms * 100 = 6.25 % on one vCPU, but there is nothing to take away.
    { name: 'one vCPU cannot have too many', vm: { ...waitingVm, numCpu: 1, cpuReadyMs: series(1250) }, expected: [] },
    // ceil(2 * 39 / 70) = 2: nothing to take away.
    { name: 'no hint when the suggestion is the same size', vm: { ...waitingVm, numCpu: 2, cpuReadyMs: series(2500), cpuUsagePct: series(39) }, expected: [] },
  ];
  for (const c of cases) void it(c.name, () => assert.deepEqual(hintsOf(c.vm), c.expected));
});

void describe('vmRightSizing: memory never used', () => {
  const busy = { ...idleVm, cpuUsagePct: series(50) };
  const cases: { name: string; vm: VmUsageInput; expected: readonly VmHint[] }[] = [
    {
      // 20 % of 8,192 MB = 1,638.4 MB active; twice that is 3,276.8, rounded up to 4,096 MB.
      name: 'peak active memory at 20 % suggests 4 GB of 8',
      vm: { ...busy, memUsagePct: series(10, withAt(20, 3, 12)) },
      expected: [{ kind: 'memoryNeverUsed', memoryMB: 8192, suggestedMemoryMB: 4096, coveragePct: 100, peakMemUsagePct: 20, peakBucketSec: 900, peakActiveMB: 1638.4 }],
    },
    { name: 'peak exactly at 30 % is not "never used"', vm: { ...busy, memUsagePct: series(10, withAt(30, 3, 12)) }, expected: [] },
    {
      // 29 % of 8,192 = 2,375.68 MB; twice is 4,751.36 -> 5,120 MB.
      name: 'peak just under 30 % suggests 5 GB',
      vm: { ...busy, memUsagePct: series(10, withAt(29, 3, 12)) },
      expected: [{ kind: 'memoryNeverUsed', memoryMB: 8192, suggestedMemoryMB: 5120, coveragePct: 100, peakMemUsagePct: 29, peakBucketSec: 900, peakActiveMB: 2375.68 }],
    },
    // 29 % of 2,048 = 593.92; twice is 1,187.84 -> 2,048: nothing to save.
    { name: 'no hint when rounding gives back the same size', vm: { ...busy, memoryMB: 2048, memUsagePct: series(29) }, expected: [] },
    {
      // Active memory that reads 0 all period would round to 0 MB: the floor is 1 GB.
      name: 'never under 1 GB',
      vm: { ...busy, memoryMB: 4096, memUsagePct: series(0) },
      expected: [{ kind: 'memoryNeverUsed', memoryMB: 4096, suggestedMemoryMB: 1024, coveragePct: 100, peakMemUsagePct: 0, peakBucketSec: 0, peakActiveMB: 0 }],
    },
    { name: 'the peak is the stored maximum, not the average', vm: { ...busy, memUsagePct: series(10, withAt(35, 3, 12)) }, expected: [] },
  ];
  for (const c of cases) void it(c.name, () => assert.deepEqual(hintsOf(c.vm), c.expected));
});

void describe('vmRightSizing: the result', () => {
  void it('names the VM, the period and the bucket width', () => {
    const result = vmRightSizing(busyVmWithoutHints(), period);
    assert.deepEqual(result, { vmId: 'vm-3', window: period, stepSec: 300, hints: [] });
  });
  void it('does not change its input', () => {
    const vm = busyVmWithoutHints();
    vmRightSizing(vm, period);
    assert.deepEqual(vm, busyVmWithoutHints());
  });
});

/** Busy, and no column reads the same backwards, so a change to the input shows. */
function busyVmWithoutHints(): VmUsageInput {
  const rising = (from: number): number[] => ts.map((_, k) => from + k);
  return { ...idleVm, vmId: 'vm-3', cpuUsagePct: series(rising(50)), memUsagePct: series(rising(60), rising(80)), cpuReadyMs: series(rising(100)) };
}
