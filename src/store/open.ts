/**
 * Opens the stores a process (or a worker thread) works with, from settings that cross a thread
 * boundary as plain data: the only place that knows which implementations exist. The
 * composition root (src/main.ts) and the workers (collector, lists) all open their stores here,
 * so that every thread talks to the same engines the same way.
 */
import type { Logger } from 'pino';
import type { EngineHttpOptions } from './prometheus/http.ts';
import type { EngineSampleStore } from './prometheus/sample-store.ts';
import { openSqliteStore, type SqliteStore } from './sqlite/sqlite-store.ts';
import type { InventoryStore, SampleStateStore, SampleStore, SharedStateStore, Store } from './store.ts';

/** A Prometheus-compatible engine for the samples. */
export interface EngineSettings {
  readonly remoteWriteUrl: string;
  readonly promqlUrl: string;
  readonly auth: { readonly bearerToken: string } | { readonly username: string; readonly password: string } | null;
  readonly headers: Readonly<Record<string, string>>;
  /** vscope's version, for the User-Agent. */
  readonly version: string;
  /**
   * How long one remote write request is retried while the engine is down, ms. Default 20,000:
   * well within a collection cycle, which then fails and says why; the next one sends again.
   */
  readonly retryBudgetMs?: number;
}

/** PostgreSQL for the shared state. */
export interface DatabaseSettings {
  readonly url: string;
  readonly password: string | null;
  readonly poolSize: number;
}

export interface StoreSettings {
  /** The SQLite database file: inventory, statuses, sessions, and the samples unless `engine` is set. Unused with `database`. */
  readonly sqlitePath: string;
  /** Samples in this engine instead of SQLite's tiers; null: SQLite. */
  readonly engine: EngineSettings | null;
  /** The shared state (inventory, statuses, sessions, leases) in PostgreSQL instead of SQLite; needs `engine`. */
  readonly database?: DatabaseSettings | null;
}

export interface OpenStores {
  /** Inventory and samples, as callers use them. */
  readonly store: Store;
  /** Inventory, sessions, sample state, login limiter, collector leases: what processes share. */
  readonly shared: SharedStateStore;
  /** The SQLite connection when the state is in SQLite (migrations ran when it opened), else null. */
  readonly sqlite: SqliteStore | null;
  /** Whether samples go to an engine (SQLite's tiers then stay empty). */
  readonly engine: boolean;
  close(): Promise<void>;
}

/** One Store made of an inventory and a sample store (which may be the same object). */
export function composeStore(inventory: InventoryStore, samples: SampleStore): Store {
  return {
    saveInventory: (snapshot) => inventory.saveInventory(snapshot),
    saveStatus: (status) => inventory.saveStatus(status),
    statuses: () => inventory.statuses(),
    datacenters: (options) => inventory.datacenters(options),
    presentIds: (datacenterId) => inventory.presentIds(datacenterId),
    clusters: (datacenterId, options) => inventory.clusters(datacenterId, options),
    hosts: (datacenterId, options) => inventory.hosts(datacenterId, options),
    vms: (datacenterId, options) => inventory.vms(datacenterId, options),
    datastores: (datacenterId, options) => inventory.datastores(datacenterId, options),
    entity: (id) => inventory.entity(id),
    ping: () => inventory.ping(),
    ...(inventory.dataVersion ? { dataVersion: () => inventory.dataVersion?.() ?? 0 } : {}),
    close: () => inventory.close(),
    writeRealtime: (batches) => samples.writeRealtime(batches),
    importHistorical: (tier, batches) => samples.importHistorical(tier, batches),
    highWaterMarks: (vcenterId) => samples.highWaterMarks(vcenterId),
    latest: (ids) => samples.latest(ids),
    series: (query) => samples.series(query),
    ...(samples.seriesWatermark ? { seriesWatermark: (id: string) => samples.seriesWatermark?.(id) ?? null } : {}),
    applyRetention: (nowSec) => samples.applyRetention(nowSec),
  };
}

function engineHttp(engine: EngineSettings, url: string, hint: string): EngineHttpOptions {
  return {
    url,
    version: engine.version,
    headers: engine.headers,
    authSettingHint: hint,
    ...(engine.auth === null ? {} : { auth: engine.auth }),
  };
}

/**
 * The sample store on an engine, keeping its marks and open buckets in `state`. Its modules are
 * loaded only when used: on SQLite, a process never loads undici (about 0.15 CPU-s and 3 MB of
 * the heap that stays live, which V8 lets grow about fourfold before a full collection).
 */
export async function engineSampleStore(engine: EngineSettings, state: SampleStateStore, inventory: InventoryStore, log?: Logger): Promise<{ samples: EngineSampleStore; close(): Promise<void> }> {
  const [{ EngineSampleStore }, { PromqlClient }, { RemoteWriteClient }] = await Promise.all([
    import('./prometheus/sample-store.ts'),
    import('./prometheus/promql.ts'),
    import('./prometheus/remote-write.ts'),
  ]);
  const hint = 'VSCOPE_ENGINE_BEARER_TOKEN or VSCOPE_ENGINE_USERNAME/VSCOPE_ENGINE_PASSWORD';
  const remoteWrite = new RemoteWriteClient({ ...engineHttp(engine, engine.remoteWriteUrl, hint), retry: { maxElapsedMs: engine.retryBudgetMs ?? 20_000 } });
  const promql = new PromqlClient(engineHttp(engine, engine.promqlUrl, hint));
  return {
    samples: new EngineSampleStore({ remoteWrite, promql, state, inventory, ...(log === undefined ? {} : { log }) }),
    async close() {
      await Promise.allSettled([remoteWrite.close(), promql.close()]);
    },
  };
}

/**
 * Opens the stores of `settings`, migrating their schemas if needed (once, whichever of several
 * processes starting together gets there first).
 * @throws DatabaseTooNewError, DatabaseUnavailableError (PostgreSQL down at start), or an
 *   EngineRejected for an engine URL that cannot be used
 */
export async function openStores(settings: StoreSettings, log?: Logger): Promise<OpenStores> {
  const database = settings.database ?? null;
  if (database !== null && settings.engine === null) throw new Error('the shared state in PostgreSQL needs the samples in an engine');
  const sqlite = database === null ? openSqliteStore(settings.sqlitePath, log === undefined ? {} : { log }) : null;
  const shared: SharedStateStore =
    sqlite ??
    // Loaded only when used: the embedded default never loads the PostgreSQL driver.
    (await (await import('./postgres/postgres-store.ts')).openPostgresStore({
      url: database?.url ?? '',
      ...(database?.password === null || database?.password === undefined ? {} : { password: database.password }),
      poolSize: database?.poolSize ?? 10,
      ...(log === undefined ? {} : { log }),
    }));
  if (settings.engine === null) {
    if (sqlite === null) throw new Error('the shared state in PostgreSQL needs the samples in an engine');
    return { store: sqlite, shared: sqlite, sqlite, engine: false, close: () => Promise.resolve(sqlite.close()) };
  }
  let engine: Awaited<ReturnType<typeof engineSampleStore>>;
  try {
    engine = await engineSampleStore(settings.engine, shared, shared, log);
  } catch (error) {
    await shared.close();
    throw error;
  }
  return {
    store: composeStore(shared, engine.samples),
    shared,
    sqlite,
    engine: true,
    async close() {
      await engine.close();
      await shared.close();
    },
  };
}
