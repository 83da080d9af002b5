/**
 * The whole of vscope for cross-layer tests: a simulator, and `startVscope` on it listening
 * on a free loopback port with SQLite in a temporary folder. One per test file; always stopped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { loadConfig, withVcenters } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import type { Collector } from '../../src/collector/collector.ts';
import { startVscope, type RunningVscope } from '../../src/main.ts';
import { startVcsim, type Vcsim, type VcsimOptions } from '../../src/simulator/vcsim.ts';

export const testLogin = { username: 'alice@vsphere.local', password: 'pa<ss>"word' } as const;

export interface Stack {
  readonly sim: Vcsim;
  readonly vscope: RunningVscope;
  /** vscope's collector (its worker thread); cycles run when a test asks. */
  readonly collector: Collector;
}

export interface StackHandle {
  readonly current: Stack;
  /**
   * Resolves once the stack runs and its first cycle is stored. Another `before` hook must
   * await it: node's runner does not wait for one root hook before starting the next.
   */
  readonly ready: Promise<Stack>;
}

/**
 * Starts the stack before the file's tests and runs one collection cycle (with the import).
 * @param env more VSCOPE_* settings for vscope (e.g. a shorter scope refresh), or a function
 *   giving them once the stack starts (e.g. the URLs of an engine started meanwhile)
 */
export function useStack(
  options: VcsimOptions = {},
  env: Readonly<Record<string, string>> | (() => Promise<Readonly<Record<string, string>>>) = {},
): StackHandle {
  let stack: Stack | undefined;
  let dataDir: string | undefined;
  let markReady: (value: Stack) => void = () => undefined;
  let markFailed: (reason: unknown) => void = () => undefined;
  const ready = new Promise<Stack>((resolve, reject) => {
    markReady = resolve;
    markFailed = reject;
  });
  // A failure is reported by the hook itself; this only keeps an unawaited `ready` quiet.
  ready.catch(() => undefined);
  const setUp = async (): Promise<Stack> => {
    const sim = await startVcsim({ ...testLogin, ...options });
    dataDir = mkdtempSync(join(tmpdir(), 'vscope-test-'));
    const more = typeof env === 'function' ? await env() : env;
    const base = await loadConfig({ env: { VSCOPE_DATA_DIR: dataDir, VSCOPE_LISTEN: '127.0.0.1:0', VSCOPE_LOG_LEVEL: 'silent', ...more } });
    const config = await withVcenters(base, [{ id: 'vcsim', url: sim.url, username: testLogin.username, password: testLogin.password }]);
    const vscope = await startVscope(config, createLogger(config.logLevel), { startCollector: false });
    if (vscope.collector === null) throw new Error('the stack runs a collector');
    stack = { sim, vscope, collector: vscope.collector };
    const results = await vscope.collector.runOnce();
    for (const result of results) {
      if (!result.ok || result.counts.datacenters === 0) throw new Error(`first collection failed: ${JSON.stringify(result)}`);
    }
    return stack;
  };
  before(async () => {
    try {
      markReady(await setUp());
    } catch (error) {
      markFailed(error);
      throw error;
    }
  });
  after(async () => {
    await stack?.vscope.stop();
    await stack?.sim.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return {
    ready,
    get current(): Stack {
      if (!stack) throw new Error('the stack is not running yet (use it inside a test)');
      return stack;
    },
  };
}
