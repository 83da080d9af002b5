/**
 * The shared-state contract suites (src/store/contract) on a real PostgreSQL 15
 * (test/support/postgres.ts): a fresh database per test, and a second store with its own pool
 * as another process would open it. dataVersion is read uncached (cacheMs 0) and unused scopes
 * have no grace, so that the answers are those of the contract at once; the cache and the grace
 * have their own tests in postgres-store.test.ts.
 */
import { usePostgres } from '../../../test/support/postgres.ts';
import { sharedStateContracts } from '../contract/index.ts';
import { openPostgresStore, type PostgresStore, type PostgresStoreOptions } from './postgres-store.ts';

const postgres = usePostgres();

sharedStateContracts('PostgreSQL', async () => {
  const server = postgres.current;
  const database = await server.createDatabase();
  const options: PostgresStoreOptions = { url: server.urlOf(database), password: server.password, poolSize: 4, dataVersionCacheMs: 0, unusedScopeGraceSec: 0 };
  const store = await openPostgresStore(options);
  const others: PostgresStore[] = [];
  return {
    store,
    other: async () => {
      const opened = await openPostgresStore(options);
      others.push(opened);
      return opened;
    },
    close: async () => {
      await Promise.all([store, ...others].map((opened) => opened.close()));
      await server.admin(`DROP DATABASE ${database}`, [], 'postgres');
    },
  };
});
