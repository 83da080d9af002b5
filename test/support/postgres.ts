/**
 * A real PostgreSQL 15 for tests, from Debian's packages (`/usr/lib/postgresql/15/bin`):
 * `initdb` into a temporary folder, `pg_ctl start` on a free loopback port with its socket in
 * that folder (never the system service, never port 5432), a role with a password and a
 * database; stopped and removed afterwards, also when the test process exits or is signalled
 * before its `after` hooks, and, for a process that was SIGKILLed, by the next harness that
 * starts (it stops servers whose owning process is gone).
 *
 * PostgreSQL refuses to run as root. Run as root (CI, a fresh Debian machine), the harness runs
 * `initdb`, `pg_ctl` and so the server as the unprivileged `nobody` account that every Debian
 * system has (node's spawn with uid/gid, which also drops supplementary groups), in a folder
 * it hands to that account; run as anyone else, as that user.
 *
 * The database's default collation is ICU's en-US (not C), as on most operators' servers, so
 * that a query that forgets an explicit collation orders differently and a test sees it.
 *
 * `const pg = usePostgres()` inside a test file starts one before the file's tests and removes
 * it after them; `startPostgres` is the same without the hooks.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import pg from 'pg';
import { freePort } from './engines.ts';
import { ensureEngines } from './ensure-engines.ts';

/** Where Debian's postgresql-15 puts its server binaries. */
export const postgresBinDir = '/usr/lib/postgresql/15/bin';

const installHint =
  `"printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && ` +
  `apt-get update && apt-get install -y --no-install-recommends postgresql-15" ` +
  `(the policy-rc.d keeps the package from starting its system service)`;

/** Longest wait for the server to accept connections. */
const readyTimeoutSec = 30;
/** Prefix of the harness's temporary folders (the leftover sweep looks for it). */
const folderPrefix = 'vscope-postgres-';

export interface PostgresOptions {
  /**
   * Durability off (fsync, synchronous_commit, full_page_writes) for fast tests: a test server
   * never survives a crash of the machine. Default true; false for measuring commit costs.
   */
  readonly fast?: boolean;
  /** More `-c name=value` server settings. */
  readonly settings?: Readonly<Record<string, string | number>>;
}

export interface PostgresServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The login role the store uses (password authentication over TCP). */
  readonly user: string;
  readonly password: string;
  /** The database created at start, owned by `user`. */
  readonly database: string;
  /** `postgres://user@127.0.0.1:PORT/database`: no password in it (the store takes it apart). */
  readonly url: string;
  /** Holds the data folder (`data/`), the Unix socket and the server log. */
  readonly folder: string;
  /** Milliseconds of initdb, start and the role and database creation. */
  readonly setupMs: number;
  /** Milliseconds the last start (or restart) took until the server accepted connections. */
  readonly startMs: number;
  readonly running: boolean;
  /** The URL of another database of `user`'s, for a test that needs an empty one. */
  urlOf(database: string): string;
  /** Creates an empty database owned by `user` (a fresh name unless given); resolves with its name. */
  createDatabase(name?: string): Promise<string>;
  /** Runs SQL as the superuser over the Unix socket, in `database` (default: the main one). */
  admin<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values?: readonly unknown[], database?: string): Promise<R[]>;
  /** The server log so far, for failure messages. */
  output(): string;
  /** Stops the server (fast shutdown: connected clients are told to go) and keeps the folder. */
  stop(): Promise<void>;
  /** Starts it again on the same port and folder; resolves once it accepts connections. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /** Stops it and removes its folder. Safe to call twice. */
  destroy(): Promise<void>;
}

interface Account {
  readonly uid: number;
  readonly gid: number;
}

/** Who runs the server: `nobody` when we are root (PostgreSQL refuses root), else ourselves. */
function serverAccount(): Account | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('nobody:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error('running as root, the PostgreSQL test harness needs the unprivileged account "nobody" (PostgreSQL refuses to run as root)');
  }
  return { uid: Number(uid), gid: Number(gid) };
}

function requireBinaries(): void {
  ensureEngines();
  for (const name of ['initdb', 'pg_ctl', 'postgres']) {
    const path = join(postgresBinDir, name);
    try {
      accessSync(path, constants.X_OK);
    } catch {
      throw new Error(`${path} is missing: install PostgreSQL 15 with ${installHint}`);
    }
  }
}

interface RunResult {
  readonly code: number | null;
  readonly output: string;
}

/** Runs one of the binaries as the server's account and collects its output. */
async function run(binary: string, args: readonly string[], account: Account | null, cwd: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(postgresBinDir, binary), args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd, LC_ALL: 'C.UTF-8', TZ: 'UTC' },
      ...(account ?? {}),
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

function runSync(binary: string, args: readonly string[], account: Account | null, cwd: string): void {
  spawnSync(join(postgresBinDir, binary), args, {
    cwd,
    stdio: 'ignore',
    timeout: 15_000,
    env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: cwd },
    ...(account ?? {}),
  });
}

/** Servers of this process, stopped and removed if it exits without its `after` hooks. */
const live = new Set<RunningPostgres>();

function killLeftovers(): void {
  for (const server of live) server.killNow();
}

process.once('exit', killLeftovers);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killLeftovers();
    // Then die of the signal as the process would have without this handler.
    process.kill(process.pid, signal);
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Stops and removes the servers of harnesses whose process died without cleaning up (SIGKILL,
 * a crash): each folder names its owner's pid in `owner.pid`.
 */
function sweepOrphans(account: Account | null): void {
  const root = tmpdir();
  for (const name of readdirSync(root)) {
    if (!name.startsWith(folderPrefix)) continue;
    const folder = join(root, name);
    const ownerFile = join(folder, 'owner.pid');
    let owner: number;
    try {
      owner = Number(readFileSync(ownerFile, 'utf8').trim());
      // A folder being set up right now has no owner file yet: leave young ones alone.
    } catch {
      try {
        if (Date.now() - statSync(folder).mtimeMs < 60_000) continue;
      } catch {
        continue;
      }
      owner = Number.NaN;
    }
    if (Number.isInteger(owner) && owner > 0 && alive(owner)) continue;
    if (existsSync(join(folder, 'data', 'postmaster.pid'))) runSync('pg_ctl', ['-D', join(folder, 'data'), 'stop', '-m', 'immediate', '-w'], account, folder);
    rmSync(folder, { recursive: true, force: true });
  }
}

class RunningPostgres implements PostgresServer {
  readonly host = '127.0.0.1' as const;
  readonly user = 'vscope';
  readonly database = 'vscope';
  readonly password = randomBytes(18).toString('base64url');
  readonly url: string;
  readonly dataDir: string;
  setupMs = 0;
  #startMs = 0;
  #running = false;
  #databases = 0;

  constructor(
    readonly folder: string,
    readonly port: number,
    private readonly account: Account | null,
    private readonly settings: readonly string[],
  ) {
    this.dataDir = join(folder, 'data');
    this.url = this.urlOf(this.database);
  }

  get startMs(): number {
    return this.#startMs;
  }

  get running(): boolean {
    return this.#running;
  }

  urlOf(database: string): string {
    return `postgres://${this.user}@${this.host}:${this.port}/${database}`;
  }

  output(): string {
    try {
      return readFileSync(join(this.folder, 'server.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async init(): Promise<void> {
    const superuserPassword = join(this.folder, 'superuser.pw');
    writeFileSync(superuserPassword, `${randomBytes(18).toString('base64url')}\n`, { mode: 0o600 });
    if (this.account) chownSync(superuserPassword, this.account.uid, this.account.gid);
    const result = await run(
      'initdb',
      [
        '-D', this.dataDir,
        '-U', 'postgres',
        `--pwfile=${superuserPassword}`,
        // The superuser only over the socket in our own folder; everyone over TCP with a password.
        '--auth-local=trust',
        '--auth-host=scram-sha-256',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--locale-provider=icu',
        '--icu-locale=en-US',
        '--no-sync',
      ],
      this.account,
      this.folder,
    );
    if (result.code !== 0) throw new Error(`initdb failed (${String(result.code)}):\n${result.output.slice(-4000)}`);
  }

  async start(): Promise<void> {
    if (this.#running) throw new Error(`PostgreSQL is already running on port ${this.port}`);
    const startedAt = performance.now();
    const options = [`-p ${this.port}`, `-k ${this.folder}`, '-c listen_addresses=127.0.0.1', ...this.settings].join(' ');
    const result = await run(
      'pg_ctl',
      ['-D', this.dataDir, '-l', join(this.folder, 'server.log'), '-o', options, '-w', '-t', String(readyTimeoutSec), 'start'],
      this.account,
      this.folder,
    );
    if (result.code !== 0) {
      throw new Error(`PostgreSQL did not start on port ${this.port} (pg_ctl ${String(result.code)}):\n${result.output.slice(-2000)}\n${this.output().slice(-4000)}`);
    }
    this.#running = true;
    this.#startMs = performance.now() - startedAt;
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    const result = await run('pg_ctl', ['-D', this.dataDir, 'stop', '-m', 'fast', '-w', '-t', '30'], this.account, this.folder);
    if (result.code !== 0) throw new Error(`pg_ctl stop failed (${String(result.code)}):\n${result.output.slice(-2000)}`);
    this.#running = false;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      rmSync(this.folder, { recursive: true, force: true });
      live.delete(this);
    }
  }

  /** Synchronous last resort (process exit): immediate shutdown, then the folder goes. */
  killNow(): void {
    if (this.#running) runSync('pg_ctl', ['-D', this.dataDir, 'stop', '-m', 'immediate', '-w'], this.account, this.folder);
    this.#running = false;
    rmSync(this.folder, { recursive: true, force: true });
  }

  async admin<R extends pg.QueryResultRow = pg.QueryResultRow>(sql: string, values: readonly unknown[] = [], database = this.database): Promise<R[]> {
    const client = new pg.Client({ host: this.folder, port: this.port, user: 'postgres', database });
    await client.connect();
    try {
      return (await client.query<R>(sql, [...values])).rows;
    } finally {
      await client.end();
    }
  }

  async createDatabase(name = `vscope_test_${++this.#databases}`): Promise<string> {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a plain database name: ${name}`);
    await this.admin(`CREATE DATABASE ${name} OWNER ${this.user}`, [], 'postgres');
    return name;
  }

  async createRoleAndDatabase(): Promise<void> {
    // The password as a literal: CREATE ROLE takes no parameters. base64url needs no quoting.
    await this.admin(`CREATE ROLE ${this.user} LOGIN PASSWORD '${this.password}'`, [], 'postgres');
    await this.createDatabase(this.database);
  }
}

function serverSettings(options: PostgresOptions): string[] {
  const settings: Record<string, string | number> = {
    max_connections: 200,
    ...(options.fast === false ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...options.settings,
  };
  for (const [name, value] of Object.entries(settings)) {
    if (!/^[a-z_.]+$/.test(name) || !/^[A-Za-z0-9_.:-]+$/.test(String(value))) throw new Error(`unsafe server setting ${name}=${String(value)}`);
  }
  return Object.entries(settings).map(([name, value]) => `-c ${name}=${String(value)}`);
}

/**
 * Starts one PostgreSQL 15 on a free loopback port with a fresh folder, a role with a password
 * and a database; resolves once it accepts connections.
 * @throws Error naming the apt-get command when the binaries are not installed
 */
export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  requireBinaries();
  const account = serverAccount();
  sweepOrphans(account);
  const setupStart = performance.now();
  // The port is free when probed, not necessarily when the server binds it: try a few.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const folder = mkdtempSync(join(tmpdir(), folderPrefix));
    writeFileSync(join(folder, 'owner.pid'), `${process.pid}\n`);
    if (account) chownSync(folder, account.uid, account.gid);
    const server = new RunningPostgres(folder, await freePort(), account, serverSettings(options));
    live.add(server);
    try {
      await server.init();
      await server.start();
      await server.createRoleAndDatabase();
      server.setupMs = performance.now() - setupStart;
      return server;
    } catch (error) {
      lastError = error;
      const log = server.output();
      await server.destroy().catch(() => undefined);
      if (!/address already in use|could not bind/i.test(`${String(error)}\n${log}`)) break;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}

export interface PostgresHandle {
  /** The server; throws when read before `before` ran. */
  readonly current: PostgresServer;
}

/** One server per test file (or per `describe`): started before its tests, removed after them. */
export function usePostgres(options: PostgresOptions = {}): PostgresHandle {
  let server: PostgresServer | undefined;
  before(async () => {
    server = await startPostgres(options);
  });
  after(async () => {
    await server?.destroy();
  });
  return {
    get current(): PostgresServer {
      if (!server) throw new Error('PostgreSQL is not running yet (use it inside a test)');
      return server;
    },
  };
}
