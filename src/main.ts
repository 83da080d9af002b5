/**
 * Composition root: the only place that reads the configuration into live parts, opens the
 * database, starts the collector and listens. Everything else receives its dependencies.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createCollector, runCollectOnce, type Collector, type CollectorTuning, type VcenterTarget } from './collector/collector.ts';
import type { Config, VcenterConfig } from './config.ts';
import { LeaseKeeper } from './collector/leases.ts';
import { createLogger } from './log.ts';
import { untilSignal } from './signals.ts';
import type { VcsimOptions } from './simulator/vcsim.ts';
import { openStores, type EngineSettings, type OpenStores, type StoreSettings } from './store/open.ts';

/**
 * What only `serve` (and `demo`) run: the HTTP server, its workers, the simulator. Loaded when
 * used, so that `vscope collect` does not spend 0.3 CPU-s of every run loading Fastify (issue #12).
 */
async function serveModules() {
  const [app, auth, lists, worker] = await Promise.all([
    import('./server/app.ts'),
    import('./server/auth.ts'),
    import('./server/list-builder.ts'),
    import('./collector/worker-collector.ts'),
  ]);
  return { ...app, ...auth, ...lists, ...worker };
}

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
/** Built UI: `npm run build:web` writes it. */
const webRoot = join(packageRoot, 'web', 'dist');

/** How long a stopping server waits for requests in flight before it cuts every connection, ms. */
const closeGraceMs = 2000;

export const version: string = (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;

function collectorTargets(vcenters: readonly VcenterConfig[], pageSize: number): VcenterTarget[] {
  return vcenters.map((vcenter) => ({
    pageSize,
    id: vcenter.id,
    url: vcenter.url,
    username: vcenter.username,
    password: vcenter.password,
    insecure: vcenter.insecure,
    ...(vcenter.caFile === null ? {} : { caFile: vcenter.caFile }),
  }));
}

function databasePath(config: Config): string {
  return join(config.dataDir, 'vscope.db');
}

function engineSettings(config: Config): EngineSettings | null {
  return config.engine === null ? null : { ...config.engine, version };
}

/** `postgres://user@host:port/db`: what logs show of a database URL (no password, no options). */
function databaseOrigin(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.username === '' ? '' : `${parsed.username}@`}${parsed.host}${parsed.pathname}`;
}

function storeSettings(config: Config): StoreSettings {
  return { sqlitePath: databasePath(config), engine: engineSettings(config), database: config.database };
}

async function openStore(config: Config, log: Logger): Promise<OpenStores> {
  const settings = storeSettings(config);
  if (settings.database === null || settings.database === undefined) {
    mkdirSync(config.dataDir, { recursive: true });
    log.info({ path: settings.sqlitePath }, 'opening the database');
  } else {
    log.info({ database: databaseOrigin(settings.database.url) }, 'opening the shared database');
  }
  const stores = await openStores(settings, log);
  if (config.engine !== null) {
    log.info({ remoteWrite: new URL(config.engine.remoteWriteUrl).origin, promql: new URL(config.engine.promqlUrl).origin }, 'samples go to a Prometheus-compatible engine');
  }
  return stores;
}

function collectorTuning(config: Config): Partial<CollectorTuning> {
  return {
    entitiesPerQuery: config.collector.perfEntitiesPerQuery,
    metricsPerQuery: config.collector.perfMetricsPerQuery,
    concurrency: config.collector.perfConcurrency,
  };
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function requireVcenters(config: Config): void {
  if (config.vcenters.length === 0) {
    throw new Error(
      'no vCenter configured: set VSCOPE_VCENTER_URL, VSCOPE_VCENTER_USER and VSCOPE_VCENTER_PASSWORD, or list vcenters in --config FILE (or try `npm run demo`)',
    );
  }
}

/** A running vscope: collector, API and UI. */
export interface RunningVscope {
  /** e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly store: OpenStores['store'];
  /** What processes share (SQLite here, or PostgreSQL). */
  readonly shared: OpenStores['shared'];
  /** The collector in its worker thread; null for a front end without one (`serve --no-collector`). */
  readonly collector: Collector | null;
  /** Stops taking requests, abandons the running cycle cleanly, closes the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Start the collector's loops at once (default true); false: tests drive cycles with `collector.runOnce()`. */
  readonly startCollector?: boolean;
  /** Run a collector in this process at all (default true); false: a front end only (`serve --no-collector`). */
  readonly collector?: boolean;
}

/**
 * Opens the stores (migrating them), starts the collector's worker thread (unless a front end
 * only), builds the app, listens, then starts the collector's loops. The collector runs in its
 * own thread with its own connections, so its cycles do not stall the API (issue #4); it
 * collects a vCenter only while it holds that vCenter's lease (collector/leases.ts), so that
 * several `serve` or `collect` processes never collect one vCenter twice.
 */
export async function startVscope(config: Config, log: Logger, options: StartOptions = {}): Promise<RunningVscope> {
  requireVcenters(config);
  const { buildApp, listen, vsphereAuthenticator, workerListBuilder, startCollectorWorker } = await serveModules();
  const stores = await openStore(config, log);
  const { store, shared } = stores;
  const settings = storeSettings(config);
  const https = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
  if (config.metrics.enabled && config.metrics.token === null && !isLoopbackHost(config.listen.host)) {
    log.warn('/metrics is served without a token on a non-loopback address: set VSCOPE_METRICS_TOKEN, or VSCOPE_METRICS=false');
  }
  if (!existsSync(join(webRoot, 'index.html'))) log.warn({ webRoot }, 'the web UI is not built: run `npm run build` (the API works without it)');
  // The VM and datastore lists are built off the event loop (list-builder.ts).
  const listBuilder = workerListBuilder(settings, log.child({ component: 'lists' }));
  const initialStatuses = await shared.statuses();
  const collector =
    options.collector === false
      ? null
      : startCollectorWorker({
          databasePath: settings.sqlitePath,
          engine: settings.engine,
          database: settings.database ?? null,
          vcenters: collectorTargets(config.vcenters, config.collector.pageSize),
          intervalSec: config.intervalSec,
          tuning: collectorTuning(config),
          log: log.child({ component: 'collector' }),
          fallbackStatuses: () => initialStatuses,
        });
  const app = buildApp({
    store,
    sessionStore: shared,
    loginLimiter: shared,
    listBuilder,
    auth: vsphereAuthenticator(config.vcenters.map(({ id, url, insecure, caFile }) => ({ id, url, insecure, ...(caFile === null ? {} : { caFile }) }))),
    log: log.child({ component: 'http' }),
    ...(collector === null ? {} : { collector }),
    config: {
      intervalSec: config.intervalSec,
      version,
      sessionIdleSec: config.session.idleSec,
      sessionMaxSec: config.session.maxSec,
      scopeRefreshSec: config.session.scopeRefreshSec,
      secureCookies: https !== undefined,
      webRoot,
      listMaxStaleMs: 5000,
      metrics: config.metrics.enabled,
      ...(config.metrics.token === null ? {} : { metricsToken: config.metrics.token }),
      ...(https ? { https } : {}),
    },
  });
  let url: string;
  try {
    url = await listen(app, `${config.listen.host.includes(':') ? `[${config.listen.host}]` : config.listen.host}:${String(config.listen.port)}`);
  } catch (error) {
    await listBuilder.close();
    await collector?.stop();
    await stores.close();
    throw error;
  }
  log.info({ url, collector: collector !== null }, 'vscope is listening');
  // The collector's worker also applies retention, hourly, off this thread.
  if (options.startCollector !== false) collector?.start();

  return {
    url,
    store,
    shared,
    collector,
    async stop() {
      // In-flight requests get a moment to finish; then every connection is cut, because a
      // browser's preconnected socket that never sent a request counts as neither idle nor done
      // and would hold the close for the server's request timeout (minutes).
      const cut = setTimeout(() => app.server.closeAllConnections(), closeGraceMs);
      try {
        await app.close();
      } finally {
        clearTimeout(cut);
      }
      await listBuilder.close();
      await collector?.stop();
      await stores.close();
      log.info('stopped');
    },
  };
}

/**
 * `vscope serve`: collector, API and UI until SIGINT/SIGTERM, then a clean stop (exit code 0).
 * @param onListening called with the server's URL once it listens (the demo prints it)
 */
export async function runServe(config: Config, log: Logger, onListening?: (url: string) => void, options: StartOptions = {}): Promise<number> {
  const stopped = untilSignal(log);
  const running = await startVscope(config, log, options);
  onListening?.(running.url);
  await stopped;
  await running.stop();
  return 0;
}

/**
 * `vscope collect [--once] [--vcenter ID]...`: the collector alone, for the vCenters named
 * (all by default), each only while this collector holds its lease. With `once`, one cycle per
 * vCenter (and the whole history import at first start), waiting up to a lease's time to live
 * for a vCenter another collector holds; exit code 1 when any vCenter failed or stayed held.
 */
export async function runCollect(config: Config, log: Logger, options: { readonly once: boolean; readonly stopped?: Promise<void> }): Promise<number> {
  requireVcenters(config);
  const stores = await openStore(config, log);
  const { store } = stores;
  const lease = new LeaseKeeper({ store: stores.shared, log: log.child({ component: 'collector' }) });
  try {
    const common = {
      store,
      lease,
      vcenters: collectorTargets(config.vcenters, config.collector.pageSize),
      intervalSec: config.intervalSec,
      log: log.child({ component: 'collector' }),
      tuning: collectorTuning(config),
    };
    if (options.once) {
      const results = await runCollectOnce({ ...common, leaseWaitSec: lease.ttlSec + lease.probeSec });
      for (const result of results) {
        if (result.ok) log.info({ vcenter: result.vcenterId, counts: result.counts, durationMs: result.durationMs }, 'cycle done');
        else process.stderr.write(`error: vCenter ${result.vcenterId}: ${result.error ?? 'failed'}\n`);
      }
      return results.every((result) => result.ok) ? 0 : 1;
    }
    const collector = createCollector(common);
    const stopped = options.stopped ?? untilSignal(log);
    collector.start();
    await stopped;
    await collector.stop();
    return 0;
  } finally {
    await stores.close();
  }
}

/** The demo inventory: 2 datacenters x (2 clusters x 3 hosts + 1 standalone host), 96 VMs. */
export const demoInventory: VcsimOptions = {
  datacenters: 2,
  clusters: 2,
  hostsPerCluster: 3,
  standaloneHosts: 1,
  vmsPerPool: 16,
  datastores: 3,
  username: 'demo',
  password: 'demo',
};

/**
 * `vscope demo`: starts the bundled simulator, serves vscope on it with SQLite in a temporary
 * folder (or `--data-dir DIR`), prints the URL and the login; stops both on SIGINT/SIGTERM.
 */
export async function runDemo(argv: readonly string[]): Promise<number> {
  const dataDirFlag = argv.indexOf('--data-dir');
  const keepData = dataDirFlag >= 0;
  const dataDir = keepData ? (argv[dataDirFlag + 1] ?? './data/demo') : mkdtempSync(join(tmpdir(), 'vscope-demo-'));
  // Loaded here: `vscope collect`'s worker, which imports this module, is given a
  // configuration already read.
  const { loadConfig, withVcenters } = await import('./config.ts');
  const base = await loadConfig({ env: { VSCOPE_INTERVAL_SEC: '60', ...process.env } });
  const log = createLogger(base.logLevel);
  log.info('starting the vCenter simulator (built once, about 30 s the first time)');
  const { startVcsim } = await import('./simulator/vcsim.ts');
  const sim = await startVcsim(demoInventory);
  try {
    const config = await withVcenters({ ...base, dataDir }, [
      { id: 'vcsim', url: sim.url, username: demoInventory.username ?? 'demo', password: demoInventory.password ?? 'demo' },
    ]);
    return await runServe(config, log, (url) => {
      process.stdout.write(
        `\nvscope demo is running: ${url}\n` +
          `  log in as: ${demoInventory.username ?? ''} / ${demoInventory.password ?? ''}\n` +
          `  vCenter simulator: ${sim.url} (${keepData ? `data in ${dataDir}` : 'data in a temporary folder'})\n` +
          '  stop with Ctrl+C\n\n',
      );
    });
  } finally {
    await sim.stop();
    if (!keepData) rmSync(dataDir, { recursive: true, force: true });
  }
}
