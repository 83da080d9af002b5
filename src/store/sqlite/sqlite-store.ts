/**
 * The Store on an embedded SQLite file (better-sqlite3, synchronous). Schema in migrations.ts,
 * bucket encoding in bucket-codec.ts, rollup math in shared/rollup.ts: this file only moves
 * rows. Every write is one transaction, so a killed process leaves the last committed state
 * (WAL journal), and high-water marks move in the same transaction as the buckets they cover,
 * so a resumed collector never counts a sample twice.
 */
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { kindOfId } from '../../shared/entity-id.ts';
import type { EntityKind, InventorySnapshot } from '../../shared/inventory.ts';
import { metricsByKind, type MetricDef } from '../../shared/metrics.ts';
import { alignDown, bucketStarts, rollupAvg, sampleWeight, type Rollup } from '../../shared/rollup.ts';
import { bucketStart, tierRetentionSec, tiers, tierStepSec, type Tier } from '../../shared/tiers.ts';
import type { TimeWindow } from '../../shared/bucket-series.ts';
import type { VmSummaries } from '../../shared/vm-summary.ts';
import { accumulatorStride, addEncodedBucket, decodeBucket, encodeAccumulator, encodeBucket } from './bucket-codec.ts';
import { packedRows } from './packed-rows.ts';
import { migrations as knownMigrations, sampleTable, type Migration } from './migrations.ts';
import { coarseTiers, eachRowWithOpen, openStepSec, splitHalfHours, type OpenHalfHour } from './open-half-hour.ts';
import { SummaryBlocks, summaryBlocks } from './summary-blocks.ts';
import { loginWaitSec, maxRealtimeIntervalSec } from '../store.ts';
import type {
  CollectionStatus,
  LatestFigures,
  ListOptions,
  SampleBatch,
  SeriesData,
  SeriesQuery,
  SeriesWatermark,
  Store,
  StoredCluster,
  StoredDatacenter,
  StoredDatastore,
  StoredEntity,
  StoredHost,
  StoredScope,
  StoredSession,
  StoredVm,
  SessionStore,
  EntitySampleState,
  SampleStateStore,
  CollectorLease,
  CollectorLeaseStore,
  LoginFailureWindow,
  LoginLimiterStore,
  MergedBlocks,
} from '../store.ts';

/** Entities removed longer ago than this are deleted with their history: the 1-day tier's retention. */
export const removedEntityRetentionSec = tierRetentionSec['1d'];

/** Most buckets one series query may span; a guard against a year of 5-minute buckets. */
export const maxSeriesBuckets = 100_000;

export interface SqliteStoreOptions {
  readonly log?: Logger;
  /** Schema migrations, the shipped list by default. */
  readonly migrations?: readonly Migration[];
  /** VMs summarized at once when a block of VM summaries is made (summary-blocks.ts; default 500). */
  readonly summaryVmsPerGroup?: number;
}

/** Per-metric rollups of a range of buckets, as stored (sum and count included). */
export interface RollupSeries {
  readonly stepSec: number;
  readonly ts: readonly number[];
  readonly series: readonly { readonly metric: string; readonly rollups: readonly (Rollup | null)[] }[];
}

interface EntityRow {
  int_id: number;
  id: string;
  kind: EntityKind;
  first_seen_sec: number;
  last_seen_sec: number;
  removed_at_sec: number | null;
  high_water_sec: number | null;
  info: string;
}

interface EntityRowWithLatest extends EntityRow {
  latest_5m_sec: number | null;
  open_30m_sec: number | null;
  open_30m: Buffer | null;
}

/**
 * What a write needs to know of its entity (not its inventory JSON: read once per entity and
 * cycle): int_id, kind, high_water_sec, latest_5m_sec. Read as an array (better-sqlite3's
 * raw mode): a row object costs more to build than the statement to run (issue #12).
 */
type WriteTargetRow = [intId: number, kind: EntityKind, highWaterSec: number | null, latestSec: number | null, id: string, openSec: number | null, open: Buffer | null];

/** One entity's accumulators to add into a tier's stored buckets: bucket start -> accumulator. */
interface TierWrite {
  readonly intId: number;
  /** Metrics of the entity's kind. */
  readonly width: number;
  readonly vm: boolean;
  readonly buckets: ReadonlyMap<number, Float64Array>;
}

/**
 * An entity row as read: a present entity was last seen at its vCenter's last inventory
 * (migrations.ts, vcenterInventories), a removed one at the time stored when it was removed.
 */
const entityColumns = `e.int_id, e.id, e.kind, e.first_seen_sec,
  CASE WHEN e.removed_at_sec IS NULL THEN COALESCE(w.seen_sec, e.last_seen_sec) ELSE e.last_seen_sec END AS last_seen_sec,
  e.removed_at_sec, e.high_water_sec, e.info`;
const entitiesWithSeen = 'entities AS e LEFT JOIN vcenter_inventories AS w ON w.vcenter_id = e.vcenter_id';

/** Rows of one multi-row statement of the write path (SQLite allows 32,766 parameters). */
const maxRowsPerStatement = 200;

/** What saveInventory compares of a present entity row: kind, datacenter id, name, info JSON. */
type StoredFields = readonly [kind: EntityKind, datacenterId: string | null, name: string, info: string];

interface EntityUpsert {
  id: string;
  kind: EntityKind;
  vcenterId: string;
  datacenterId: string | null;
  name: string;
  info: string;
}

/** Thrown when the database was written by a newer vscope (it holds migrations we do not know). */
export class DatabaseTooNewError extends Error {
  readonly code = 'DATABASE_TOO_NEW';
  constructor(path: string, unknownIds: readonly string[]) {
    super(
      `The database ${path} was written by a newer version of vscope (unknown schema migrations: ` +
        `${unknownIds.join(', ')}). Upgrade vscope, or point it at another database file.`,
    );
    this.name = 'DatabaseTooNewError';
  }
}

/** Answers of entity lookups kept for one data version (SqliteStore.sameData). */
interface AnsweredAt {
  readonly version: number;
  readonly entities: Map<string, StoredEntity | null>;
  readonly watermarks: Map<string, SeriesWatermark | null>;
}

/** Lookups kept per data version at most, of each kind (unknown ids too: they are asked as well). */
const maxAnswersKept = 50_000;

/**
 * Opens (creating if needed) a vscope database and brings its schema up to date.
 * @param path file path, or `':memory:'` for a private in-memory database
 * @throws DatabaseTooNewError when the file holds migrations this version does not know
 */
export function openSqliteStore(path: string, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, options);
}

export class SqliteStore implements Store, SessionStore, SampleStateStore, LoginLimiterStore, CollectorLeaseStore {
  private readonly db: Database.Database;
  private readonly log: Logger | undefined;
  private readonly summaryVmsPerGroup: number | undefined;
  private readonly statements;
  /** Writes made through this connection (see dataVersion). */
  private writes = 0;
  /** SQLite's data_version as read in this turn of the event loop (see dataVersion). */
  private turnVersion: number | null = null;
  private readonly endTurn = (): void => {
    this.turnVersion = null;
  };
  /** Entities as last parsed by `entity`, with what they were parsed from. */
  private readonly parsed = new Map<string, { info: string; lastSeenSec: number; removedAtSec: number | null; entity: StoredEntity }>();
  /** What `entity` and `seriesWatermark` answered at one data version (see `sameData`). */
  private answered: AnsweredAt = { version: Number.NaN, entities: new Map(), watermarks: new Map() };
  /**
   * vCenter id -> entity id -> the fields this connection last wrote for it, in the last
   * inventory saved. While no other connection wrote, such a row is present (only
   * saveInventory marks rows removed, and it drops them from here) and unchanged: a cycle
   * moves its last_seen_sec and nothing else, instead of rewriting thousands of rows with
   * their inventory JSON.
   */
  private readonly upserted = new Map<string, Map<string, StoredFields>>();
  /** Accumulators of the write path, reused from entity to entity. */
  private readonly scratch = new Scratch();
  /** Every open half hour before this start was closed by this connection's writes (open-half-hour.ts). */
  private openClosedBefore = Number.NEGATIVE_INFINITY;
  /** Accumulators of a list of entities, reused from call to call. */
  private readonly pool = new AccumulatorPool();
  /** Multi-row statements of the write path, by shape. */
  private readonly multiRow = new Map<string, Database.Statement>();
  /** SQLite's data_version when `upserted` was filled: it changes on other connections' commits only. */
  private upsertedVersion: number | null = null;
  /** Per-VM block summaries (summary-blocks.ts), prepared when first used. */
  private summaries: SummaryBlocks | null = null;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.log = options.log;
    this.summaryVmsPerGroup = options.summaryVmsPerGroup;
    this.db = new Database(path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      this.db.pragma('foreign_keys = ON');
      this.db.pragma('busy_timeout = 5000');
      // 16 MiB of page cache (the default is 2 MiB). The bucket tables are keyed time first, so
      // a cycle's writes (one current bucket per entity and tier) and an import call's (one
      // tier's buckets for a few entities) each touch a few hundred adjacent pages. 64 MiB
      // was no faster at 5,000 VMs and filled up in the history import, adding ~60 MB of RSS.
      this.db.pragma('cache_size = -16384');
      migrate(this.db, path, options.migrations ?? knownMigrations, this.log);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.statements = this.prepare();
  }

  private prepare() {
    const db = this.db;
    const byTier = <T>(make: (table: string) => T): Record<Tier, T> =>
      Object.fromEntries(tiers.map((tier) => [tier, make(sampleTable(tier))])) as Record<Tier, T>;
    return {
      upsertEntity: db.prepare<EntityUpsert & { now: number }>(
        `INSERT INTO entities (id, kind, vcenter_id, datacenter_id, name, first_seen_sec, last_seen_sec, removed_at_sec, info)
         VALUES (@id, @kind, @vcenterId, @datacenterId, @name, @now, @now, NULL, @info)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, vcenter_id = excluded.vcenter_id,
           datacenter_id = excluded.datacenter_id, name = excluded.name,
           last_seen_sec = excluded.last_seen_sec, removed_at_sec = NULL, info = excluded.info`,
      ),
      presentRows: db
        .prepare<[string], [id: string, kind: EntityKind, datacenterId: string | null, name: string, info: string]>(
          'SELECT id, kind, datacenter_id, name, info FROM entities WHERE vcenter_id = ? AND removed_at_sec IS NULL',
        )
        .raw(),
      // When the vCenter's last inventory was taken: the last-seen time of its present entities
      // (migrations.ts, vcenterInventories).
      seenSec: db.prepare<[string], number>('SELECT seen_sec FROM vcenter_inventories WHERE vcenter_id = ?').pluck(),
      setSeenSec: db.prepare<[string, number]>(
        'INSERT INTO vcenter_inventories (vcenter_id, seen_sec) VALUES (?, ?) ON CONFLICT (vcenter_id) DO UPDATE SET seen_sec = excluded.seen_sec',
      ),
      // A removed entity was last seen by the inventory before (null: its row's time).
      markRemoved: db.prepare<{ vcenterId: string; now: number; ids: string; previousSec: number | null }>(
        `UPDATE entities SET removed_at_sec = @now, last_seen_sec = COALESCE(@previousSec, last_seen_sec)
         WHERE vcenter_id = @vcenterId AND removed_at_sec IS NULL
           AND id NOT IN (SELECT value FROM json_each(@ids))`,
      ),
      writeTarget: db.prepare<[string], WriteTargetRow>('SELECT int_id, kind, high_water_sec, latest_5m_sec, id, open_30m_sec, open_30m FROM entities WHERE id = ?').raw(),
      writeTargets: db
        .prepare<[string], WriteTargetRow>(
          'SELECT e.int_id, e.kind, e.high_water_sec, e.latest_5m_sec, e.id, e.open_30m_sec, e.open_30m FROM json_each(?) AS j JOIN entities AS e ON e.id = j.value',
        )
        .raw(),
      // Open half hours (open-half-hour.ts): of some entities, and of every entity before a time
      // (a scan of the entity rows, once per half hour).
      opensOf: db
        .prepare<[string], [intId: number, kind: EntityKind, startSec: number, data: Buffer]>(
          'SELECT e.int_id, e.kind, e.open_30m_sec, e.open_30m FROM json_each(?) AS j JOIN entities AS e ON e.id = j.value WHERE e.open_30m IS NOT NULL',
        )
        .raw(),
      opensBefore: db
        .prepare<[number], [intId: number, kind: EntityKind, startSec: number, data: Buffer]>(
          'SELECT int_id, kind, open_30m_sec, open_30m FROM entities WHERE open_30m_sec < ? AND open_30m IS NOT NULL',
        )
        .raw(),
      clearOpens: db.prepare<[string]>('UPDATE entities SET open_30m_sec = NULL, open_30m = NULL WHERE int_id IN (SELECT value FROM json_each(?))'),
      entityById: db.prepare<[string], EntityRowWithLatest>(
        `SELECT ${entityColumns}, e.latest_5m_sec, e.open_30m_sec, e.open_30m
         FROM ${entitiesWithSeen} WHERE e.id = ?`,
      ),
      // What series and rollups read of an entity: not its inventory, nor its last-seen time's join.
      seriesEntity: db.prepare<[string], { int_id: number; kind: EntityKind; open_30m_sec: number | null; open_30m: Buffer | null }>(
        'SELECT int_id, kind, open_30m_sec, open_30m FROM entities WHERE id = ?',
      ),
      // Through the partial index entities_present (datacenter_id, kind).
      presentIds: db.prepare<[string], { kind: EntityKind; id: string }>(
        'SELECT kind, id FROM entities WHERE datacenter_id = ? AND removed_at_sec IS NULL',
      ),
      saveSession: db.prepare<StoredSession>(
        `INSERT INTO sessions (id, username, vcenter_id, created_ms, last_seen_ms, scope_id, scope_checked_ms)
         VALUES (@id, @username, @vcenterId, @createdMs, @lastSeenMs, @scopeId, @scopeCheckedMs)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username, vcenter_id = excluded.vcenter_id,
           created_ms = excluded.created_ms, last_seen_ms = excluded.last_seen_ms,
           scope_id = excluded.scope_id, scope_checked_ms = excluded.scope_checked_ms`,
      ),
      session: db.prepare<[string], { id: string; username: string; vcenter_id: string; created_ms: number; last_seen_ms: number; scope_id: string; scope_checked_ms: number }>(
        'SELECT id, username, vcenter_id, created_ms, last_seen_ms, scope_id, scope_checked_ms FROM sessions WHERE id = ?',
      ),
      touchSession: db.prepare<[number, string]>('UPDATE sessions SET last_seen_ms = MAX(last_seen_ms, ?) WHERE id = ?'),
      setSessionScope: db.prepare<[string, number, string]>('UPDATE sessions SET scope_id = ?, scope_checked_ms = ? WHERE id = ?'),
      deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id = ?'),
      deleteExpiredSessions: db.prepare<[number, number, number]>(
        'DELETE FROM sessions WHERE last_seen_ms < ? OR created_ms < ? OR scope_checked_ms < ?',
      ),
      deleteUnusedScopes: db.prepare('DELETE FROM scopes WHERE id NOT IN (SELECT scope_id FROM sessions)'),
      saveScope: db.prepare<[string, string, string, string]>(
        'INSERT INTO scopes (id, vcenter_id, readable, view_only) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
      ),
      sampleStates: db.prepare<[string], { id: string; kind: EntityKind; high_water_sec: number | null; latest_5m_sec: number | null; latest_5m: Buffer | null }>(
        `SELECT e.id, e.kind, e.high_water_sec, e.latest_5m_sec, e.latest_5m
         FROM json_each(?) AS j JOIN entities AS e ON e.id = j.value`,
      ),
      saveSampleState: db.prepare<{ id: string; highWaterSec: number | null; latestSec: number | null; latest: Buffer | null }>(
        `UPDATE entities SET high_water_sec = MAX(COALESCE(high_water_sec, @highWaterSec), COALESCE(@highWaterSec, high_water_sec)),
           latest_5m_sec = @latestSec, latest_5m = @latest
         WHERE id = @id`,
      ),
      loginFailures: db.prepare<[string], { failures_ms: string }>('SELECT failures_ms FROM login_failures WHERE key = ?'),
      putLoginFailures: db.prepare<[string, string, number]>(
        `INSERT INTO login_failures (key, failures_ms, last_ms) VALUES (?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET failures_ms = excluded.failures_ms, last_ms = MAX(last_ms, excluded.last_ms)`,
      ),
      clearLoginFailures: db.prepare<[string]>('DELETE FROM login_failures WHERE key = ?'),
      pruneOldLoginFailures: db.prepare<[number]>('DELETE FROM login_failures WHERE last_ms <= ?'),
      pruneExtraLoginFailures: db.prepare<[number]>(
        'DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures ORDER BY last_ms DESC, key LIMIT -1 OFFSET ?)',
      ),
      // One statement: the insert, or the update that only a lapsed lease or its own holder allows.
      acquireLease: db.prepare<{ vcenterId: string; holderId: string; nowMs: number; ttlMs: number }, { holder_id: string }>(
        `INSERT INTO collector_leases AS l (vcenter_id, holder_id, acquired_ms, expires_ms)
         VALUES (@vcenterId, @holderId, @nowMs, @nowMs + @ttlMs)
         ON CONFLICT (vcenter_id) DO UPDATE SET holder_id = excluded.holder_id,
           acquired_ms = CASE WHEN l.holder_id = excluded.holder_id THEN l.acquired_ms ELSE excluded.acquired_ms END,
           expires_ms = excluded.expires_ms
         WHERE l.holder_id = excluded.holder_id OR l.expires_ms <= excluded.acquired_ms
         RETURNING holder_id`,
      ),
      releaseLease: db.prepare<[string, string]>('DELETE FROM collector_leases WHERE vcenter_id = ? AND holder_id = ?'),
      leases: db.prepare<[], { vcenter_id: string; holder_id: string; acquired_ms: number; expires_ms: number }>(
        'SELECT vcenter_id, holder_id, acquired_ms, expires_ms FROM collector_leases ORDER BY vcenter_id',
      ),
      scope: db.prepare<[string], { id: string; vcenter_id: string; readable: string; view_only: string }>(
        'SELECT id, vcenter_id, readable, view_only FROM scopes WHERE id = ?',
      ),
      presentEntities: db.prepare<{ datacenterId: string | null; kind: EntityKind }, EntityRow>(
        `SELECT ${entityColumns} FROM ${entitiesWithSeen}
         WHERE e.datacenter_id IS @datacenterId AND e.kind = @kind AND e.removed_at_sec IS NULL
         ORDER BY e.name, e.id`,
      ),
      allEntitiesOfKind: db.prepare<{ datacenterId: string | null; kind: EntityKind }, EntityRow>(
        `SELECT ${entityColumns} FROM ${entitiesWithSeen}
         WHERE e.datacenter_id IS @datacenterId AND e.kind = @kind
         ORDER BY e.name, e.id`,
      ),
      // The newest 5-minute bucket moves with the mark; a null @latestSec leaves it as it is.
      // The newest 5-minute bucket moves with the mark (both or neither); null leaves it as it is.
      setHighWater: db.prepare<[highWaterSec: number, latest: Buffer | null, latestSec: number | null, intId: number]>(
        'UPDATE entities SET high_water_sec = ?, latest_5m = COALESCE(?, latest_5m), latest_5m_sec = COALESCE(?, latest_5m_sec) WHERE int_id = ?',
      ),
      setLatest: db.prepare<[number, Buffer, number]>('UPDATE entities SET latest_5m_sec = ?, latest_5m = ? WHERE int_id = ?'),
      latestSec: db.prepare<[number], { latest_5m_sec: number | null }>('SELECT latest_5m_sec FROM entities WHERE int_id = ?'),
      forgetLatest: db.prepare<[number]>('UPDATE entities SET latest_5m_sec = NULL, latest_5m = NULL WHERE latest_5m_sec <= ?'),
      highWaterMarks: db.prepare<[string], { id: string; high_water_sec: number }>(
        'SELECT id, high_water_sec FROM entities WHERE vcenter_id = ? AND high_water_sec IS NOT NULL',
      ),
      expiredEntities: db.prepare<[number], { count: number }>(
        'SELECT COUNT(*) AS count FROM entities WHERE removed_at_sec IS NOT NULL AND removed_at_sec < ?',
      ),
      dropRemoved: db.prepare<[number]>(
        'DELETE FROM entities WHERE removed_at_sec IS NOT NULL AND removed_at_sec < ?',
      ),
      saveStatus: db.prepare<[string, string]>(
        `INSERT INTO statuses (vcenter_id, status) VALUES (?, ?)
         ON CONFLICT (vcenter_id) DO UPDATE SET status = excluded.status`,
      ),
      statuses: db.prepare<[], { status: string }>('SELECT status FROM statuses ORDER BY vcenter_id'),
      ping: db.prepare<[], { ok: number }>('SELECT 1 AS ok'),
      // Prepared once: `db.pragma()` prepares its statement on every call (3 against 10 µs, and
      // the API asks for the data version on most requests).
      dataVersion: db.prepare<[], number>('PRAGMA data_version').pluck(),
      bumpHistoryVersion: db.prepare("UPDATE store_meta SET value = value + 1 WHERE key = 'history_version'"),
      // One statement, so that the mark and the version belong to the same state.
      watermark: db.prepare<[string], { high_water_sec: number | null; history_version: number }>(
        `SELECT high_water_sec, (SELECT value FROM store_meta WHERE key = 'history_version') AS history_version
         FROM entities WHERE id = ?`,
      ),
      // Plucked: the BLOB itself, not a row object around it.
      bucket: byTier((table) => db.prepare<[number, number], Buffer>(`SELECT data FROM ${table} WHERE entity = ? AND bucket_sec = ?`).pluck()),
      // The buckets of many entities at one start (the key is time first: one seek per entity).
      bucketsAt: byTier((table) =>
        db.prepare<[number, string], [entity: number, data: Buffer]>(`SELECT entity, data FROM ${table} WHERE bucket_sec = ? AND entity IN (SELECT value FROM json_each(?))`).raw(),
      ),
      putBucket: byTier((table) =>
        db.prepare<[number, number, Buffer]>(
          `INSERT INTO ${table} (entity, bucket_sec, data) VALUES (?, ?, ?)
           ON CONFLICT (bucket_sec, entity) DO UPDATE SET data = excluded.data`,
        ),
      ),
      // One primary-key seek per bucket of the range (the key is time first); packed into one
      // BLOB by SQLite (packed-rows.ts) for `series`.
      rangePacked: byTier((table) =>
        db.prepare<[number, string], Buffer | null>(packedRows(`SELECT entity, bucket_sec, data FROM ${table} WHERE entity = ? AND bucket_sec IN (SELECT value FROM json_each(?))`)).pluck(),
      ),
      dropOld: byTier((table) => db.prepare<[number]>(`DELETE FROM ${table} WHERE bucket_sec <= ?`)),
      // A full scan, run only when some entity is due to go (rare: it left two years ago).
      dropExpiredBuckets: byTier((table) =>
        db.prepare<[number]>(
          `DELETE FROM ${table} WHERE entity IN
             (SELECT int_id FROM entities WHERE removed_at_sec IS NOT NULL AND removed_at_sec < ?)`,
        ),
      ),
      // One small row per entity: writes keep its newest 5-minute bucket beside it.
      latest: db.prepare<[string], { id: string; kind: EntityKind; bucket_sec: number | null; data: Buffer | null }>(
        `SELECT e.id, e.kind, e.latest_5m_sec AS bucket_sec, e.latest_5m AS data
         FROM json_each(?) AS j
         JOIN entities AS e ON e.id = j.value`,
      ),
    };
  }

  saveInventory(snapshot: InventorySnapshot): void {
    this.writes++;
    const { vcenterId, collectedAtSec: now } = snapshot;
    const rows: EntityUpsert[] = [];
    const add = (id: string, kind: EntityKind, datacenterId: string | null, name: string, info: object): void => {
      rows.push({ id, kind, vcenterId, datacenterId, name, info: JSON.stringify(info) });
    };
    for (const dc of snapshot.datacenters) add(dc.id, 'datacenter', null, dc.name, dc);
    for (const cluster of snapshot.clusters) add(cluster.id, 'cluster', cluster.datacenterId, cluster.name, cluster);
    for (const host of snapshot.hosts) {
      add(host.id, 'host', host.datacenterId, host.name, host);
      for (const nic of host.nics) add(nic.id, 'nic', host.datacenterId, nic.device, nic);
    }
    for (const vm of snapshot.vms) add(vm.id, 'vm', vm.datacenterId, vm.name, vm);
    for (const ds of snapshot.datastores) add(ds.id, 'datastore', ds.datacenterId, ds.name, ds);

    // Another connection's commit (a `vscope collect` beside `serve`) may have changed any row.
    const version = Number(this.statements.dataVersion.get());
    if (version !== this.upsertedVersion) this.upserted.clear();
    const after = new Map<string, StoredFields>();
    this.db.transaction(() => {
      // What is stored, when this connection did not write it last (a new process: every
      // `collect --once`): unchanged rows are not rewritten with their JSON (issue #12).
      const before = this.upserted.get(vcenterId) ?? this.presentRows(vcenterId);
      const previousSec = this.statements.seenSec.get(vcenterId) ?? null;
      const removed = this.statements.markRemoved.run({ vcenterId, now, ids: JSON.stringify(rows.map((row) => row.id)), previousSec });
      if (removed.changes > 0) this.log?.info({ vcenterId, removed: removed.changes }, 'entities no longer in the inventory');
      // Every entity still present was seen now: one row says so, not each entity's (a cycle
      // rewrote every entity row with its JSON). Only new or changed rows are written whole.
      this.statements.setSeenSec.run(vcenterId, now);
      for (const row of rows) {
        const fields: StoredFields = [row.kind, row.datacenterId, row.name, row.info];
        after.set(row.id, fields);
        const stored = before.get(row.id);
        const same = stored !== undefined && stored[3] === row.info && stored[2] === row.name && stored[1] === row.datacenterId && stored[0] === row.kind;
        if (!same) this.statements.upsertEntity.run({ ...row, now });
      }
    }).immediate();
    this.upserted.set(vcenterId, after);
    this.upsertedVersion = version;
  }

  /** The present rows of a vCenter, as saveInventory compares them. */
  private presentRows(vcenterId: string): Map<string, StoredFields> {
    const rows = new Map<string, StoredFields>();
    for (const [id, kind, datacenterId, name, info] of this.statements.presentRows.all(vcenterId)) rows.set(id, [kind, datacenterId, name, info]);
    return rows;
  }

  writeRealtime(batches: readonly SampleBatch[]): void {
    const longer = batches.find((batch) => batch.intervalSec > maxRealtimeIntervalSec);
    if (longer) {
      throw new RangeError(`realtime samples last at most ${String(maxRealtimeIntervalSec)} s (got ${String(longer.intervalSec)}): import longer ones with importHistorical`);
    }
    this.writes++;
    // Batches of distinct entities (what the collector writes) are written a list at a time:
    // a few statements per tier and call instead of ten per entity. Several batches of one
    // entity are written one after the other, each seeing what the one before wrote.
    const distinct = new Set(batches.map((batch) => batch.entityId)).size === batches.length;
    // Every writing transaction of this file is IMMEDIATE: it takes the write lock first (waiting
    // up to the busy timeout), because a deferred one that reads first fails with
    // SQLITE_BUSY_SNAPSHOT, not waiting, when another connection (the API's sessions, the
    // collector's worker) commits between its read and its first write.
    // The earliest VM sample: blocks of summaries made from then on are made again (rarely
    // any: a cycle writes after the blocks made, a collector back from an outage before).
    let earliest = Number.POSITIVE_INFINITY;
    for (const batch of batches) if (batch.kind === 'vm') for (const ts of batch.ts) earliest = Math.min(earliest, ts - batch.intervalSec);
    const closedBefore = this.openClosedBefore;
    try {
      this.db.transaction(() => {
        if (distinct) this.writeDistinct(batches);
        else this.writeOneByOne(batches);
        if (earliest !== Number.POSITIVE_INFINITY) this.vmSummaries().forgetFrom(earliest);
      }).immediate();
    } catch (error) {
      // Rolled back: the open half hours this write closed are open again.
      this.openClosedBefore = closedBefore;
      throw error;
    }
  }

  /** Samples past the mark, each timestamp once, in order: their indices and the newest timestamp. */
  private static accepted(batch: SampleBatch, highWaterSec: number | null): { indices: number[]; newest: number } {
    const indices: number[] = [];
    let newest = highWaterSec ?? Number.NEGATIVE_INFINITY;
    for (let index = 0; index < batch.ts.length; index++) {
      const ts = batch.ts[index] ?? Number.NEGATIVE_INFINITY;
      if (ts > newest) {
        indices.push(index);
        newest = ts;
      }
    }
    return { indices, newest };
  }

  private writeOneByOne(batches: readonly SampleBatch[]): void {
    // Rare (a caller's several batches of one entity): each entity's open half hour is closed
    // first, then every tier is written at once, as before open half hours.
    this.closeOpenHalfHours({ ids: [...new Set(batches.map((batch) => batch.entityId))] });
    const scratch = this.scratch;
    for (const batch of batches) {
      const entity = this.knownEntity(batch);
      if (entity === null) continue;
      const [intId, kind, highWaterSec, storedLatestSec] = entity;
      const metrics = metricsByKind[kind];
      const width = metrics.length;
      const { indices, newest } = SqliteStore.accepted(batch, highWaterSec);
      if (indices.length === 0) continue;
      scratch.reset();
      let finer: Map<number, Float64Array> | null = null;
      for (const tier of tiers) {
        finer = finer === null ? accumulate(batch, indices, metrics, tierStepSec[tier], scratch.buckets[tier], scratch.take) : rollUp(finer, tierStepSec[tier], width, scratch.buckets[tier], scratch.take);
      }
      let latestSec: number | null = null;
      let latest: Buffer | null = null;
      for (const tier of tiers) {
        for (const [startSec, acc] of scratch.buckets[tier]) {
          const existing = this.statements.bucket[tier].get(intId, startSec);
          if (existing) addEncodedBucket(existing, acc, width);
          const data = encodeAccumulator(acc, width);
          if (data === null) continue;
          this.statements.putBucket[tier].run(intId, startSec, data);
          if (tier === '5m' && startSec >= (latestSec ?? storedLatestSec ?? Number.NEGATIVE_INFINITY)) {
            latestSec = startSec;
            latest = data;
          }
        }
      }
      this.statements.setHighWater.run(newest, latest, latestSec, intId);
    }
  }

  /**
   * Batches of distinct entities: targets, stored buckets and writes a list at a time. The
   * 5-minute tier gets the samples; the coarse tiers get the half hours that close (see
   * open-half-hour.ts), the newest one staying open in the entity row.
   */
  private writeDistinct(batches: readonly SampleBatch[]): void {
    const targets = new Map<string, WriteTargetRow>();
    for (const row of this.statements.writeTargets.all(JSON.stringify(batches.map((batch) => batch.entityId)))) targets.set(row[4], row);
    const take = this.pool.reset();
    const pending: (TierWrite & {
      readonly newest: number;
      readonly storedLatestSec: number | null;
      readonly open: { readonly startSec: number; readonly data: Buffer } | null;
      latestSec: number | null;
      latest: Buffer | null;
    })[] = [];
    const closing: TierWrite[] = [];
    let newestHalfHour = Number.NEGATIVE_INFINITY;
    for (const batch of batches) {
      const entity = this.checkedTarget(batch, targets.get(batch.entityId));
      if (entity === null) continue;
      const [intId, kind, highWaterSec, storedLatestSec, , openSec, openData] = entity;
      const metrics = metricsByKind[kind];
      const width = metrics.length;
      const { indices, newest } = SqliteStore.accepted(batch, highWaterSec);
      if (indices.length === 0) continue;
      const fiveMinutes = accumulate(batch, indices, metrics, tierStepSec['5m'], new Map(), take);
      const halfHours = rollUp(fiveMinutes, openStepSec, width, new Map(), take);
      const stored = openSec !== null && openData !== null ? { startSec: openSec, data: openData } : null;
      const { open, closed } = splitHalfHours(halfHours, stored, width, take);
      const openEncoded = open === null ? null : encodeAccumulator(open.acc, width);
      if (open !== null) newestHalfHour = Math.max(newestHalfHour, open.startSec);
      if (closed.size > 0) closing.push({ intId, width, vm: kind === 'vm', buckets: closed });
      pending.push({
        intId,
        width,
        vm: kind === 'vm',
        buckets: fiveMinutes,
        newest,
        storedLatestSec,
        open: open === null || openEncoded === null ? null : { startSec: open.startSec, data: openEncoded },
        latestSec: null,
        latest: null,
      });
    }
    this.putBuckets('5m', pending, (p, startSec, data) => {
      if (startSec >= (p.latestSec ?? p.storedLatestSec ?? Number.NEGATIVE_INFINITY)) {
        p.latestSec = startSec;
        p.latest = data;
      }
    });
    this.putCoarse(closing, take);
    const marks: (number | Buffer | null)[] = [];
    for (const p of pending) marks.push(p.intId, p.newest, p.latestSec, p.latest, p.open?.startSec ?? null, p.open?.data ?? null);
    this.runInChunks(marks, 6, (count) => this.setHighWaters(count));
    // The samples reached a new half hour: every older open half hour closes (entities without
    // new samples; those written just now were split above).
    if (newestHalfHour > this.openClosedBefore) {
      this.closeOpenHalfHours({ beforeSec: newestHalfHour, skip: new Set(pending.map((p) => p.intId)) });
      this.openClosedBefore = newestHalfHour;
    }
  }

  /**
   * Closes open half hours into the coarse tiers (see open-half-hour.ts): of the entities given,
   * or of every entity whose open half hour starts before `beforeSec` (but those in `skip`).
   */
  private closeOpenHalfHours(which: { readonly ids: readonly string[] } | { readonly beforeSec: number; readonly skip: ReadonlySet<number> }): void {
    const rows = 'ids' in which ? this.statements.opensOf.all(JSON.stringify(which.ids)) : this.statements.opensBefore.all(which.beforeSec).filter(([intId]) => !which.skip.has(intId));
    if (rows.length === 0) return;
    const take = this.pool.reset();
    const closing = rows.map(([intId, kind, startSec, data]): TierWrite => {
      const width = metricsByKind[kind].length;
      const acc = take(width);
      addEncodedBucket(data, acc, width);
      return { intId, width, vm: kind === 'vm', buckets: new Map([[startSec, acc]]) };
    });
    this.putCoarse(closing, take);
    this.statements.clearOpens.run(JSON.stringify(rows.map(([intId]) => intId)));
  }

  /** Closed half hours (30-minute accumulators) added into the stored 30-minute, 2-hour and 1-day buckets. */
  private putCoarse(closing: readonly TierWrite[], take: (width: number) => Float64Array): void {
    if (closing.length === 0) return;
    // Every tier's accumulators are made before any is written: writing adds the stored bucket into them.
    let finer: readonly TierWrite[] = closing;
    const byTier = coarseTiers.map((tier) => {
      finer = tier === '30m' ? finer : finer.map((w) => ({ ...w, buckets: rollUp(w.buckets, tierStepSec[tier], w.width, new Map(), take) }));
      return [tier, finer] as const;
    });
    for (const [tier, writes] of byTier) this.putBuckets(tier, writes);
    const vmHalfHours: number[] = [];
    for (const w of closing) if (w.vm) vmHalfHours.push(...w.buckets.keys());
    this.forgetBlocksOf(vmHalfHours);
  }

  /** VM buckets were added into the coarse tiers in these half hours: the summary blocks holding them are made again. */
  private forgetBlocksOf(halfHours: Iterable<number>): void {
    const starts = [...halfHours];
    if (starts.length === 0) return;
    for (const tier of coarseTiers) this.vmSummaries().forget(tier, starts.map((startSec) => alignDown(startSec, tierStepSec[tier])));
  }

  /**
   * Adds each write's accumulators into the stored buckets of `tier` (read by bucket start, a
   * list of entities at a time) and stores the sums; `written` sees each bucket stored.
   */
  private putBuckets<W extends TierWrite>(tier: Tier, writes: readonly W[], written?: (write: W, startSec: number, data: Buffer) => void): void {
    // Bucket start -> the writes with a bucket there (one or two starts per tier and call).
    const byStart = new Map<number, W[]>();
    for (const w of writes) {
      for (const startSec of w.buckets.keys()) {
        const list = byStart.get(startSec);
        if (list) list.push(w);
        else byStart.set(startSec, [w]);
      }
    }
    const rows: (number | Buffer)[] = [];
    for (const [startSec, list] of byStart) {
      const stored = new Map<number, Buffer>();
      for (const [entity, data] of this.statements.bucketsAt[tier].all(startSec, JSON.stringify(list.map((w) => w.intId)))) stored.set(entity, data);
      for (const w of list) {
        const acc = w.buckets.get(startSec);
        if (acc === undefined) continue;
        const existing = stored.get(w.intId);
        if (existing) addEncodedBucket(existing, acc, w.width);
        const data = encodeAccumulator(acc, w.width);
        if (data === null) continue;
        rows.push(w.intId, startSec, data);
        written?.(w, startSec, data);
      }
    }
    this.runInChunks(rows, 3, (count) => this.upsertBuckets(tier, count));
  }

  /** Runs `statement(rows)` over `values` (`width` per row), at most `maxRowsPerStatement` rows a time. */
  private runInChunks(values: readonly unknown[], width: number, statement: (rows: number) => Database.Statement): void {
    const perStatement = maxRowsPerStatement * width;
    for (let i = 0; i < values.length; i += perStatement) {
      const chunk = values.slice(i, i + perStatement);
      statement(chunk.length / width).run(chunk);
    }
  }

  private upsertBuckets(tier: Tier, rows: number): Database.Statement {
    return this.cachedStatement(`put:${tier}:${String(rows)}`, () =>
      `INSERT INTO ${sampleTable(tier)} (entity, bucket_sec, data) VALUES ${Array.from({ length: rows }, () => '(?, ?, ?)').join(', ')}
       ON CONFLICT (bucket_sec, entity) DO UPDATE SET data = excluded.data`,
    );
  }

  private setHighWaters(rows: number): Database.Statement {
    // The newest 5-minute bucket moves with the mark (both or neither); null leaves it as it is.
    // The open half hour is replaced (null: none).
    return this.cachedStatement(`marks:${String(rows)}`, () =>
      `UPDATE entities SET high_water_sec = v.column2, latest_5m_sec = COALESCE(v.column3, latest_5m_sec), latest_5m = COALESCE(v.column4, latest_5m),
         open_30m_sec = v.column5, open_30m = v.column6
       FROM (VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?)').join(', ')}) AS v WHERE entities.int_id = v.column1`,
    );
  }

  private cachedStatement(key: string, sql: () => string): Database.Statement {
    let statement = this.multiRow.get(key);
    if (statement === undefined) {
      statement = this.db.prepare(sql());
      this.multiRow.set(key, statement);
    }
    return statement;
  }

  importHistorical(tier: Tier, batches: readonly SampleBatch[]): void {
    this.writes++;
    const stepSec = tierStepSec[tier];
    this.db.transaction(() => {
      this.statements.bumpHistoryVersion.run();
      // The import fills empty buckets only: the cycles' samples of a bucket must be in it first.
      if (tier !== '5m') this.closeOpenHalfHours({ ids: [...new Set(batches.map((batch) => batch.entityId))] });
      // Batches of one entity are gathered first, so that several batches of one call fill a
      // bucket together; buckets that already held something before the call are left alone.
      const gathered = new Map<number, { width: number; summarized: boolean; buckets: Map<number, Float64Array> }>();
      // Pooled: a year of daily buckets is thousands of accumulators per call, off the JS heap.
      const take = this.pool.reset();
      for (const batch of batches) {
        const entity = this.knownEntity(batch);
        if (entity === null) continue;
        const [intId, kind] = entity;
        const metrics = metricsByKind[kind];
        const into = gathered.get(intId) ?? { width: metrics.length, summarized: kind === 'vm' && summaryBlocks[tier] !== undefined, buckets: new Map<number, Float64Array>() };
        gathered.set(intId, into);
        accumulate(batch, null, metrics, stepSec, into.buckets, take);
      }
      for (const [intId, { width, summarized, buckets }] of gathered) {
        let latestSec = tier === '5m' ? (this.statements.latestSec.get(intId)?.latest_5m_sec ?? Number.NEGATIVE_INFINITY) : Infinity;
        const written: number[] = [];
        for (const [startSec, acc] of buckets) {
          if (this.statements.bucket[tier].get(intId, startSec)) continue;
          const data = encodeAccumulator(acc, width);
          if (data === null) continue;
          this.statements.putBucket[tier].run(intId, startSec, data);
          if (summarized) written.push(startSec);
          if (startSec > latestSec) {
            latestSec = startSec;
            this.statements.setLatest.run(startSec, data, intId);
          }
        }
        // The blocks a VM's buckets were written into are summarized again, whole.
        if (written.length > 0) this.vmSummaries().forget(tier, written);
      }
    }).immediate();
  }

  private vmSummaries(): SummaryBlocks {
    this.summaries ??= new SummaryBlocks(this.db, sampleTable, this.summaryVmsPerGroup);
    return this.summaries;
  }

  /**
   * Summarizes at most `maxBlocks` final blocks of the day's, the week's and the month's buckets
   * not summarized yet, every VM of each block at once (summary-blocks.ts).
   * @returns the blocks made
   */
  fillVmSummaries(nowSec: number, maxBlocks?: number): number {
    this.writes++;
    // Open half hours that samples no longer land in (they ended a realtime sample's length
    // ago, as final blocks did) are closed first: the blocks are made from the tables.
    const finalBefore = alignDown(nowSec - maxRealtimeIntervalSec, openStepSec);
    this.db.transaction(() => this.closeOpenHalfHours({ beforeSec: finalBefore, skip: new Set() })).immediate();
    return this.vmSummaries().fill(nowSec, maxBlocks);
  }

  vmSummariesOf(tier: Tier, ranges: readonly TimeWindow[], vms: readonly { readonly id: string; readonly numCpu: number }[]): ReadonlyMap<string, VmSummaries> {
    return this.vmSummaries().summarizeRanges(tier, ranges, vms);
  }

  mergedVmSummariesOf(tier: Tier, fromSec: number, toSec: number, vms: readonly { readonly id: string; readonly numCpu: number }[]): ReadonlyMap<string, MergedBlocks> {
    return this.vmSummaries().merged(tier, fromSec, toSec, vms);
  }

  highWaterMarks(vcenterId: string): ReadonlyMap<string, number> {
    return new Map(this.statements.highWaterMarks.all(vcenterId).map((row) => [row.id, row.high_water_sec]));
  }

  saveStatus(status: CollectionStatus): void {
    this.writes++;
    this.statements.saveStatus.run(status.vcenterId, JSON.stringify(status));
  }

  statuses(): readonly CollectionStatus[] {
    return this.statements.statuses.all().map((row) => JSON.parse(row.status) as CollectionStatus);
  }

  presentIds(datacenterId: string): Readonly<Partial<Record<EntityKind, readonly string[]>>> {
    const byKind: Partial<Record<EntityKind, string[]>> = {};
    for (const row of this.statements.presentIds.all(datacenterId)) (byKind[row.kind] ??= []).push(row.id);
    return byKind;
  }

  saveSession(session: StoredSession): void {
    this.statements.saveSession.run(session);
  }

  session(id: string): StoredSession | null {
    const row = this.statements.session.get(id);
    if (!row) return null;
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

  touchSession(id: string, lastSeenMs: number): void {
    this.statements.touchSession.run(lastSeenMs, id);
  }

  setSessionScope(id: string, scopeId: string, checkedMs: number): void {
    this.statements.setSessionScope.run(scopeId, checkedMs, id);
  }

  deleteSession(id: string): void {
    this.statements.deleteSession.run(id);
  }

  deleteExpiredSessions(bounds: { readonly idleBeforeMs: number; readonly createdBeforeMs: number; readonly checkedBeforeMs: number }): number {
    return this.db.transaction(() => {
      const { changes } = this.statements.deleteExpiredSessions.run(bounds.idleBeforeMs, bounds.createdBeforeMs, bounds.checkedBeforeMs);
      this.statements.deleteUnusedScopes.run();
      return changes;
    }).immediate();
  }

  sampleStates(entityIds: readonly string[]): ReadonlyMap<string, EntitySampleState> {
    const found = new Map<string, EntitySampleState>();
    for (const row of this.statements.sampleStates.all(JSON.stringify(entityIds))) {
      const width = metricsByKind[row.kind].length;
      found.set(row.id, {
        entityId: row.id,
        kind: row.kind,
        highWaterSec: row.high_water_sec,
        openBucket: row.latest_5m_sec === null || row.latest_5m === null ? null : { startSec: row.latest_5m_sec, rollups: decodeBucket(row.latest_5m, width) },
      });
    }
    return found;
  }

  saveSampleStates(states: readonly EntitySampleState[]): void {
    this.writes++;
    this.db.transaction(() => {
      for (const state of states) {
        this.statements.saveSampleState.run({
          id: state.entityId,
          highWaterSec: state.highWaterSec,
          latestSec: state.openBucket?.startSec ?? null,
          latest: state.openBucket === null ? null : encodeBucket(state.openBucket.rollups),
        });
      }
    }).immediate();
  }

  saveScope(scope: StoredScope): void {
    this.statements.saveScope.run(scope.id, scope.vcenterId, JSON.stringify(scope.readable), JSON.stringify(scope.viewOnly));
  }

  scope(id: string): StoredScope | null {
    const row = this.statements.scope.get(id);
    if (!row) return null;
    return { id: row.id, vcenterId: row.vcenter_id, readable: JSON.parse(row.readable) as string[], viewOnly: JSON.parse(row.view_only) as string[] };
  }

  loginRetryAfterSec(key: string, window: LoginFailureWindow, nowMs: number): number {
    checkWindow(window);
    const row = this.statements.loginFailures.get(key);
    return loginWaitSec(row ? (JSON.parse(row.failures_ms) as number[]) : [], window, nowMs);
  }

  /** Keeps the key's newest `limit` failures within the window, the new one included (read and write in one transaction). */
  recordLoginFailure(key: string, window: LoginFailureWindow, nowMs: number): void {
    checkWindow(window);
    this.db.transaction(() => {
      const row = this.statements.loginFailures.get(key);
      const before = row ? (JSON.parse(row.failures_ms) as number[]) : [];
      const kept = [...before, nowMs]
        .filter((atMs) => atMs > nowMs - window.windowMs)
        .sort((a, b) => a - b)
        .slice(-window.limit);
      this.statements.putLoginFailures.run(key, JSON.stringify(kept), nowMs);
    }).immediate();
  }

  clearLoginFailures(key: string): void {
    this.statements.clearLoginFailures.run(key);
  }

  pruneLoginFailures(beforeMs: number, maxKeys: number): number {
    return this.db.transaction(() => {
      const old = this.statements.pruneOldLoginFailures.run(beforeMs).changes;
      return old + this.statements.pruneExtraLoginFailures.run(Math.max(0, Math.floor(maxKeys))).changes;
    }).immediate();
  }

  acquireLease(vcenterId: string, holderId: string, ttlSec: number, nowMs: number): boolean {
    return this.statements.acquireLease.get({ vcenterId, holderId, nowMs, ttlMs: leaseTtlMs(ttlSec) }) !== undefined;
  }

  releaseLease(vcenterId: string, holderId: string): void {
    this.statements.releaseLease.run(vcenterId, holderId);
  }

  leases(): readonly CollectorLease[] {
    return this.statements.leases
      .all()
      .map((row) => ({ vcenterId: row.vcenter_id, holderId: row.holder_id, acquiredMs: row.acquired_ms, expiresMs: row.expires_ms }));
  }

  datacenters(options: ListOptions = {}): readonly StoredDatacenter[] {
    return this.present(null, 'datacenter', options) as StoredDatacenter[];
  }

  clusters(datacenterId: string, options: ListOptions = {}): readonly StoredCluster[] {
    return this.present(datacenterId, 'cluster', options) as StoredCluster[];
  }

  hosts(datacenterId: string, options: ListOptions = {}): readonly StoredHost[] {
    return this.present(datacenterId, 'host', options) as StoredHost[];
  }

  vms(datacenterId: string, options: ListOptions = {}): readonly StoredVm[] {
    return this.present(datacenterId, 'vm', options) as StoredVm[];
  }

  datastores(datacenterId: string, options: ListOptions = {}): readonly StoredDatastore[] {
    return this.present(datacenterId, 'datastore', options) as StoredDatastore[];
  }

  /**
   * The answers of `entity` and `seriesWatermark` since the data last changed: the API asks
   * for the same entity and mark on every series request, and while a collector writes, each
   * of its commits makes the next read of a row go to the file (SQLite drops a connection's
   * page cache when another one committed): ~45 µs a lookup at 5,000 VMs, against ~3 µs for
   * the data version. The version moves with this connection's writes at once, with another
   * connection's from the next turn of the event loop (see dataVersion).
   */
  private sameData(): AnsweredAt {
    const version = this.dataVersion();
    if (this.answered.version !== version) this.answered = { version, entities: new Map(), watermarks: new Map() };
    return this.answered;
  }

  entity(id: string): StoredEntity | null {
    const { entities } = this.sameData();
    const answered = entities.get(id);
    if (answered !== undefined) return answered;
    const entity = this.readEntity(id);
    if (entities.size < maxAnswersKept) entities.set(id, entity);
    return entity;
  }

  private readEntity(id: string): StoredEntity | null {
    const row = this.statements.entityById.get(id);
    if (!row) return null;
    // The API looks the same entities up over and over (every series request): parse each
    // stored version once. Entities are immutable values, so handing out the same one is safe.
    const known = this.parsed.get(id);
    if (known && known.info === row.info && known.lastSeenSec === row.last_seen_sec && known.removedAtSec === row.removed_at_sec) {
      return known.entity;
    }
    const entity = toStored(row);
    this.parsed.set(id, { info: row.info, lastSeenSec: row.last_seen_sec, removedAtSec: row.removed_at_sec, entity });
    return entity;
  }

  latest(entityIds: readonly string[]): ReadonlyMap<string, LatestFigures> {
    const found = new Map<string, LatestFigures>();
    for (const row of this.statements.latest.all(JSON.stringify(entityIds))) {
      const metrics = metricsByKind[row.kind];
      const rollups = row.data ? decodeBucket(row.data, metrics.length) : [];
      const values = Object.fromEntries(metrics.map((metric, i) => [metric.key, rollupAvg(rollups[i] ?? null)]));
      found.set(row.id, { bucketSec: row.bucket_sec, values });
    }
    for (const id of entityIds) {
      if (found.has(id)) continue;
      const kind = kindOfId(id);
      found.set(id, { bucketSec: null, values: Object.fromEntries((kind ? metricsByKind[kind] : []).map((metric) => [metric.key, null])) });
    }
    return found;
  }

  /**
   * What `series` and `rollups` read: the bucket starts, the entity's row (undefined when
   * unknown), its kind's metrics and the metrics asked for with their place in a bucket.
   * @throws RangeError when the range spans more than `maxSeriesBuckets` buckets
   */
  private seriesPlan(query: SeriesQuery) {
    const stepSec = tierStepSec[query.tier];
    if ((query.toSec - query.fromSec) / stepSec > maxSeriesBuckets) {
      throw new RangeError(`a series may span at most ${maxSeriesBuckets} buckets of ${stepSec} s: narrow the range or use a coarser tier`);
    }
    const ts = bucketStarts(query.fromSec, query.toSec, stepSec);
    const entity = this.statements.seriesEntity.get(query.entityId);
    const kind = entity?.kind ?? kindOfId(query.entityId);
    const metrics = kind ? metricsByKind[kind] : [];
    const wanted = query.metrics
      ? query.metrics.flatMap((key) => {
          const index = metrics.findIndex((metric) => metric.key === key);
          return index >= 0 ? [{ key, index }] : [];
        })
      : metrics.map((metric, index) => ({ key: metric.key, index }));
    // The entity's open half hour (open-half-hour.ts), for a coarse tier's bucket in the range.
    const opens = new Map<number, OpenHalfHour>();
    const first = ts[0];
    const last = ts.at(-1);
    if (entity?.open_30m_sec != null && entity.open_30m !== null && query.tier !== '5m' && first !== undefined && last !== undefined) {
      const bucketSec = alignDown(entity.open_30m_sec, stepSec);
      if (bucketSec >= first && bucketSec <= last) opens.set(entity.int_id, { startSec: entity.open_30m_sec, data: entity.open_30m });
    }
    return { stepSec, ts, entity, metrics, wanted, opens };
  }

  series(query: SeriesQuery): SeriesData {
    const { stepSec, ts, entity, wanted, opens } = this.seriesPlan(query);
    const columns = wanted.map(() => ({ avg: new Array<number | null>(ts.length).fill(null), min: new Array<number | null>(ts.length).fill(null), max: new Array<number | null>(ts.length).fill(null) }));
    const first = ts[0];
    if (entity && first !== undefined) {
      // Each row decoded flat (sum, count, min, max per metric), without an object per metric,
      // up to the last metric asked for.
      const decoded = wanted.reduce((most, { index }) => Math.max(most, index + 1), 0);
      const bucket = new Float64Array(decoded * accumulatorStride);
      eachRowWithOpen(this.statements.rangePacked[query.tier].get(entity.int_id, JSON.stringify(ts)) ?? null, opens, stepSec, (_entity, bucketSec, data) => {
        const position = (bucketSec - first) / stepSec;
        bucket.fill(0);
        addEncodedBucket(data, bucket, decoded);
        for (let c = 0; c < wanted.length; c++) {
          const column = columns[c];
          const at = (wanted[c]?.index ?? 0) * accumulatorStride;
          const count = bucket[at + 1] ?? 0;
          if (column === undefined || count === 0) continue;
          column.avg[position] = (bucket[at] ?? 0) / count;
          column.min[position] = bucket[at + 2] ?? null;
          column.max[position] = bucket[at + 3] ?? null;
        }
      });
    }
    return { stepSec, ts, series: wanted.map(({ key }, c) => ({ metric: key, avg: columns[c]?.avg ?? [], min: columns[c]?.min ?? [], max: columns[c]?.max ?? [] })) };
  }

  /**
   * Like `series`, with each bucket's rollup as stored: sum and count (in 20-second samples)
   * beside min and max. Unknown metric keys are left out; an unknown entity gives all nulls.
   * @throws RangeError when the range spans more than `maxSeriesBuckets` buckets
   */
  rollups(query: SeriesQuery): RollupSeries {
    const { stepSec, ts, entity, metrics, wanted, opens } = this.seriesPlan(query);
    const columns = wanted.map(() => new Array<Rollup | null>(ts.length).fill(null));
    const first = ts[0];
    if (entity && first !== undefined) {
      eachRowWithOpen(this.statements.rangePacked[query.tier].get(entity.int_id, JSON.stringify(ts)) ?? null, opens, stepSec, (_entity, bucketSec, data) => {
        const position = (bucketSec - first) / stepSec;
        const rollups = decodeBucket(data, metrics.length);
        wanted.forEach(({ index }, column) => {
          const target = columns[column];
          if (target) target[position] = rollups[index] ?? null;
        });
      });
    }
    return { stepSec, ts, series: wanted.map(({ key }, column) => ({ metric: key, rollups: columns[column] ?? [] })) };
  }

  applyRetention(nowSec: number): void {
    this.writes++;
    let dropped = 0;
    this.db.transaction(() => this.vmSummaries().applyRetention(nowSec)).immediate();
    // Buckets: one range at the start of each table (the key is time first).
    for (const tier of tiers) {
      // Keep every bucket that ends within the retention window.
      const lastDropped = nowSec - tierRetentionSec[tier] - tierStepSec[tier];
      this.db.transaction(() => {
        this.statements.bumpHistoryVersion.run();
        dropped += this.statements.dropOld[tier].run(lastDropped).changes;
        if (tier === '5m') this.statements.forgetLatest.run(lastDropped);
      }).immediate();
    }
    // Entities removed long ago, with whatever buckets they still have.
    const removedBefore = nowSec - removedEntityRetentionSec;
    let removed = 0;
    if ((this.statements.expiredEntities.get(removedBefore)?.count ?? 0) > 0) {
      this.db.transaction(() => {
        for (const tier of tiers) dropped += this.statements.dropExpiredBuckets[tier].run(removedBefore).changes;
        removed = this.statements.dropRemoved.run(removedBefore).changes;
      }).immediate();
    }
    this.log?.info({ droppedBuckets: dropped, droppedEntities: removed }, 'retention applied');
  }

  seriesWatermark(entityId: string): SeriesWatermark | null {
    const { watermarks } = this.sameData();
    const answered = watermarks.get(entityId);
    if (answered !== undefined) return answered;
    const row = this.statements.watermark.get(entityId);
    const watermark = row ? { historyVersion: row.history_version, highWaterSec: row.high_water_sec } : null;
    if (watermarks.size < maxAnswersKept) watermarks.set(entityId, watermark);
    return watermark;
  }

  /**
   * Changes whenever data changes: writes through this connection, at once, plus SQLite's
   * data_version, which moves when another connection (a collector in another process or
   * thread) commits. That one is read once per turn of the event loop: a request asks two or
   * three times (its entity, the series' watermark, a list's cache), and each read is a read
   * transaction of its own, with the WAL's locks (about a tenth of a series request's CPU
   * under load). So another connection's commit shows from the next turn on; PostgreSQL's
   * store caches its version for a window in the same way.
   */
  dataVersion(): number {
    if (this.turnVersion === null) {
      this.turnVersion = Number(this.statements.dataVersion.get());
      setImmediate(this.endTurn);
    }
    return this.writes + this.turnVersion;
  }


  ping(): boolean {
    try {
      return this.statements.ping.get()?.ok === 1;
    } catch {
      return false;
    }
  }

  close(): void {
    if (!this.db.open) return;
    this.db.pragma('optimize');
    this.db.close();
  }

  private present(datacenterId: string | null, kind: EntityKind, options: ListOptions): StoredEntity[] {
    const statement = options.includeRemoved === true ? this.statements.allEntitiesOfKind : this.statements.presentEntities;
    return statement.all({ datacenterId, kind }).map(toStored);
  }

  /** The stored entity a batch belongs to, or null (logged) when inventory never saw it. */
  private knownEntity(batch: SampleBatch): WriteTargetRow | null {
    return this.checkedTarget(batch, this.statements.writeTarget.get(batch.entityId));
  }

  /** `entity` when it is the stored entity of the batch's kind; else null, logged. */
  private checkedTarget(batch: SampleBatch, entity: WriteTargetRow | undefined): WriteTargetRow | null {
    if (!entity) {
      this.log?.warn({ entityId: batch.entityId }, 'samples for an entity not in the inventory: skipped');
      return null;
    }
    if (entity[1] !== batch.kind) {
      this.log?.warn({ entityId: batch.entityId, kind: batch.kind, stored: entity[1] }, 'samples of the wrong kind: skipped');
      return null;
    }
    return entity;
  }
}

/** Applies the schema migrations that are missing, refusing a database from a newer version. */
function migrate(db: Database.Database, path: string, list: readonly Migration[], log: Logger | undefined): void {
  db.exec('CREATE TABLE IF NOT EXISTS migrations (id TEXT PRIMARY KEY, applied_at_sec INTEGER NOT NULL)');
  db.transaction(() => {
    const applied = new Set(db.prepare<[], { id: string }>('SELECT id FROM migrations').all().map((row) => row.id));
    const known = new Set(list.map((migration) => migration.id));
    const unknown = [...applied].filter((id) => !known.has(id));
    if (unknown.length > 0) throw new DatabaseTooNewError(path, unknown);
    const record = db.prepare<[string, number]>('INSERT INTO migrations (id, applied_at_sec) VALUES (?, ?)');
    for (const migration of list) {
      if (applied.has(migration.id)) continue;
      db.exec(migration.sql);
      record.run(migration.id, Math.floor(Date.now() / 1000));
      log?.info({ migration: migration.id, path }, 'database migration applied');
    }
  }).immediate();
}

/**
 * Accumulators for one entity's buckets at a time (one map per tier, finest first), handed out
 * zeroed and taken back whole by `reset`: a cycle writes thousands of entities, each a few buckets.
 */
class Scratch {
  readonly buckets = Object.fromEntries(tiers.map((tier) => [tier, new Map<number, Float64Array>()])) as Record<Tier, Map<number, Float64Array>>;
  private readonly arrays: Float64Array[] = [];
  private used = 0;

  reset(): void {
    this.used = 0;
    for (const tier of tiers) this.buckets[tier].clear();
  }

  readonly take = (width: number): Float64Array => {
    const size = width * accumulatorStride;
    let acc = this.arrays[this.used];
    if (acc === undefined || acc.length < size) {
      acc = new Float64Array(Math.max(size, 16 * accumulatorStride));
      this.arrays[this.used] = acc;
    } else acc.fill(0, 0, size);
    this.used++;
    return acc;
  };
}

/**
 * Zeroed accumulators for one write call, taken back whole by the next call's `reset`; at most
 * `maxPooled` are kept (a call of thousands of entities allocates the rest).
 */
class AccumulatorPool {
  private static readonly maxPooled = 4096;
  private readonly arrays: Float64Array[] = [];
  private used = 0;

  /** Takes every accumulator back; returns the function that hands them out. */
  reset(): (width: number) => Float64Array {
    this.used = 0;
    return this.take;
  }

  private readonly take = (width: number): Float64Array => {
    const size = width * accumulatorStride;
    if (this.used >= AccumulatorPool.maxPooled) return new Float64Array(size);
    let acc = this.arrays[this.used];
    if (acc === undefined || acc.length < size) {
      acc = new Float64Array(Math.max(size, 16 * accumulatorStride));
      this.arrays[this.used] = acc;
    } else acc.fill(0, 0, size);
    this.used++;
    return acc;
  };
}

/**
 * Adds the samples at `indices` (every sample when null) into `into`: bucket start -> one
 * accumulator of `stepSec` (see bucket-codec.ts `accumulatorStride`), created as needed, in
 * the order the samples come. Returns `into`.
 */
function accumulate(
  batch: SampleBatch,
  indices: readonly number[] | null,
  metrics: readonly MetricDef[],
  stepSec: number,
  into: Map<number, Float64Array>,
  take: (width: number) => Float64Array,
): Map<number, Float64Array> {
  const weight = sampleWeight(batch.intervalSec);
  if (!(weight > 0)) return into;
  const columns = metrics.map((metric) => batch.values[metric.key]);
  const width = metrics.length;
  const count = indices === null ? batch.ts.length : indices.length;
  for (let k = 0; k < count; k++) {
    const index = indices === null ? k : (indices[k] ?? 0);
    const ts = batch.ts[index];
    if (ts === undefined) continue;
    const startSec = bucketStart(ts, batch.intervalSec, stepSec);
    let acc = into.get(startSec);
    if (acc === undefined) {
      acc = take(width);
      into.set(startSec, acc);
    }
    for (let m = 0; m < width; m++) {
      const value = columns[m]?.[index] ?? null;
      if (value === null || !Number.isFinite(value)) continue;
      const at = m * accumulatorStride;
      if (acc[at + 1] === 0) {
        acc[at] = value * weight;
        acc[at + 1] = weight;
        acc[at + 2] = value;
        acc[at + 3] = value;
      } else {
        acc[at] = (acc[at] ?? 0) + value * weight;
        acc[at + 1] = (acc[at + 1] ?? 0) + weight;
        acc[at + 2] = Math.min(acc[at + 2] ?? value, value);
        acc[at + 3] = Math.max(acc[at + 3] ?? value, value);
      }
    }
  }
  return into;
}

/** Merges buckets, in their order, into the coarser buckets of `stepSec` that hold them (`into`, accumulators from `take`). */
function rollUp(
  finer: ReadonlyMap<number, Float64Array>,
  stepSec: number,
  width: number,
  into: Map<number, Float64Array>,
  take: (width: number) => Float64Array,
): Map<number, Float64Array> {
  const coarser = into;
  const size = width * accumulatorStride;
  for (const [startSec, from] of finer) {
    const start = Math.floor(startSec / stepSec) * stepSec;
    const acc = coarser.get(start);
    if (acc === undefined) {
      const copy = take(width);
      copy.set(from.subarray(0, size));
      coarser.set(start, copy);
      continue;
    }
    for (let m = 0; m < width; m++) {
      const at = m * accumulatorStride;
      const count = from[at + 1] ?? 0;
      if (count === 0) continue;
      if (acc[at + 1] === 0) {
        acc.set(from.subarray(at, at + accumulatorStride), at);
      } else {
        acc[at] = (acc[at] ?? 0) + (from[at] ?? 0);
        acc[at + 1] = (acc[at + 1] ?? 0) + count;
        acc[at + 2] = Math.min(acc[at + 2] ?? 0, from[at + 2] ?? 0);
        acc[at + 3] = Math.max(acc[at + 3] ?? 0, from[at + 3] ?? 0);
      }
    }
  }
  return coarser;
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

function toStored(row: EntityRow): StoredEntity {
  const info = JSON.parse(row.info) as Omit<StoredEntity, 'firstSeenSec' | 'lastSeenSec' | 'removedAtSec'>;
  return { ...info, firstSeenSec: row.first_seen_sec, lastSeenSec: row.last_seen_sec, removedAtSec: row.removed_at_sec } as StoredEntity;
}
