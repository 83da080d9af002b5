/**
 * The database schema, as a dated, append-only list of migrations. Each runs once, in order,
 * inside the transaction that records it in the `migrations` table. Never edit or reorder an
 * entry that has shipped: append a new one.
 */
import { tiers, type Tier } from '../../shared/tiers.ts';

export interface Migration {
  /** `YYYY-MM-DD-what`, unique; the order of the list is the order of application. */
  readonly id: string;
  readonly sql: string;
}

/** Name of the bucket table of a tier: `samples_5m`, `samples_30m`, `samples_2h`, `samples_1d`. */
export function sampleTable(tier: Tier): string {
  return `samples_${tier}`;
}

/*
 * Why one `entities` table rather than one table per kind: the inventory fields are only ever
 * read whole (a view lists every field of every VM), never filtered inside SQL, so they live in
 * a JSON column; the columns SQL does filter on (id, kind, vCenter, datacenter, removal) are
 * real, indexed columns shared by all kinds. One table keeps upsert, removal, un-removal and
 * retention one code path, and gives every entity of any kind one INTEGER key for the sample
 * tables (a 14-character text id repeated in millions of bucket rows would double their size).
 *
 * Sample tables: one per tier, one row per (entity, bucket) carrying all of the kind's metrics
 * in one BLOB (bucket-codec.ts). WITHOUT ROWID makes the primary key the table itself: no
 * hidden rowid, no second b-tree. (Their key order changed in 2026-11-28-samples-time-first.)
 */
const initialSchema = `
CREATE TABLE entities (
  int_id INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  vcenter_id TEXT NOT NULL,
  datacenter_id TEXT,
  name TEXT NOT NULL,
  first_seen_sec INTEGER NOT NULL,
  last_seen_sec INTEGER NOT NULL,
  removed_at_sec INTEGER,
  -- End of the newest realtime sample stored; NULL before the first one.
  high_water_sec INTEGER,
  info TEXT NOT NULL
);
CREATE INDEX entities_present ON entities (datacenter_id, kind) WHERE removed_at_sec IS NULL;
CREATE INDEX entities_by_vcenter ON entities (vcenter_id);
CREATE INDEX entities_removed ON entities (removed_at_sec) WHERE removed_at_sec IS NOT NULL;
${tiers
  .map(
    (tier) => `CREATE TABLE ${sampleTable(tier)} (
  entity INTEGER NOT NULL REFERENCES entities (int_id) ON DELETE CASCADE,
  bucket_sec INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (entity, bucket_sec)
) WITHOUT ROWID;`,
  )
  .join('\n')}
CREATE TABLE statuses (
  vcenter_id TEXT PRIMARY KEY,
  status TEXT NOT NULL
);
`;

/*
 * The newest 5-minute bucket of each entity, kept beside its high-water mark (the entity row is
 * updated on every write anyway): the 5,000-VM table reads one small row per VM instead of
 * seeking into the large 5-minute table.
 */
const latestBucket = `
ALTER TABLE entities ADD COLUMN latest_5m_sec INTEGER;
ALTER TABLE entities ADD COLUMN latest_5m BLOB;
UPDATE entities SET
  latest_5m_sec = (SELECT MAX(bucket_sec) FROM samples_5m WHERE entity = entities.int_id),
  latest_5m = (SELECT data FROM samples_5m WHERE entity = entities.int_id ORDER BY bucket_sec DESC LIMIT 1);
`;

/*
 * Sample tables keyed time first, (bucket_sec, entity). Every collection cycle updates the
 * current bucket of every entity in every tier: keyed entity first, those rows sit one page per
 * entity and tier (20,000 pages, 80 MB of write-ahead log per cycle at 5,000 VMs); keyed time
 * first, they sit together in a few hundred pages at the end of each table. A series then
 * seeks one row per bucket (bucket_sec IN (...), entity), and retention deletes one range at
 * the start of each table. No foreign key: with the entity second in the key, enforcing it
 * would need an index of its own; retention deletes the buckets of dropped entities itself.
 */
const timeFirst = tiers
  .map((tier) => {
    const table = sampleTable(tier);
    return `
CREATE TABLE ${table}_by_time (
  bucket_sec INTEGER NOT NULL,
  entity INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (bucket_sec, entity)
) WITHOUT ROWID;
INSERT INTO ${table}_by_time (bucket_sec, entity, data) SELECT bucket_sec, entity, data FROM ${table} ORDER BY bucket_sec, entity;
DROP TABLE ${table};
ALTER TABLE ${table}_by_time RENAME TO ${table};`;
  })
  .join('\n');

/*
 * A counter readers use to cache series: it moves whenever a write may change buckets other
 * than an entity's newest ones (history import, retention). Realtime writes leave it alone:
 * they only touch buckets at or after the entity's high-water mark (see Store.seriesWatermark).
 */
const historyVersion = `
CREATE TABLE store_meta (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO store_meta (key, value) VALUES ('history_version', 0);
`;

/*
 * Sessions and what each one may see, so that any process serving a session enforces the
 * same set (shared/visibility.ts). A session row holds the hash of its token, never the token.
 * Scopes are content-addressed and immutable; sessions that see the same set share one.
 */
const sessions = `
CREATE TABLE scopes (
  id TEXT PRIMARY KEY,
  vcenter_id TEXT NOT NULL,
  readable TEXT NOT NULL,
  view_only TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  vcenter_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  scope_id TEXT NOT NULL REFERENCES scopes (id),
  scope_checked_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_scope ON sessions (scope_id);
`;

/*
 * The failed-login limiter, shared by the front ends (store.ts LoginLimiterStore): one row per
 * key with its newest failures (at most the limit), a JSON array of epoch ms, ascending.
 */
const loginFailures = `
CREATE TABLE login_failures (
  key TEXT PRIMARY KEY,
  failures_ms TEXT NOT NULL,
  last_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX login_failures_last ON login_failures (last_ms);
`;

/* Who collects each vCenter, until when (store.ts CollectorLeaseStore). */
const collectorLeases = `
CREATE TABLE collector_leases (
  vcenter_id TEXT PRIMARY KEY,
  holder_id TEXT NOT NULL,
  acquired_ms INTEGER NOT NULL,
  expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
`;

/*
 * Per-VM, per-day summaries of the week's and the month's buckets (replaced by summaryBlockSets), and the
 * days made.
 */
const daySummaries = `
CREATE TABLE vm_day_summaries (
  tier TEXT NOT NULL,
  day_sec INTEGER NOT NULL,
  entity INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (tier, entity, day_sec)
) WITHOUT ROWID;
CREATE TABLE summary_days (
  tier TEXT NOT NULL,
  day_sec INTEGER NOT NULL,
  PRIMARY KEY (tier, day_sec)
) WITHOUT ROWID;
`;

/*
 * The VM summaries as one row per tier and block of buckets holding every VM's
 * (summary-blocks.ts): a row per VM and day cost more to read than the summaries saved. The old
 * rows are dropped; the collector makes the blocks again after its next cycle.
 */
const summaryBlockSets = `
DROP TABLE vm_day_summaries;
DROP TABLE summary_days;
CREATE TABLE vm_summary_blocks (
  tier TEXT NOT NULL,
  block_sec INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (tier, block_sec)
);
`;

/*
 * Each entity's open half hour (open-half-hour.ts): the realtime samples of its newest
 * 30-minute bucket, added into the 30-minute, 2-hour and 1-day tiers when it closes instead of
 * at every cycle. Rows written before hold none: their samples are in the tiers already.
 */
const openHalfHour = `
ALTER TABLE entities ADD COLUMN open_30m_sec INTEGER;
ALTER TABLE entities ADD COLUMN open_30m BLOB;
`;

/*
 * When each vCenter's last inventory was taken: the last-seen time of its present entities. A
 * cycle rewrote every entity row (with its inventory JSON) only to move last_seen_sec, which
 * now counts only once an entity is removed (set then to the last inventory that had it), as in
 * PostgreSQL (postgres/migrations.ts).
 */
const vcenterInventories = `
CREATE TABLE vcenter_inventories (
  vcenter_id TEXT PRIMARY KEY,
  seen_sec INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO vcenter_inventories (vcenter_id, seen_sec)
  SELECT vcenter_id, MAX(last_seen_sec) FROM entities WHERE removed_at_sec IS NULL GROUP BY vcenter_id;
`;

export const migrations: readonly Migration[] = [
  { id: '2026-11-28-initial', sql: initialSchema },
  { id: '2026-11-28-latest-5m', sql: latestBucket },
  { id: '2026-11-28-samples-time-first', sql: timeFirst },
  { id: '2026-11-28-history-version', sql: historyVersion },
  { id: '2026-12-01-sessions', sql: sessions },
  { id: '2026-12-01-login-failures', sql: loginFailures },
  { id: '2026-12-01-collector-leases', sql: collectorLeases },
  { id: '2026-12-01-day-summaries', sql: daySummaries },
  { id: '2026-12-01-summary-blocks', sql: summaryBlockSets },
  { id: '2026-12-01-open-half-hour', sql: openHalfHour },
  { id: '2026-12-01-vcenter-inventories', sql: vcenterInventories },
];
