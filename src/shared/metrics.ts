/**
 * The metrics vscope stores per entity kind, with their units and the vCenter counters
 * they come from. This file is the single place where vCenter's raw counter values are
 * turned into vscope units (see `toMetricValue`).
 *
 * Order matters: the store lays values out in this order, so only append new metrics.
 */
import type { EntityKind } from './inventory.ts';

export type MetricUnit = 'percent' | 'MHz' | 'MB' | 'GB' | 'KBps' | 'pps' | 'iops' | 'ms';

/** How a raw vCenter value becomes a vscope value. */
export type Conversion =
  /** vCenter percentages are hundredths of a percent. */
  | 'hundredthsToPercent'
  /** Already in the vscope unit (MHz, KBps, ms, number per second). */
  | 'identity'
  /** KB -> MB (1024). */
  | 'kbToMB'
  /** A summation over the sample interval -> per second. */
  | 'perInterval'
  /** ms summed over the sample interval -> ms per 20 s (realtime-equivalent). */
  | 'msPer20s';

export interface MetricDef {
  /** vscope metric key, unit in the name: `cpuUsedMhz`. */
  readonly key: string;
  readonly unit: MetricUnit;
  readonly label: string;
  /** vCenter counter `group.name.rollup` candidates, first one offered wins. */
  readonly counters: readonly string[];
  /** Counter instance: '' for the entity aggregate, 'nic' for the vmnic device name. */
  readonly instance: '' | 'nic';
  readonly conversion: Conversion;
}

const m = (
  key: string,
  unit: MetricUnit,
  label: string,
  counters: readonly string[],
  conversion: Conversion,
  instance: '' | 'nic' = '',
): MetricDef => ({ key, unit, label, counters, conversion, instance });

export const hostMetrics: readonly MetricDef[] = [
  m('cpuUsagePct', 'percent', 'CPU usage', ['cpu.usage.average'], 'hundredthsToPercent'),
  m('cpuUsedMhz', 'MHz', 'CPU used', ['cpu.usagemhz.average'], 'identity'),
  m('memUsagePct', 'percent', 'Memory usage', ['mem.usage.average'], 'hundredthsToPercent'),
  m('memConsumedMB', 'MB', 'Memory consumed', ['mem.consumed.average'], 'kbToMB'),
  m('netRxKBps', 'KBps', 'Network received', ['net.bytesRx.average', 'net.received.average'], 'identity'),
  m('netTxKBps', 'KBps', 'Network transmitted', ['net.bytesTx.average', 'net.transmitted.average'], 'identity'),
];

export const nicMetrics: readonly MetricDef[] = [
  m('netRxKBps', 'KBps', 'Received', ['net.bytesRx.average', 'net.received.average'], 'identity', 'nic'),
  m('netTxKBps', 'KBps', 'Transmitted', ['net.bytesTx.average', 'net.transmitted.average'], 'identity', 'nic'),
  m('netRxPps', 'pps', 'Packets received', ['net.packetsRx.summation'], 'perInterval', 'nic'),
  m('netTxPps', 'pps', 'Packets transmitted', ['net.packetsTx.summation'], 'perInterval', 'nic'),
];

export const vmMetrics: readonly MetricDef[] = [
  m('cpuUsagePct', 'percent', 'CPU usage', ['cpu.usage.average'], 'hundredthsToPercent'),
  m('cpuUsedMhz', 'MHz', 'CPU used', ['cpu.usagemhz.average'], 'identity'),
  m('cpuReadyMs', 'ms', 'CPU ready (per 20 s, all vCPUs)', ['cpu.ready.summation'], 'msPer20s'),
  m('memUsagePct', 'percent', 'Memory usage', ['mem.usage.average'], 'hundredthsToPercent'),
  m('netRxKBps', 'KBps', 'Network received', ['net.bytesRx.average', 'net.received.average'], 'identity'),
  m('netTxKBps', 'KBps', 'Network transmitted', ['net.bytesTx.average', 'net.transmitted.average'], 'identity'),
  m('netRxPps', 'pps', 'Packets received', ['net.packetsRx.summation'], 'perInterval'),
  m('netTxPps', 'pps', 'Packets transmitted', ['net.packetsTx.summation'], 'perInterval'),
  m('diskReadKBps', 'KBps', 'Disk read', ['virtualDisk.read.average'], 'identity'),
  m('diskWriteKBps', 'KBps', 'Disk write', ['virtualDisk.write.average'], 'identity'),
  m('diskReadIops', 'iops', 'Disk read operations', ['virtualDisk.numberReadAveraged.average'], 'identity'),
  m('diskWriteIops', 'iops', 'Disk write operations', ['virtualDisk.numberWriteAveraged.average'], 'identity'),
  m('diskReadLatencyMs', 'ms', 'Disk read latency', ['virtualDisk.totalReadLatency.average'], 'identity'),
  m('diskWriteLatencyMs', 'ms', 'Disk write latency', ['virtualDisk.totalWriteLatency.average'], 'identity'),
  m('diskMaxLatencyMs', 'ms', 'Highest disk latency', ['disk.maxTotalLatency.latest'], 'identity'),
  // Memory and network contention (the Contention finder). Level 1 in vCenter except the drops
  // (level 2, so a vCenter at the default level keeps them in realtime statistics only).
  // Ballooned memory: guest memory the balloon driver reclaimed, KB in vCenter.
  m('memBalloonedMB', 'MB', 'Memory ballooned', ['mem.vmmemctl.average'], 'kbToMB'),
  // Swap-in rate rather than mem.swapped (a stock that stays after the pressure is gone):
  // reading swapped pages back is what stalls the guest.
  m('memSwapInKBps', 'KBps', 'Memory swap-in rate', ['mem.swapinRate.average'], 'identity'),
  m('netRxDroppedPps', 'pps', 'Received packets dropped', ['net.droppedRx.summation'], 'perInterval'),
  m('netTxDroppedPps', 'pps', 'Transmitted packets dropped', ['net.droppedTx.summation'], 'perInterval'),
];

/**
 * Datastore space comes from properties each cycle (no counter); IO and latency from the
 * datastore counters where vCenter keeps them (historical intervals only on vCenter).
 */
export const datastoreMetrics: readonly MetricDef[] = [
  m('capacityGB', 'GB', 'Capacity', [], 'identity'),
  m('usedGB', 'GB', 'Used', [], 'identity'),
  m('freeGB', 'GB', 'Free', [], 'identity'),
  m('provisionedGB', 'GB', 'Provisioned', [], 'identity'),
  m('readKBps', 'KBps', 'Read', ['datastore.read.average'], 'identity'),
  m('writeKBps', 'KBps', 'Write', ['datastore.write.average'], 'identity'),
  m('readLatencyMs', 'ms', 'Read latency', ['datastore.totalReadLatency.average'], 'identity'),
  m('writeLatencyMs', 'ms', 'Write latency', ['datastore.totalWriteLatency.average'], 'identity'),
];

/** Metrics kept per kind; datacenters and clusters have none of their own. */
export const metricsByKind: Readonly<Record<EntityKind, readonly MetricDef[]>> = {
  host: hostMetrics,
  nic: nicMetrics,
  vm: vmMetrics,
  datastore: datastoreMetrics,
  datacenter: [],
  cluster: [],
};

/**
 * Converts one raw vCenter sample to the metric's vscope unit.
 * @param raw the value as QueryPerf returns it; negative values (-1) mean "no data"
 * @param intervalSec the sample interval (20 for realtime, 300, 1800, 7200, 86400)
 * @returns the converted value, or null for vCenter's "no data" marker
 */
export function toMetricValue(conversion: Conversion, raw: number, intervalSec: number): number | null {
  if (raw < 0 || !Number.isFinite(raw)) return null;
  switch (conversion) {
    case 'hundredthsToPercent':
      return raw / 100;
    case 'identity':
      return raw;
    case 'kbToMB':
      return raw / 1024;
    case 'perInterval':
      return raw / intervalSec;
    case 'msPer20s':
      return (raw * 20) / intervalSec;
  }
}

/**
 * CPU ready as a percentage of the interval, per vCPU.
 * @param readyMsPer20s ready time summed over all vCPUs, ms per 20 s sample
 */
export function cpuReadyPctPerVcpu(readyMsPer20s: number, numCpu: number): number {
  return (readyMsPer20s / (20 * 1000)) * 100 / Math.max(1, numCpu);
}

/** Health class of a CPU ready percentage per vCPU: under 5 ok, 5 to 10 warning, over 10 critical. */
export function cpuReadyHealth(pctPerVcpu: number): 'ok' | 'warning' | 'critical' {
  if (pctPerVcpu > 10) return 'critical';
  if (pctPerVcpu >= 5) return 'warning';
  return 'ok';
}
