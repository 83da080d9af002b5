import type { DatacenterRow, SessionInfo, StatusResponse } from '../../../src/shared/api.ts';
import { formatAge, formatClock, formatDateTime, formatNumber } from '../../../src/shared/format.ts';
import { useNow, type Theme } from '../hooks.ts';
import { compareHref, formatRoute, tableHref, type Route } from '../route.ts';

type VcenterStatus = StatusResponse['vcenters'][number];

export interface HeaderProps {
  readonly route: Route;
  readonly dc: string | null;
  readonly datacenters: readonly DatacenterRow[];
  readonly status: StatusResponse | null;
  /** Unix seconds of the page's last data refresh. */
  readonly refreshedAt: number;
  /** Server clock minus browser clock, seconds; ages are counted on the server's clock. */
  readonly skewSec: number;
  readonly session: SessionInfo;
  readonly theme: Theme;
  readonly onToggleTheme: () => void;
  readonly onSelectDc: (id: string) => void;
  readonly onLogout: () => void;
}

function vcenterName(status: StatusResponse | null, id: string): string {
  return status?.vcenters.find((v) => v.id === id)?.name ?? id;
}

/** Why a vCenter's data is stale, in words. */
export function staleReason(v: VcenterStatus): string {
  if (v.lastError !== null && v.lastError !== '') return v.lastError;
  if (v.lastSuccess === null) return 'no successful collection yet';
  return `no successful collection since ${formatDateTime(v.lastSuccess)}`;
}

export function Header(props: HeaderProps) {
  const { route, dc, datacenters, status, session } = props;
  const now = useNow(5000) + props.skewSec;
  const current = datacenters.find((d) => d.id === dc) ?? null;
  const vcenter = status?.vcenters.find((v) => v.id === current?.vcenterId) ?? null;
  const collectedAt = current?.collectedAt ?? vcenter?.lastSuccess ?? null;
  const stale = status?.vcenters.filter((v) => v.stale) ?? [];
  const importing = status?.vcenters.filter((v) => v.import.state === 'running') ?? [];
  const several = new Set(datacenters.map((d) => d.vcenterId)).size > 1 || (status?.vcenters.length ?? 0) > 1;

  const nav: readonly { label: string; view: Route['view']; href: string | null }[] = [
    { label: 'Overview', view: 'overview', href: dc === null ? null : formatRoute({ view: 'overview', dc }) },
    { label: 'Filer', view: 'filer', href: dc === null ? null : tableHref('filer', dc) },
    { label: 'Hosts', view: 'hosts', href: dc === null ? null : tableHref('hosts', dc) },
    { label: 'Virtual machines', view: 'vms', href: dc === null ? null : tableHref('vms', dc) },
    { label: 'Capacity', view: 'capacity', href: dc === null ? null : formatRoute({ view: 'capacity', dc, period: 'month' }) },
    { label: 'Contention', view: 'contention', href: dc === null ? null : formatRoute({ view: 'contention', dc, period: 'week', metric: 'cpuReady', rankBy: 'peak' }) },
    { label: 'Compare', view: 'compare', href: dc === null ? null : compareHref(dc, 'vm', []) },
  ];

  return (
    <header class="top">
      <div class="top-row">
        <a class="brand" href={dc === null ? '#/' : formatRoute({ view: 'overview', dc })}>
          vscope
        </a>
        <label class="dc-select">
          <span class="visually-hidden">Datacenter</span>
          <select data-testid="dc-select" value={dc ?? ''} onChange={(e) => props.onSelectDc(e.currentTarget.value)}>
            {dc === null && <option value="">Choose a datacenter</option>}
            {datacenters.map((d) => (
              <option key={d.id} value={d.id}>
                {several ? `${vcenterName(status, d.vcenterId)} / ${d.name}` : d.name}
              </option>
            ))}
          </select>
        </label>
        <nav class="main-nav" aria-label="Views">
          {nav.map((item) =>
            item.href === null ? null : (
              <a key={item.view} href={item.href} aria-current={route.view === item.view ? 'page' : undefined} data-testid={`nav-${item.view}`}>
                {item.label}
              </a>
            ),
          )}
        </nav>
        <div class="top-right">
          <span class="times">
            <span data-testid="page-refreshed" title="When this page last fetched data from the vscope server">
              Page refreshed {formatClock(props.refreshedAt)}
            </span>
            <span
              data-testid="data-collected"
              class={vcenter?.stale === true ? 'h-text-critical' : undefined}
              title="When vscope last collected these figures from vCenter"
            >
              Data collected {collectedAt === null ? 'never' : `${formatClock(collectedAt)} (${formatAge(collectedAt, now)})`}
            </span>
          </span>
          <button type="button" class="btn btn-quiet" onClick={props.onToggleTheme} aria-label={`Switch to ${props.theme === 'dark' ? 'light' : 'dark'} theme`} data-testid="theme-toggle">
            {props.theme === 'dark' ? '☀' : '☾'}
          </button>
          <span class="user" data-testid="user-name" title={`Signed in to ${vcenterName(status, session.vcenterId)}`}>
            {session.username}
          </span>
          <button type="button" class="btn btn-quiet" onClick={props.onLogout} data-testid="logout">
            Log out
          </button>
        </div>
      </div>
      {stale.map((v) => (
        <div key={v.id} class="banner banner-critical" role="alert" data-testid="stale-banner" data-vcenter={v.id}>
          Data from {v.name} is stale: {staleReason(v)}. Figures shown are from {v.lastSuccess === null ? 'no collection yet' : `${formatDateTime(v.lastSuccess)} (${formatAge(v.lastSuccess, now)})`}.
        </div>
      ))}
      {(status?.vcenters ?? [])
        .filter((v) => v.import.problem !== null)
        .map((v) => (
          <div key={`${v.id}-import-problem`} class="banner banner-warning" role="status" data-testid="import-problem" data-vcenter={v.id}>
            {several ? `${v.name}: ` : ''}Part of vCenter's history could not be stored: {v.import.problem}
          </div>
        ))}
      {importing.map((v) => (
        <div key={v.id} class="banner banner-info" data-testid="import-progress" data-vcenter={v.id}>
          {several ? `${v.name}: ` : ''}Importing history {formatNumber(v.import.percentDone, 1)} %
          <progress max={100} value={v.import.percentDone} />
        </div>
      ))}
    </header>
  );
}
