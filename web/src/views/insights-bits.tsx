/**
 * What the Capacity, Contention and Compare views share: an API hook that asks again while an
 * answer is still being built, the period selector, and the statement of a window.
 */
import { useContext, useEffect, useState } from 'preact/hooks';
import { formatDateTime } from '../../../src/shared/format.ts';
import type { BucketWindow } from '../../../src/shared/insights.ts';
import { ApiFailure, apiGet } from '../api.ts';
import { RefreshContext, type Loaded } from '../hooks.ts';
import { windowText } from '../insights-format.ts';

/**
 * GETs an API path like `useApi` (again at every refresh, the previous data kept meanwhile),
 * and again every `everyMs` while `pending(data)` holds: an answer that says it is still being
 * built (the first reading of every VM) fills in by itself.
 */
export function usePolledApi<T>(path: string, pending: (data: T) => boolean, everyMs = 2000): Loaded<T> {
  const tick = useContext(RefreshContext);
  const [again, setAgain] = useState(0);
  const [state, setState] = useState<Loaded<T> & { path: string }>({ data: null, error: null, loading: true, path });
  const current = state.path === path ? state : { data: null, error: null, loading: true, path };
  useEffect(() => {
    const controller = new AbortController();
    let timer = 0;
    setState((s) => (s.path === path ? { ...s, loading: true } : { data: null, error: null, loading: true, path }));
    apiGet<T>(path, controller.signal).then(
      (data) => {
        if (controller.signal.aborted) return;
        setState({ data, error: null, loading: false, path });
        if (pending(data)) timer = window.setTimeout(() => setAgain((n) => n + 1), everyMs);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        const failure = error instanceof ApiFailure ? error : new ApiFailure(0, 'client', String(error), null);
        setState((s) => ({ data: s.path === path ? s.data : null, error: failure, loading: false, path }));
      },
    );
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
    // `pending` is read when an answer comes; a new function each render must not ask again.
  }, [path, tick, again, everyMs]);
  return current;
}

/** Buttons choosing among periods; the active one pressed. */
export function PeriodSelect<P extends string>({ periods, value, onChange, testId = 'period-select' }: { periods: readonly P[]; value: P | null; onChange: (period: P) => void; testId?: string }) {
  return (
    <div class="segmented" role="group" aria-label="Period" data-testid={testId}>
      {periods.map((p) => (
        <button key={p} type="button" data-period={p} aria-pressed={p === value} class={p === value ? 'active' : undefined} onClick={() => onChange(p)}>
          {p[0]?.toUpperCase()}
          {p.slice(1)}
        </button>
      ))}
    </div>
  );
}

/** "2 h buckets from ... to ..." of a window, in the page's time zone. */
export function WindowNote({ label, window, testId }: { label: string; window: BucketWindow; testId?: string }) {
  return (
    <span class="window-note" data-testid={testId}>
      {label}: {windowText(window, formatDateTime)}
    </span>
  );
}

/** How far the first reading of every VM is, while it runs. */
export function ProgressNote({ progress, what }: { progress: { vmsRead: number; vmsToRead: number } | null; what: string }) {
  if (progress === null) return null;
  const pct = progress.vmsToRead > 0 ? Math.floor((progress.vmsRead / progress.vmsToRead) * 100) : 0;
  return (
    <p class="note" data-testid="insights-progress" role="status">
      Reading every VM's buckets for {what}: {progress.vmsRead.toLocaleString('en-US')} of {progress.vmsToRead.toLocaleString('en-US')} ({pct} %). This page fills in by itself.
      <progress max={100} value={pct} />
    </p>
  );
}
