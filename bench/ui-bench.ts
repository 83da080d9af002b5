/**
 * UI benchmark: with N VMs (default 5,000) in one datacenter, in headless Debian Chromium,
 *   - time from navigation to a rendered VM table (rows on screen, count shown);
 *   - time to sort it by another column (click to re-rendered first rows).
 * Target: both under 1 s. The app is the real one with the built UI (`npm run build:web`
 * first), a synthetic inventory in SQLite, and a login through a simulator.
 *
 * Run: `node --import tsx bench/ui-bench.ts [--vms 5000]`
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { buildApp, listen } from '../src/server/app.ts';
import { vsphereAuthenticator } from '../src/server/auth.ts';
import { vmMetrics } from '../src/shared/metrics.ts';
import { startVcsim } from '../src/simulator/vcsim.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { launchBrowser } from '../test/support/browser.ts';
import { syntheticInventory } from './synthetic.ts';
import { snapshotScope, withScopes } from '../test/support/scoped-auth.ts';
import { median, random } from './stats.ts';

export interface UiBenchResult {
  readonly vms: number;
  /** Median of the runs, ms: navigation to a rendered VM table. */
  readonly renderTableMs: number;
  /** Median of the runs, ms: a click on a column header to the re-sorted rows. */
  readonly sortMs: number;
  readonly runs: number;
}

export async function benchUi(options: { vms?: number; runs?: number } = {}): Promise<UiBenchResult> {
  const vmCount = options.vms ?? 5000;
  const runs = options.runs ?? 5;
  const webRoot = fileURLToPath(new URL('../web/dist', import.meta.url));
  if (!existsSync(join(webRoot, 'index.html'))) throw new Error('build the UI first: npm run build:web');

  const dir = mkdtempSync(join(tmpdir(), 'vscope-ui-bench-'));
  const store = openSqliteStore(join(dir, 'bench.db'));
  const snapshot = syntheticInventory(vmCount);
  store.saveInventory(snapshot);
  const nowSec = snapshot.collectedAtSec;
  const ts = Array.from({ length: 15 }, (_, i) => nowSec - 300 + 20 * (i + 1));
  const next = random(7);
  store.writeRealtime(
    snapshot.vms.map((vm) => ({
      entityId: vm.id,
      kind: 'vm' as const,
      intervalSec: 20,
      ts,
      values: Object.fromEntries(vmMetrics.map((def) => [def.key, ts.map(() => Math.round(next() * 1000) / 10)])),
    })),
  );

  const sim = await startVcsim({ username: 'bench', password: 'bench', vmsPerPool: 1 });
  const app = buildApp({
    store,
    sessionStore: store,
    loginLimiter: store,
    auth: withScopes(vsphereAuthenticator([{ id: 'bench', url: sim.url }]), () => snapshotScope(snapshot)),
    log: pino({ level: 'silent' }),
    config: { intervalSec: 120, version: 'bench', sessionIdleSec: 3600, sessionMaxSec: 3600, secureCookies: false, webRoot },
  });
  const url = await listen(app, '127.0.0.1:0');
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage();
    await page.goto(url);
    await page.getByTestId('login-username').fill('bench');
    await page.getByTestId('login-password').fill('bench');
    await page.getByTestId('login-submit').click();
    await page.getByTestId('user-name').waitFor();
    const dcId = snapshot.datacenters[0]?.id ?? '';
    const render: number[] = [];
    const sort: number[] = [];
    for (let run = 0; run < runs; run++) {
      await page.goto('about:blank');
      const started = performance.now();
      await page.goto(`${url}/#/dc/${dcId}/vms`);
      await page.waitForFunction(
        (n) =>
          document.querySelector('[data-testid="vm-table"] tbody tr[data-id]') !== null &&
          (document.querySelector('[data-testid="vm-table-count"]')?.textContent ?? '').includes(String(n)),
        vmCount,
      );
      render.push(performance.now() - started);

      const firstId = (): Promise<string | null> =>
        page.locator('[data-testid="vm-table"] tbody tr[data-id]').first().getAttribute('data-id');
      const before = await firstId();
      const sortStarted = performance.now();
      await page.locator('[data-testid="vm-table"] th[data-key="cpuUsagePct"] button').click();
      await page.waitForFunction(
        (previous) => {
          const th = document.querySelector('[data-testid="vm-table"] th[data-key="cpuUsagePct"]');
          const first = document.querySelector('[data-testid="vm-table"] tbody tr[data-id]')?.getAttribute('data-id');
          return th?.getAttribute('aria-sort') !== 'none' && first !== previous;
        },
        before,
      );
      sort.push(performance.now() - sortStarted);
    }
    return { vms: vmCount, renderTableMs: Math.round(median(render)), sortMs: Math.round(median(sort)), runs };
  } finally {
    await browser.close();
    await app.close();
    store.close();
    await sim.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const at = process.argv.indexOf('--vms');
  const vms = at >= 0 ? Number(process.argv[at + 1]) : 5000;
  console.log(JSON.stringify(await benchUi({ vms })));
}
