/**
 * GET /metrics: the latest figures in the Prometheus text exposition format (version 0.0.4).
 * Every family is a gauge; a sample is left out when its figure is unknown (null).
 * Labels: vcenter, datacenter, cluster, host, vm, datastore, nic and `id` (the vscope entity id,
 * so that two VMs with the same name never collide into one series).
 */
import type { CollectionStatus, Store } from '../store/store.ts';
import { isStale, lastCycleFailed } from './status.ts';
import { DatacenterData, datastoreRows, everything, hostRows, selectLive, vmRows } from './views.ts';

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly help: string;
  readonly samples: string[];
}

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

class Exposition {
  readonly #families = new Map<string, Family>();

  family(name: string, help: string): void {
    if (!this.#families.has(name)) this.#families.set(name, { help, samples: [] });
  }

  add(name: string, labels: Labels, value: number | boolean | null): void {
    if (value === null) return;
    const family = this.#families.get(name);
    if (!family) throw new Error(`metric family ${name} is not declared`);
    const numeric = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    const text = Object.entries(labels)
      .map(([key, labelValue]) => `${key}="${escapeLabelValue(labelValue)}"`)
      .join(',');
    family.samples.push(`${name}{${text}} ${formatValue(numeric)}`);
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.#families) {
      if (family.samples.length === 0) continue;
      lines.push(`# HELP ${name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      lines.push(`# TYPE ${name} gauge`);
      for (const sample of family.samples) lines.push(sample);
    }
    return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
  }
}

const bytesPerMB = 1024 * 1024;
const bytesPerGB = 1024 * 1024 * 1024;

/** [family suffix, help, row field, factor] tables: one family per figure. */
const hostFigures = [
  ['cpu_usage_percent', 'Host CPU usage, percent of capacity (latest 5-minute average).', 'cpuUsagePct', 1],
  ['cpu_used_megahertz', 'Host CPU used, MHz.', 'cpuUsedMhz', 1],
  ['cpu_capacity_megahertz', 'Host CPU capacity, MHz.', 'cpuCapacityMhz', 1],
  ['cpu_cores', 'Physical CPU cores.', 'cpuCores', 1],
  ['vcpus_allocated', 'vCPUs of the VMs registered on the host (templates aside).', 'vcpusAllocated', 1],
  ['vms', 'VMs registered on the host (templates aside).', 'vms', 1],
  ['vms_powered_on', 'Powered-on VMs on the host.', 'vmsPoweredOn', 1],
  ['mem_usage_percent', 'Host memory usage, percent of capacity.', 'memUsagePct', 1],
  ['mem_consumed_bytes', 'Host memory consumed, bytes.', 'memConsumedMB', bytesPerMB],
  ['memory_capacity_bytes', 'Host memory capacity, bytes.', 'memoryCapacityMB', bytesPerMB],
  ['net_rx_kilobytes_per_second', 'Host network received, KB/s.', 'netRxKBps', 1],
  ['net_tx_kilobytes_per_second', 'Host network transmitted, KB/s.', 'netTxKBps', 1],
  ['uptime_seconds', 'Host uptime, seconds.', 'uptimeSec', 1],
] as const;

const vmFigures = [
  ['cpu_usage_percent', 'VM CPU usage, percent (latest 5-minute average).', 'cpuUsagePct', 1],
  ['cpu_used_megahertz', 'VM CPU used, MHz.', 'cpuUsedMhz', 1],
  ['cpu_ready_milliseconds', 'VM CPU ready over all vCPUs, ms per 20 s sample.', 'cpuReadyMs', 1],
  ['cpu_ready_percent_per_vcpu', 'VM CPU ready, percent of the interval per vCPU.', 'cpuReadyPctPerVcpu', 1],
  ['vcpus', 'VM vCPUs.', 'numCpu', 1],
  ['memory_bytes', 'VM configured memory, bytes.', 'memoryMB', bytesPerMB],
  ['mem_usage_percent', 'VM memory usage, percent.', 'memUsagePct', 1],
  ['net_rx_kilobytes_per_second', 'VM network received, KB/s.', 'netRxKBps', 1],
  ['net_tx_kilobytes_per_second', 'VM network transmitted, KB/s.', 'netTxKBps', 1],
  ['net_rx_packets_per_second', 'VM packets received per second.', 'netRxPps', 1],
  ['net_tx_packets_per_second', 'VM packets transmitted per second.', 'netTxPps', 1],
  ['disk_read_operations_per_second', 'VM disk reads per second.', 'diskReadIops', 1],
  ['disk_write_operations_per_second', 'VM disk writes per second.', 'diskWriteIops', 1],
  ['disk_read_kilobytes_per_second', 'VM disk read throughput, KB/s.', 'diskReadKBps', 1],
  ['disk_write_kilobytes_per_second', 'VM disk write throughput, KB/s.', 'diskWriteKBps', 1],
  ['disk_read_latency_milliseconds', 'VM disk read latency, ms.', 'diskReadLatencyMs', 1],
  ['disk_write_latency_milliseconds', 'VM disk write latency, ms.', 'diskWriteLatencyMs', 1],
  ['disk_max_latency_milliseconds', 'VM highest disk latency, ms.', 'diskMaxLatencyMs', 1],
  ['disk_provisioned_bytes', 'VM provisioned disk space, bytes.', 'diskProvisionedGB', bytesPerGB],
  ['disk_used_bytes', 'VM used disk space, bytes.', 'diskUsedGB', bytesPerGB],
  ['snapshots', 'VM snapshots.', 'snapshotCount', 1],
] as const;

const datastoreFigures = [
  ['capacity_bytes', 'Datastore capacity, bytes.', 'capacityGB', bytesPerGB],
  ['free_bytes', 'Datastore free space, bytes.', 'freeGB', bytesPerGB],
  ['used_bytes', 'Datastore used space, bytes.', 'usedGB', bytesPerGB],
  ['provisioned_bytes', 'Datastore provisioned space, bytes.', 'provisionedGB', bytesPerGB],
  ['vms', 'VMs with files on the datastore.', 'vms', 1],
  ['read_kilobytes_per_second', 'Datastore read throughput, KB/s.', 'readKBps', 1],
  ['write_kilobytes_per_second', 'Datastore write throughput, KB/s.', 'writeKBps', 1],
  ['read_latency_milliseconds', 'Datastore read latency, ms.', 'readLatencyMs', 1],
  ['write_latency_milliseconds', 'Datastore write latency, ms.', 'writeLatencyMs', 1],
] as const;

const nicFigures = [
  ['rx_kilobytes_per_second', 'Host NIC received, KB/s.', 'netRxKBps', 1],
  ['tx_kilobytes_per_second', 'Host NIC transmitted, KB/s.', 'netTxKBps', 1],
  ['rx_packets_per_second', 'Host NIC packets received per second.', 'netRxPps', 1],
  ['tx_packets_per_second', 'Host NIC packets transmitted per second.', 'netTxPps', 1],
  ['link_speed_megabits_per_second', 'Host NIC link speed, Mb/s (absent when the link is down).', 'linkSpeedMbps', 1],
] as const;

function addFigures<Row>(
  out: Exposition,
  prefix: string,
  table: readonly (readonly [string, string, keyof Row & string, number])[],
  row: Row,
  labels: Labels,
): void {
  for (const [suffix, , field, factor] of table) {
    const value = row[field];
    out.add(`${prefix}_${suffix}`, labels, typeof value === 'number' ? value * factor : null);
  }
}

function declare(out: Exposition, prefix: string, table: readonly (readonly [string, string, string, number])[]): void {
  for (const [suffix, help] of table) out.family(`${prefix}_${suffix}`, help);
}

export interface MetricsInput {
  readonly store: Store;
  readonly vcenters: readonly { id: string; name: string }[];
  readonly statuses: readonly CollectionStatus[];
  readonly nowSec: number;
  /** Collection interval, for the staleness gauge. */
  readonly intervalSec: number;
}

/** The whole exposition text, every live entity of every vCenter. */
export async function renderMetrics(input: MetricsInput): Promise<string> {
  const { store, nowSec } = input;
  const out = new Exposition();
  out.family('vscope_collector_last_success_timestamp_seconds', 'End of the last successful collection cycle, unix seconds.');
  out.family('vscope_collector_last_duration_seconds', 'Duration of the last collection cycle, seconds.');
  out.family('vscope_collector_last_cycle_failed', '1 when the last collection cycle failed.');
  out.family('vscope_collector_stale', '1 when no cycle succeeded for 3 intervals or the last one failed.');
  out.family('vscope_host_connected', '1 when the host is connected to vCenter.');
  out.family('vscope_host_maintenance_mode', '1 when the host is in maintenance mode.');
  declare(out, 'vscope_host', hostFigures);
  declare(out, 'vscope_nic', nicFigures);
  out.family('vscope_vm_powered_on', '1 when the VM is powered on.');
  declare(out, 'vscope_vm', vmFigures);
  out.family('vscope_datastore_accessible', '1 when the datastore is accessible.');
  declare(out, 'vscope_datastore', datastoreFigures);

  const names = new Map(input.vcenters.map((vcenter) => [vcenter.id, vcenter.name]));
  for (const status of input.statuses) {
    const labels = { vcenter: names.get(status.vcenterId) ?? status.vcenterId };
    out.add('vscope_collector_last_success_timestamp_seconds', labels, status.lastSuccessSec);
    out.add('vscope_collector_last_duration_seconds', labels, status.lastDurationMs === null ? null : status.lastDurationMs / 1000);
    out.add('vscope_collector_last_cycle_failed', labels, lastCycleFailed(status));
    out.add('vscope_collector_stale', labels, isStale(status, nowSec, input.intervalSec));
  }

  for (const dc of selectLive(await store.datacenters(), false)) {
    const data = await DatacenterData.load(store, dc);
    const vcenter = names.get(dc.vcenterId) ?? dc.vcenterId;
    const base = { vcenter, datacenter: dc.name };
    for (const host of await hostRows(data, selectLive(data.hosts, false), nowSec, everything)) {
      const labels = { ...base, cluster: host.clusterName ?? '', host: host.name, id: host.id };
      out.add('vscope_host_connected', labels, host.connectionState === 'connected');
      out.add('vscope_host_maintenance_mode', labels, host.inMaintenanceMode);
      addFigures(out, 'vscope_host', hostFigures, host, labels);
      for (const nic of host.nics) {
        addFigures(out, 'vscope_nic', nicFigures, nic, { ...base, cluster: labels.cluster, host: host.name, nic: nic.device, id: nic.id });
      }
    }
    for (const vm of await vmRows(data, selectLive(data.vms, false), everything)) {
      if (vm.isTemplate) continue;
      const labels = { ...base, cluster: vm.clusterName ?? '', host: vm.hostName ?? '', vm: vm.name, id: vm.id };
      out.add('vscope_vm_powered_on', labels, vm.powerState === 'poweredOn');
      addFigures(out, 'vscope_vm', vmFigures, vm, labels);
    }
    for (const ds of await datastoreRows(data, selectLive(data.datastores, false))) {
      const labels = { ...base, datastore: ds.name, id: ds.id };
      out.add('vscope_datastore_accessible', labels, ds.accessible);
      addFigures(out, 'vscope_datastore', datastoreFigures, ds, labels);
    }
  }
  return out.render();
}
