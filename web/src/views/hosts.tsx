import { useCallback, useMemo } from 'preact/hooks';
import type { HostRow, NicRow } from '../../../src/shared/api.ts';
import {
  NONE,
  connectionHealth,
  connectionLabel,
  formatDuration,
  formatKBps,
  formatLinkSpeed,
  formatMB,
  formatMhz,
  formatNumber,
  formatPercent,
  formatPps,
  loadHealth,
  powerHealth,
  powerLabel,
  statusHealth,
  statusLabel,
} from '../../../src/shared/format.ts';
import { Badge, Bar, EntityLink } from '../components/bits.tsx';
import { DataTable, columnWidth, numberColumn, type Column, type NumericKey } from '../components/table.tsx';
import type { TableState } from '../route.ts';

const num = (label: string, key: NumericKey<HostRow>, format: (v: number | null) => string, title?: string, width?: number): Column<HostRow> =>
  numberColumn<HostRow>(label, key, format, title, width);

/** Every vmnic of a host, each linking to its graphs. */
export function NicTable({ host }: { host: HostRow }) {
  if (host.nics.length === 0) return <p class="note">No physical NIC reported for {host.name}.</p>;
  return (
    <table class="data nested" data-testid="nic-table" data-host={host.id}>
      <thead>
        <tr>
          <th scope="col">vmnic</th>
          <th scope="col" class="num">Link speed</th>
          <th scope="col">MAC</th>
          <th scope="col" class="num">Rx</th>
          <th scope="col" class="num">Tx</th>
          <th scope="col" class="num">Rx packets</th>
          <th scope="col" class="num">Tx packets</th>
        </tr>
      </thead>
      <tbody>
        {host.nics.map((nic: NicRow) => (
          <tr key={nic.id} data-id={nic.id}>
            <td>
              <EntityLink id={nic.id} name={nic.device} kind="nic" />
            </td>
            <td class="num">{nic.linkSpeedMbps === null ? <Badge health="warning">down</Badge> : formatLinkSpeed(nic.linkSpeedMbps)}</td>
            <td class="mono">{nic.mac ?? NONE}</td>
            <td class="num">{formatKBps(nic.netRxKBps)}</td>
            <td class="num">{formatKBps(nic.netTxKBps)}</td>
            <td class="num">{formatPps(nic.netRxPps)}</td>
            <td class="num">{formatPps(nic.netTxPps)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const hostCsvLabels: Readonly<Record<string, string>> = {
  cpuCapacityMhz: 'CPU capacity MHz', memoryCapacityMB: 'RAM capacity MB', netRxKBps: 'Net rx KB/s', netTxKBps: 'Net tx KB/s', uptimeSec: 'Uptime s', vms: 'VMs', vcpusAllocated: 'vCPUs allocated',
};

const hostWidths: Readonly<Record<string, number>> = {
  name: 240, clusterName: 120, connectionState: 130, powerState: 80, inMaintenanceMode: 120, overallStatus: 90, cpuCores: 70, cpuThreads: 84, vcpusAllocated: 70, vms: 90,
  cpuUsagePct: 170, cpuUsedMhz: 210, cpuCapacityMhz: 110, memUsagePct: 170, memConsumedMB: 170, memoryCapacityMB: 110, netRxKBps: 96, netTxKBps: 96, nics: 60, uptimeSec: 100, esxVersion: 180, cpuModel: 300,
};

function hostColumns(open: readonly string[], toggle: (id: string) => void): Column<HostRow>[] {
  const columns: Column<HostRow>[] = [
    {
      key: 'name',
      label: 'Name',
      value: (r) => r.name,
      render: (r) => {
        const isOpen = open.includes(r.id);
        return (
          <span class="name-cell">
            <button
              type="button"
              class="expander"
              aria-expanded={isOpen}
              aria-label={`${isOpen ? 'Hide' : 'Show'} the NICs of ${r.name}`}
              data-testid="nic-toggle"
              onClick={() => toggle(r.id)}
            >
              {isOpen ? '▾' : '▸'}
            </button>
            <EntityLink id={r.id} name={r.name} kind="host" />
            {r.removed && <span class="tag tag-removed">removed</span>}
          </span>
        );
      },
    },
    { key: 'clusterName', label: 'Cluster', value: (r) => r.clusterName, render: (r) => r.clusterName ?? NONE },
    {
      key: 'connectionState',
      label: 'Connection',
      value: (r) => connectionLabel(r.connectionState),
      render: (r) => <Badge health={connectionHealth(r.connectionState)}>{connectionLabel(r.connectionState)}</Badge>,
    },
    { key: 'powerState', label: 'Power', value: (r) => powerLabel(r.powerState), render: (r) => <Badge health={powerHealth(r.powerState)}>{powerLabel(r.powerState)}</Badge> },
    {
      key: 'inMaintenanceMode',
      label: 'Maintenance',
      value: (r) => r.inMaintenanceMode,
      render: (r) => (r.inMaintenanceMode ? <Badge health="warning">Maintenance</Badge> : 'No'),
    },
    { key: 'overallStatus', label: 'Status', value: (r) => statusLabel(r.overallStatus), render: (r) => <Badge health={statusHealth(r.overallStatus)}>{statusLabel(r.overallStatus)}</Badge> },
    num('Cores', 'cpuCores', (v) => formatNumber(v), 'Physical CPU cores'),
    num('Threads', 'cpuThreads', (v) => formatNumber(v)),
    num('vCPU', 'vcpusAllocated', (v) => formatNumber(v), 'vCPUs allocated to its VMs'),
    {
      key: 'vms',
      label: 'VMs',
      numeric: true,
      title: 'VMs powered on / total',
      value: (r) => r.vms,
      render: (r) => `${r.vmsPoweredOn} / ${r.vms}`,
    },
    {
      key: 'cpuUsagePct',
      label: 'CPU',
      numeric: true,
      csvLabel: 'CPU %',
      value: (r) => r.cpuUsagePct,
      render: (r) => <Bar pct={r.cpuUsagePct} health={loadHealth(r.cpuUsagePct)} text={formatPercent(r.cpuUsagePct)} />,
    },
    {
      key: 'cpuUsedMhz',
      label: 'CPU used',
      numeric: true,
      csvLabel: 'CPU used MHz',
      value: (r) => r.cpuUsedMhz,
      render: (r) => `${formatMhz(r.cpuUsedMhz)} / ${formatMhz(r.cpuCapacityMhz)}`,
    },
    num('CPU capacity', 'cpuCapacityMhz', formatMhz),
    {
      key: 'memUsagePct',
      label: 'RAM',
      numeric: true,
      csvLabel: 'RAM %',
      value: (r) => r.memUsagePct,
      render: (r) => <Bar pct={r.memUsagePct} health={loadHealth(r.memUsagePct)} text={formatPercent(r.memUsagePct)} />,
    },
    {
      key: 'memConsumedMB',
      label: 'RAM used',
      numeric: true,
      csvLabel: 'RAM consumed MB',
      value: (r) => r.memConsumedMB,
      render: (r) => `${formatMB(r.memConsumedMB)} / ${formatMB(r.memoryCapacityMB)}`,
    },
    num('RAM capacity', 'memoryCapacityMB', formatMB, 'Memory capacity'),
    num('Net rx', 'netRxKBps', formatKBps, 'Network received, all vmnics'),
    num('Net tx', 'netTxKBps', formatKBps, 'Network transmitted, all vmnics'),
    { key: 'nics', label: 'NICs', numeric: true, value: (r) => r.nics.length, render: (r) => String(r.nics.length) },
    num('Uptime', 'uptimeSec', formatDuration),
    { key: 'esxVersion', label: 'ESXi', value: (r) => r.esxVersion, render: (r) => r.esxVersion ?? NONE },
    { key: 'cpuModel', label: 'CPU model', value: (r) => r.cpuModel, render: (r) => <span title={r.cpuModel ?? ''}>{r.cpuModel ?? NONE}</span> },
  ];
  return columns.map((c) => ({ ...c, width: hostWidths[c.key] ?? columnWidth(c), csvLabel: c.csvLabel ?? hostCsvLabels[c.key] ?? c.label }));
}

export function HostsView({
  rows,
  state,
  open,
  onState,
  onOpen,
  csvName,
}: {
  rows: readonly HostRow[];
  state: TableState;
  open: readonly string[];
  onState: (s: TableState) => void;
  onOpen: (open: readonly string[]) => void;
  csvName: string;
}) {
  const toggle = useCallback((id: string) => onOpen(open.includes(id) ? open.filter((o) => o !== id) : [...open, id]), [open, onOpen]);
  const columns = useMemo(() => hostColumns(open, toggle), [open, toggle]);
  return (
    <DataTable
      testId="host-table"
      noun={['host', 'hosts']}
      rows={rows}
      columns={columns}
      rowId={(r) => r.id}
      rowClass={(r) => (r.removed ? 'removed' : r.connectionState !== 'connected' ? 'dim' : '')}
      state={state}
      onState={onState}
      defaultSort={{ key: 'name', dir: 'asc' }}
      expansion={(r) => (open.includes(r.id) ? <NicTable host={r} /> : null)}
      csvName={csvName}
    />
  );
}
