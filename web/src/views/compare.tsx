/**
 * Compare (PRODUCT.md "Compare"): several resources of one kind on one chart, one metric at a
 * time, with the period selector, drag-to-zoom and min–max band of the single graphs. They are
 * picked from the datacenter's list (VMs also by host); the URL holds the whole choice.
 */
import { useCallback, useMemo, useState } from 'preact/hooks';
import type { CompareResponse, DatastoreRow, HostRow, VmRow } from '../../../src/shared/api.ts';
import { toCompareModel } from '../../../src/shared/chart.ts';
import { formatDateTime, formatDuration } from '../../../src/shared/format.ts';
import { metricsByKind } from '../../../src/shared/metrics.ts';
import type { Period } from '../../../src/shared/tiers.ts';
import { ErrorNote, Panel } from '../components/bits.tsx';
import { LazyTimeChart } from '../components/lazy-chart.tsx';
import { navigate, useApi } from '../hooks.ts';
import { compareKinds, formatRoute, type CompareKind, type Route } from '../route.ts';
import { PeriodSelect } from './insights-bits.tsx';

/** As many as the API compares at once. */
export const maxCompared = 20;
/** Candidates listed at once; the filter narrows the rest. */
const listedAtOnce = 100;

const kindLabels: Readonly<Record<CompareKind, string>> = { vm: 'VMs', host: 'Hosts', datastore: 'Datastores' };
/** The kind in running text, plural: `VMs`, `hosts`, `datastores`. */
const kindNouns: Readonly<Record<CompareKind, string>> = { vm: 'VMs', host: 'hosts', datastore: 'datastores' };
const periods: readonly Period[] = ['day', 'week', 'month', 'year'];

type CompareRoute = Extract<Route, { view: 'compare' }>;

interface Candidate {
  readonly id: string;
  readonly name: string;
  readonly detail: string;
  readonly hostId: string | null;
}

function candidatesOf(kind: CompareKind, lists: { vms: readonly VmRow[] | null; hosts: readonly HostRow[] | null; datastores: readonly DatastoreRow[] | null }): Candidate[] {
  switch (kind) {
    case 'vm':
      return (lists.vms ?? []).filter((vm) => !vm.isTemplate && !vm.removed).map((vm) => ({ id: vm.id, name: vm.name, detail: vm.hostName ?? '', hostId: vm.hostId }));
    case 'host':
      return (lists.hosts ?? []).filter((host) => !host.removed).map((host) => ({ id: host.id, name: host.name, detail: host.clusterName ?? '', hostId: null }));
    case 'datastore':
      return (lists.datastores ?? []).filter((ds) => !ds.removed).map((ds) => ({ id: ds.id, name: ds.name, detail: ds.type, hostId: null }));
  }
}

export function CompareView(props: {
  route: CompareRoute;
  vms: readonly VmRow[] | null;
  hosts: readonly HostRow[] | null;
  datastores: readonly DatastoreRow[] | null;
  theme: string;
}) {
  const { route, theme } = props;
  const { kind, ids, period, from, to } = route;
  const metrics = metricsByKind[kind];
  const metric = metrics.find((def) => def.key === route.metric)?.key ?? metrics[0]?.key ?? '';
  const zoomed = from !== null && to !== null;
  const go = useCallback((change: Partial<CompareRoute>) => navigate(formatRoute({ ...route, ...change })), [route]);

  const path =
    ids.length === 0
      ? null
      : `/api/compare?ids=${ids.map(encodeURIComponent).join(',')}&metric=${encodeURIComponent(metric)}&period=${period}${zoomed ? `&from=${String(from)}&to=${String(to)}` : ''}`;
  const series = useApi<CompareResponse>(path);
  const model = useMemo(() => (series.data === null ? null : toCompareModel(series.data)), [series.data]);
  const onZoom = useCallback((fromSec: number, toSec: number) => go({ from: fromSec, to: toSec }), [go]);

  const candidates = useMemo(() => candidatesOf(kind, props), [kind, props.vms, props.hosts, props.datastores]);
  const names = useMemo(() => new Map(candidates.map((c) => [c.id, c.name])), [candidates]);
  const [filter, setFilter] = useState('');
  const matching = useMemo(() => {
    const tokens = filter.toLowerCase().split(/\s+/).filter((t) => t !== '');
    return candidates.filter((c) => tokens.every((t) => `${c.name} ${c.detail}`.toLowerCase().includes(t)));
  }, [candidates, filter]);
  const chosen = new Set(ids);
  const full = ids.length >= maxCompared;
  const toggle = (id: string): void => go({ ids: chosen.has(id) ? ids.filter((other) => other !== id) : [...ids, id].slice(0, maxCompared) });
  const hostsWithVms = kind === 'vm' ? (props.hosts ?? []).filter((host) => host.vms > 0) : [];
  const addHostVms = (hostId: string): void => {
    const ofHost = candidates.filter((c) => c.hostId === hostId).map((c) => c.id);
    go({ ids: [...new Set([...ids, ...ofHost])].slice(0, maxCompared) });
  };
  const listLoading = (kind === 'vm' ? props.vms : kind === 'host' ? props.hosts : props.datastores) === null;

  return (
    <div class="insights compare" data-testid="compare-view">
      <div class="chart-tools">
        <div class="segmented" role="group" aria-label="Kind" data-testid="compare-kind">
          {compareKinds.map((k) => (
            <button key={k} type="button" data-kind={k} aria-pressed={k === kind} class={k === kind ? 'active' : undefined} onClick={() => go({ kind: k, ids: [], metric: null, from: null, to: null })}>
              {kindLabels[k]}
            </button>
          ))}
        </div>
        <label class="inline-field">
          <span>Metric</span>
          <select data-testid="compare-metric" value={metric} onChange={(e) => go({ metric: e.currentTarget.value })}>
            {metrics.map((def) => (
              <option key={def.key} value={def.key}>
                {def.label}
              </option>
            ))}
          </select>
        </label>
        <PeriodSelect periods={periods} value={zoomed ? null : period} onChange={(p) => go({ period: p, from: null, to: null })} />
        <button type="button" class="btn" data-testid="zoom-reset" disabled={!zoomed} onClick={() => go({ from: null, to: null })}>
          Reset zoom
        </button>
        <span class="chart-range" data-testid="chart-range">
          {series.data ? `${formatDateTime(series.data.from)} – ${formatDateTime(series.data.to)}, ${formatDuration(series.data.stepSec)} buckets (average, band from min to max)` : ''}
        </span>
        <span class="hint">Drag across the chart to zoom.</span>
      </div>

      {series.error && <ErrorNote message={`The comparison could not be loaded: ${series.error.message}`} />}
      {ids.length === 0 ? (
        <p class="note" data-testid="compare-empty">
          Pick up to {maxCompared} {kindNouns[kind]} below to put them on one chart.
        </p>
      ) : (
        <div class="charts compare-charts">
          {model !== null && (
            <LazyTimeChart
              model={model}
              title={`${series.data?.label ?? metric}${model.unit === 'percent' && metric === 'cpuReadyMs' ? ' per vCPU' : ''}, ${String(ids.length)} ${kindNouns[kind]}`}
              testId="compare-chart"
              theme={theme}
              onZoom={onZoom}
            />
          )}
        </div>
      )}

      <Panel
        title={`Compared ${kindNouns[kind]} (${String(ids.length)} of at most ${String(maxCompared)})`}
        testId="compare-chosen"
        actions={
          ids.length > 0 && (
            <button type="button" class="btn btn-quiet" onClick={() => go({ ids: [], from: null, to: null })} data-testid="compare-clear">
              Clear
            </button>
          )
        }
      >
        <ul class="chips">
          {ids.map((id) => (
            <li key={id} data-id={id}>
              <span>{names.get(id) ?? id}</span>
              <button type="button" class="btn btn-quiet" aria-label={`Remove ${names.get(id) ?? id}`} onClick={() => toggle(id)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      </Panel>

      <Panel title={`Pick ${kindNouns[kind]}`} testId="compare-picker">
        <div class="picker-tools">
          <label class="filter">
            <span class="visually-hidden">Filter {kindNouns[kind]}</span>
            <input type="search" placeholder={`Filter ${kindNouns[kind]}…`} value={filter} onInput={(e) => setFilter(e.currentTarget.value)} data-testid="compare-filter" />
          </label>
          {hostsWithVms.length > 0 && (
            <label class="inline-field">
              <span>Add the VMs of</span>
              <select
                data-testid="compare-host-vms"
                value=""
                // A host's VMs come from the VM list: until it is in, picking one would add none.
                disabled={listLoading}
                onChange={(e) => {
                  if (e.currentTarget.value !== '') addHostVms(e.currentTarget.value);
                }}
              >
                <option value="">a host…</option>
                {hostsWithVms.map((host) => (
                  <option key={host.id} value={host.id}>
                    {host.name} ({host.vms} VMs)
                  </option>
                ))}
              </select>
            </label>
          )}
          <span class="count">
            {listLoading ? 'Loading the list…' : `${String(matching.length)} of ${String(candidates.length)}`}
            {full ? `; ${String(maxCompared)} chosen, the most one chart shows` : ''}
          </span>
        </div>
        <ul class="pick-list" data-testid="compare-candidates">
          {matching.slice(0, listedAtOnce).map((c) => (
            <li key={c.id} data-id={c.id}>
              <label>
                <input type="checkbox" checked={chosen.has(c.id)} disabled={full && !chosen.has(c.id)} onChange={() => toggle(c.id)} />
                <span class="pick-name">{c.name}</span>
                {c.detail !== '' && <span class="pick-detail">{c.detail}</span>}
              </label>
            </li>
          ))}
        </ul>
        {matching.length > listedAtOnce && <p class="note">{matching.length - listedAtOnce} more match: narrow the filter.</p>}
      </Panel>
    </div>
  );
}
