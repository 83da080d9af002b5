/**
 * A vCenter that refuses the collector's login, beside one that accepts it: the refused one
 * records why (without the password) and backs off; the other is collected.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { createCollector } from '../src/collector/collector.ts';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.ts';
import { VsphereClient } from '../src/vsphere/client.ts';
import { useVcsim } from './support/vcsim.ts';

const sim = useVcsim({ username: 'reader', password: 'right-password', vmsPerPool: 1, hostsPerCluster: 1 });

void test('wrong credentials fail that vCenter only, with a reason and no password in the logs', async () => {
  const store = openSqliteStore(':memory:');
  const lines: string[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) });
  const collector = createCollector({
    store,
    vcenters: [
      { id: 'good', url: sim.current.url, username: 'reader', password: 'right-password' },
      { id: 'bad', url: sim.current.url, username: 'reader', password: 'wrong-password' },
    ],
    intervalSec: 120,
    log,
  });
  try {
    const results = await collector.runOnce();
    const good = results.find((r) => r.vcenterId === 'good');
    const bad = results.find((r) => r.vcenterId === 'bad');
    assert.equal(good?.ok, true, good?.error ?? '');
    assert.equal(good?.counts.hosts, 2); // one clustered, one standalone
    assert.equal(bad?.ok, false);
    assert.match(bad?.error ?? '', /login/i);
    const statuses = store.statuses();
    assert.equal(statuses.find((s) => s.vcenterId === 'bad')?.lastError, bad?.error);
    assert.equal(statuses.find((s) => s.vcenterId === 'good')?.lastError, null);
    const status = collector.status().find((s) => s.vcenterId === 'bad');
    assert.equal(status?.consecutiveFailures, 1);
    assert.ok(lines.length > 0);
    for (const line of lines) {
      assert.ok(!line.includes('wrong-password') && !line.includes('right-password'), `password in log line: ${line}`);
    }
  } finally {
    await collector.stop();
    store.close();
  }
});

void test('the configured page size reaches the vSphere client the collector opens', async () => {
  const store = openSqliteStore(':memory:');
  const pageSizes: (number | undefined)[] = [];
  const collector = createCollector({
    store,
    vcenters: [{ id: 'paged', url: sim.current.url, username: 'reader', password: 'right-password', pageSize: 7 }],
    intervalSec: 120,
    log: pino({ level: 'silent' }),
    tuning: { importHistory: false },
    connect: (options) => {
      pageSizes.push(options.pageSize);
      return VsphereClient.connect(options);
    },
  });
  try {
    const [result] = await collector.runOnce();
    assert.equal(result?.ok, true, result?.error ?? '');
    assert.deepEqual(pageSizes, [7]);
  } finally {
    await collector.stop();
    store.close();
  }
});
