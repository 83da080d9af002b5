/**
 * Capacity (PRODUCT.md "Capacity"): when datastores fill up, how much CPU and memory clusters
 * and hosts have left now and at the period's peak (N+1 for clusters), and which VMs are idle
 * or oversized. Each section states the buckets its figures come from.
 */
import { useState } from 'preact/hooks';
import type { CapacityResponse, ClusterCapacityRow, DatastoreCapacityRow, HostCapacityRow, VmHintRow } from '../../../src/shared/api.ts';
import type { CpuReading, MemoryReading } from '../../../src/shared/capacity.ts';
import { NONE, fillHealth, formatDateTime, formatGBFixed, formatMB, formatMhz, formatNumber, formatPercent } from '../../../src/shared/format.ts';
import { insightsPeriods, type InsightsPeriod } from '../../../src/shared/insights.ts';
import { Badge, Bar, EntityLink, ErrorNote, Panel } from '../components/bits.tsx';
import { DataTable, columnWidth, type Column } from '../components/table.tsx';
import { navigate } from '../hooks.ts';
import { fillForecastHealth, fillForecastText, headroomHealth, hintHealth, hintLabels, hintText, nPlusOneText } from '../insights-format.ts';
import type { TableState } from '../route.ts';
import { PeriodSelect, ProgressNote, WindowNote, usePolledApi } from './insights-bits.tsx';

const ratio = (value: number | null): string => (value === null ? NONE : formatNumber(value, 2));

/** Used and headroom of a reading: `24.00 GHz (40.0 % free)`, coloured by what is left. */
function Reading({ reading, kind }: { reading: CpuReading | MemoryReading | null; kind: 'cpu' | 'memory' }) {
  if (reading === null) return <span>{NONE}</span>;
  const format = (value: number): string => ('usedMhz' in reading ? formatMhz(value) : formatMB(value));
  const used = format('usedMhz' in reading ? reading.usedMhz : reading.usedMB);
  const headroom = 'usedMhz' in reading ? reading.headroomMhz : reading.headroomMB;
  const title = `${kind === 'cpu' ? 'CPU' : 'Memory'} of the bucket starting ${formatDateTime(reading.bucketSec)}`;
  return (
    <span title={title}>
      {used}{' '}
      {/* Past capacity (CPU in turbo boost, memory overcommitted): say by how much, not a negative share. */}
      {headroom < 0 ? <Badge health="critical">{format(-headroom)} over</Badge> : <Badge health={headroomHealth(reading.headroomPct)}>{formatPercent(reading.headroomPct)} free</Badge>}
    </span>
  );
}

function DatastoreTable({ rows }: { rows: readonly DatastoreCapacityRow[] }) {
  // The soonest full first; not filling and unknown last.
  const order = (row: DatastoreCapacityRow): number => (row.forecast.status === 'full' ? -1 : (row.forecast.daysUntilFull ?? Number.POSITIVE_INFINITY));
  const sorted = [...rows].sort((a, b) => order(a) - order(b) || a.name.localeCompare(b.name));
  if (sorted.length === 0) return <p class="note">No datastore to show.</p>;
  return (
    <div class="table-scroll">
      <table class="data compact" data-testid="capacity-datastore-table">
        <thead>
          <tr>
            <th scope="col">Datastore</th>
            <th scope="col" class="num">Fill</th>
            <th scope="col" class="num">Used</th>
            <th scope="col" class="num">Capacity</th>
            <th scope="col" class="num" title="Robust trend (Theil–Sen) of used space over the last 30 days, with its 95 % range">Growth / day</th>
            <th scope="col" class="num">Full in</th>
            <th scope="col" class="num">Full by</th>
            <th scope="col" class="num" title="Provisioned space (thin disks at full size) as a share of capacity">Provisioned</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={row.id} data-id={row.id}>
              <td>
                <EntityLink id={row.id} name={row.name} kind="datastore" />
              </td>
              <td class="num wide">
                <Bar pct={row.usedPct} health={fillHealth(row.usedPct)} text={formatPercent(row.usedPct)} />
              </td>
              <td class="num">{formatGBFixed(row.usedGB)}</td>
              <td class="num">{formatGBFixed(row.capacityGB)}</td>
              <td class="num" title={row.forecast.growthLowGBPerDay === null ? undefined : `95 % range ${formatNumber(row.forecast.growthLowGBPerDay, 1)} to ${formatNumber(row.forecast.growthHighGBPerDay, 1)} GB a day`}>
                {row.forecast.growthGBPerDay === null ? NONE : `${formatNumber(row.forecast.growthGBPerDay, 1)} GB`}
              </td>
              <td class="num" data-testid="days-until-full">
                <Badge health={fillForecastHealth(row.forecast)}>{fillForecastText(row.forecast)}</Badge>
              </td>
              <td class="num">{row.forecast.fullAtSec === null ? NONE : formatDateTime(row.forecast.fullAtSec).slice(0, 10)}</td>
              <td class="num">
                {row.provisioning.provisionedPctOfCapacity !== null && row.provisioning.provisionedPctOfCapacity > 100 ? (
                  <Badge health="warning" title={`${formatGBFixed(row.provisioning.overcommittedGB)} promised past capacity`}>
                    {formatPercent(row.provisioning.provisionedPctOfCapacity)}
                  </Badge>
                ) : (
                  formatPercent(row.provisioning.provisionedPctOfCapacity)
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ClusterTable({ rows, hostName }: { rows: readonly ClusterCapacityRow[]; hostName: (id: string | null) => string }) {
  // Failing N+1 first.
  const fails = (row: ClusterCapacityRow): number => (row.nPlusOne.cpu.survives === false || row.nPlusOne.memory.survives === false ? 0 : 1);
  const sorted = [...rows].sort((a, b) => fails(a) - fails(b) || a.name.localeCompare(b.name));
  if (sorted.length === 0) return <p class="note">No cluster to show (a cluster's figures need read permission on the cluster itself).</p>;
  return (
    <div class="table-scroll">
      <table class="data compact" data-testid="capacity-cluster-table">
        <thead>
          <tr>
            <th scope="col">Cluster</th>
            <th scope="col" class="num">Hosts</th>
            <th scope="col" class="num">CPU now</th>
            <th scope="col" class="num" title="Highest sum of the hosts' 20-second maxima in one bucket">CPU peak</th>
            <th scope="col" class="num">Memory now</th>
            <th scope="col" class="num">Memory peak</th>
            <th scope="col" title="Whether the remaining hosts carry the peak after losing the biggest one">N+1 CPU</th>
            <th scope="col">N+1 memory</th>
            <th scope="col" class="num" title="vCPUs of powered-on VMs per physical core">vCPU:core</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => {
            const cpu = nPlusOneText(row.nPlusOne.cpu);
            const memory = nPlusOneText(row.nPlusOne.memory);
            return (
              <tr key={row.clusterId} data-id={row.clusterId}>
                <td>{row.name}</td>
                <td class="num" title={row.hostsLeftOut.length > 0 ? `Left out (maintenance, disconnected or off): ${row.hostsLeftOut.map(hostName).join(', ')}` : undefined}>
                  {row.hostIds.length === 0 && row.cpuCores > 0 ? NONE : formatNumber(row.hostIds.length)}
                  {row.hostsLeftOut.length > 0 ? ` (+${String(row.hostsLeftOut.length)} out)` : ''}
                </td>
                <td class="num">
                  <Reading reading={row.cpuNow} kind="cpu" />
                </td>
                <td class="num">
                  <Reading reading={row.cpuPeak} kind="cpu" />
                </td>
                <td class="num">
                  <Reading reading={row.memoryNow} kind="memory" />
                </td>
                <td class="num">
                  <Reading reading={row.memoryPeak} kind="memory" />
                </td>
                <td data-testid="n-plus-one-cpu" title={`Losing ${hostName(row.nPlusOne.cpu.biggestHostId)}`}>
                  <Badge health={cpu.health}>{cpu.text}</Badge>
                </td>
                <td data-testid="n-plus-one-memory" title={`Losing ${hostName(row.nPlusOne.memory.biggestHostId)}`}>
                  <Badge health={memory.health}>{memory.text}</Badge>
                </td>
                <td class="num">{ratio(row.vcpuPerCore)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

const headroomOf = (reading: CpuReading | MemoryReading | null): number | null => reading?.headroomPct ?? null;

const hostColumnList: Column<HostCapacityRow>[] = [
  { key: 'name', label: 'Host', width: 180, value: (r) => r.name, render: (r) => <EntityLink id={r.hostId} name={r.name} kind="host" /> },
  {
    key: 'cluster',
    label: 'Cluster',
    width: 160,
    value: (r) => r.clusterName ?? '',
    // A host that carries no VMs says so beside its cluster (the name column is narrow).
    render: (r) => (
      <>
        {r.clusterName ?? ''}{' '}
        {r.inMaintenanceMode ? <Badge health="warning">Maintenance</Badge> : r.connectionState !== 'connected' && <Badge health="critical">{r.connectionState}</Badge>}
      </>
    ),
  },
  { key: 'cpuNow', label: 'CPU now', numeric: true, width: 176, value: (r) => headroomOf(r.cpuNow), render: (r) => <Reading reading={r.cpuNow} kind="cpu" /> },
  { key: 'cpuPeak', label: 'CPU peak', numeric: true, width: 176, title: 'Highest 20-second maximum of the period', value: (r) => headroomOf(r.cpuPeak), render: (r) => <Reading reading={r.cpuPeak} kind="cpu" /> },
  { key: 'memoryNow', label: 'Memory now', numeric: true, width: 176, value: (r) => headroomOf(r.memoryNow), render: (r) => <Reading reading={r.memoryNow} kind="memory" /> },
  { key: 'memoryPeak', label: 'Memory peak', numeric: true, width: 176, value: (r) => headroomOf(r.memoryPeak), render: (r) => <Reading reading={r.memoryPeak} kind="memory" /> },
  { key: 'vcpus', label: 'vCPU/cores', numeric: true, title: 'vCPUs of its powered-on VMs, and its physical cores', value: (r) => r.vcpus, render: (r) => `${formatNumber(r.vcpus)} / ${formatNumber(r.cpuCores)}` },
  { key: 'vcpuPerCore', label: 'vCPU:core', numeric: true, value: (r) => r.vcpuPerCore, render: (r) => ratio(r.vcpuPerCore) },
  { key: 'vmsPerCore', label: 'VMs/core', numeric: true, title: 'Powered-on VMs per physical core', value: (r) => r.vmsPerCore, render: (r) => ratio(r.vmsPerCore) },
];
const hostColumns: readonly Column<HostCapacityRow>[] = hostColumnList.map((c) => ({ ...c, width: columnWidth(c) }));

const hintColumnList: Column<VmHintRow>[] = [
  { key: 'name', label: 'VM', value: (r) => r.name, render: (r) => <EntityLink id={r.id} name={r.name} kind="vm" /> },
  { key: 'host', label: 'Host', value: (r) => r.hostName ?? '' },
  {
    key: 'hints',
    label: 'Hints',
    width: 260,
    value: (r) => r.hints.map((hint) => hintLabels[hint.kind]).join(', '),
    render: (r) => (
      <>
        {r.hints.map((hint) => (
          <Badge key={hint.kind} health={hintHealth(hint)}>
            {hintLabels[hint.kind]}
          </Badge>
        ))}
      </>
    ),
  },
  {
    key: 'detail',
    label: 'What it rests on',
    width: 620,
    value: (r) => r.hints.map(hintText).join('; '),
    render: (r) => {
      const text = r.hints.map(hintText).join('; ');
      return <span title={text}>{text}</span>;
    },
  },
  { key: 'numCpu', label: 'vCPUs', numeric: true, width: 70, value: (r) => r.numCpu, render: (r) => formatNumber(r.numCpu) },
  { key: 'memoryMB', label: 'Memory', numeric: true, width: 90, value: (r) => r.memoryMB, render: (r) => formatMB(r.memoryMB) },
  { key: 'coveragePct', label: 'Data', numeric: true, width: 80, title: 'Share of the period with figures', value: (r) => r.coveragePct, render: (r) => formatPercent(r.coveragePct, 0) },
];
const hintColumns: readonly Column<VmHintRow>[] = hintColumnList.map((c) => ({ ...c, width: columnWidth(c) }));

const noState: TableState = { sort: null, dir: 'asc', q: '' };

export function CapacityView({ dc, period, dcName }: { dc: string; period: InsightsPeriod; dcName: string }) {
  const path = `/api/datacenters/${encodeURIComponent(dc)}/capacity?period=${period}`;
  const loaded = usePolledApi<CapacityResponse>(path, (answer) => answer.vms.progress !== null);
  const [hostState, setHostState] = useState<TableState>(noState);
  const [hintState, setHintState] = useState<TableState>(noState);
  const data = loaded.data;
  const hostNames = new Map((data?.hosts.rows ?? []).map((row) => [row.hostId, row.name]));
  const hostName = (id: string | null): string => (id === null ? 'a host you may not see' : (hostNames.get(id) ?? id));
  const csv = (what: string): string => `vscope-${what}-${dcName.replace(/[^A-Za-z0-9._-]+/g, '_') || 'datacenter'}-${period}`;

  return (
    <div class="insights" data-testid="capacity-view">
      <div class="chart-tools">
        <PeriodSelect periods={insightsPeriods} value={period} onChange={(p) => navigate({ view: 'capacity', dc, period: p })} />
        <span class="hint">Hosts and clusters: now is the newest bucket's average; the peak is the highest 20-second maximum stored. Datastores: always the last 30 days.</span>
      </div>
      {loaded.error && <ErrorNote message={`Capacity could not be loaded: ${loaded.error.message}`} />}
      {data === null && !loaded.error && <p class="note">Loading capacity…</p>}
      {data !== null && (
        <>
          <Panel title="Datastores" testId="capacity-datastores" actions={<WindowNote label="Fill trend" window={data.datastores.window} />}>
            <DatastoreTable rows={data.datastores.rows} />
          </Panel>
          <Panel title="Clusters" testId="capacity-clusters" actions={<WindowNote label="Buckets" window={data.clusters.window} />}>
            <ClusterTable rows={data.clusters.rows} hostName={hostName} />
          </Panel>
          <section class="insights-section" data-testid="capacity-hosts">
            <header class="insights-head">
              <h2>Hosts</h2>
              <WindowNote label="Buckets" window={data.hosts.window} />
            </header>
            <DataTable
              testId="capacity-host-table"
              noun={['host', 'hosts']}
              rows={data.hosts.rows}
              columns={hostColumns}
              rowId={(r) => r.hostId}
              state={hostState}
              onState={setHostState}
              defaultSort={{ key: 'cpuPeak', dir: 'asc' }}
              csvName={csv('host-capacity')}
            />
          </section>
          <section class="insights-section" data-testid="capacity-vms">
            <header class="insights-head">
              <h2>VM right-sizing</h2>
              <WindowNote label="Complete buckets" window={data.vms.window} testId="capacity-vms-window" />
            </header>
            <ProgressNote progress={data.vms.progress} what="the hints" />
            <p class="note" data-testid="capacity-vms-summary">
              {formatNumber(data.vms.analysed)} VMs looked at, {formatNumber(data.vms.rows.length)} with a hint
              {data.vms.withoutEnoughData > 0 ? `, ${formatNumber(data.vms.withoutEnoughData)} with figures over less than ${String(data.vms.rules['minCoveragePct'] ?? 90)} % of the period (no hint either way)` : ''}. Idle: every bucket under{' '}
              {String(data.vms.rules['idleCpuUsagePct'])} % CPU, {String(data.vms.rules['idleDiskKBps'])} KB/s of disk and {String(data.vms.rules['idleNetKBps'])} KB/s of network. Too many vCPUs: CPU ready of{' '}
              {String(data.vms.rules['readyWarningPctPerVcpu'])} % per vCPU or more while CPU stays under {String(data.vms.rules['lowCpuUsagePct'])} %. Memory never used: active memory under{' '}
              {String(data.vms.rules['unusedMemoryPct'])} % all period.
            </p>
            {data.vms.rows.length === 0 ? (
              data.vms.progress === null && (
                <p class="note note-box" data-testid="capacity-no-hint">
                  No VM has a hint over this period.
                </p>
              )
            ) : (
              <DataTable
                testId="capacity-hint-table"
                noun={['VM', 'VMs']}
                rows={data.vms.rows}
                columns={hintColumns}
                rowId={(r) => r.id}
                state={hintState}
                onState={setHintState}
                csvName={csv('vm-hints')}
              />
            )}
          </section>
        </>
      )}
    </div>
  );
}
