/**
 * The PostgreSQL schema, as a dated, append-only list of migrations (the same approach as
 * sqlite/migrations.ts, its own list: the two schemas differ in types and have no samples here).
 * Each runs once, in order, inside the transaction that records it in the `migrations` table,
 * under a transaction-level advisory lock so that processes starting together apply it once.
 * Never edit or reorder an entry that has shipped: append a new one.
 *
 * Times are BIGINT unix seconds (or epoch ms where the column says `_ms`). Text that lists are
 * ordered by (names, ids) is COLLATE "C": byte order, as SQLite's, whatever the database's
 * default collation (often en_US, which would put `alpha` before `Beta`).
 */

export interface PostgresMigration {
  /** `YYYY-MM-DD-what`, unique; the order of the list is the order of application. */
  readonly id: string;
  readonly sql: string;
}

/*
 * One `entities` table for every kind, as in SQLite: the inventory fields are only read whole,
 * so they live in a TEXT column of JSON (not JSONB: nothing queries inside it, and JSONB would
 * be parsed on every write and re-serialized on every read); the columns SQL filters on are real
 * and indexed.
 *
 * A cycle does not rewrite every row: PostgreSQL writes a whole new row version for any
 * update, so a cycle that only moved every entity's last_seen_sec would rewrite 5,000 rows of
 * inventory JSON. Instead `vcenter_inventories.seen_sec` is when the vCenter's last inventory
 * was taken, which is the last-seen time of each of its present entities (SQLite does the same
 * since its migration 2026-12-01-vcenter-inventories); `entities.last_seen_sec` counts only once the entity is
 * removed (it is set then to the last inventory that had it). `generation` moves with every
 * inventory saved, so a process knows whether the rows are still as it last wrote them and may
 * send only the rows that changed.
 *
 * The sample state (high-water mark, open 5-minute bucket in the bucket codec's bytes) is
 * written every cycle, so it lives in its own narrow table rather than on the wide entity row.
 *
 * `store_meta.data_version` is bumped in the same transaction as every write of inventory,
 * statuses or sample state: readers in every process cache by it.
 */
const inventory = `
CREATE TABLE entities (
  id TEXT COLLATE "C" PRIMARY KEY,
  kind TEXT NOT NULL,
  vcenter_id TEXT NOT NULL,
  datacenter_id TEXT,
  name TEXT COLLATE "C" NOT NULL,
  first_seen_sec BIGINT NOT NULL,
  last_seen_sec BIGINT NOT NULL,
  removed_at_sec BIGINT,
  info TEXT NOT NULL
);
CREATE INDEX entities_present ON entities (datacenter_id, kind, name, id) WHERE removed_at_sec IS NULL;
CREATE INDEX entities_by_datacenter ON entities (datacenter_id, kind);
CREATE INDEX entities_by_vcenter ON entities (vcenter_id);
CREATE INDEX entities_removed ON entities (removed_at_sec) WHERE removed_at_sec IS NOT NULL;
CREATE TABLE vcenter_inventories (
  vcenter_id TEXT PRIMARY KEY,
  generation BIGINT NOT NULL,
  seen_sec BIGINT NOT NULL
);
CREATE TABLE sample_states (
  entity_id TEXT COLLATE "C" PRIMARY KEY REFERENCES entities (id) ON DELETE CASCADE,
  high_water_sec BIGINT,
  open_bucket_sec BIGINT,
  open_bucket BYTEA
) WITH (fillfactor = 50);
CREATE TABLE statuses (
  vcenter_id TEXT COLLATE "C" PRIMARY KEY,
  status TEXT NOT NULL
);
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value BIGINT NOT NULL
);
INSERT INTO store_meta (key, value) VALUES ('data_version', 0);
`;

/*
 * Sessions and the content-addressed scopes they see (shared/visibility.ts); a session row holds
 * the hash of its token, never the token. `saved_at` (the database's clock) lets a sweep spare a
 * scope that a login or refresh in another process saved a moment ago and is about to use.
 */
const sessions = `
CREATE TABLE scopes (
  id TEXT PRIMARY KEY,
  vcenter_id TEXT NOT NULL,
  readable TEXT NOT NULL,
  view_only TEXT NOT NULL,
  saved_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  vcenter_id TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  last_seen_ms BIGINT NOT NULL,
  scope_id TEXT NOT NULL REFERENCES scopes (id),
  scope_checked_ms BIGINT NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX sessions_scope ON sessions (scope_id);
`;

/* The failed-login limiter: one row per key, its newest failures (at most the limit), ascending. */
const loginFailures = `
CREATE TABLE login_failures (
  key TEXT PRIMARY KEY,
  failures_ms BIGINT[] NOT NULL,
  last_ms BIGINT NOT NULL
);
CREATE INDEX login_failures_last ON login_failures (last_ms);
`;

/* Who collects each vCenter, until when (store.ts CollectorLeaseStore). */
const collectorLeases = `
CREATE TABLE collector_leases (
  vcenter_id TEXT COLLATE "C" PRIMARY KEY,
  holder_id TEXT NOT NULL,
  acquired_ms BIGINT NOT NULL,
  expires_ms BIGINT NOT NULL
);
`;

export const postgresMigrations: readonly PostgresMigration[] = [
  { id: '2026-12-01-inventory', sql: inventory },
  { id: '2026-12-01-sessions', sql: sessions },
  { id: '2026-12-01-login-failures', sql: loginFailures },
  { id: '2026-12-01-collector-leases', sql: collectorLeases },
];
