import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { JSX } from 'preact';
import type { DatacenterRow, DatastoreRow, HostRow, SessionInfo, StatusResponse, VmRow } from '../../src/shared/api.ts';
import { apiGet, apiLogout, apiSession, type ApiFailure, unauthorizedEvent } from './api.ts';
import { ErrorNote } from './components/bits.tsx';
import { Header } from './components/header.tsx';
import { Login } from './components/login.tsx';
import { RefreshContext, memo, navigate, useApi, useRoute, useTheme, type Loaded } from './hooks.ts';
import { formatRoute, parseRoute, rowPaths, type Route, type TableState } from './route.ts';
import { CapacityView } from './views/capacity.tsx';
import { CompareView } from './views/compare.tsx';
import { ContentionView } from './views/contention.tsx';
import { EntityView } from './views/entity.tsx';
import { FilerView } from './views/filer.tsx';
import { HostsView } from './views/hosts.tsx';
import { OverviewView } from './views/overview.tsx';
import { VmsView } from './views/vms.tsx';

const lastDcKey = 'vscope-dc';

export function App() {
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  const [failure, setFailure] = useState<string | null>(null);

  useEffect(() => {
    apiSession<SessionInfo>().then(
      (s) => setSession(s),
      (error: ApiFailure) => {
        setFailure(error.message);
        setSession(null);
      },
    );
    const onUnauthorized = (): void => setSession(null);
    window.addEventListener(unauthorizedEvent, onUnauthorized);
    return () => window.removeEventListener(unauthorizedEvent, onUnauthorized);
  }, []);

  if (session === undefined) return <p class="note page-note">Loading…</p>;
  if (session === null) {
    return (
      <>
        {failure !== null && <ErrorNote message={failure} />}
        <Login
          onLogin={(s) => {
            setFailure(null);
            setSession(s);
          }}
        />
      </>
    );
  }
  return <Shell session={session} onLoggedOut={() => setSession(null)} />;
}

/** Polls /api/status and bumps the refresh tick when new data was collected (or every interval). */
function useStatusPoll(): { status: StatusResponse | null; error: ApiFailure | null; tick: number; refreshedAt: number; skewSec: number } {
  const [status, setStatus] = useState<StatusResponse | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [tick, setTick] = useState(0);
  const [refreshedAt, setRefreshedAt] = useState(() => Math.floor(Date.now() / 1000));
  // Server clock minus browser clock, so that "2 min ago" is right even when the browser's clock is not.
  const [skewSec, setSkewSec] = useState(0);
  const lastBump = useRef({ atMs: Date.now(), ends: '' });

  useEffect(() => {
    let timer = 0;
    let stopped = false;
    const poll = async (): Promise<void> => {
      let delaySec = 30;
      try {
        const s = await apiGet<StatusResponse>('/api/status');
        if (stopped) return;
        setStatus(s);
        setError(null);
        setSkewSec(Math.round(s.nowSec - Date.now() / 1000));
        const intervalSec = Math.min(3600, Math.max(10, s.intervalSec));
        const ends = s.vcenters.map((v) => `${v.id}:${v.lastEnd ?? ''}`).join(',');
        const first = lastBump.current.ends === '';
        const collected = !first && ends !== lastBump.current.ends;
        const due = Date.now() - lastBump.current.atMs >= intervalSec * 1000;
        if (first) lastBump.current = { atMs: Date.now(), ends };
        else if (collected || due) {
          lastBump.current = { atMs: Date.now(), ends };
          setTick((t) => t + 1);
          setRefreshedAt(Math.floor(Date.now() / 1000));
        }
        // Check often enough to pick new data up soon after each collection.
        delaySec = Math.min(30, intervalSec);
      } catch (e) {
        if (stopped) return;
        setError(e as ApiFailure);
      }
      timer = window.setTimeout(() => void poll(), delaySec * 1000);
    };
    void poll();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, []);
  return { status, error, tick, refreshedAt, skewSec };
}

function Shell({ session, onLoggedOut }: { session: SessionInfo; onLoggedOut: () => void }) {
  const poll = useStatusPoll();
  return (
    <RefreshContext.Provider value={poll.tick}>
      <Body session={session} onLoggedOut={onLoggedOut} status={poll.status} statusError={poll.error} refreshedAt={poll.refreshedAt} skewSec={poll.skewSec} />
    </RefreshContext.Provider>
  );
}

function csvStamp(): string {
  const d = new Date();
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`;
}

function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'datacenter';
}

function Body(props: {
  session: SessionInfo;
  onLoggedOut: () => void;
  status: StatusResponse | null;
  statusError: ApiFailure | null;
  refreshedAt: number;
  skewSec: number;
}) {
  const route = useRoute();
  const [theme, toggleTheme] = useTheme();
  const datacenters = useApi<readonly DatacenterRow[]>('/api/datacenters');
  const dcs = datacenters.data ?? [];

  const routeDc = route.view === 'home' || route.view === 'entity' ? null : route.dc;
  const [lastDc, setLastDc] = useState<string | null>(() => {
    try {
      return localStorage.getItem(lastDcKey);
    } catch {
      return null;
    }
  });
  useEffect(() => {
    if (routeDc === null) return;
    setLastDc(routeDc);
    try {
      localStorage.setItem(lastDcKey, routeDc);
    } catch {
      // Not remembered across visits then.
    }
  }, [routeDc]);

  const fallbackDc = dcs.find((d) => d.id === lastDc)?.id ?? dcs[0]?.id ?? null;
  useEffect(() => {
    // The live hash, not this render's route: a navigation made meanwhile (a link followed while
    // the datacenters loaded) is never replaced by the default view.
    if (route.view === 'home' && fallbackDc !== null && parseRoute(window.location.hash).view === 'home') {
      navigate({ view: 'overview', dc: fallbackDc }, { replace: true });
    }
  }, [route.view, fallbackDc]);

  // A new view starts at the top; sorting or filtering (same view) keeps the scroll position.
  const viewKey = route.view === 'entity' ? `entity:${route.id}` : `${route.view}:${routeDc ?? ''}`;
  useEffect(() => window.scrollTo(0, 0), [viewKey]);

  const dcName = dcs.find((d) => d.id === routeDc)?.name ?? null;
  useEffect(() => {
    // The entity view names its resource in the title itself, once loaded.
    if (route.view === 'entity') return;
    const titles: Record<Route['view'], string> = {
      home: '',
      overview: 'Overview',
      filer: 'Filer',
      hosts: 'Hosts',
      vms: 'Virtual machines',
      entity: 'Graphs',
      capacity: 'Capacity',
      contention: 'Contention',
      compare: 'Compare',
    };
    document.title = [titles[route.view], dcName, 'vscope'].filter((part) => part !== null && part !== '').join(' · ');
  }, [route.view, dcName]);

  const dc = routeDc ?? (dcs.some((d) => d.id === lastDc) ? lastDc : fallbackDc);
  const dcRow = dcs.find((d) => d.id === dc) ?? null;

  const selectDc = useCallback(
    (id: string) => {
      if (route.view === 'filer' || route.view === 'hosts' || route.view === 'vms') {
        navigate({ ...route, dc: id, open: [] });
      } else if (route.view === 'capacity' || route.view === 'contention') {
        navigate({ ...route, dc: id });
      } else if (route.view === 'compare') {
        // The chosen resources belong to the datacenter left.
        navigate({ ...route, dc: id, ids: [], from: null, to: null });
      } else navigate({ view: 'overview', dc: id });
    },
    [route],
  );
  const logout = useCallback(() => {
    apiLogout().then(props.onLoggedOut, props.onLoggedOut);
  }, [props.onLoggedOut]);

  return (
    <>
      <Header
        route={route}
        dc={dc}
        datacenters={dcs}
        status={props.status}
        refreshedAt={props.refreshedAt}
        skewSec={props.skewSec}
        session={props.session}
        theme={theme}
        onToggleTheme={toggleTheme}
        onSelectDc={selectDc}
        onLogout={logout}
      />
      <main class="content" id="content">
        {props.statusError && (
          <ErrorNote message={`The vscope server did not answer the last status check (${props.statusError.message}). The figures shown may be old; the page keeps retrying.`} />
        )}
        {datacenters.error && dcs.length === 0 && <ErrorNote message={`The datacenter list could not be loaded: ${datacenters.error.message}`} />}
        {datacenters.data !== null && dcs.length === 0 && (
          <p class="note" data-testid="no-datacenter">
            No datacenter to show: vscope has not finished its first collection of this vCenter, or your vSphere account may read nothing in it yet
            (vscope shows what vCenter lets your account read, and asks again every few minutes). The page refreshes by itself.
          </p>
        )}
        <View route={route} dcName={dcRow?.name ?? ''} theme={theme} />
      </main>
    </>
  );
}

function tableStateOf(route: Route & TableState): TableState {
  return { sort: route.sort, dir: route.dir, q: route.q };
}

/** Shows a load's error (keeping stale data if any) or a loading line. */
function gate<T>(loaded: Loaded<T>, what: string): T | JSX.Element {
  if (loaded.data !== null) return loaded.data;
  if (loaded.error) return <ErrorNote message={`The ${what} could not be loaded: ${loaded.error.message}`} />;
  return <p class="note">Loading {what}…</p>;
}

function isElement<T>(value: T | JSX.Element): value is JSX.Element {
  return typeof value === 'object' && value !== null && 'props' in value && 'type' in value;
}

/** The page of a route; memoized, so that the header's status updates do not re-render a large table. */
const View = memo(function View({ route, dcName, theme }: { route: Route; dcName: string; theme: string }) {
  const paths = rowPaths(route);
  const hosts = useApi<readonly HostRow[]>(paths.hosts);
  const vms = useApi<readonly VmRow[]>(paths.vms);
  const datastores = useApi<readonly DatastoreRow[]>(paths.datastores);
  const onState = useCallback(
    (state: TableState) => {
      if (route.view === 'filer' || route.view === 'hosts' || route.view === 'vms') navigate(formatRoute({ ...route, ...state }), { replace: true });
    },
    [route],
  );
  const onOpen = useCallback(
    (open: readonly string[]) => {
      if (route.view === 'hosts') navigate(formatRoute({ ...route, open }), { replace: true });
    },
    [route],
  );
  const csvName = (what: string): string => `vscope-${what}-${safeName(dcName)}-${csvStamp()}`;

  switch (route.view) {
    case 'home':
      return null;
    case 'entity':
      return <EntityView key={route.id} id={route.id} period={route.period} from={route.from} to={route.to} theme={theme} />;
    case 'overview': {
      const h = gate(hosts, 'hosts');
      const v = gate(vms, 'virtual machines');
      const d = gate(datastores, 'datastores');
      if (isElement(h)) return h;
      if (isElement(v)) return v;
      if (isElement(d)) return d;
      return <OverviewView dc={route.dc} hosts={h} vms={v} datastores={d} />;
    }
    case 'filer': {
      const d = gate(datastores, 'datastores');
      return isElement(d) ? d : <FilerView rows={d} state={tableStateOf(route)} onState={onState} csvName={csvName('datastores')} />;
    }
    case 'hosts': {
      const h = gate(hosts, 'hosts');
      return isElement(h) ? h : <HostsView rows={h} state={tableStateOf(route)} open={route.open} onState={onState} onOpen={onOpen} csvName={csvName('hosts')} />;
    }
    case 'vms': {
      const v = gate(vms, 'virtual machines');
      return isElement(v) ? v : <VmsView rows={v} state={tableStateOf(route)} onState={onState} csvName={csvName('vms')} />;
    }
    case 'capacity':
      return <CapacityView dc={route.dc} period={route.period} dcName={dcName} />;
    case 'contention':
      return <ContentionView dc={route.dc} period={route.period} metric={route.metric} rankBy={route.rankBy} />;
    case 'compare':
      return <CompareView route={route} vms={vms.data} hosts={hosts.data} datastores={datastores.data} theme={theme} />;
  }
});
