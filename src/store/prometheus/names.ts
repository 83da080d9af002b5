/**
 * vscope metric key + entity kind -> the series name, unit and labels in a Prometheus-compatible
 * engine. `engineMetricTable` is the single source of truth: remote write sends these series and
 * the /metrics endpoint exposes the same names, so scraping vscope and receiving its remote write
 * give the same series.
 *
 * The choices, one rule each:
 * - vmware_exporter's name (github.com/pryorda/vmware_exporter, vmware_exporter.py) wherever
 *   vscope's metric is the very vCenter counter or property vmware_exporter exports for that
 *   kind: `vmware_<vm|host>_<group>_<counter>_<rollup>` for performance counters (its
 *   `perf_list`s, instance '' = the entity aggregate), `vmware_datastore_*_size` for datastore
 *   space. The value is then in vmware_exporter's unit, which is vCenter's raw counter unit
 *   (it exports `float(sum(metric.value))` of one realtime sample), so its Grafana boards and
 *   alert rules (`vmware_vm_mem_usage_average / 100`) read right. One addition:
 *   `vmware_host_mem_usage_average`, not in its host perf_list but read by its own esxi.json board.
 * - Otherwise `vscope_<kind>_<what>_<unit>`: the names vscope's /metrics already uses, base
 *   units where that endpoint already had them (bytes), the unit spelled out in the name.
 * - Counters vmware_exporter reads under another counter are NOT given its name: vscope's VM disk
 *   throughput comes from virtualDisk.read/write.average, vmware_exporter's
 *   `vmware_vm_disk_read_average` from disk.read.average (another counter, also covering RDMs).
 *   Likewise host memory consumed (mem.consumed.average) is not vmware_exporter's
 *   `vmware_host_memory_usage` (summary.quickStats.overallMemoryUsage, MB).
 * - Network: vscope takes net.bytesRx/bytesTx.average or, where a vCenter lacks them,
 *   net.received/transmitted.average (metrics.ts); both are KBps of the same traffic. VMs use
 *   vmware_exporter's VM names (`net_received`/`net_transmitted`), hosts its host names
 *   (`net_bytesRx`/`net_bytesTx`). Its esxi.json board spells them `bytesRX`: that board typo
 *   never matched vmware_exporter either, so it is not followed.
 * - Labels: vmware_exporter's (`vm_name`, `ds_name`, `host_name`, `dc_name`, `cluster_name`;
 *   `ds_name` of a VM is the datastore of its configuration file), plus `vcenter` (vscope's
 *   vCenter id), `entity_id` (vscope's entity id: two VMs of one name stay two series) and, for
 *   a host NIC, `nic` (the vmnic device). Empty values are left out, as Prometheus does anyway
 *   (so a standalone host has no `cluster_name`; vmware_exporter sends '' which is the same).
 *
 * Conversions are pure functions both ways. Multiplying or dividing by a power of two (bytes)
 * is exact; percent -> hundredths snaps to vCenter's integer (see percentToHundredths), so
 * `fromEngine(toEngine(x)) === x` holds for every vscope value made from a vCenter integer (tested).
 */
import type { EntityKind } from '../../shared/inventory.ts';
import type { MetricUnit } from '../../shared/metrics.ts';
import type { Label } from './remote-write.ts';

/** Entity kinds that have samples. */
export type SampledKind = Extract<EntityKind, 'host' | 'nic' | 'vm' | 'datastore'>;

export interface ValueConversion {
  /** vscope unit -> engine unit. */
  readonly toEngine: (value: number) => number;
  /** engine unit -> vscope unit. */
  readonly fromEngine: (value: number) => number;
}

const identity: ValueConversion = { toEngine: (value) => value, fromEngine: (value) => value };
/**
 * vscope percent -> vCenter's hundredths of a percent (0..10000 for 0..100 %). `x * 100` of a
 * value vscope made as `raw / 100` can land one bit off vCenter's integer (1.11 * 100 is
 * 111.00000000000001): snapping back to the integer sends exactly what vmware_exporter sends,
 * and what VictoriaMetrics keeps (it stores non-integers with 12 significant digits only).
 */
const percentToHundredths: ValueConversion = {
  toEngine: (value) => {
    const hundredths = value * 100;
    const nearest = Math.round(hundredths);
    return Math.abs(hundredths - nearest) <= 1e-9 * Math.max(1, Math.abs(hundredths)) ? nearest : hundredths;
  },
  fromEngine: (value) => value / 100,
};
const bytesPerMB = 1024 * 1024;
const bytesPerGB = 1024 * 1024 * 1024;
/** vscope MB (1024^2 bytes) -> bytes. */
const mbToBytes: ValueConversion = { toEngine: (value) => value * bytesPerMB, fromEngine: (value) => value / bytesPerMB };
/** vscope GB (1024^3 bytes) -> bytes. */
const gbToBytes: ValueConversion = { toEngine: (value) => value * bytesPerGB, fromEngine: (value) => value / bytesPerGB };
/** vscope MB -> vCenter's KB (a power of two: exact). */
const mbToKB: ValueConversion = { toEngine: (value) => value * 1024, fromEngine: (value) => value / 1024 };
/**
 * vscope per second -> vCenter's realtime summation, per 20 s sample (what vmware_exporter
 * sends); snapped to vCenter's integer like percentToHundredths (3 / 20 * 20 is 3.0000000000000004).
 */
const perSecondToPer20s: ValueConversion = {
  toEngine: (value) => {
    const per20s = value * 20;
    const nearest = Math.round(per20s);
    return Math.abs(per20s - nearest) <= 1e-9 * Math.max(1, Math.abs(per20s)) ? nearest : per20s;
  },
  fromEngine: (value) => value / 20,
};

export interface EngineMetricDef {
  readonly kind: SampledKind;
  /** vscope metric key (shared/metrics.ts). */
  readonly key: string;
  readonly vscopeUnit: MetricUnit;
  /** Series name in the engine (`__name__`). */
  readonly name: string;
  /** Whose name it is. */
  readonly origin: 'vmware_exporter' | 'vscope';
  /** What one unit of the engine's value is, in words. */
  readonly engineUnit: string;
  readonly conversion: ValueConversion;
  /** HELP text for /metrics. */
  readonly help: string;
}

const def = (
  kind: SampledKind,
  key: string,
  vscopeUnit: MetricUnit,
  name: string,
  engineUnit: string,
  conversion: ValueConversion,
  help: string,
): EngineMetricDef => ({ kind, key, vscopeUnit, name, origin: name.startsWith('vmware_') ? 'vmware_exporter' : 'vscope', engineUnit, conversion, help });

/** Every sampled metric of shared/metrics.ts, once (a test checks that none is missing). */
export const engineMetricTable: readonly EngineMetricDef[] = [
  // Hosts.
  def('host', 'cpuUsagePct', 'percent', 'vmware_host_cpu_usage_average', 'hundredths of a percent', percentToHundredths, 'Host CPU usage (cpu.usage.average), hundredths of a percent of capacity.'),
  def('host', 'cpuUsedMhz', 'MHz', 'vmware_host_cpu_usagemhz_average', 'MHz', identity, 'Host CPU used (cpu.usagemhz.average), MHz.'),
  def('host', 'memUsagePct', 'percent', 'vmware_host_mem_usage_average', 'hundredths of a percent', percentToHundredths, 'Host memory usage (mem.usage.average), hundredths of a percent of capacity.'),
  def('host', 'memConsumedMB', 'MB', 'vscope_host_mem_consumed_bytes', 'bytes', mbToBytes, 'Host memory consumed (mem.consumed.average), bytes.'),
  def('host', 'netRxKBps', 'KBps', 'vmware_host_net_bytesRx_average', 'KB/s', identity, 'Host network received (net.bytesRx.average), KB/s.'),
  def('host', 'netTxKBps', 'KBps', 'vmware_host_net_bytesTx_average', 'KB/s', identity, 'Host network transmitted (net.bytesTx.average), KB/s.'),
  // Host NICs: vmware_exporter has no per-vmnic series.
  def('nic', 'netRxKBps', 'KBps', 'vscope_nic_rx_kilobytes_per_second', 'KB/s', identity, 'Host NIC received, KB/s.'),
  def('nic', 'netTxKBps', 'KBps', 'vscope_nic_tx_kilobytes_per_second', 'KB/s', identity, 'Host NIC transmitted, KB/s.'),
  def('nic', 'netRxPps', 'pps', 'vscope_nic_rx_packets_per_second', 'packets/s', identity, 'Host NIC packets received per second.'),
  def('nic', 'netTxPps', 'pps', 'vscope_nic_tx_packets_per_second', 'packets/s', identity, 'Host NIC packets transmitted per second.'),
  // VMs.
  def('vm', 'cpuUsagePct', 'percent', 'vmware_vm_cpu_usage_average', 'hundredths of a percent', percentToHundredths, 'VM CPU usage (cpu.usage.average), hundredths of a percent.'),
  def('vm', 'cpuUsedMhz', 'MHz', 'vmware_vm_cpu_usagemhz_average', 'MHz', identity, 'VM CPU used (cpu.usagemhz.average), MHz.'),
  // vCenter's realtime cpu.ready.summation is ms of ready time summed over the 20 s sample and
  // all vCPUs, which is exactly vscope's cpuReadyMs (historical samples are already scaled to
  // per 20 s by toMetricValue): the realtime meaning vmware_exporter's boards assume.
  def('vm', 'cpuReadyMs', 'ms', 'vmware_vm_cpu_ready_summation', 'ms of ready time per 20 s, all vCPUs', identity, 'VM CPU ready (cpu.ready.summation), ms per 20 s over all vCPUs.'),
  def('vm', 'memUsagePct', 'percent', 'vmware_vm_mem_usage_average', 'hundredths of a percent', percentToHundredths, 'VM memory usage (mem.usage.average), hundredths of a percent.'),
  def('vm', 'netRxKBps', 'KBps', 'vmware_vm_net_received_average', 'KB/s', identity, 'VM network received (net.received.average), KB/s.'),
  def('vm', 'netTxKBps', 'KBps', 'vmware_vm_net_transmitted_average', 'KB/s', identity, 'VM network transmitted (net.transmitted.average), KB/s.'),
  def('vm', 'netRxPps', 'pps', 'vscope_vm_net_rx_packets_per_second', 'packets/s', identity, 'VM packets received per second.'),
  def('vm', 'netTxPps', 'pps', 'vscope_vm_net_tx_packets_per_second', 'packets/s', identity, 'VM packets transmitted per second.'),
  def('vm', 'diskReadKBps', 'KBps', 'vscope_vm_disk_read_kilobytes_per_second', 'KB/s', identity, 'VM virtual disk read throughput (virtualDisk.read.average), KB/s.'),
  def('vm', 'diskWriteKBps', 'KBps', 'vscope_vm_disk_write_kilobytes_per_second', 'KB/s', identity, 'VM virtual disk write throughput (virtualDisk.write.average), KB/s.'),
  def('vm', 'diskReadIops', 'iops', 'vscope_vm_disk_read_operations_per_second', 'reads/s', identity, 'VM disk reads per second.'),
  def('vm', 'diskWriteIops', 'iops', 'vscope_vm_disk_write_operations_per_second', 'writes/s', identity, 'VM disk writes per second.'),
  def('vm', 'diskReadLatencyMs', 'ms', 'vscope_vm_disk_read_latency_milliseconds', 'ms', identity, 'VM disk read latency, ms.'),
  def('vm', 'diskWriteLatencyMs', 'ms', 'vscope_vm_disk_write_latency_milliseconds', 'ms', identity, 'VM disk write latency, ms.'),
  def('vm', 'diskMaxLatencyMs', 'ms', 'vmware_vm_disk_maxTotalLatency_latest', 'ms', identity, 'VM highest disk latency (disk.maxTotalLatency.latest), ms.'),
  def('vm', 'memBalloonedMB', 'MB', 'vmware_vm_mem_vmmemctl_average', 'KB', mbToKB, 'VM ballooned memory (mem.vmmemctl.average), KB.'),
  def('vm', 'memSwapInKBps', 'KBps', 'vscope_vm_mem_swapin_kilobytes_per_second', 'KB/s', identity, 'VM memory swap-in rate (mem.swapinRate.average), KB/s.'),
  def('vm', 'netRxDroppedPps', 'pps', 'vmware_vm_net_droppedRx_summation', 'packets per 20 s', perSecondToPer20s, 'VM received packets dropped (net.droppedRx.summation), per 20 s sample.'),
  def('vm', 'netTxDroppedPps', 'pps', 'vmware_vm_net_droppedTx_summation', 'packets per 20 s', perSecondToPer20s, 'VM transmitted packets dropped (net.droppedTx.summation), per 20 s sample.'),
  // Datastores: vmware_exporter reports summary.capacity, summary.freeSpace and
  // capacity - freeSpace + uncommitted (its "provisoned", sic) in bytes, as vscope's GB figures.
  def('datastore', 'capacityGB', 'GB', 'vmware_datastore_capacity_size', 'bytes', gbToBytes, 'Datastore capacity, bytes.'),
  def('datastore', 'usedGB', 'GB', 'vscope_datastore_used_bytes', 'bytes', gbToBytes, 'Datastore used space, bytes.'),
  def('datastore', 'freeGB', 'GB', 'vmware_datastore_freespace_size', 'bytes', gbToBytes, 'Datastore free space, bytes.'),
  def('datastore', 'provisionedGB', 'GB', 'vmware_datastore_provisoned_size', 'bytes', gbToBytes, 'Datastore provisioned space (capacity - free + uncommitted), bytes.'),
  def('datastore', 'readKBps', 'KBps', 'vscope_datastore_read_kilobytes_per_second', 'KB/s', identity, 'Datastore read throughput, KB/s.'),
  def('datastore', 'writeKBps', 'KBps', 'vscope_datastore_write_kilobytes_per_second', 'KB/s', identity, 'Datastore write throughput, KB/s.'),
  def('datastore', 'readLatencyMs', 'ms', 'vscope_datastore_read_latency_milliseconds', 'ms', identity, 'Datastore read latency, ms.'),
  def('datastore', 'writeLatencyMs', 'ms', 'vscope_datastore_write_latency_milliseconds', 'ms', identity, 'Datastore write latency, ms.'),
];

const byKindKey = new Map(engineMetricTable.map((entry) => [`${entry.kind}\0${entry.key}`, entry]));
const byName = new Map(engineMetricTable.map((entry) => [entry.name, entry]));

/** The engine series of a vscope metric; undefined for a kind or key the table lacks. */
export function engineMetric(kind: EntityKind, key: string): EngineMetricDef | undefined {
  return byKindKey.get(`${kind}\0${key}`);
}

/** The table entry of an engine series name; undefined for a name vscope does not write. */
export function engineMetricByName(name: string): EngineMetricDef | undefined {
  return byName.get(name);
}

/** Where an entity sits, by name: what vmware_exporter's labels carry. null or '' = unknown or none. */
export interface EntityContext {
  /** vscope's vCenter id. */
  readonly vcenter: string;
  /** vscope's entity id. */
  readonly entityId: string;
  /** The entity's own name: VM, host or datastore name, or the vmnic device of a NIC. */
  readonly name: string;
  readonly datacenterName?: string | null;
  readonly clusterName?: string | null;
  /** The VM's host, or the NIC's host. */
  readonly hostName?: string | null;
  /** The datastore of a VM's configuration file. */
  readonly datastoreName?: string | null;
}

/** Label names of one kind, in the order they are described; the encoder sorts them. */
export const entityLabelNames: Readonly<Record<SampledKind, readonly string[]>> = {
  vm: ['vm_name', 'ds_name', 'host_name', 'dc_name', 'cluster_name', 'vcenter', 'entity_id'],
  host: ['host_name', 'dc_name', 'cluster_name', 'vcenter', 'entity_id'],
  nic: ['host_name', 'nic', 'dc_name', 'cluster_name', 'vcenter', 'entity_id'],
  datastore: ['ds_name', 'dc_name', 'vcenter', 'entity_id'],
};

/** The labels of an entity's series, without `__name__`, sorted by name; empty values left out. */
export function entityLabels(kind: SampledKind, context: EntityContext): Label[] {
  const values: Record<string, string | null | undefined> = {
    vcenter: context.vcenter,
    entity_id: context.entityId,
    dc_name: context.datacenterName,
    cluster_name: context.clusterName,
  };
  if (kind === 'vm') Object.assign(values, { vm_name: context.name, host_name: context.hostName, ds_name: context.datastoreName });
  if (kind === 'host') values['host_name'] = context.name;
  if (kind === 'nic') Object.assign(values, { nic: context.name, host_name: context.hostName });
  if (kind === 'datastore') values['ds_name'] = context.name;
  return entityLabelNames[kind]
    .flatMap((name) => {
      const value = values[name];
      return value === null || value === undefined || value === '' ? [] : [{ name, value }];
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** `__name__` and the entity labels of one metric's series, sorted by name. */
export function seriesLabels(metric: EngineMetricDef, context: EntityContext): Label[] {
  return [{ name: '__name__', value: metric.name }, ...entityLabels(metric.kind, context)];
}
