import { useEffect, useState } from 'preact/hooks';
import type { SessionInfo, VcenterSummary } from '../../../src/shared/api.ts';
import { formatClock } from '../../../src/shared/format.ts';
import { ApiFailure, apiGet, apiLogin } from '../api.ts';

/** What to tell someone whose login failed, with what to do next. */
export function loginErrorMessage(error: unknown, nowMs: number): string {
  if (!(error instanceof ApiFailure)) return 'Login failed. Reload the page and try again.';
  switch (error.status) {
    case 401:
      return 'Wrong username or password. Use the same account as in the vSphere Client (for example user@vsphere.local).';
    case 429: {
      if (error.retryAfterSec === null) return 'Too many login attempts. Wait a minute, then try again.';
      const at = formatClock(Math.ceil(nowMs / 1000) + error.retryAfterSec);
      return `Too many login attempts. Try again in ${error.retryAfterSec} s (at ${at}).`;
    }
    case 403:
      // vCenter accepted the password, but the account may read nothing: the server says where.
      return error.message;
    case 503:
      return `Your login could not be checked: ${error.message} Try again in a few minutes, or tell your vSphere administrator.`;
    default:
      return error.message;
  }
}

export function Login({ onLogin }: { onLogin: (session: SessionInfo) => void }) {
  const [vcenters, setVcenters] = useState<readonly VcenterSummary[]>([]);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [vcenter, setVcenter] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    apiGet<readonly VcenterSummary[]>('/api/vcenters').then(
      (list) => {
        setVcenters(list);
        if (list[0]) setVcenter((v) => v || (list[0]?.id ?? ''));
      },
      () => setVcenters([]),
    );
  }, []);

  const submit = async (event: Event): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const session = await apiLogin<SessionInfo>({ username, password, ...(vcenters.length > 1 && vcenter !== '' ? { vcenter } : {}) });
      setPassword('');
      onLogin(session);
    } catch (failure) {
      setError(loginErrorMessage(failure, Date.now()));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login-page">
      <form class="login" data-testid="login-form" onSubmit={(e) => void submit(e)}>
        <h1 class="brand">vscope</h1>
        <p class="login-intro">Sign in with your vSphere account.</p>
        {vcenters.length > 1 && (
          <label>
            vCenter
            <select data-testid="login-vcenter" value={vcenter} onChange={(e) => setVcenter(e.currentTarget.value)}>
              {vcenters.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          Username
          <input
            data-testid="login-username"
            name="username"
            autocomplete="username"
            required
            autofocus
            value={username}
            onInput={(e) => setUsername(e.currentTarget.value)}
          />
        </label>
        <label>
          Password
          <input
            data-testid="login-password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        {error !== null && (
          <p class="note note-error" role="alert" data-testid="login-error">
            {error}
          </p>
        )}
        <button type="submit" class="btn btn-primary" data-testid="login-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
