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
import { startCollectorWorker } from './collector/worker-collector.ts';
import { loadConfig, withVcenters, type Config, type VcenterConfig } from './config.ts';
import { createLogger } from './log.ts';
import { buildApp, listen } from './server/app.ts';
import { vsphereAuthenticator } from './server/auth.ts';
import { workerListBuilder } from './server/list-builder.ts';
import { startVcsim, type VcsimOptions } from './simulator/vcsim.ts';
import { openStores, type EngineSettings, type OpenStores } from './store/open.ts';

const packageRoot = fileURLToPath(new URL('..', import.meta.url));
/** Built UI: `npm run build:web` writes it. */
const webRoot = join(packageRoot, 'web', 'dist');

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

function openStore(config: Config, log: Logger): OpenStores {
  mkdirSync(config.dataDir, { recursive: true });
  const path = databasePath(config);
  log.info({ path }, 'opening the database');
  const stores = openStores({ sqlitePath: path, engine: engineSettings(config) }, log);
  if (config.engine !== null) {
    log.info({ remoteWrite: new URL(config.engine.remoteWriteUrl).origin, promql: new URL(config.engine.promqlUrl).origin }, 'samples go to a Prometheus-compatible engine');
  }
  return stores;
}

function collectorFor(config: Config, store: OpenStores['store'], log: Logger): Collector {
  return createCollector({
    store,
    vcenters: collectorTargets(config.vcenters, config.collector.pageSize),
    intervalSec: config.intervalSec,
    log: log.child({ component: 'collector' }),
    tuning: collectorTuning(config),
  });
}

function collectorTuning(config: Config): Partial<CollectorTuning> {
  return {
    entitiesPerQuery: config.collector.perfEntitiesPerQuery,
    metricsPerQuery: config.collector.perfMetricsPerQuery,
    concurrency: config.collector.perfConcurrency,
  };
}

/** Resolves on the first SIGINT or SIGTERM. */
function untilSignal(log: Logger): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      log.info({ signal }, 'stopping');
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
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
  /** The SQLite connection (inventory, sessions; samples unless an engine is configured). */
  readonly sqlite: OpenStores['sqlite'];
  readonly collector: Collector;
  /** Stops taking requests, abandons the running cycle cleanly, closes the database. */
  stop(): Promise<void>;
}

/**
 * Opens the store (migrating it), starts the collector's worker thread, builds the app,
 * listens, then starts the collector's loops (unless `startCollector` is false: tests drive
 * cycles with `collector.runOnce()`). The collector runs in its own thread with its own
 * database connection, so its cycles do not stall the API (issue #4).
 */
export async function startVscope(config: Config, log: Logger, options: { readonly startCollector?: boolean } = {}): Promise<RunningVscope> {
  requireVcenters(config);
  const stores = openStore(config, log);
  const { store, sqlite } = stores;
  const engine = engineSettings(config);
  const https = config.tls ? { cert: readFileSync(config.tls.certFile), key: readFileSync(config.tls.keyFile) } : undefined;
  if (config.metrics.enabled && config.metrics.token === null && !isLoopbackHost(config.listen.host)) {
    log.warn('/metrics is served without a token on a non-loopback address: set VSCOPE_METRICS_TOKEN, or VSCOPE_METRICS=false');
  }
  if (!existsSync(join(webRoot, 'index.html'))) log.warn({ webRoot }, 'the web UI is not built: run `npm run build` (the API works without it)');
  // The VM and datastore lists are built off the event loop (list-builder.ts).
  const listBuilder = workerListBuilder(databasePath(config), log.child({ component: 'lists' }), engine);
  const collector = startCollectorWorker({
    databasePath: databasePath(config),
    engine,
    vcenters: collectorTargets(config.vcenters, config.collector.pageSize),
    intervalSec: config.intervalSec,
    tuning: collectorTuning(config),
    log: log.child({ component: 'collector' }),
    fallbackStatuses: () => sqlite.statuses(),
  });
  const app = buildApp({
    store,
    sessionStore: stores.sessions,
    listBuilder,
    auth: vsphereAuthenticator(config.vcenters.map(({ id, url, insecure, caFile }) => ({ id, url, insecure, ...(caFile === null ? {} : { caFile }) }))),
    log: log.child({ component: 'http' }),
    collector,
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
    await collector.stop();
    await stores.close();
    throw error;
  }
  log.info({ url }, 'vscope is listening');
  // The collector's worker also applies retention, hourly, off this thread.
  if (options.startCollector !== false) collector.start();

  return {
    url,
    store,
    sqlite,
    collector,
    async stop() {
      await app.close();
      await listBuilder.close();
      await collector.stop();
      await stores.close();
      log.info('stopped');
    },
  };
}

/**
 * `vscope serve`: collector, API and UI until SIGINT/SIGTERM, then a clean stop (exit code 0).
 * @param onListening called with the server's URL once it listens (the demo prints it)
 */
export async function runServe(config: Config, log: Logger, onListening?: (url: string) => void): Promise<number> {
  const stopped = untilSignal(log);
  const running = await startVscope(config, log);
  onListening?.(running.url);
  await stopped;
  await running.stop();
  return 0;
}

/**
 * `vscope collect [--once]`: the collector alone. With `once`, one cycle per vCenter (and
 * the whole history import at first start); exit code 1 when any vCenter failed.
 */
export async function runCollect(config: Config, log: Logger, options: { readonly once: boolean }): Promise<number> {
  requireVcenters(config);
  const stores = openStore(config, log);
  const { store } = stores;
  try {
    if (options.once) {
      const results = await runCollectOnce({
        store,
        vcenters: collectorTargets(config.vcenters, config.collector.pageSize),
        intervalSec: config.intervalSec,
        log: log.child({ component: 'collector' }),
        tuning: collectorTuning(config),
      });
      for (const result of results) {
        if (result.ok) log.info({ vcenter: result.vcenterId, counts: result.counts, durationMs: result.durationMs }, 'cycle done');
        else process.stderr.write(`error: vCenter ${result.vcenterId}: ${result.error ?? 'failed'}\n`);
      }
      return results.every((result) => result.ok) ? 0 : 1;
    }
    const collector = collectorFor(config, store, log);
    const stopped = untilSignal(log);
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
  const base = loadConfig({ env: { VSCOPE_INTERVAL_SEC: '60', ...process.env } });
  const log = createLogger(base.logLevel);
  log.info('starting the vCenter simulator (built once, about 30 s the first time)');
  const sim = await startVcsim(demoInventory);
  try {
    const config = withVcenters({ ...base, dataDir }, [
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
