/**
 * Real Prometheus-compatible engines for tests: Debian's `prometheus` (2.42) and
 * `victoria-metrics` (1.79) binaries, each started as a plain child process on a free loopback
 * port with its own temporary data folder (never as a system service), and removed afterwards.
 *
 * `const engine = useEngine('prometheus')` inside a test file starts one before the file's tests
 * and always removes it after them; `startEngine` is the same without the hooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { ensureEngines } from './ensure-engines.ts';

export type EngineKind = 'prometheus' | 'victoria-metrics';

export const engineKinds: readonly EngineKind[] = ['prometheus', 'victoria-metrics'];

/** Where Debian installs each engine, and the package that brings it. */
const binaries: Readonly<Record<EngineKind, { readonly path: string; readonly pkg: string }>> = {
  prometheus: { path: '/usr/bin/prometheus', pkg: 'prometheus' },
  'victoria-metrics': { path: '/usr/bin/victoria-metrics', pkg: 'victoria-metrics' },
};

export interface EngineOptions {
  /**
   * Prometheus only: `storage.tsdb.out_of_order_time_window`, a Prometheus duration.
   * Default `800d`, so that vCenter's year of history (and the 731 days vscope keeps) is accepted.
   */
  readonly outOfOrderWindow?: string;
  /** Retention, in days (`--storage.tsdb.retention.time` / `-retentionPeriod`). Default 800. */
  readonly retentionDays?: number;
  /**
   * VictoriaMetrics only: `-dedup.minScrapeInterval`. Default `1ms`, the smallest interval:
   * it only folds samples of one series with the same timestamp, which is what makes a
   * retried write idempotent (1.79 keeps both copies otherwise). `null` leaves it unset.
   */
  readonly dedupInterval?: string | null;
  /**
   * More command-line flags, e.g. Prometheus' hidden `--storage.tsdb.min-block-duration=31d`
   * to lay a benchmark's year out in the blocks a year of compaction would leave.
   */
  readonly extraArgs?: readonly string[];
}

export interface Engine {
  readonly kind: EngineKind;
  /** Base URL, e.g. `http://127.0.0.1:41234`; PromQL lives under `/api/v1/`. */
  readonly url: string;
  /** Where remote write 1.0 requests go. */
  readonly remoteWriteUrl: string;
  readonly port: number;
  readonly dataDir: string;
  /** Milliseconds the last (re)start took until the engine answered ready. */
  readonly startMs: number;
  /** True between a successful start and `stop`. */
  readonly running: boolean;
  /** The engine's own log lines so far (stdout and stderr), for failure messages. */
  output(): string;
  /**
   * Makes every sample accepted so far visible to queries. VictoriaMetrics buffers new rows for
   * about a second before they are searchable; `/internal/force_flush` ends that wait. Prometheus
   * shows appended samples at once (a no-op there).
   */
  flush(): Promise<void>;
  /** Stops the process (SIGTERM, then SIGKILL after 10 s) and keeps the data folder. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data folder; resolves once it answers ready. */
  restart(): Promise<void>;
  /** Stops it and removes its data folder. Safe to call twice. */
  destroy(): Promise<void>;
}

/** Longest wait for an engine to answer ready. */
const readyTimeoutMs = 30_000;
/** How much of an engine's output to keep for error messages. */
const outputLimit = 64 * 1024;

function requireBinary(kind: EngineKind): string {
  const { path, pkg } = binaries[kind];
  ensureEngines();
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(
      `${path} is missing: install it with ` +
        `"printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && ` +
        `apt-get update && apt-get install -y --no-install-recommends ${pkg}" ` +
        `(the policy-rc.d keeps the package from starting its system service)`,
    );
  }
  return path;
}

/** A TCP port free on 127.0.0.1 right now (the engine binds it a moment later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('no port'));
      });
    });
  });
}

function prometheusArgs(dataDir: string, port: number, options: EngineOptions): string[] {
  const configFile = join(dataDir, 'prometheus.yml');
  // No scrape jobs: the engine only receives remote writes. `out_of_order_time_window` is the
  // 2.39+ key under storage.tsdb (config.TSDBConfig.OutOfOrderTimeWindowFlag in 2.42).
  writeFileSync(
    configFile,
    ['global:', '  scrape_interval: 1m', 'storage:', '  tsdb:', `    out_of_order_time_window: ${options.outOfOrderWindow ?? '800d'}`, ''].join('\n'),
  );
  return [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${join(dataDir, 'tsdb')}`,
    `--storage.tsdb.retention.time=${options.retentionDays ?? 800}d`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--web.enable-remote-write-receiver',
    // The console templates of the Debian package are not needed and not always installed.
    '--web.console.templates=/nonexistent',
    '--web.console.libraries=/nonexistent',
    '--log.level=info',
  ];
}

function victoriaArgs(dataDir: string, port: number, options: EngineOptions): string[] {
  const args = [
    `-httpListenAddr=127.0.0.1:${port}`,
    `-storageDataPath=${join(dataDir, 'data')}`,
    `-retentionPeriod=${options.retentionDays ?? 800}d`,
    // -search.latencyOffset stays at its 30 s default, as on a user's server: the client's
    // nocache=1 is what makes the newest samples visible (a test checks it).
    '-loggerLevel=INFO',
  ];
  const dedup = options.dedupInterval === undefined ? '1ms' : options.dedupInterval;
  if (dedup !== null) args.push(`-dedup.minScrapeInterval=${dedup}`);
  return args;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function answersReady(kind: EngineKind, url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}${kind === 'prometheus' ? '/-/ready' : '/health'}`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/** Engines of this process, killed and removed if it exits without its `after` hooks. */
const live = new Set<RunningEngine>();

function killLeftovers(): void {
  for (const engine of live) engine.killNow();
}

process.once('exit', killLeftovers);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killLeftovers();
    // Then die of the signal as the process would have without this handler.
    process.kill(process.pid, signal);
  });
}

class RunningEngine implements Engine {
  readonly kind: EngineKind;
  readonly url: string;
  readonly remoteWriteUrl: string;
  readonly port: number;
  readonly dataDir: string;
  #startMs = 0;
  #child: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  #output = '';
  readonly #binary: string;
  readonly #args: readonly string[];

  constructor(kind: EngineKind, binary: string, args: readonly string[], port: number, dataDir: string) {
    this.kind = kind;
    this.#binary = binary;
    this.#args = args;
    this.port = port;
    this.dataDir = dataDir;
    this.url = `http://127.0.0.1:${port}`;
    // Both serve remote write 1.0 at the Prometheus path.
    this.remoteWriteUrl = `${this.url}/api/v1/write`;
  }

  get startMs(): number {
    return this.#startMs;
  }

  get running(): boolean {
    return this.#child !== null;
  }

  output(): string {
    return this.#output;
  }

  async start(): Promise<void> {
    if (this.#child) throw new Error(`${this.kind} is already running on ${this.url}`);
    const startedAt = performance.now();
    const child = spawn(this.#binary, this.#args, { cwd: this.dataDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => {
      this.#output = (this.#output + chunk.toString('utf8')).slice(-outputLimit);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exitCode: number | string | null = null;
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        exitCode = code ?? signal;
        if (this.#child === child) this.#child = null;
        resolve();
      });
      child.once('error', (error) => {
        exitCode = error.message;
        if (this.#child === child) this.#child = null;
        resolve();
      });
    });
    this.#child = child;
    while (!(await answersReady(this.kind, this.url))) {
      if (exitCode !== null) {
        throw new Error(`${this.kind} exited (${String(exitCode)}) before it was ready on ${this.url}:\n${this.#output.slice(-4000)}`);
      }
      if (performance.now() - startedAt > readyTimeoutMs) {
        await this.stop();
        throw new Error(`${this.kind} was not ready on ${this.url} within ${readyTimeoutMs} ms:\n${this.#output.slice(-4000)}`);
      }
      await sleep(25);
    }
    this.#startMs = performance.now() - startedAt;
  }

  async flush(): Promise<void> {
    if (this.kind !== 'victoria-metrics') return;
    const response = await fetch(`${this.url}/internal/force_flush`, { signal: AbortSignal.timeout(10_000) });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`force_flush answered ${response.status}`);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(killer);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
    live.delete(this);
  }

  /** Synchronous last resort (process exit): SIGKILL and remove the data folder. */
  killNow(): void {
    this.#child?.kill('SIGKILL');
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/**
 * Starts one engine on a free loopback port with a fresh data folder; resolves once it answers
 * ready (`/-/ready` for Prometheus, `/health` for VictoriaMetrics).
 * @throws Error naming the apt-get command when the binary is not installed
 */
export async function startEngine(kind: EngineKind, options: EngineOptions = {}): Promise<Engine> {
  const binary = requireBinary(kind);
  // The port is free when probed, not necessarily when the engine binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const dataDir = mkdtempSync(join(tmpdir(), `vscope-${kind}-`));
    mkdirSync(dataDir, { recursive: true });
    const port = await freePort();
    const args = [...(kind === 'prometheus' ? prometheusArgs(dataDir, port, options) : victoriaArgs(dataDir, port, options)), ...(options.extraArgs ?? [])];
    const engine = new RunningEngine(kind, binary, args, port, dataDir);
    live.add(engine);
    try {
      await engine.start();
      return engine;
    } catch (error) {
      lastError = error;
      await engine.destroy();
      if (!/address already in use/i.test(String(error))) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

export interface EngineHandle {
  /** The engine; throws when read before `before` ran. */
  readonly current: Engine;
}

/** One engine per test file (or per `describe`): started before its tests, removed after them. */
export function useEngine(kind: EngineKind, options: EngineOptions = {}): EngineHandle {
  let engine: Engine | undefined;
  before(async () => {
    engine = await startEngine(kind, options);
  });
  after(async () => {
    await engine?.destroy();
  });
  return {
    get current(): Engine {
      if (!engine) throw new Error(`${kind} is not running yet (use it inside a test)`);
      return engine;
    },
  };
}
