/** The detail view of one host, VM, datastore or vmnic: its figures, its relations and its graphs. */
import { useCallback, useEffect, useMemo } from 'preact/hooks';
import type { DatastoreRow, EntityDetail, HostRow, NicRow, SeriesResponse, VmRow } from '../../../src/shared/api.ts';
import { chartGroups, toChartModel } from '../../../src/shared/chart.ts';
import {
  NONE,
  connectionHealth,
  connectionLabel,
  formatDateTime,
  formatDuration,
  formatGBFixed,
  formatKBps,
  formatLinkSpeed,
  formatMB,
  formatMhz,
  formatMs,
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
import type { Period } from '../../../src/shared/tiers.ts';
import type { ComponentChildren } from 'preact';
import { Badge, EntityLink, ErrorNote } from '../components/bits.tsx';
import { LazyTimeChart } from '../components/lazy-chart.tsx';
import { navigate, useApi } from '../hooks.ts';
import { formatRoute, tableHref } from '../route.ts';
import { FillBar, datastoreState } from './filer.tsx';
import { NicTable } from './hosts.tsx';
import { ReadyCell } from './vms.tsx';

const kindLabel: Record<EntityDetail['kind'], string> = {
  datacenter: 'Datacenter',
  cluster: 'Cluster',
  host: 'Host',
  nic: 'Physical NIC',
  vm: 'Virtual machine',
  datastore: 'Datastore',
};

const relatedLabel: Record<string, string> = {
  host: 'Host',
  hosts: 'Hosts',
  cluster: 'Cluster',
  clusters: 'Clusters',
  vms: 'VMs',
  nics: 'NICs',
  datastores: 'Datastores',
  datacenter: 'Datacenter',
};

const periods: readonly Period[] = ['day', 'week', 'month', 'year'];

type Fact = readonly [string, ComponentChildren];

function facts(detail: EntityDetail): Fact[] {
  const row = detail.row;
  if (row === null) return [];
  switch (detail.kind) {
    case 'host': {
      const h = row as HostRow;
      return [
        ['Connection', <Badge health={connectionHealth(h.connectionState)}>{connectionLabel(h.connectionState)}</Badge>],
        ['Status', <Badge health={statusHealth(h.overallStatus)}>{statusLabel(h.overallStatus)}</Badge>],
        ['Maintenance', h.inMaintenanceMode ? <Badge health="warning">Yes</Badge> : 'No'],
        ['CPU', `${h.cpuCores} cores, ${h.cpuThreads} threads, ${formatMhz(h.cpuCapacityMhz)}`],
        ['CPU model', h.cpuModel ?? NONE],
        ['CPU usage', `${formatPercent(h.cpuUsagePct)} (${formatMhz(h.cpuUsedMhz)})`],
        ['RAM usage', `${formatPercent(h.memUsagePct)} (${formatMB(h.memConsumedMB)} of ${formatMB(h.memoryCapacityMB)})`],
        ['VMs', `${h.vmsPoweredOn} on / ${h.vms}, ${h.vcpusAllocated} vCPUs`],
        ['Network', `rx ${formatKBps(h.netRxKBps)}, tx ${formatKBps(h.netTxKBps)}`],
        ['ESXi', h.esxVersion ?? NONE],
        ['Uptime', formatDuration(h.uptimeSec)],
      ];
    }
    case 'vm': {
      const v = row as VmRow;
      return [
        ['Power', <Badge health={powerHealth(v.powerState)}>{powerLabel(v.powerState)}</Badge>],
        ['Status', <Badge health={statusHealth(v.overallStatus)}>{statusLabel(v.overallStatus)}</Badge>],
        ['Size', `${v.numCpu} vCPU, ${formatMB(v.memoryMB)}, ${formatGBFixed(v.diskUsedGB)} used of ${formatGBFixed(v.diskProvisionedGB)}`],
        ['CPU usage', `${formatPercent(v.cpuUsagePct)} (${formatMhz(v.cpuUsedMhz)})`],
        ['CPU ready', <ReadyCell pct={v.cpuReadyPctPerVcpu} />],
        ['Memory usage', formatPercent(v.memUsagePct)],
        ['Tools', <Badge health={toolsRunningHealth(v.toolsRunningStatus, v.powerState)}>{toolsRunningLabel(v.toolsRunningStatus)}</Badge>],
        ['Tools version', <Badge health={toolsVersionHealth(v.toolsVersionStatus)}>{`${toolsVersionLabel(v.toolsVersionStatus)}${v.toolsVersion ? ` (${v.toolsVersion})` : ''}`}</Badge>],
        ['Snapshots', v.snapshotCount > 0 ? <Badge health="warning">{v.snapshotCount}</Badge> : '0'],
        ['Guest OS', v.guestOs ?? NONE],
        ['IP address', v.ipAddress ?? NONE],
        ['Disk latency', `read ${formatMs(v.diskReadLatencyMs)}, write ${formatMs(v.diskWriteLatencyMs)}`],
      ];
    }
    case 'datastore': {
      const d = row as DatastoreRow;
      const state = datastoreState(d);
      return [
        ['Type', d.type],
        ['State', <Badge health={state.health}>{state.label}</Badge>],
        ['Fill', <FillBar row={d} />],
        ['Space', `${formatGBFixed(d.usedGB)} used, ${formatGBFixed(d.freeGB)} free of ${formatGBFixed(d.capacityGB)}`],
        ['Provisioned', `${formatGBFixed(d.provisionedGB)} (${formatPercent(d.provisionedPct)})`],
        ['VMs / hosts', `${d.vms} / ${d.hosts}`],
      ];
    }
    case 'nic': {
      const n = row as NicRow;
      return [
        ['Link speed', formatLinkSpeed(n.linkSpeedMbps)],
        ['MAC', n.mac ?? NONE],
        ['Received', `${formatKBps(n.netRxKBps)}, ${formatPps(n.netRxPps)}`],
        ['Transmitted', `${formatKBps(n.netTxKBps)}, ${formatPps(n.netTxPps)}`],
      ];
    }
    default:
      return [];
  }
}

export function EntityView({ id, period, from, to, theme }: { id: string; period: Period; from: number | null; to: number | null; theme: string }) {
  const enc = encodeURIComponent(id);
  const detail = useApi<EntityDetail>(`/api/entities/${enc}`);
  const zoomed = from !== null && to !== null;
  const seriesPath = `/api/entities/${enc}/series?period=${period}${zoomed ? `&from=${from}&to=${to}` : ''}`;
  const series = useApi<SeriesResponse>(detail.data === null ? null : seriesPath);

  const onZoom = useCallback(
    (fromSec: number, toSec: number) => navigate(formatRoute({ view: 'entity', id, period, from: fromSec, to: toSec })),
    [id, period],
  );

  const d = detail.data;
  // The tab says which resource it graphs: "esx-01 · Host · vscope".
  const titleName = d?.name ?? null;
  const titleKind = d === null ? 'Graphs' : kindLabel[d.kind];
  useEffect(() => {
    document.title = [titleName, titleKind, 'vscope'].filter((part) => part !== null && part !== '').join(' · ');
  }, [titleName, titleKind]);
  const numCpu = d?.kind === 'vm' && d.row !== null ? (d.row as VmRow).numCpu : undefined;
  const charts = useMemo(() => {
    if (d === null || series.data === null) return [];
    return chartGroups(d.kind, d.metrics).map((group) => ({ group, model: toChartModel(series.data as SeriesResponse, group, numCpu) }));
  }, [d, series.data, numCpu]);

  if (detail.error && d === null) {
    return <ErrorNote message={detail.error.status === 404 ? 'This resource no longer exists or you may not see it. Pick another one from the lists.' : detail.error.message} />;
  }
  if (d === null) return <p class="note">Loading…</p>;

  const relatedGroups = Object.entries(d.related).filter(([, links]) => links.length > 0);
  return (
    <div class="entity" data-testid="entity-view" data-kind={d.kind}>
      <header class="entity-head">
        <div>
          <div class="entity-kind">{kindLabel[d.kind]}</div>
          <h1 data-testid="entity-name">{d.name}</h1>
          {d.datacenter && (
            <div class="entity-dc">
              in <a href={tableHref(d.kind === 'datastore' ? 'filer' : d.kind === 'vm' ? 'vms' : 'hosts', d.datacenter.id)}>{d.datacenter.name}</a>
            </div>
          )}
        </div>
        <dl class="facts entity-facts">
          {facts(d).map(([label, value]) => [<dt key={`${label}-t`}>{label}</dt>, <dd key={`${label}-d`}>{value}</dd>])}
        </dl>
      </header>

      {relatedGroups.length > 0 && (
        <nav class="related" aria-label="Related resources" data-testid="related">
          {relatedGroups.map(([key, links]) => (
            <div key={key} class="related-group">
              <span class="related-label">{relatedLabel[key] ?? key}</span>
              <span class="related-links">
                {links.slice(0, 50).map((link, i) => (
                  <span key={link.id}>
                    {i > 0 && ', '}
                    <EntityLink id={link.id} name={link.name} kind={link.kind} />
                  </span>
                ))}
                {links.length > 50 && ` and ${links.length - 50} more`}
              </span>
            </div>
          ))}
        </nav>
      )}

      {d.kind === 'host' && d.row !== null && (
        <section class="panel">
          <header class="panel-head">
            <h2>Physical NICs</h2>
          </header>
          <div class="panel-body table-scroll">
            <NicTable host={d.row as HostRow} />
          </div>
        </section>
      )}

      <div class="chart-tools">
        <div class="segmented" role="group" aria-label="Period" data-testid="period-select">
          {periods.map((p) => (
            <button
              key={p}
              type="button"
              data-period={p}
              aria-pressed={p === period && !zoomed}
              class={p === period ? 'active' : undefined}
              onClick={() => navigate(formatRoute({ view: 'entity', id, period: p, from: null, to: null }))}
            >
              {p[0]?.toUpperCase()}
              {p.slice(1)}
            </button>
          ))}
        </div>
        <button type="button" class="btn" data-testid="zoom-reset" disabled={!zoomed} onClick={() => navigate(formatRoute({ view: 'entity', id, period, from: null, to: null }))}>
          Reset zoom
        </button>
        <span class="chart-range" data-testid="chart-range">
          {series.data ? `${formatDateTime(series.data.from)} – ${formatDateTime(series.data.to)}` : ''}
          {series.data && series.data.stepSec > 0 ? `, ${formatDuration(series.data.stepSec)} buckets (average, band from min to max)` : ''}
        </span>
        <span class="hint">Drag across a chart to zoom.</span>
      </div>

      {series.error && <ErrorNote message={`The history could not be loaded: ${series.error.message}`} />}
      {d.metrics.length === 0 && <p class="note">vscope keeps no history for this kind of resource.</p>}
      <div class="charts">
        {charts.map(({ group, model }) =>
          model === null ? null : (
            <LazyTimeChart key={group.id} model={model} title={group.title} testId={`chart-${group.id}`} theme={theme} onZoom={onZoom} />
          ),
        )}
      </div>
    </div>
  );
}
