/**
 * Login benchmark (issue #9): how long `POST /api/session` takes for a person who may read
 * 2,500 of 5,000 VMs, on the permission-enforcing simulator (tools/vcsim -permissions): the
 * login itself, then what vscope asks vCenter with the person's own session (a recursive
 * ContainerView over the root folder, paged, and HasUserPrivilegeOnEntities on what it lists),
 * then the session stored with its scope. Target: under 2 s.
 *
 * Inventory: 2 datacenters x 10 clusters x 12 hosts, 250 VMs in each cluster's root pool
 * (5,000 VMs); the person holds ReadOnly on 5 clusters of each datacenter.
 *
 * Run: `node --import tsx bench/login-bench.ts [--runs 5]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { buildApp } from '../src/server/app.ts';
import { vsphereAuthenticator } from '../src/server/auth.ts';
import { sessionIdOf } from '../src/server/sessions.ts';
import { startVcsim, type VcsimPermissions } from '../src/simulator/vcsim.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { median } from './stats.ts';

export interface LoginBenchResult {
  readonly vms: number;
  readonly readableVms: number;
  readonly runs: number;
  /** Whole login, request to answer, ms. */
  readonly loginMs: readonly number[];
  readonly medianMs: number;
  readonly maxMs: number;
  /** Entities in the person's scope (readable). */
  readonly readableEntities: number;
}

export async function benchLogin(runs = 5): Promise<LoginBenchResult> {
  const datacenters = 2;
  const clusters = 10;
  const vmsPerPool = 250;
  const permissions: VcsimPermissions = {
    users: [{ name: 'half', password: 'half-pw' }],
    permissions: Array.from({ length: datacenters }, (_, dc) =>
      Array.from({ length: clusters / 2 }, (_, c) => ({ entity: `/DC${String(dc)}/host/DC${String(dc)}_C${String(c)}`, principal: 'half', role: 'ReadOnly', propagate: true })),
    ).flat(),
  };
  const sim = await startVcsim(
    { datacenters, clusters, hostsPerCluster: 12, standaloneHosts: 0, vmsPerPool, datastores: 1, username: 'admin', password: 'admin-pw', permissions },
    300_000,
  );
  const dir = mkdtempSync(join(tmpdir(), 'vscope-login-bench-'));
  const store = openSqliteStore(join(dir, 'bench.db'));
  const app = buildApp({
    store,
    sessionStore: store,
    loginLimiter: store,
    auth: vsphereAuthenticator([{ id: 'bench', url: sim.url }]),
    log: pino({ level: 'silent' }),
    config: { intervalSec: 120, version: 'bench', sessionIdleSec: 3600, sessionMaxSec: 3600, secureCookies: false },
  });
  try {
    const loginMs: number[] = [];
    let readableEntities = 0;
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      const response = await app.inject({ method: 'POST', url: '/api/session', payload: { username: 'half', password: 'half-pw' } });
      loginMs.push(Math.round(performance.now() - started));
      if (response.statusCode !== 200) throw new Error(`login answered ${String(response.statusCode)}: ${response.body}`);
      const token = response.cookies.find((c) => c.name === 'vscope_session')?.value ?? '';
      // The scope the session got: how many entities it reads.
      const session = store.session(sessionIdOf(token));
      readableEntities = session === null ? 0 : (store.scope(session.scopeId)?.readable.length ?? 0);
      if (readableEntities === 0) throw new Error('the new session reads nothing');
    }
    return {
      vms: datacenters * clusters * vmsPerPool,
      readableVms: (datacenters * clusters * vmsPerPool) / 2,
      runs,
      loginMs,
      medianMs: median(loginMs),
      maxMs: Math.max(...loginMs),
      readableEntities,
    };
  } finally {
    await app.close();
    store.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--runs');
  const runs = at >= 0 ? Number(process.argv[at + 1]) : 5;
  benchLogin(Number.isFinite(runs) && runs > 0 ? runs : 5).then(
    (result) => console.log(JSON.stringify(result, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
