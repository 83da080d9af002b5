/**
 * The shared-state contract suites (src/store/contract) on SQLite: a fresh database file per
 * test, and a second connection to that file as another process would open it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { sharedStateContracts } from '../contract/index.ts';
import { openSqliteStore, type SqliteStore } from './sqlite-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'vscope-sqlite-contract-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

sharedStateContracts('SQLite', async () => {
  const path = join(dir, `contract-${++files}.db`);
  const store = openSqliteStore(path);
  const others: SqliteStore[] = [];
  return Promise.resolve({
    store,
    other: () => {
      const opened = openSqliteStore(path);
      others.push(opened);
      return Promise.resolve(opened);
    },
    close: () => {
      for (const opened of others) opened.close();
      store.close();
      rmSync(path, { force: true });
      rmSync(`${path}-wal`, { force: true });
      rmSync(`${path}-shm`, { force: true });
      return Promise.resolve();
    },
  });
});
