import type { VmRow } from '../../../src/shared/api.ts';
import {
  NONE,
  faultToleranceHealth,
  faultToleranceLabel,
  formatGBFixed,
  formatIops,
  formatKBps,
  formatMB,
  formatMhz,
  formatMs,
  formatNumber,
  formatPercent,
  formatPps,
  powerHealth,
  powerLabel,
  statusHealth,
  statusLabel,
  toolsRunningHealth,
  toolsRunningLabel,
  toolsVersionHealth,
  toolsVersionLabel,
} from '../../../src/shared/format.ts';
import { cpuReadyHealth } from '../../../src/shared/metrics.ts';
import { Badge, EntityLink } from '../components/bits.tsx';
import { DataTable, columnWidth, numberColumn, type Column, type NumericKey } from '../components/table.tsx';
import type { TableState } from '../route.ts';

const num = (label: string, key: NumericKey<VmRow>, format: (v: number | null) => string, title?: string, width?: number): Column<VmRow> =>
  numberColumn<VmRow>(label, key, format, title, width);

/** CPU ready % per vCPU, coloured: under 5 % ok, 5 to 10 % warning, over 10 % critical. */
export function ReadyCell({ pct }: { pct: number | null }) {
  if (pct === null) return <span>{NONE}</span>;
  return <Badge health={cpuReadyHealth(pct)}>{formatPercent(pct, 2)}</Badge>;
}

const baseColumns: readonly Column<VmRow>[] = [
  {
    key: 'name',
    label: 'Name',
    value: (r) => r.name,
    render: (r) => (
      <>
        <EntityLink id={r.id} name={r.name} kind="vm" />
        {r.isTemplate && <span class="tag">template</span>}
        {r.removed && <span class="tag tag-removed">removed</span>}
      </>
    ),
  },
  { key: 'powerState', label: 'Power', value: (r) => powerLabel(r.powerState), render: (r) => <Badge health={powerHealth(r.powerState)}>{powerLabel(r.powerState)}</Badge> },
  { key: 'overallStatus', label: 'Status', value: (r) => statusLabel(r.overallStatus), render: (r) => <Badge health={statusHealth(r.overallStatus)}>{statusLabel(r.overallStatus)}</Badge> },
  { key: 'hostName', label: 'Host', value: (r) => r.hostName, render: (r) => (r.hostId && r.hostName ? <EntityLink id={r.hostId} name={r.hostName} kind="host" /> : NONE) },
  { key: 'clusterName', label: 'Cluster', value: (r) => r.clusterName, render: (r) => r.clusterName ?? NONE },
  num('vCPU', 'numCpu', (v) => formatNumber(v)),
  num('Memory', 'memoryMB', formatMB, 'Configured memory'),
  num('CPU', 'cpuUsagePct', (v) => formatPercent(v), 'CPU usage, %'),
  num('CPU MHz', 'cpuUsedMhz', formatMhz, 'CPU used'),
  {
    key: 'cpuReadyPctPerVcpu',
    label: 'Ready %',
    title: 'CPU ready, % of the interval per vCPU (under 5 % ok, 5–10 % warning, over 10 % critical)',
    csvLabel: 'CPU ready % per vCPU',
    numeric: true,
    value: (r) => r.cpuReadyPctPerVcpu,
    render: (r) => <ReadyCell pct={r.cpuReadyPctPerVcpu} />,
  },
  num('Ready ms', 'cpuReadyMs', (v) => (v === null ? NONE : `${formatNumber(v, 0)} ms`), 'CPU ready, ms per 20 s sample over all vCPUs'),
  num('Mem', 'memUsagePct', (v) => formatPercent(v), 'Memory usage, %'),
  {
    key: 'toolsRunningStatus',
    label: 'Tools',
    value: (r) => toolsRunningLabel(r.toolsRunningStatus),
    render: (r) => <Badge health={toolsRunningHealth(r.toolsRunningStatus, r.powerState)}>{toolsRunningLabel(r.toolsRunningStatus)}</Badge>,
  },
  {
    key: 'toolsVersionStatus',
    label: 'Tools version',
    value: (r) => toolsVersionLabel(r.toolsVersionStatus),
    render: (r) => (
      <Badge health={toolsVersionHealth(r.toolsVersionStatus)} title={r.toolsVersion ?? undefined}>
        {toolsVersionLabel(r.toolsVersionStatus)}
        {r.toolsVersion !== null ? ` (${r.toolsVersion})` : ''}
      </Badge>
    ),
  },
  {
    key: 'faultToleranceState',
    label: 'FT',
    title: 'Fault Tolerance',
    value: (r) => faultToleranceLabel(r.faultToleranceState),
    render: (r) => <Badge health={faultToleranceHealth(r.faultToleranceState)}>{faultToleranceLabel(r.faultToleranceState)}</Badge>,
  },
  {
    key: 'snapshotCount',
    label: 'Snapshots',
    numeric: true,
    value: (r) => r.snapshotCount,
    render: (r) => (r.snapshotCount > 0 ? <Badge health="warning">{r.snapshotCount}</Badge> : '0'),
  },
  num('Net rx', 'netRxKBps', formatKBps, 'Network received'),
  num('Net tx', 'netTxKBps', formatKBps, 'Network transmitted'),
  num('Pkts rx', 'netRxPps', formatPps, 'Packets received per second'),
  num('Pkts tx', 'netTxPps', formatPps, 'Packets transmitted per second'),
  num('Read IOPS', 'diskReadIops', formatIops),
  num('Write IOPS', 'diskWriteIops', formatIops),
  num('Read', 'diskReadKBps', formatKBps, 'Disk read throughput'),
  num('Write', 'diskWriteKBps', formatKBps, 'Disk write throughput'),
  num('Read lat.', 'diskReadLatencyMs', formatMs, 'Disk read latency'),
  num('Write lat.', 'diskWriteLatencyMs', formatMs, 'Disk write latency'),
  num('Max lat.', 'diskMaxLatencyMs', formatMs, 'Highest disk latency'),
  num('Provisioned', 'diskProvisionedGB', formatGBFixed, 'Disk provisioned, GB'),
  num('Used', 'diskUsedGB', formatGBFixed, 'Disk used, GB'),
  {
    key: 'datastores',
    label: 'Datastores',
    value: (r) => r.datastores.map((d) => d.name).join(', '),
    render: (r) =>
      r.datastores.length === 0
        ? NONE
        : r.datastores.map((d, i) => (
            <span key={d.id}>
              {i > 0 && ', '}
              <EntityLink id={d.id} name={d.name} kind="datastore" />
            </span>
          )),
  },
  { key: 'guestOs', label: 'Guest OS', value: (r) => r.guestOs, render: (r) => <span title={r.guestOs ?? ''}>{r.guestOs ?? NONE}</span> },
  { key: 'ipAddress', label: 'IP address', value: (r) => r.ipAddress, render: (r) => r.ipAddress ?? NONE },
];

const csvLabels: Readonly<Record<string, string>> = { memoryMB: 'Memory MB', cpuUsagePct: 'CPU %', cpuUsedMhz: 'CPU used MHz', cpuReadyMs: 'CPU ready ms per 20 s', memUsagePct: 'Memory %', toolsRunningStatus: 'Tools running', netRxKBps: 'Net rx KB/s', netTxKBps: 'Net tx KB/s', netRxPps: 'Net rx packets/s', netTxPps: 'Net tx packets/s', diskReadIops: 'Disk read IOPS', diskWriteIops: 'Disk write IOPS', diskReadKBps: 'Disk read KB/s', diskWriteKBps: 'Disk write KB/s', diskReadLatencyMs: 'Disk read latency ms', diskWriteLatencyMs: 'Disk write latency ms', diskMaxLatencyMs: 'Disk max latency ms', diskProvisionedGB: 'Disk provisioned GB', diskUsedGB: 'Disk used GB', faultToleranceState: 'Fault Tolerance', snapshotCount: 'Snapshots' };

const widths: Readonly<Record<string, number>> = { name: 230, powerState: 96, overallStatus: 90, hostName: 200, clusterName: 120, numCpu: 60, memoryMB: 84, cpuUsagePct: 74, cpuUsedMhz: 90, cpuReadyPctPerVcpu: 84, cpuReadyMs: 96, memUsagePct: 74, toolsRunningStatus: 120, toolsVersionStatus: 200, faultToleranceState: 130, snapshotCount: 90, netRxKBps: 96, netTxKBps: 96, netRxPps: 96, netTxPps: 96, diskReadIops: 96, diskWriteIops: 96, diskReadKBps: 96, diskWriteKBps: 96, diskReadLatencyMs: 84, diskWriteLatencyMs: 84, diskMaxLatencyMs: 84, diskProvisionedGB: 104, diskUsedGB: 96, datastores: 220, guestOs: 240, ipAddress: 130 };

export const vmColumns: readonly Column<VmRow>[] = baseColumns.map((c) => ({ ...c, width: widths[c.key] ?? columnWidth(c), csvLabel: c.csvLabel ?? csvLabels[c.key] ?? c.label }));

export function VmsView({ rows, state, onState, csvName }: { rows: readonly VmRow[]; state: TableState; onState: (s: TableState) => void; csvName: string }) {
  return (
    <DataTable
      testId="vm-table"
      noun={['VM', 'VMs']}
      rows={rows}
      columns={vmColumns}
      rowId={(r) => r.id}
      rowClass={(r) => (r.removed ? 'removed' : r.powerState !== 'poweredOn' ? 'dim' : '')}
      state={state}
      onState={onState}
      defaultSort={{ key: 'name', dir: 'asc' }}
      csvName={csvName}
    />
  );
}
