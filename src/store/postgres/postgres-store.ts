/**
 * The shared state of several vscope processes (collectors, front ends) on PostgreSQL: inventory,
 * statuses, sessions and their scopes, sample state, the failed-login limiter and the collector
 * leases. Samples themselves live in a Prometheus-compatible engine. Schema in migrations.ts.
 *
 * Every call takes a connection from a pool (node-postgres), so a database restarted under a
 * running process costs the calls made while it is down (they reject with
 * DatabaseUnavailableError) and nothing after: the pool opens new connections on the next call.
 * Writes of inventory, statuses and sample state are one transaction each and bump the shared
 * `data_version` counter in it, which every process reads (cached for about a second) to know
 * when its own caches are stale.
 */
import pg from 'pg';
import type { Logger } from 'pino';
import type { EntityKind, InventorySnapshot } from '../../shared/inventory.ts';
import { metricsByKind } from '../../shared/metrics.ts';
// The bucket codec is pure (no SQLite in it): both stores write an open bucket in the same bytes.
import { decodeBucket, encodeBucket } from '../sqlite/bucket-codec.ts';
import { loginWaitSec } from '../store.ts';
import type {
  CollectionStatus,
  CollectorLease,
  EntitySampleState,
  ListOptions,
  LoginFailureWindow,
  SharedStateStore,
  StoredCluster,
  StoredDatacenter,
  StoredDatastore,
  StoredEntity,
  StoredHost,
  StoredScope,
  StoredSession,
  StoredVm,
} from '../store.ts';
import { DatabaseTooNewError, DatabaseUnavailableError, isUnavailable, parseDatabaseUrl, type PostgresTarget } from './connection.ts';
import { postgresMigrations, type PostgresMigration } from './migrations.ts';

export { DatabaseTooNewError, DatabaseUnavailableError, DatabaseUrlError } from './connection.ts';

export interface PostgresStoreOptions {
  /**
   * `postgres://USER@HOST:PORT/DATABASE` (VSCOPE_DATABASE_URL), optionally with `?sslmode=`,
   * `?host=/socket/folder`, `?application_name=` (see parseDatabaseUrl). Never logged whole.
   */
  readonly url: string;
  /** The role's password (VSCOPE_DATABASE_PASSWORD_FILE's content); wins over one inside the URL. */
  readonly password?: string;
  /** Connections kept open at most. Default 10. */
  readonly poolSize?: number;
  /** Longest wait for a connection (a new one, or a free one of the pool), ms. Default 5000. */
  readonly connectTimeoutMs?: number;
  /** Longest statement, ms, enforced by the server; the client gives up 5 s later. Default 30000. */
  readonly statementTimeoutMs?: number;
  /** How long `dataVersion` answers from its last read, ms. Default 1000; 0 reads every time. */
  readonly dataVersionCacheMs?: number;
  /**
   * How long a scope that no session uses is spared by `deleteExpiredSessions`, seconds of the
   * database's clock since it was last saved: a login or a refresh in another process saves its
   * scope a moment before the session that uses it. Default 300.
   */
  readonly unusedScopeGraceSec?: number;
  /** Schema migrations, the shipped list by default. */
  readonly migrations?: readonly PostgresMigration[];
  readonly log?: Logger;
  /** Monotonic clock of the dataVersion cache, ms. Default performance.now. */
  readonly monotonicMs?: () => number;
}

/** Key of the transaction-level advisory lock taken around the migrations: "vscope" in ASCII. */
const migrationLockKey = '130212620365925';

interface EntityRow {
  id: string;
  first_seen_sec: number;
  last_seen_sec: number;
  removed_at_sec: number | null;
  info: string;
}

interface SessionRow {
  id: string;
  username: string;
  vcenter_id: string;
  created_ms: number;
  last_seen_ms: number;
  scope_id: string;
  scope_checked_ms: number;
}

interface InventoryRow {
  readonly kind: EntityKind;
  readonly datacenterId: string | null;
  readonly name: string;
  readonly info: string;
}

/**
 * An entity row as read: a present entity was last seen at its vCenter's last inventory
 * (see migrations.ts), a removed one at the time stored when it was removed.
 */
const entityColumns = `e.id, e.first_seen_sec,
  CASE WHEN e.removed_at_sec IS NULL THEN w.seen_sec ELSE e.last_seen_sec END AS last_seen_sec,
  e.removed_at_sec, e.info`;
const entitiesWithSeen = 'entities AS e JOIN vcenter_inventories AS w ON w.vcenter_id = e.vcenter_id';

/** BIGINT as a JavaScript number: every stored integer (seconds, ms, counters) is far below 2^53. */
const int8 = 20;
const int8Array = 1016;
// The driver's own parsers (pg-types), typed loosely: its TypeId enum lists no array types.
const builtinParser = pg.types.getTypeParser as (oid: number, format: 'text' | 'binary') => unknown;
/** The pool's own type parsers (not the driver's global ones, which other code may rely on). */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format: 'text' | 'binary' = 'text') => {
    if (oid === int8 && format === 'text') return (value: string) => Number(value);
    if (oid === int8Array && format === 'text') {
      const parseArray = builtinParser(int8Array, 'text') as (value: string) => (string | null)[];
      return (value: string) => parseArray(value).map((item) => (item === null ? null : Number(item)));
    }
    return builtinParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/**
 * Opens a pool on the database, brings its schema up to date (once, whichever of several
 * processes starting together gets there first) and resolves with the store.
 * @throws DatabaseUrlError for a URL that cannot be used
 * @throws DatabaseUnavailableError when the database cannot be reached
 * @throws DatabaseTooNewError when it holds migrations this version does not know
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const store = new PostgresStore(options);
  try {
    await store.migrate(options.migrations ?? postgresMigrations);
  } catch (error) {
    await store.close();
    throw error;
  }
  return store;
}

export class PostgresStore implements SharedStateStore {
  /** Where it connects, as messages show it (no password). */
  readonly described: string;
  private readonly pool: pg.Pool;
  private readonly log: Logger | undefined;
  private readonly dataVersionCacheMs: number;
  private readonly unusedScopeGraceSec: number;
  private readonly monotonicMs: () => number;
  private closing: Promise<void> | null = null;
  /** The last data version read or written here, and when (monotonic ms). */
  private version: { value: number; readMs: number } | null = null;
  /** Moves on every write here, so that a read begun before a write does not replace its answer. */
  private versionStamp = 0;
  private pendingVersion: Promise<number> | null = null;
  /** Entities as last parsed by `entity`, with what they were parsed from. */
  private readonly parsed = new Map<string, { info: string; lastSeenSec: number; removedAtSec: number | null; entity: StoredEntity }>();
  /**
   * vCenter id -> the inventory generation this process last wrote, and what it wrote of each
   * entity. While the generation in the database is still that one, no other process saved an
   * inventory of that vCenter since, so the rows are as written and only changed ones are sent.
   */
  private readonly upserted = new Map<string, { generation: number; rows: ReadonlyMap<string, string> }>();

  /** Prefer openPostgresStore, which also migrates the schema. */
  constructor(options: PostgresStoreOptions) {
    const target: PostgresTarget = parseDatabaseUrl(options.url, options.password);
    this.described = target.described;
    this.log = options.log;
    this.dataVersionCacheMs = options.dataVersionCacheMs ?? 1000;
    this.unusedScopeGraceSec = options.unusedScopeGraceSec ?? 300;
    this.monotonicMs = options.monotonicMs ?? (() => performance.now());
    const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
    this.pool = new pg.Pool({
      host: target.host,
      port: target.port,
      user: target.user,
      database: target.database,
      ...(target.password === undefined ? {} : { password: target.password }),
      ssl: target.ssl === false ? false : { ...target.ssl },
      application_name: target.applicationName,
      max: options.poolSize ?? 10,
      idleTimeoutMillis: 30_000,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
      keepAlive: true,
      statement_timeout: statementTimeoutMs,
      // A server that vanished without closing the connection: give up a little after it would have.
      query_timeout: statementTimeoutMs + 5000,
      types,
    });
    // An idle connection the server closed (a restart, a failover) reports here, not to any
    // caller: without a listener it would crash the process. The pool has already dropped it.
    this.pool.on('error', (error) => {
      this.log?.warn({ database: this.described, err: error.message }, 'an idle PostgreSQL connection was lost; the pool opens a new one when needed');
    });
  }

  // ---- schema

  /** Applies the missing migrations under a transaction-level advisory lock; refuses a database from a newer version. */
  async migrate(list: readonly PostgresMigration[]): Promise<void> {
    await this.transaction(async (client) => {
      // A migration (and the wait for another process's) may outlast the usual statement timeout.
      await client.query('SET LOCAL statement_timeout = 0');
      // Taken first: processes starting together wait here, then find the work done.
      await client.query('SELECT pg_advisory_xact_lock($1::bigint)', [migrationLockKey]);
      await client.query('CREATE TABLE IF NOT EXISTS migrations (id TEXT PRIMARY KEY, applied_at_sec BIGINT NOT NULL)');
      const applied = new Set((await client.query<{ id: string }>('SELECT id FROM migrations')).rows.map((row) => row.id));
      const known = new Set(list.map((migration) => migration.id));
      const unknown = [...applied].filter((id) => !known.has(id)).sort();
      if (unknown.length > 0) throw new DatabaseTooNewError(this.described, unknown);
      for (const migration of list) {
        if (applied.has(migration.id)) continue;
        // No parameters: the simple protocol runs a migration's several statements at once.
        await client.query(migration.sql);
        await client.query('INSERT INTO migrations (id, applied_at_sec) VALUES ($1, $2)', [migration.id, Math.floor(Date.now() / 1000)]);
        this.log?.info({ migration: migration.id, database: this.described }, 'database migration applied');
      }
    });
  }

  // ---- inventory

  /**
   * One transaction: the vCenter's inventory generation and time move on, entities the snapshot
   * lacks are marked removed (last seen at the previous inventory), and new, changed or
   * returning entities are upserted in one statement; unchanged present rows are not written.
   */
  async saveInventory(snapshot: InventorySnapshot): Promise<void> {
    const { vcenterId, collectedAtSec: now } = snapshot;
    const rows = inventoryRows(snapshot);
    const ids = [...rows.keys()].sort();
    const written = new Map(ids.map((id) => [id, fingerprint(rows.get(id) as InventoryRow)]));
    const cached = this.upserted.get(vcenterId);
    this.upserted.delete(vcenterId);
    let generation = 0;
    await this.write(async (client) => {
      // Locks the vCenter's row: saves of one vCenter's inventory run one after the other.
      const { rows: found } = await client.query<{ generation: number; seen_sec: number }>(
        'SELECT generation, seen_sec FROM vcenter_inventories WHERE vcenter_id = $1 FOR UPDATE',
        [vcenterId],
      );
      const previous = found[0];
      const { rows: next } = await client.query<{ generation: number }>(
        `INSERT INTO vcenter_inventories AS w (vcenter_id, generation, seen_sec) VALUES ($1, 1, $2)
         ON CONFLICT (vcenter_id) DO UPDATE SET generation = w.generation + 1, seen_sec = excluded.seen_sec
         RETURNING generation`,
        [vcenterId, now],
      );
      generation = next[0]?.generation ?? 0;
      const removed = await client.query(
        `UPDATE entities SET removed_at_sec = $2, last_seen_sec = COALESCE($4, last_seen_sec)
         WHERE vcenter_id = $1 AND removed_at_sec IS NULL AND id <> ALL ($3::text[])`,
        [vcenterId, now, ids, previous?.seen_sec ?? null],
      );
      if ((removed.rowCount ?? 0) > 0) this.log?.info({ vcenterId, removed: removed.rowCount }, 'entities no longer in the inventory');
      const unchanged = cached !== undefined && previous !== undefined && cached.generation === previous.generation ? cached.rows : null;
      const send = unchanged === null ? ids : ids.filter((id) => unchanged.get(id) !== written.get(id));
      if (send.length === 0) return;
      const column = <K extends keyof InventoryRow>(key: K): InventoryRow[K][] => send.map((id) => (rows.get(id) as InventoryRow)[key]);
      // One statement for all the rows to send (ids sorted: two writers lock rows in one order);
      // a row that exists unchanged and present is left as it is.
      await client.query(
        `INSERT INTO entities AS e (id, kind, vcenter_id, datacenter_id, name, first_seen_sec, last_seen_sec, removed_at_sec, info)
         SELECT r.id, r.kind, $1, r.datacenter_id, r.name, $2, $2, NULL, r.info
         FROM unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::text[]) AS r (id, kind, datacenter_id, name, info)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, vcenter_id = excluded.vcenter_id,
           datacenter_id = excluded.datacenter_id, name = excluded.name, last_seen_sec = excluded.last_seen_sec,
           removed_at_sec = NULL, info = excluded.info
         WHERE e.removed_at_sec IS NOT NULL
           OR (e.kind, e.vcenter_id, e.datacenter_id, e.name, e.info)
              IS DISTINCT FROM (excluded.kind, excluded.vcenter_id, excluded.datacenter_id, excluded.name, excluded.info)`,
        [vcenterId, now, send, column('kind'), column('datacenterId'), column('name'), column('info')],
      );
    });
    this.upserted.set(vcenterId, { generation, rows: written });
  }

  async saveStatus(status: CollectionStatus): Promise<void> {
    await this.write(async (client) => {
      await client.query(
        'INSERT INTO statuses (vcenter_id, status) VALUES ($1, $2) ON CONFLICT (vcenter_id) DO UPDATE SET status = excluded.status',
        [status.vcenterId, JSON.stringify(status)],
      );
    });
  }

  async statuses(): Promise<readonly CollectionStatus[]> {
    const { rows } = await this.query<{ status: string }>('SELECT status FROM statuses ORDER BY vcenter_id');
    return rows.map((row) => JSON.parse(row.status) as CollectionStatus);
  }

  async datacenters(options: ListOptions = {}): Promise<readonly StoredDatacenter[]> {
    const removed = options.includeRemoved === true ? '' : 'AND e.removed_at_sec IS NULL';
    const { rows } = await this.query<EntityRow>(
      `SELECT ${entityColumns} FROM ${entitiesWithSeen} WHERE e.datacenter_id IS NULL AND e.kind = 'datacenter' ${removed} ORDER BY e.name, e.id`,
    );
    return rows.map(toStored) as StoredDatacenter[];
  }

  async presentIds(datacenterId: string): Promise<Readonly<Partial<Record<EntityKind, readonly string[]>>>> {
    // Answered from the partial index entities_present, which holds kind and id.
    const { rows } = await this.query<{ kind: EntityKind; id: string }>(
      'SELECT kind, id FROM entities WHERE datacenter_id = $1 AND removed_at_sec IS NULL',
      [datacenterId],
    );
    const byKind: Partial<Record<EntityKind, string[]>> = {};
    for (const row of rows) (byKind[row.kind] ??= []).push(row.id);
    return byKind;
  }

  async clusters(datacenterId: string, options: ListOptions = {}): Promise<readonly StoredCluster[]> {
    return (await this.present(datacenterId, 'cluster', options)) as StoredCluster[];
  }

  async hosts(datacenterId: string, options: ListOptions = {}): Promise<readonly StoredHost[]> {
    return (await this.present(datacenterId, 'host', options)) as StoredHost[];
  }

  async vms(datacenterId: string, options: ListOptions = {}): Promise<readonly StoredVm[]> {
    return (await this.present(datacenterId, 'vm', options)) as StoredVm[];
  }

  async datastores(datacenterId: string, options: ListOptions = {}): Promise<readonly StoredDatastore[]> {
    return (await this.present(datacenterId, 'datastore', options)) as StoredDatastore[];
  }

  async entity(id: string): Promise<StoredEntity | null> {
    const { rows } = await this.query<EntityRow>(`SELECT ${entityColumns} FROM ${entitiesWithSeen} WHERE e.id = $1`, [id]);
    const row = rows[0];
    if (row === undefined) return null;
    // The API looks the same entities up over and over (every series request): parse each
    // stored version once. Entities are immutable values, so handing out the same one is safe.
    const known = this.parsed.get(id);
    if (known && known.info === row.info && known.lastSeenSec === row.last_seen_sec && known.removedAtSec === row.removed_at_sec) return known.entity;
    const entity = toStored(row);
    this.parsed.set(id, { info: row.info, lastSeenSec: row.last_seen_sec, removedAtSec: row.removed_at_sec, entity });
    return entity;
  }

  /** False while the database cannot answer (never throws). */
  async ping(): Promise<boolean> {
    try {
      const { rows } = await this.pool.query<{ ok: number }>('SELECT 1 AS ok');
      return rows[0]?.ok === 1;
    } catch {
      return false;
    }
  }

  /**
   * The shared counter every write of inventory, statuses or sample state bumps, in whatever
   * process. Answered from the last read for `dataVersionCacheMs` (synchronously), so that
   * calling it per request costs at most one primary-key read a second per process; this
   * process's own writes show at once.
   */
  dataVersion(): number | Promise<number> {
    const cached = this.version;
    if (cached !== null && this.monotonicMs() - cached.readMs < this.dataVersionCacheMs) return cached.value;
    this.pendingVersion ??= this.readVersion().finally(() => {
      this.pendingVersion = null;
    });
    return this.pendingVersion;
  }

  // ---- sessions

  async saveSession(session: StoredSession): Promise<void> {
    await this.query(
      `INSERT INTO sessions (id, username, vcenter_id, created_ms, last_seen_ms, scope_id, scope_checked_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (id) DO UPDATE SET username = excluded.username, vcenter_id = excluded.vcenter_id,
         created_ms = excluded.created_ms, last_seen_ms = excluded.last_seen_ms,
         scope_id = excluded.scope_id, scope_checked_ms = excluded.scope_checked_ms`,
      [session.id, session.username, session.vcenterId, session.createdMs, session.lastSeenMs, session.scopeId, session.scopeCheckedMs],
    );
  }

  async session(id: string): Promise<StoredSession | null> {
    const { rows } = await this.query<SessionRow>(
      'SELECT id, username, vcenter_id, created_ms, last_seen_ms, scope_id, scope_checked_ms FROM sessions WHERE id = $1',
      [id],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return {
      id: row.id,
      username: row.username,
      vcenterId: row.vcenter_id,
      createdMs: row.created_ms,
      lastSeenMs: row.last_seen_ms,
      scopeId: row.scope_id,
      scopeCheckedMs: row.scope_checked_ms,
    };
  }

  async touchSession(id: string, lastSeenMs: number): Promise<void> {
    await this.query('UPDATE sessions SET last_seen_ms = GREATEST(last_seen_ms, $2) WHERE id = $1', [id, lastSeenMs]);
  }

  async setSessionScope(id: string, scopeId: string, checkedMs: number): Promise<void> {
    await this.query('UPDATE sessions SET scope_id = $2, scope_checked_ms = $3 WHERE id = $1', [id, scopeId, checkedMs]);
  }

  async deleteSession(id: string): Promise<void> {
    await this.query('DELETE FROM sessions WHERE id = $1', [id]);
  }

  /**
   * As SessionStore says, except that a scope saved within `unusedScopeGraceSec` stays even if
   * no session uses it yet (another process is about to: see PostgresStoreOptions).
   */
  async deleteExpiredSessions(bounds: { readonly idleBeforeMs: number; readonly createdBeforeMs: number; readonly checkedBeforeMs: number }): Promise<number> {
    return this.transaction(async (client) => {
      const deleted = await client.query('DELETE FROM sessions WHERE last_seen_ms < $1 OR created_ms < $2 OR scope_checked_ms < $3', [
        bounds.idleBeforeMs,
        bounds.createdBeforeMs,
        bounds.checkedBeforeMs,
      ]);
      await client.query(
        `DELETE FROM scopes AS s
         WHERE NOT EXISTS (SELECT 1 FROM sessions WHERE scope_id = s.id)
           AND s.saved_at <= now() - make_interval(secs => $1)`,
        [this.unusedScopeGraceSec],
      );
      return deleted.rowCount ?? 0;
    });
  }

  /** Stores a scope; one already stored keeps its content (scopes are immutable) and is marked saved now. */
  async saveScope(scope: StoredScope): Promise<void> {
    await this.query(
      `INSERT INTO scopes (id, vcenter_id, readable, view_only) VALUES ($1, $2, $3, $4)
       ON CONFLICT (id) DO UPDATE SET saved_at = now()`,
      [scope.id, scope.vcenterId, JSON.stringify(scope.readable), JSON.stringify(scope.viewOnly)],
    );
  }

  async scope(id: string): Promise<StoredScope | null> {
    const { rows } = await this.query<{ id: string; vcenter_id: string; readable: string; view_only: string }>(
      'SELECT id, vcenter_id, readable, view_only FROM scopes WHERE id = $1',
      [id],
    );
    const row = rows[0];
    if (row === undefined) return null;
    return { id: row.id, vcenterId: row.vcenter_id, readable: JSON.parse(row.readable) as string[], viewOnly: JSON.parse(row.view_only) as string[] };
  }

  // ---- sample state

  async sampleStates(entityIds: readonly string[]): Promise<ReadonlyMap<string, EntitySampleState>> {
    const { rows } = await this.query<{ id: string; kind: EntityKind; high_water_sec: number | null; open_bucket_sec: number | null; open_bucket: Buffer | null }>(
      `SELECT e.id, e.kind, s.high_water_sec, s.open_bucket_sec, s.open_bucket
       FROM entities AS e LEFT JOIN sample_states AS s ON s.entity_id = e.id WHERE e.id = ANY ($1::text[])`,
      [[...entityIds]],
    );
    const found = new Map<string, EntitySampleState>();
    for (const row of rows) {
      const width = metricsByKind[row.kind].length;
      found.set(row.id, {
        entityId: row.id,
        kind: row.kind,
        highWaterSec: row.high_water_sec,
        openBucket:
          row.open_bucket_sec === null || row.open_bucket === null ? null : { startSec: row.open_bucket_sec, rollups: decodeBucket(row.open_bucket, width) },
      });
    }
    return found;
  }

  /** One statement for the whole list (all or nothing); a state listed twice: the newest mark, the last bucket. */
  async saveSampleStates(states: readonly EntitySampleState[]): Promise<void> {
    const merged = new Map<string, { highWaterSec: number | null; startSec: number | null; bucket: Buffer | null }>();
    for (const state of states) {
      const before = merged.get(state.entityId)?.highWaterSec ?? null;
      merged.set(state.entityId, {
        highWaterSec: before === null ? state.highWaterSec : state.highWaterSec === null ? before : Math.max(before, state.highWaterSec),
        startSec: state.openBucket?.startSec ?? null,
        bucket: state.openBucket === null ? null : encodeBucket(state.openBucket.rollups),
      });
    }
    if (merged.size === 0) return;
    const ids = [...merged.keys()].sort();
    const column = <K extends 'highWaterSec' | 'startSec' | 'bucket'>(key: K) => ids.map((id) => merged.get(id)?.[key] ?? null);
    await this.write(async (client) => {
      // Only entities of the inventory (the join); GREATEST ignores NULLs: a null mark keeps the
      // stored one, and a mark never moves back.
      await client.query(
        `INSERT INTO sample_states AS t (entity_id, high_water_sec, open_bucket_sec, open_bucket)
         SELECT s.id, s.high_water_sec, s.open_bucket_sec, s.open_bucket
         FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bytea[]) AS s (id, high_water_sec, open_bucket_sec, open_bucket)
         JOIN entities AS e ON e.id = s.id
         ON CONFLICT (entity_id) DO UPDATE SET high_water_sec = GREATEST(t.high_water_sec, excluded.high_water_sec),
           open_bucket_sec = excluded.open_bucket_sec, open_bucket = excluded.open_bucket`,
        [ids, column('highWaterSec'), column('startSec'), column('bucket')],
      );
    });
  }

  async highWaterMarks(vcenterId: string): Promise<ReadonlyMap<string, number>> {
    const { rows } = await this.query<{ id: string; high_water_sec: number }>(
      `SELECT s.entity_id AS id, s.high_water_sec FROM sample_states AS s JOIN entities AS e ON e.id = s.entity_id
       WHERE e.vcenter_id = $1 AND s.high_water_sec IS NOT NULL`,
      [vcenterId],
    );
    return new Map(rows.map((row) => [row.id, row.high_water_sec]));
  }

  // ---- failed logins

  async loginRetryAfterSec(key: string, window: LoginFailureWindow, nowMs: number): Promise<number> {
    checkWindow(window);
    const { rows } = await this.query<{ failures_ms: number[] }>('SELECT failures_ms FROM login_failures WHERE key = $1', [key]);
    return loginWaitSec(rows[0]?.failures_ms ?? [], window, nowMs);
  }

  /** One statement: keeps the key's newest `limit` failures within the window, the new one included. */
  async recordLoginFailure(key: string, window: LoginFailureWindow, nowMs: number): Promise<void> {
    checkWindow(window);
    await this.query(
      `INSERT INTO login_failures AS f (key, failures_ms, last_ms) VALUES ($1, ARRAY[$2::bigint], $2)
       ON CONFLICT (key) DO UPDATE SET
         failures_ms = ARRAY(
           SELECT t FROM (
             SELECT t FROM unnest(f.failures_ms || $2::bigint) AS t WHERE t > $2::bigint - $3::bigint ORDER BY t DESC LIMIT $4
           ) AS newest ORDER BY t),
         last_ms = GREATEST(f.last_ms, excluded.last_ms)`,
      [key, nowMs, window.windowMs, window.limit],
    );
  }

  async clearLoginFailures(key: string): Promise<void> {
    await this.query('DELETE FROM login_failures WHERE key = $1', [key]);
  }

  async pruneLoginFailures(beforeMs: number, maxKeys: number): Promise<number> {
    const { rows } = await this.query<{ gone: number }>(
      `WITH old AS (DELETE FROM login_failures WHERE last_ms <= $1 RETURNING 1),
       extra AS (
         DELETE FROM login_failures WHERE key IN (
           SELECT key FROM login_failures WHERE last_ms > $1 ORDER BY last_ms DESC, key OFFSET $2)
         RETURNING 1)
       SELECT (SELECT count(*) FROM old) + (SELECT count(*) FROM extra) AS gone`,
      [beforeMs, Math.max(0, Math.floor(maxKeys))],
    );
    return Number(rows[0]?.gone ?? 0);
  }

  // ---- collector leases

  /** One atomic statement: the insert, or the update that only an expired lease or its own holder allows. */
  async acquireLease(vcenterId: string, holderId: string, ttlSec: number, nowMs: number): Promise<boolean> {
    const ttlMs = leaseTtlMs(ttlSec);
    const { rows } = await this.query(
      `INSERT INTO collector_leases AS l (vcenter_id, holder_id, acquired_ms, expires_ms)
       VALUES ($1, $2, $3::bigint, $3::bigint + $4::bigint)
       ON CONFLICT (vcenter_id) DO UPDATE SET holder_id = excluded.holder_id,
         acquired_ms = CASE WHEN l.holder_id = excluded.holder_id THEN l.acquired_ms ELSE excluded.acquired_ms END,
         expires_ms = excluded.expires_ms
       WHERE l.holder_id = excluded.holder_id OR l.expires_ms <= excluded.acquired_ms
       RETURNING holder_id`,
      [vcenterId, holderId, nowMs, ttlMs],
    );
    return rows.length === 1;
  }

  async releaseLease(vcenterId: string, holderId: string): Promise<void> {
    await this.query('DELETE FROM collector_leases WHERE vcenter_id = $1 AND holder_id = $2', [vcenterId, holderId]);
  }

  async leases(): Promise<readonly CollectorLease[]> {
    const { rows } = await this.query<{ vcenter_id: string; holder_id: string; acquired_ms: number; expires_ms: number }>(
      'SELECT vcenter_id, holder_id, acquired_ms, expires_ms FROM collector_leases ORDER BY vcenter_id',
    );
    return rows.map((row) => ({ vcenterId: row.vcenter_id, holderId: row.holder_id, acquiredMs: row.acquired_ms, expiresMs: row.expires_ms }));
  }

  /** Closes every connection; later calls reject. Safe twice. */
  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  // ---- plumbing

  private async present(datacenterId: string, kind: EntityKind, options: ListOptions): Promise<StoredEntity[]> {
    const removed = options.includeRemoved === true ? '' : 'AND e.removed_at_sec IS NULL';
    const { rows } = await this.query<EntityRow>(
      `SELECT ${entityColumns} FROM ${entitiesWithSeen} WHERE e.datacenter_id = $1 AND e.kind = $2 ${removed} ORDER BY e.name, e.id`,
      [datacenterId, kind],
    );
    return rows.map(toStored);
  }

  private async readVersion(): Promise<number> {
    const stamp = this.versionStamp;
    const readMs = this.monotonicMs();
    const { rows } = await this.query<{ value: number }>("SELECT value FROM store_meta WHERE key = 'data_version'");
    const value = rows[0]?.value ?? 0;
    if (stamp === this.versionStamp) this.version = { value, readMs };
    return value;
  }

  /** One query on a pooled connection; connection failures become DatabaseUnavailableError. */
  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: readonly unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values === undefined ? undefined : [...values]);
    } catch (error) {
      throw this.failure(error);
    }
  }

  /** A transaction that changes shared data: bumps data_version last (the counter's row lock is held only until commit). */
  private async write(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const value = await this.transaction(async (client) => {
      await work(client);
      const { rows } = await client.query<{ value: number }>("UPDATE store_meta SET value = value + 1 WHERE key = 'data_version' RETURNING value");
      return rows[0]?.value ?? 0;
    });
    this.versionStamp++;
    this.version = { value, readMs: this.monotonicMs() };
  }

  private async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.failure(error);
    }
    // While checked out, the pool does not listen to the connection: an error between two
    // statements (the server going away) would otherwise be an uncaught 'error' event.
    let broken: unknown = null;
    const onError = (error: Error): void => {
      broken = error;
    };
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.removeListener('error', onError);
      client.release();
      return result;
    } catch (error) {
      // A statement the server refused leaves a usable connection once rolled back; anything
      // else (a lost or timed-out connection) is dropped from the pool.
      const refused = broken === null && error instanceof pg.DatabaseError && !isUnavailable(error);
      let reusable = false;
      if (refused) {
        try {
          await client.query('ROLLBACK');
          reusable = true;
        } catch {
          reusable = false;
        }
      }
      client.removeListener('error', onError);
      client.release(reusable ? undefined : true);
      throw this.failure(error);
    }
  }

  private failure(error: unknown): unknown {
    if (error instanceof DatabaseTooNewError || error instanceof DatabaseUnavailableError) return error;
    if (isUnavailable(error)) return new DatabaseUnavailableError(this.described, error);
    return error;
  }
}

/** One row per entity of the snapshot (the last one of an id listed twice); NICs in their host's datacenter. */
function inventoryRows(snapshot: InventorySnapshot): Map<string, InventoryRow> {
  const rows = new Map<string, InventoryRow>();
  const add = (id: string, kind: EntityKind, datacenterId: string | null, name: string, info: object): void => {
    rows.set(id, { kind, datacenterId, name, info: JSON.stringify(info) });
  };
  for (const dc of snapshot.datacenters) add(dc.id, 'datacenter', null, dc.name, dc);
  for (const cluster of snapshot.clusters) add(cluster.id, 'cluster', cluster.datacenterId, cluster.name, cluster);
  for (const host of snapshot.hosts) {
    add(host.id, 'host', host.datacenterId, host.name, host);
    for (const nic of host.nics) add(nic.id, 'nic', host.datacenterId, nic.device, nic);
  }
  for (const vm of snapshot.vms) add(vm.id, 'vm', vm.datacenterId, vm.name, vm);
  for (const ds of snapshot.datastores) add(ds.id, 'datastore', ds.datacenterId, ds.name, ds);
  return rows;
}

/** What a row holds besides its times, to tell whether it changed since this process wrote it. */
function fingerprint(row: InventoryRow): string {
  return `${row.kind}\u0000${row.datacenterId ?? ''}\u0000${row.name}\u0000${row.info}`;
}

function toStored(row: EntityRow): StoredEntity {
  const info = JSON.parse(row.info) as Omit<StoredEntity, 'firstSeenSec' | 'lastSeenSec' | 'removedAtSec'>;
  return { ...info, firstSeenSec: row.first_seen_sec, lastSeenSec: row.last_seen_sec, removedAtSec: row.removed_at_sec } as StoredEntity;
}

function checkWindow(window: LoginFailureWindow): void {
  if (!Number.isInteger(window.limit) || window.limit < 1 || !(window.windowMs > 0)) {
    throw new RangeError(`a login failure window needs an integer limit of at least 1 and a positive windowMs (got ${window.limit}, ${window.windowMs})`);
  }
}

function leaseTtlMs(ttlSec: number): number {
  if (!(ttlSec > 0) || !Number.isFinite(ttlSec)) throw new RangeError(`a lease lasts a positive, finite number of seconds (got ${ttlSec})`);
  return Math.round(ttlSec * 1000);
}
