import type { DatastoreRow } from '../../../src/shared/api.ts';
import { fillHealth, formatGBFixed, formatKBps, formatMs, formatNumber, formatPercent, statusHealth, statusLabel, type Health } from '../../../src/shared/format.ts';
import { Badge, Bar, EntityLink } from '../components/bits.tsx';
import { DataTable, columnWidth, numberColumn, type Column, type NumericKey } from '../components/table.tsx';
import type { TableState } from '../route.ts';

const num = (label: string, key: NumericKey<DatastoreRow>, format: (v: number | null) => string, title?: string, width?: number): Column<DatastoreRow> =>
  numberColumn<DatastoreRow>(label, key, format, title, width);

/** A datastore's state in words: inaccessible, in maintenance, or its vCenter status. */
export function datastoreState(r: DatastoreRow): { label: string; health: Health } {
  if (!r.accessible) return { label: 'Inaccessible', health: 'critical' };
  if (r.maintenanceMode !== null && r.maintenanceMode !== 'normal') return { label: `Maintenance (${r.maintenanceMode})`, health: 'warning' };
  return { label: statusLabel(r.overallStatus), health: statusHealth(r.overallStatus) };
}

/** Fill bar: under 75 % ok, 75 to 90 % warning, over 90 % critical. */
export function FillBar({ row }: { row: DatastoreRow }) {
  return <Bar pct={row.usedPct} health={fillHealth(row.usedPct)} text={formatPercent(row.usedPct)} title={`${formatGBFixed(row.usedGB)} of ${formatGBFixed(row.capacityGB)} used`} />;
}

const baseColumns: readonly Column<DatastoreRow>[] = [
  {
    key: 'name',
    label: 'Name',
    value: (r) => r.name,
    render: (r) => (
      <>
        <EntityLink id={r.id} name={r.name} kind="datastore" />
        {r.removed && <span class="tag tag-removed">removed</span>}
      </>
    ),
  },
  { key: 'type', label: 'Type', value: (r) => r.type },
  { key: 'usedPct', label: 'Fill', numeric: true, csvLabel: 'Used %', value: (r) => r.usedPct, render: (r) => <FillBar row={r} /> },
  num('Capacity', 'capacityGB', formatGBFixed),
  num('Used', 'usedGB', formatGBFixed),
  num('Free', 'freeGB', formatGBFixed),
  num('Provisioned', 'provisionedGB', formatGBFixed, 'Provisioned space (used + uncommitted), GB'),
  {
    key: 'provisionedPct',
    label: 'Prov. %',
    title: 'Provisioned space as % of capacity (over 100 % is overcommitted)',
    numeric: true,
    value: (r) => r.provisionedPct,
    render: (r) => (r.provisionedPct > 100 ? <Badge health="warning">{formatPercent(r.provisionedPct)}</Badge> : formatPercent(r.provisionedPct)),
  },
  num('VMs', 'vms', (v) => formatNumber(v)),
  num('Hosts', 'hosts', (v) => formatNumber(v)),
  {
    key: 'state',
    label: 'State',
    value: (r) => datastoreState(r).label,
    render: (r) => {
      const state = datastoreState(r);
      return <Badge health={state.health}>{state.label}</Badge>;
    },
  },
  num('Read', 'readKBps', formatKBps, 'Read throughput'),
  num('Write', 'writeKBps', formatKBps, 'Write throughput'),
  num('Read lat.', 'readLatencyMs', formatMs, 'Read latency'),
  num('Write lat.', 'writeLatencyMs', formatMs, 'Write latency'),
];

const csvLabels: Readonly<Record<string, string>> = { capacityGB: 'Capacity GB', usedGB: 'Used GB', freeGB: 'Free GB', provisionedGB: 'Provisioned GB', provisionedPct: 'Provisioned %', readKBps: 'Read KB/s', writeKBps: 'Write KB/s', readLatencyMs: 'Read latency ms', writeLatencyMs: 'Write latency ms' };

const widths: Readonly<Record<string, number>> = { name: 220, type: 80, usedPct: 190, capacityGB: 100, usedGB: 100, freeGB: 100, provisionedGB: 110, provisionedPct: 90, vms: 64, hosts: 64, state: 150, readKBps: 96, writeKBps: 96, readLatencyMs: 84, writeLatencyMs: 84 };

export const datastoreColumns: readonly Column<DatastoreRow>[] = baseColumns.map((c) => ({ ...c, width: widths[c.key] ?? columnWidth(c), csvLabel: c.csvLabel ?? csvLabels[c.key] ?? c.label }));

export function FilerView({ rows, state, onState, csvName }: { rows: readonly DatastoreRow[]; state: TableState; onState: (s: TableState) => void; csvName: string }) {
  return (
    <DataTable
      testId="datastore-table"
      noun={['datastore', 'datastores']}
      rows={rows}
      columns={datastoreColumns}
      rowId={(r) => r.id}
      rowClass={(r) => (r.removed ? 'removed' : '')}
      state={state}
      onState={onState}
      defaultSort={{ key: 'usedPct', dir: 'desc' }}
      csvName={csvName}
    />
  );
}
