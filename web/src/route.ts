/**
 * Hash routes: every view has a URL that reproduces it.
 *   #/                                    first datacenter's overview
 *   #/dc/<dcId>                           overview (also #/dc/<dcId>/overview)
 *   #/dc/<dcId>/filer|hosts|vms?sort=<column>&dir=asc|desc&q=<text>[&open=<hostId>,...]
 *   #/entity/<id>?period=day|week|month|year[&from=<unix s>&to=<unix s>]
 * Pure: no DOM access, so it can be tested outside a browser.
 */
import type { Period } from '../../src/shared/tiers.ts';

export type TableView = 'filer' | 'hosts' | 'vms';
export type SortDir = 'asc' | 'desc';

export interface TableState {
  readonly sort: string | null;
  readonly dir: SortDir;
  readonly q: string;
}

export type Route =
  | { readonly view: 'home' }
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
  if (route.view === 'home' || route.view === 'entity') return { hosts: null, vms: null, datastores: null };
  const base = `/api/datacenters/${encodeURIComponent(route.dc)}`;
  const overview = route.view === 'overview';
  return {
    hosts: overview || route.view === 'hosts' ? `${base}/hosts` : null,
    vms: overview || route.view === 'vms' ? `${base}/vms` : null,
    datastores: overview || route.view === 'filer' ? `${base}/datastores` : null,
  };
}
