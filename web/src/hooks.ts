import { Component, createContext, h, type ComponentType, type FunctionComponent } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiFailure, apiGet } from './api.ts';
import { formatRoute, parseRoute, type Route } from './route.ts';

const routeEvent = 'vscope:route';

/** Goes to a route; `replace` rewrites the current history entry (sorting, typing a filter). */
export function navigate(route: Route | string, options: { replace?: boolean } = {}): void {
  const hash = typeof route === 'string' ? route : formatRoute(route);
  if (hash === window.location.hash) return;
  if (options.replace === true) {
    window.history.replaceState(window.history.state, '', hash);
    window.dispatchEvent(new Event(routeEvent));
  } else {
    window.location.hash = hash;
  }
}

/** The current route, following hash changes. */
export function useRoute(): Route {
  const [route, setRoute] = useState<Route>(() => parseRoute(window.location.hash));
  useEffect(() => {
    const update = (): void => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', update);
    window.addEventListener(routeEvent, update);
    return () => {
      window.removeEventListener('hashchange', update);
      window.removeEventListener(routeEvent, update);
    };
  }, []);
  return route;
}

/** Bumped each time the app refreshes its data (every collection interval). */
export const RefreshContext = createContext<number>(0);

export interface Loaded<T> {
  /** The last data received for this path; kept while a refresh is in flight. */
  readonly data: T | null;
  readonly error: ApiFailure | null;
  readonly loading: boolean;
}

/**
 * GETs an API path, again whenever the app refreshes. The previous data stays on screen while a
 * refresh runs (no flicker, scroll and zoom kept); a new path starts empty.
 */
export function useApi<T>(path: string | null): Loaded<T> {
  const tick = useContext(RefreshContext);
  const [state, setState] = useState<Loaded<T> & { path: string | null }>({ data: null, error: null, loading: path !== null, path });
  const current = state.path === path ? state : { data: null, error: null, loading: path !== null, path };
  useEffect(() => {
    if (path === null) return undefined;
    const controller = new AbortController();
    setState((s) => (s.path === path ? { ...s, loading: true } : { data: null, error: null, loading: true, path }));
    apiGet<T>(path, controller.signal).then(
      (data) => {
        // A prefetched answer (api.ts) does not stop on abort: drop it if this path was left.
        if (!controller.signal.aborted) setState({ data, error: null, loading: false, path });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        const failure = error instanceof ApiFailure ? error : new ApiFailure(0, 'client', String(error), null);
        setState((s) => ({ data: s.path === path ? s.data : null, error: failure, loading: false, path }));
      },
    );
    return () => controller.abort();
  }, [path, tick]);
  return current;
}

/** Current time in unix seconds, updated every `everyMs`. */
export function useNow(everyMs = 5000): number {
  const [now, setNow] = useState(() => Math.floor(Date.now() / 1000));
  useEffect(() => {
    const timer = window.setInterval(() => setNow(Math.floor(Date.now() / 1000)), everyMs);
    return () => window.clearInterval(timer);
  }, [everyMs]);
  return now;
}

export type Theme = 'light' | 'dark';

function systemTheme(): Theme {
  return window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

/** Light or dark: the stored choice, else the system's; the toggle stores the choice. */
export function useTheme(): [Theme, () => void] {
  const [stored, setStored] = useState<Theme | null>(() => {
    const value = document.documentElement.dataset.theme;
    return value === 'light' || value === 'dark' ? value : null;
  });
  const [system, setSystem] = useState<Theme>(systemTheme);
  useEffect(() => {
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const update = (): void => setSystem(systemTheme());
    query.addEventListener('change', update);
    return () => query.removeEventListener('change', update);
  }, []);
  const theme = stored ?? system;
  const toggle = useCallback(() => {
    const next: Theme = theme === 'dark' ? 'light' : 'dark';
    document.documentElement.dataset.theme = next;
    try {
      localStorage.setItem('vscope-theme', next);
    } catch {
      // Storage disabled: the choice lasts for this page only.
    }
    setStored(next);
  }, [theme]);
  return [theme, toggle];
}

/** A value that keeps its identity until `deps` change; for handlers given to memoized rows. */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}

function shallowEqual(a: object, b: object): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** A component that renders again only when a prop changes (shallowly) or a context it reads does. */
export function memo<P extends object>(render: FunctionComponent<P>): ComponentType<P> {
  return class Memo extends Component<P> {
    override shouldComponentUpdate(next: P): boolean {
      return !shallowEqual(this.props, next);
    }
    override render(props: P) {
      return h(render, props);
    }
  };
}
