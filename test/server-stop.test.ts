/**
 * Stopping `vscope serve` (startVscope's stop, what SIGTERM runs) while a browser holds a
 * socket it preconnected and never sent a request on: such a socket is neither idle nor in a
 * request, and held the close for the server's request timeout (minutes) before.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, withVcenters } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { startVscope } from '../src/main.ts';
import { startVcsim } from '../src/simulator/vcsim.ts';

void test('stop() ends, cutting a connection that never sent a request', async () => {
  const sim = await startVcsim({ datacenters: 1, clusters: 1, hostsPerCluster: 1, vmsPerPool: 1, datastores: 1 });
  const dataDir = mkdtempSync(join(tmpdir(), 'vscope-stop-'));
  try {
    const base = await loadConfig({ env: { VSCOPE_DATA_DIR: dataDir, VSCOPE_LISTEN: '127.0.0.1:0', VSCOPE_LOG_LEVEL: 'silent' } });
    const config = await withVcenters(base, [{ id: 'vcsim', url: sim.url, username: 'u', password: 'p' }]);
    const vscope = await startVscope(config, createLogger(config.logLevel), { startCollector: false });
    const { port } = new URL(vscope.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    // A guard against the hang this test is about, not a timing measure.
    let guard: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([vscope.stop().then(() => true), new Promise<false>((resolve) => (guard = setTimeout(() => resolve(false), 30_000)))]);
    clearTimeout(guard);
    socket.destroy();
    assert.equal(stopped, true, 'stop() returned while the idle socket was open');
    await closed;
  } finally {
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
