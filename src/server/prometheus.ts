/**
 * GET /metrics: the latest figures in the Prometheus text exposition format (version 0.0.4).
 * Every family is a gauge; a sample is left out when its figure is unknown (null).
 *
 * The sampled metrics go out under the same names, units and labels as remote write sends
 * (store/prometheus/names.ts: vmware_exporter's where it has one, e.g.
 * `vmware_vm_cpu_usage_average{vm_name,host_name,cluster_name,dc_name,ds_name,vcenter,entity_id}`),
 * so that scraping vscope and receiving its remote write give the same series; their value here
 * is the latest 5-minute average. Inventory figures that are not samples keep `vscope_*` names
 * with the same labels. `entity_id` keeps two VMs of one name apart.
 */
import type { CollectionStatus, Store } from '../store/store.ts';
import { isStale, lastCycleFailed } from './status.ts';
import { metricsByKind } from '../shared/metrics.ts';
import { engineMetric, engineMetricTable, entityLabels, type EntityContext, type SampledKind } from '../store/prometheus/names.ts';
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

/**
 * Inventory figures that are not samples: [family suffix, help, row field, factor]. Samples
 * (the metrics of shared/metrics.ts) go out under the engine's names instead (names.ts).
 */
const hostFigures = [
  ['cpu_capacity_megahertz', 'Host CPU capacity, MHz.', 'cpuCapacityMhz', 1],
  ['cpu_cores', 'Physical CPU cores.', 'cpuCores', 1],
  ['vcpus_allocated', 'vCPUs of the VMs registered on the host (templates aside).', 'vcpusAllocated', 1],
  ['vms', 'VMs registered on the host (templates aside).', 'vms', 1],
  ['vms_powered_on', 'Powered-on VMs on the host.', 'vmsPoweredOn', 1],
  ['memory_capacity_bytes', 'Host memory capacity, bytes.', 'memoryCapacityMB', bytesPerMB],
  ['uptime_seconds', 'Host uptime, seconds.', 'uptimeSec', 1],
] as const;

const vmFigures = [
  ['cpu_ready_percent_per_vcpu', 'VM CPU ready, percent of the interval per vCPU (latest 5-minute average).', 'cpuReadyPctPerVcpu', 1],
  ['vcpus', 'VM vCPUs.', 'numCpu', 1],
  ['memory_bytes', 'VM configured memory, bytes.', 'memoryMB', bytesPerMB],
  ['disk_provisioned_bytes', 'VM provisioned disk space, bytes.', 'diskProvisionedGB', bytesPerGB],
  ['disk_used_bytes', 'VM used disk space, bytes.', 'diskUsedGB', bytesPerGB],
  ['snapshots', 'VM snapshots.', 'snapshotCount', 1],
] as const;

const datastoreFigures = [['vms', 'VMs with files on the datastore.', 'vms', 1]] as const;

const nicFigures = [['link_speed_megabits_per_second', 'Host NIC link speed, Mb/s (absent when the link is down).', 'linkSpeedMbps', 1]] as const;

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

/** The latest figure of every sampled metric of a row, under the engine's name and unit (names.ts). */
function addSamples(out: Exposition, kind: SampledKind, row: object, labels: Labels): void {
  const values = row as Readonly<Record<string, unknown>>;
  for (const def of metricsByKind[kind]) {
    const metric = engineMetric(kind, def.key);
    const value = values[def.key];
    if (metric === undefined) continue;
    out.add(metric.name, labels, typeof value === 'number' ? metric.conversion.toEngine(value) : null);
  }
}

/** An entity's labels as remote write sends them (names.ts entityLabels), as a record. */
function labelsOf(kind: SampledKind, context: EntityContext): Labels {
  return Object.fromEntries(entityLabels(kind, context).map((label) => [label.name, label.value]));
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
  for (const metric of engineMetricTable) out.family(metric.name, metric.help);
  out.family('vscope_host_connected', '1 when the host is connected to vCenter.');
  out.family('vscope_host_maintenance_mode', '1 when the host is in maintenance mode.');
  declare(out, 'vscope_host', hostFigures);
  declare(out, 'vscope_nic', nicFigures);
  out.family('vscope_vm_powered_on', '1 when the VM is powered on.');
  declare(out, 'vscope_vm', vmFigures);
  out.family('vscope_datastore_accessible', '1 when the datastore is accessible.');
  declare(out, 'vscope_datastore', datastoreFigures);

  for (const status of input.statuses) {
    const labels = { vcenter: status.vcenterId };
    out.add('vscope_collector_last_success_timestamp_seconds', labels, status.lastSuccessSec);
    out.add('vscope_collector_last_duration_seconds', labels, status.lastDurationMs === null ? null : status.lastDurationMs / 1000);
    out.add('vscope_collector_last_cycle_failed', labels, lastCycleFailed(status));
    out.add('vscope_collector_stale', labels, isStale(status, nowSec, input.intervalSec));
  }

  for (const dc of selectLive(await store.datacenters(), false)) {
    const data = await DatacenterData.load(store, dc);
    const base = { vcenter: dc.vcenterId, datacenterName: dc.name };
    for (const host of await hostRows(data, selectLive(data.hosts, false), nowSec, everything)) {
      const labels = labelsOf('host', { ...base, entityId: host.id, name: host.name, clusterName: host.clusterName });
      out.add('vscope_host_connected', labels, host.connectionState === 'connected');
      out.add('vscope_host_maintenance_mode', labels, host.inMaintenanceMode);
      addSamples(out, 'host', host, labels);
      addFigures(out, 'vscope_host', hostFigures, host, labels);
      for (const nic of host.nics) {
        const nicLabels = labelsOf('nic', { ...base, entityId: nic.id, name: nic.device, hostName: host.name, clusterName: host.clusterName });
        addSamples(out, 'nic', nic, nicLabels);
        addFigures(out, 'vscope_nic', nicFigures, nic, nicLabels);
      }
    }
    for (const vm of await vmRows(data, selectLive(data.vms, false), everything)) {
      if (vm.isTemplate) continue;
      // ds_name: the first datastore vCenter lists (that of the configuration file), as remote write labels it.
      const labels = labelsOf('vm', { ...base, entityId: vm.id, name: vm.name, clusterName: vm.clusterName, hostName: vm.hostName, datastoreName: vm.datastores[0]?.name ?? null });
      out.add('vscope_vm_powered_on', labels, vm.powerState === 'poweredOn');
      addSamples(out, 'vm', vm, labels);
      addFigures(out, 'vscope_vm', vmFigures, vm, labels);
    }
    for (const ds of await datastoreRows(data, selectLive(data.datastores, false))) {
      const labels = labelsOf('datastore', { ...base, entityId: ds.id, name: ds.name });
      out.add('vscope_datastore_accessible', labels, ds.accessible);
      addSamples(out, 'datastore', ds, labels);
      addFigures(out, 'vscope_datastore', datastoreFigures, ds, labels);
    }
  }
  return out.render();
}
