/**
 * Makes sure the engines the tests start (Prometheus, VictoriaMetrics, PostgreSQL 15) are
 * installed: scripts/ensure-engines.sh installs Debian's packages when running as root (no
 * service started), so that `npm test` passes on a fresh machine; else it says what to install.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../scripts/ensure-engines.sh', import.meta.url));
let done = false;

/** @throws Error with the script's message when the packages are missing and cannot be installed */
export function ensureEngines(): void {
  if (done) return;
  const run = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (run.status !== 0) throw new Error(run.stderr.trim() || `${script} failed (exit ${String(run.status)})`);
  done = true;
}
