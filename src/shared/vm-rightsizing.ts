/**
 * Right-sizing hints for VMs over a period (PRODUCT.md, "Capacity"): idle, too many vCPUs,
 * memory never used. Pure functions: inputs never changed; each hint carries the figures it
 * rests on, with the buckets they come from.
 */
import { sumSeries, type BucketSeries, type TimeWindow } from './bucket-series.ts';
import type { PowerState } from './inventory.ts';
import { cpuReadyPctPerVcpuSeries } from './contention.ts';
import { cpuReadyHealth } from './metrics.ts';
import { summarize, summaryMean, type SeriesSummary } from './series-summary.ts';

/**
 * A hint needs data over at least 90 % of the period: a VM seen for a day of a month is not
 * "idle for the month", and a VM powered off for part of it has gaps there.
 */
export const minCoveragePct = 90;

/**
 * Idle: every bucket average of the period under these. Bucket averages rather than stored
 * maxima: every guest OS has 20-second bursts of its own (updates, log rotation, antivirus)
 * that say nothing about whether anyone uses the VM, while an average over a whole bucket does.
 * Levels after BMC Helix's idle-VM defaults (CPU 5 %, disk 100 KB/s), which it applies to 95 %
 * of the time; here they must hold for all of it.
 */
export const idleCpuUsagePct = 5;
/** Disk read + write, KB/s: an idle guest still writes logs and journals at a few KB/s. */
export const idleDiskKBps = 100;
/**
 * Network received + transmitted, KB/s: broadcast and multicast noise of a busy VLAN and
 * monitoring agents reach several KB/s on their own; real service traffic goes well past 20.
 */
export const idleNetKBps = 20;

/**
 * Too many vCPUs: CPU ready per vCPU, averaged over the period, at "worth a look" or worse
 * (cpuReadyHealth in metrics.ts: 5 % warning, over 10 % critical), while even the busiest bucket
 * average of CPU usage stays under 40 % of the vCPUs: then the VM waits to get all its vCPUs
 * scheduled at once, not for CPU it needs, and fewer vCPUs would wait less.
 */
export const lowCpuUsagePct = 40;
/** vCPUs suggested so that the busiest bucket average would land at 70 % of them. */
export const targetCpuUsagePct = 70;

/** Memory never used: the highest stored maximum of memUsagePct (active memory) under 30 %. */
export const unusedMemoryPct = 30;
/**
 * Memory suggested so that that peak would be half of it: vCenter's active memory is a sampled
 * estimate that leaves out the guest's page cache, so the working set is larger than it says.
 */
export const targetMemoryUsagePct = 50;
/** Suggested memory is rounded up to whole GB (1024 MB), and never under 1 GB. */
export const memoryRoundingMB = 1024;

/** What the hints read of one VM: inventory numbers and the store's series of the period. */
export interface VmUsageInput {
  readonly vmId: string;
  readonly powerState: PowerState;
  readonly numCpu: number;
  readonly memoryMB: number;
  readonly cpuUsagePct: BucketSeries;
  /** CPU ready, ms per 20 s over all vCPUs (the store's `cpuReadyMs`). */
  readonly cpuReadyMs: BucketSeries;
  readonly memUsagePct: BucketSeries;
  readonly diskReadKBps: BucketSeries;
  readonly diskWriteKBps: BucketSeries;
  readonly netRxKBps: BucketSeries;
  readonly netTxKBps: BucketSeries;
}

/** Powered on and below every idle level in every bucket of the period. */
export interface IdleHint {
  readonly kind: 'idle';
  /** Lowest coverage of CPU, disk and network, percent of the period. */
  readonly coveragePct: number;
  readonly busiestCpuUsagePct: number;
  readonly busiestCpuBucketSec: number;
  readonly busiestDiskKBps: number;
  readonly busiestDiskBucketSec: number;
  readonly busiestNetKBps: number;
  readonly busiestNetBucketSec: number;
}

/** High CPU ready per vCPU while the vCPUs are mostly unused: fewer vCPUs are scheduled more easily. */
export interface TooManyVcpusHint {
  readonly kind: 'tooManyVcpus';
  /** cpuReadyHealth of the period's mean ready per vCPU. */
  readonly severity: 'warning' | 'critical';
  readonly numCpu: number;
  readonly suggestedVcpus: number;
  /** Lowest coverage of CPU ready and CPU usage, percent of the period. */
  readonly coveragePct: number;
  /** Time-weighted mean of the bucket averages, percent per vCPU. */
  readonly meanReadyPctPerVcpu: number;
  /** Highest stored maximum, percent per vCPU. */
  readonly peakReadyPctPerVcpu: number;
  readonly peakReadyBucketSec: number;
  readonly busiestCpuUsagePct: number;
  readonly busiestCpuBucketSec: number;
}

/** Active memory never came near the allocation. */
export interface MemoryNeverUsedHint {
  readonly kind: 'memoryNeverUsed';
  readonly memoryMB: number;
  readonly suggestedMemoryMB: number;
  readonly coveragePct: number;
  /** Highest stored maximum of memUsagePct over the period. */
  readonly peakMemUsagePct: number;
  readonly peakBucketSec: number;
  /** That peak in MB of the allocation. */
  readonly peakActiveMB: number;
}

/** One hint, told apart by `kind`. */
export type VmHint = IdleHint | TooManyVcpusHint | MemoryNeverUsedHint;

/** The hints of one VM over one period; `hints` is empty when none applies. */
export interface VmRightSizing {
  readonly vmId: string;
  readonly window: TimeWindow;
  readonly stepSec: number;
  readonly hints: readonly VmHint[];
}

/**
 * The summaries the hints read of one VM's series over a period (series-summary.ts): CPU usage,
 * CPU ready per vCPU, active memory, disk read + write and network received + transmitted.
 */
export interface VmUsageSummaries {
  readonly cpuUsagePct: SeriesSummary;
  readonly readyPctPerVcpu: SeriesSummary;
  readonly memUsagePct: SeriesSummary;
  readonly diskKBps: SeriesSummary;
  readonly netKBps: SeriesSummary;
}

/** The summaries of one VM's series over the window, as `vmRightSizing` reads them. */
export function vmUsageSummaries(vm: Omit<VmUsageInput, 'vmId' | 'powerState' | 'memoryMB'>, window: TimeWindow): VmUsageSummaries {
  return {
    cpuUsagePct: summarize(vm.cpuUsagePct, window),
    readyPctPerVcpu: summarize(cpuReadyPctPerVcpuSeries(vm.cpuReadyMs, vm.numCpu), window),
    memUsagePct: summarize(vm.memUsagePct, window),
    diskKBps: summarize(sumSeries(vm.diskReadKBps, vm.diskWriteKBps), window),
    netKBps: summarize(sumSeries(vm.netRxKBps, vm.netTxKBps), window),
  };
}

/** Right-sizing hints of one VM over the window (thresholds: the constants above). */
export function vmRightSizing(vm: VmUsageInput, window: TimeWindow): VmRightSizing {
  return vmRightSizingOf(vm, vmUsageSummaries(vm, window), window, vm.cpuUsagePct.stepSec);
}

/** What the hints need of a VM beside its summaries. */
export type VmFacts = Pick<VmUsageInput, 'vmId' | 'powerState' | 'numCpu' | 'memoryMB'>;

/**
 * Right-sizing hints from the summaries of the VM's series over the window (a day's summaries
 * merged, or `vmUsageSummaries`); `stepSec` is the width of the buckets summarized.
 */
export function vmRightSizingOf(vm: VmFacts, summaries: VmUsageSummaries, window: TimeWindow, stepSec: number): VmRightSizing {
  const hints = [idleHint(vm, summaries, window), tooManyVcpusHint(vm, summaries, window), memoryNeverUsedHint(vm, summaries, window)];
  return {
    vmId: vm.vmId,
    window,
    stepSec,
    hints: hints.filter((hint): hint is VmHint => hint !== null),
  };
}

function coveragePct(summary: SeriesSummary, window: TimeWindow): number {
  const spanSec = window.toSec - window.fromSec;
  return spanSec > 0 ? (summary.coveredSec / spanSec) * 100 : 0;
}

function idleHint(vm: VmFacts, s: VmUsageSummaries, window: TimeWindow): IdleHint | null {
  if (vm.powerState !== 'poweredOn') return null;
  const coverage = Math.min(coveragePct(s.cpuUsagePct, window), coveragePct(s.diskKBps, window), coveragePct(s.netKBps, window));
  const cpuBusiest = s.cpuUsagePct.busiest;
  const diskBusiest = s.diskKBps.busiest;
  const netBusiest = s.netKBps.busiest;
  if (coverage < minCoveragePct || cpuBusiest === null || diskBusiest === null || netBusiest === null) return null;
  if (cpuBusiest.value >= idleCpuUsagePct || diskBusiest.value >= idleDiskKBps || netBusiest.value >= idleNetKBps) return null;
  return {
    kind: 'idle',
    coveragePct: coverage,
    busiestCpuUsagePct: cpuBusiest.value,
    busiestCpuBucketSec: cpuBusiest.bucketSec,
    busiestDiskKBps: diskBusiest.value,
    busiestDiskBucketSec: diskBusiest.bucketSec,
    busiestNetKBps: netBusiest.value,
    busiestNetBucketSec: netBusiest.bucketSec,
  };
}

function tooManyVcpusHint(vm: VmFacts, s: VmUsageSummaries, window: TimeWindow): TooManyVcpusHint | null {
  const coverage = Math.min(coveragePct(s.readyPctPerVcpu, window), coveragePct(s.cpuUsagePct, window));
  const meanReady = summaryMean(s.readyPctPerVcpu);
  const peakReady = s.readyPctPerVcpu.peak;
  const cpuBusiest = s.cpuUsagePct.busiest;
  if (coverage < minCoveragePct || meanReady === null || peakReady === null || cpuBusiest === null) return null;
  const severity = cpuReadyHealth(meanReady);
  if (severity === 'ok' || cpuBusiest.value >= lowCpuUsagePct) return null;
  const suggestedVcpus = Math.max(1, Math.ceil((vm.numCpu * cpuBusiest.value) / targetCpuUsagePct));
  if (suggestedVcpus >= vm.numCpu) return null;
  return {
    kind: 'tooManyVcpus',
    severity,
    numCpu: vm.numCpu,
    suggestedVcpus,
    coveragePct: coverage,
    meanReadyPctPerVcpu: meanReady,
    peakReadyPctPerVcpu: peakReady.value,
    peakReadyBucketSec: peakReady.bucketSec,
    busiestCpuUsagePct: cpuBusiest.value,
    busiestCpuBucketSec: cpuBusiest.bucketSec,
  };
}

function memoryNeverUsedHint(vm: VmFacts, s: VmUsageSummaries, window: TimeWindow): MemoryNeverUsedHint | null {
  const coverage = coveragePct(s.memUsagePct, window);
  const peak = s.memUsagePct.peak;
  if (coverage < minCoveragePct || peak === null || peak.value >= unusedMemoryPct) return null;
  const peakActiveMB = (vm.memoryMB * peak.value) / 100;
  const neededMB = (peakActiveMB * 100) / targetMemoryUsagePct;
  const suggestedMemoryMB = Math.max(memoryRoundingMB, Math.ceil(neededMB / memoryRoundingMB) * memoryRoundingMB);
  if (suggestedMemoryMB >= vm.memoryMB) return null;
  return {
    kind: 'memoryNeverUsed',
    memoryMB: vm.memoryMB,
    suggestedMemoryMB,
    coveragePct: coverage,
    peakMemUsagePct: peak.value,
    peakBucketSec: peak.bucketSec,
    peakActiveMB,
  };
}
