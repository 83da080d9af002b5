/**
 * What only several processes on one PostgreSQL show (the contract suites cover the answers):
 * two stores with their own pools see each other's writes, migrations run once when several
 * stores open together, a store survives the database's restart, and the password never shows.
 * On a real PostgreSQL 15 (test/support/postgres.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { usePostgres } from '../../../test/support/postgres.ts';
import { paris, vc1, vc1Snapshot, vmBeta } from '../contract/fixtures.ts';
import { entityId } from '../../shared/entity-id.ts';
import type { VmInfo } from '../../shared/inventory.ts';
import { postgresMigrations } from './migrations.ts';
import { DatabaseTooNewError, DatabaseUnavailableError, openPostgresStore, type PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

const postgres = usePostgres();

/** Options for a store on a fresh database of the test server. */
async function freshDatabase(extra: Partial<PostgresStoreOptions> = {}): Promise<PostgresStoreOptions> {
  const server = postgres.current;
  const database = await server.createDatabase();
  return { url: server.urlOf(database), password: server.password, poolSize: 3, ...extra };
}

/** The database name at the end of a test URL. */
function databaseOf(url: string): string {
  return url.slice(url.lastIndexOf('/') + 1);
}

function capture(): { log: pino.Logger; lines: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  return {
    log: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }),
    lines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

async function closeAll(stores: readonly PostgresStore[]): Promise<void> {
  await Promise.all(stores.map((store) => store.close()));
}

void describe('PostgreSQL store across processes', () => {
  void it('two stores with their own pools see each other\'s writes; dataVersion is cached for its window, own writes show at once', async () => {
    let clockMs = 0;
    const options = await freshDatabase({ monotonicMs: () => clockMs });
    const front = await openPostgresStore(options);
    const collector = await openPostgresStore(options);
    try {
      const start = await front.dataVersion();
      assert.equal(typeof front.dataVersion(), 'number', 'within the window, answered synchronously from the cache');
      await collector.saveInventory(vc1Snapshot(1000));
      assert.equal((await front.entity(vmBeta))?.lastSeenSec, 1000, 'the other pool\'s write is read at once');
      assert.equal(await front.dataVersion(), start, 'the version is cached for its window...');
      clockMs += 1000;
      const moved = await front.dataVersion();
      assert.notEqual(moved, start, '...and read again after it');
      // This store's own write shows at once, and the other store sees it after its window.
      const collectorBefore = await collector.dataVersion();
      await front.saveStatus({
        vcenterId: vc1, lastStartSec: 1, lastEndSec: 2, lastDurationMs: 1000, lastSuccessSec: 2, lastError: null,
        counts: { datacenters: 0, clusters: 0, hosts: 0, vms: 0, datastores: 0, nics: 0, samples: 0 }, import: { state: 'done', entitiesDone: 0, entitiesTotal: 0 },
      });
      assert.notEqual(await front.dataVersion(), moved);
      clockMs += 1000;
      assert.notEqual(await collector.dataVersion(), collectorBefore);
      assert.deepEqual((await collector.statuses()).map((status) => status.vcenterId), [vc1]);
    } finally {
      await closeAll([front, collector]);
    }
  });

  void it('applies the migrations once when four stores open at the same moment on an empty database', async () => {
    const options = await freshDatabase();
    const { log, lines } = capture();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openPostgresStore({ ...options, log })));
    try {
      const applied = await postgres.current.admin<{ id: string }>('SELECT id FROM migrations ORDER BY applied_at_sec, id', [], databaseOf(options.url));
      assert.deepEqual(applied.map((row) => row.id).sort(), postgresMigrations.map((migration) => migration.id).sort());
      const logged = lines().filter((line) => line['msg'] === 'database migration applied');
      assert.deepEqual(logged.map((line) => line['migration']), postgresMigrations.map((migration) => migration.id), 'each once, in order');
      for (const store of stores) assert.equal(await store.ping(), true);
    } finally {
      await closeAll(stores);
    }
  });

  void it('applies a migration appended later, once, and refuses a database from a newer version', async () => {
    const options = await freshDatabase();
    const database = databaseOf(options.url);
    await (await openPostgresStore(options)).close();
    const later = [...postgresMigrations, { id: '2099-12-01-notes', sql: 'CREATE TABLE notes (id BIGINT PRIMARY KEY); CREATE INDEX notes_id ON notes (id);' }];
    await (await openPostgresStore({ ...options, migrations: later })).close();
    await (await openPostgresStore({ ...options, migrations: later })).close();
    const rows = await postgres.current.admin<{ id: string }>("SELECT id FROM migrations WHERE id LIKE '2099%'", [], database);
    assert.deepEqual(rows.map((row) => row.id), ['2099-12-01-notes']);
    await assert.rejects(openPostgresStore(options), (error: unknown) => {
      assert.ok(error instanceof DatabaseTooNewError);
      assert.match(error.message, /2099-12-01-notes/);
      assert.match(error.message, new RegExp(`postgres://vscope@127\\.0\\.0\\.1:${postgres.current.port}/${database}`));
      return true;
    });
  });

  void it('survives a restart of the database: calls fail while it is down, then work again without reopening', async () => {
    const server = postgres.current;
    const { log, lines } = capture();
    const options = await freshDatabase({ log, dataVersionCacheMs: 0, connectTimeoutMs: 2000 });
    const front = await openPostgresStore(options);
    const collector = await openPostgresStore(options);
    try {
      await collector.saveInventory(vc1Snapshot(1000));
      // Several idle connections in each pool, which the shutdown closes under them.
      await Promise.all([front.vms(paris), front.entity(vmBeta), front.presentIds(paris), collector.statuses(), collector.entity(vmBeta)]);
      const before = await front.dataVersion();
      await server.stop();
      assert.equal(await front.ping(), false);
      await assert.rejects(front.entity(vmBeta), (error: unknown) => {
        assert.ok(error instanceof DatabaseUnavailableError, String(error));
        assert.match(error.message, /PostgreSQL at postgres:\/\/vscope@127\.0\.0\.1:\d+\/vscope_test_\d+ is unavailable/);
        assert.ok(!error.message.includes(server.password), 'no password in the message');
        return true;
      });
      await assert.rejects(collector.saveInventory(vc1Snapshot(2000)), DatabaseUnavailableError);
      await server.start();
      // The same stores, no reopening.
      assert.equal(await front.ping(), true);
      assert.equal((await front.entity(vmBeta))?.lastSeenSec, 1000, 'the failed write left nothing');
      await collector.saveInventory(vc1Snapshot(3000));
      assert.equal((await front.entity(vmBeta))?.lastSeenSec, 3000);
      assert.notEqual(await front.dataVersion(), before);
      assert.ok(lines().some((line) => line['msg'] === 'an idle PostgreSQL connection was lost; the pool opens a new one when needed'), 'idle connections\' errors are handled');
      assert.ok(!JSON.stringify(lines()).includes(server.password), 'no password in the logs');
    } finally {
      if (!server.running) await server.start();
      await closeAll([front, collector]);
    }
  });

  void it('never shows the password: a wrong one, and one inside the URL', async () => {
    const server = postgres.current;
    const secret = 'not-the-password-7f3a';
    await assert.rejects(openPostgresStore({ url: server.url, password: secret }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /password authentication failed for user "vscope"/);
      assert.ok(!error.message.includes(secret) && !String(error.stack).includes(secret));
      return true;
    });
    const inUrl = `postgres://vscope:${encodeURIComponent(server.password)}@127.0.0.1:${server.port}/vscope`;
    const store = await openPostgresStore({ url: inUrl });
    try {
      assert.equal(await store.ping(), true, 'a password inside the URL is used');
      assert.equal(store.described, `postgres://vscope@127.0.0.1:${server.port}/vscope`);
    } finally {
      await store.close();
    }
    // Nothing listens on this port: the refusal names the URL without the password.
    const closedPort = `postgres://vscope:${secret}@127.0.0.1:1/vscope`;
    await assert.rejects(openPostgresStore({ url: closedPort, connectTimeoutMs: 1000 }), (error: unknown) => {
      assert.ok(error instanceof DatabaseUnavailableError);
      assert.match(error.message, /postgres:\/\/vscope@127\.0\.0\.1:1\/vscope is unavailable \(.*ECONNREFUSED/);
      assert.ok(!error.message.includes(secret));
      return true;
    });
  });

  void it('spares a scope no session uses yet for the grace period (another process is about to use it)', async () => {
    const options = await freshDatabase();
    const store = await openPostgresStore(options);
    try {
      await store.saveScope({ id: 'fresh', vcenterId: vc1, readable: [vmBeta], viewOnly: [] });
      assert.equal(await store.deleteExpiredSessions({ idleBeforeMs: 0, createdBeforeMs: 0, checkedBeforeMs: 0 }), 0);
      assert.notEqual(await store.scope('fresh'), null, 'saved a moment ago: kept');
      // Saved longer ago than the grace: swept. (The database's clock, moved back by hand.)
      await postgres.current.admin("UPDATE scopes SET saved_at = now() - interval '301 seconds'", [], databaseOf(options.url));
      await store.deleteExpiredSessions({ idleBeforeMs: 0, createdBeforeMs: 0, checkedBeforeMs: 0 });
      assert.equal(await store.scope('fresh'), null);
    } finally {
      await store.close();
    }
  });

  void it('keeps at most `limit` failures per key', async () => {
    const options = await freshDatabase();
    const store = await openPostgresStore(options);
    try {
      for (let i = 0; i < 20; i++) await store.recordLoginFailure('user:eve', { limit: 4, windowMs: 60_000 }, 1_000_000 + i);
      const [row] = await postgres.current.admin<{ failures_ms: string[] }>("SELECT failures_ms FROM login_failures WHERE key = 'user:eve'", [], databaseOf(options.url));
      assert.deepEqual(row?.failures_ms.map(Number), [1_000_016, 1_000_017, 1_000_018, 1_000_019]);
    } finally {
      await store.close();
    }
  });

  void it('saves an inventory of 5,000 VMs in a few statements, with removals and returns', async () => {
    const store = await openPostgresStore(await freshDatabase());
    try {
      const many: VmInfo[] = Array.from({ length: 5000 }, (_, i) => ({
        ...(vc1Snapshot(0).vms[0] as VmInfo),
        id: entityId('vm', vc1, `vm-${1000 + i}`),
        moRef: `vm-${1000 + i}`,
        name: `vm-${String(i).padStart(4, '0')}`,
      }));
      await store.saveInventory(vc1Snapshot(1000, { parisVms: many }));
      assert.equal((await store.vms(paris)).length, 5000);
      await store.saveInventory(vc1Snapshot(2000, { parisVms: many.slice(100) }));
      assert.equal((await store.presentIds(paris)).vm?.length, 4900);
      assert.equal((await store.entity(many[0]?.id ?? ''))?.removedAtSec, 2000);
      await store.saveInventory(vc1Snapshot(3000, { parisVms: many }));
      const back = await store.entity(many[0]?.id ?? '');
      assert.deepEqual([back?.removedAtSec, back?.firstSeenSec, back?.lastSeenSec], [null, 1000, 3000]);
      assert.deepEqual((await store.vms(paris)).slice(0, 2).map((v) => v.name), ['vm-0000', 'vm-0001']);
    } finally {
      await store.close();
    }
  });
});
