/**
 * Hash routes: every view has a URL that reproduces it.
 *   #/                                    first datacenter's overview
 *   #/dc/<dcId>                           overview (also #/dc/<dcId>/overview)
 *   #/dc/<dcId>/filer|hosts|vms?sort=<column>&dir=asc|desc&q=<text>[&open=<hostId>,...]
 *   #/entity/<id>?period=day|week|month|year[&from=<unix s>&to=<unix s>]
 *   #/dc/<dcId>/capacity?period=day|week|month
 *   #/dc/<dcId>/contention?period=day|week|month&metric=cpuReady|...&rankBy=peak|timeAbove
 *   #/dc/<dcId>/compare?kind=vm|host|datastore&ids=<id>,...&metric=<key>&period=...[&from=&to=]
 * Pure: no DOM access, so it can be tested outside a browser.
 */
import { contentionMetricKeys, insightsPeriods, type ContentionMetric, type InsightsPeriod } from '../../src/shared/insights.ts';
import type { ContentionRankBy } from '../../src/shared/contention.ts';
import type { Period } from '../../src/shared/tiers.ts';

export type TableView = 'filer' | 'hosts' | 'vms';
export type SortDir = 'asc' | 'desc';

export interface TableState {
  readonly sort: string | null;
  readonly dir: SortDir;
  readonly q: string;
}

/** Kinds the Compare view puts side by side. */
export type CompareKind = 'vm' | 'host' | 'datastore';
export const compareKinds: readonly CompareKind[] = ['vm', 'host', 'datastore'];

export type Route =
  | { readonly view: 'home' }
  | { readonly view: 'capacity'; readonly dc: string; readonly period: InsightsPeriod }
  | { readonly view: 'contention'; readonly dc: string; readonly period: InsightsPeriod; readonly metric: ContentionMetric; readonly rankBy: ContentionRankBy }
  | {
      readonly view: 'compare';
      readonly dc: string;
      readonly kind: CompareKind;
      readonly ids: readonly string[];
      /** Null: the kind's first metric. */
      readonly metric: string | null;
      readonly period: Period;
      readonly from: number | null;
      readonly to: number | null;
    }
  | { readonly view: 'overview'; readonly dc: string }
  | ({ readonly view: TableView; readonly dc: string; readonly open: readonly string[] } & TableState)
  | {
      readonly view: 'entity';
      readonly id: string;
      readonly period: Period;
      /** Zoomed range, unix seconds; both or neither. */
      readonly from: number | null;
      readonly to: number | null;
    };

const periods: readonly Period[] = ['day', 'week', 'month', 'year'];
const tableViews: readonly TableView[] = ['filer', 'hosts', 'vms'];

function intParam(params: URLSearchParams, name: string): number | null {
  const raw = params.get(name);
  if (raw === null || !/^\d{1,12}$/.test(raw)) return null;
  return Number(raw);
}

/** Route of a location hash (`#/dc/x/vms?q=web`); anything unknown is the home route. */
export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, '');
  const queryAt = text.indexOf('?');
  const path = queryAt >= 0 ? text.slice(0, queryAt) : text;
  const params = new URLSearchParams(queryAt >= 0 ? text.slice(queryAt + 1) : '');
  const parts = path
    .split('/')
    .filter((p) => p !== '')
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });

  if (parts[0] === 'entity' && parts[1] !== undefined) {
    const period = params.get('period');
    const from = intParam(params, 'from');
    const to = intParam(params, 'to');
    const zoomed = from !== null && to !== null && to > from;
    return {
      view: 'entity',
      id: parts[1],
      period: periods.includes(period as Period) ? (period as Period) : 'day',
      from: zoomed ? from : null,
      to: zoomed ? to : null,
    };
  }
  if (parts[0] === 'dc' && parts[1] !== undefined) {
    const dc = parts[1];
    const sub = parts[2] ?? 'overview';
    const insightsPeriod = (fallback: InsightsPeriod): InsightsPeriod => {
      const period = params.get('period');
      return insightsPeriods.includes(period as InsightsPeriod) ? (period as InsightsPeriod) : fallback;
    };
    if (sub === 'capacity') return { view: 'capacity', dc, period: insightsPeriod('month') };
    if (sub === 'contention') {
      const metric = params.get('metric');
      return {
        view: 'contention',
        dc,
        period: insightsPeriod('week'),
        metric: contentionMetricKeys.includes(metric as ContentionMetric) ? (metric as ContentionMetric) : 'cpuReady',
        rankBy: params.get('rankBy') === 'timeAbove' ? 'timeAbove' : 'peak',
      };
    }
    if (sub === 'compare') {
      const kind = params.get('kind');
      const period = params.get('period');
      const from = intParam(params, 'from');
      const to = intParam(params, 'to');
      const zoomed = from !== null && to !== null && to > from;
      return {
        view: 'compare',
        dc,
        kind: compareKinds.includes(kind as CompareKind) ? (kind as CompareKind) : 'vm',
        ids: [...new Set((params.get('ids') ?? '').split(',').filter((id) => id !== ''))],
        metric: params.get('metric') || null,
        period: periods.includes(period as Period) ? (period as Period) : 'day',
        from: zoomed ? from : null,
        to: zoomed ? to : null,
      };
    }
    if (tableViews.includes(sub as TableView)) {
      const dir = params.get('dir');
      const open = params.get('open');
      return {
        view: sub as TableView,
        dc,
        sort: params.get('sort') || null,
        dir: dir === 'desc' ? 'desc' : 'asc',
        q: params.get('q') ?? '',
        open: open ? open.split(',').filter((o) => o !== '') : [],
      };
    }
    return { view: 'overview', dc };
  }
  return { view: 'home' };
}

/** Location hash of a route; parseRoute(formatRoute(r)) gives r back. */
export function formatRoute(route: Route): string {
  const enc = encodeURIComponent;
  const query = (entries: readonly (readonly [string, string | null])[]): string => {
    const params = new URLSearchParams();
    for (const [key, value] of entries) if (value !== null && value !== '') params.set(key, value);
    const text = params.toString();
    return text === '' ? '' : `?${text}`;
  };
  switch (route.view) {
    case 'home':
      return '#/';
    case 'overview':
      return `#/dc/${enc(route.dc)}`;
    case 'entity':
      return `#/entity/${enc(route.id)}${query([
        ['period', route.period],
        ['from', route.from === null ? null : String(route.from)],
        ['to', route.to === null ? null : String(route.to)],
      ])}`;
    case 'capacity':
      return `#/dc/${enc(route.dc)}/capacity${query([['period', route.period]])}`;
    case 'contention':
      return `#/dc/${enc(route.dc)}/contention${query([
        ['period', route.period],
        ['metric', route.metric],
        ['rankBy', route.rankBy],
      ])}`;
    case 'compare':
      return `#/dc/${enc(route.dc)}/compare${query([
        ['kind', route.kind],
        ['ids', route.ids.join(',')],
        ['metric', route.metric],
        ['period', route.period],
        ['from', route.from === null ? null : String(route.from)],
        ['to', route.to === null ? null : String(route.to)],
      ])}`;
    default:
      return `#/dc/${enc(route.dc)}/${route.view}${query([
        ['sort', route.sort],
        ['dir', route.sort === null ? null : route.dir],
        ['q', route.q],
        ['open', route.open.length > 0 ? route.open.join(',') : null],
      ])}`;
  }
}

/** Link to an entity's detail view (or a datacenter's overview). */
export function entityHref(id: string, kind?: string): string {
  if (kind === 'datacenter') return formatRoute({ view: 'overview', dc: id });
  return formatRoute({ view: 'entity', id, period: 'day', from: null, to: null });
}

/** Link to a datacenter table, unsorted and unfiltered unless given. */
export function tableHref(view: TableView, dc: string, state: Partial<TableState> = {}): string {
  return formatRoute({ view, dc, sort: state.sort ?? null, dir: state.dir ?? 'asc', q: state.q ?? '', open: [] });
}

/** The API paths of the rows a route's view shows (null: not needed), shared by the view and the page-load prefetch. */
export function rowPaths(route: Route): { readonly hosts: string | null; readonly vms: string | null; readonly datastores: string | null } {
  if (route.view === 'home' || route.view === 'entity' || route.view === 'capacity' || route.view === 'contention') return { hosts: null, vms: null, datastores: null };
  const base = `/api/datacenters/${encodeURIComponent(route.dc)}`;
  // Compare picks from the kind's list; VMs also by host ("the VMs of this host").
  if (route.view === 'compare') {
    return {
      hosts: route.kind === 'vm' || route.kind === 'host' ? `${base}/hosts` : null,
      vms: route.kind === 'vm' ? `${base}/vms` : null,
      datastores: route.kind === 'datastore' ? `${base}/datastores` : null,
    };
  }
  const overview = route.view === 'overview';
  return {
    hosts: overview || route.view === 'hosts' ? `${base}/hosts` : null,
    vms: overview || route.view === 'vms' ? `${base}/vms` : null,
    datastores: overview || route.view === 'filer' ? `${base}/datastores` : null,
  };
}

/** Link to an entity's graphs over a range (a contention row's moment), unix seconds. */
export function entityRangeHref(id: string, fromSec: number, toSec: number): string {
  return formatRoute({ view: 'entity', id, period: 'day', from: fromSec, to: toSec });
}

/** Link to the Compare view of these entities. */
export function compareHref(dc: string, kind: CompareKind, ids: readonly string[], metric: string | null = null, period: Period = 'day'): string {
  return formatRoute({ view: 'compare', dc, kind, ids, metric, period, from: null, to: null });
}
