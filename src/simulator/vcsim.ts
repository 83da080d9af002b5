/**
 * Starts the bundled vCenter simulator (tools/vcsim) as a child process.
 * Used by the demo, the tests and the benchmarks; never by production code paths.
 */
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
const buildScript = fileURLToPath(new URL('../../scripts/build-vcsim.sh', import.meta.url));

/** An account of the simulator's directory (see `VcsimPermissions`). */
export interface VcsimUser {
  readonly name: string;
  readonly password: string;
  /** Groups the user is in, for permissions given to a group. */
  readonly groups?: readonly string[];
}

/**
 * A permission, as vCenter has them. `entity` is an inventory path when it starts with `/`
 * (`/DC0/host/DC0_C0`, `/DC0/vm/DC0_C0_RP0_VM0`, `/DC0/datastore/LocalDS_0`), else the name of
 * exactly one entity. Exactly one of `principal` (a user) and `group`.
 */
export type VcsimPermission = {
  readonly entity: string;
  /** `ReadOnly`, `NoAccess`, `Admin` or any other role of the simulator's AuthorizationManager. */
  readonly role: string;
  /** Whether it applies to the entity's descendants too. Default true. */
  readonly propagate?: boolean;
} & ({ readonly principal: string; readonly group?: never } | { readonly group: string; readonly principal?: never });

/**
 * Accounts and permissions the simulator enforces as vCenter does (DEVELOPERS.md, vcsim).
 * Needs `username` and `password`: that account is the administrator (Admin on the root
 * folder).
 */
export interface VcsimPermissions {
  readonly users: readonly VcsimUser[];
  readonly permissions: readonly VcsimPermission[];
}

/** Inventory shape and behaviour of one simulator; every field is optional. */
export interface VcsimOptions {
  /** Datacenters. Default 1. */
  readonly datacenters?: number;
  /** Clusters per datacenter. Default 1. */
  readonly clusters?: number;
  /** Hosts per cluster. Default 3. */
  readonly hostsPerCluster?: number;
  /** Standalone hosts per datacenter. Default 1. */
  readonly standaloneHosts?: number;
  /** Resource pools per cluster beside the root pool. Default 0. */
  readonly pools?: number;
  /** VMs per resource pool and per standalone host. Default 2. */
  readonly vmsPerPool?: number;
  /** Datastores, each mounted on every host. Default 1. */
  readonly datastores?: number;
  /** When set, the simulator only accepts this login. */
  readonly username?: string;
  readonly password?: string;
  /** Serve https with a self-signed certificate. */
  readonly tls?: boolean;
  /** Delay each SOAP call by this many milliseconds. */
  readonly delayMs?: number;
  /**
   * Enforce these accounts and permissions: written to a temporary file only this user may
   * read, passed as `-permissions`, removed once the simulator has read it (or exited).
   */
  readonly permissions?: VcsimPermissions;
}

export interface Vcsim {
  /** SDK endpoint, e.g. `http://127.0.0.1:40123/sdk`. */
  readonly url: string;
  /** PEM file of the self-signed certificate when `tls` is set, else null. */
  readonly caFile: string | null;
  readonly pid: number;
  /** Stops the simulator; resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** Builds the simulator when needed and returns the path of its binary. */
export async function vcsimBinary(): Promise<string> {
  const { stdout } = await execFileAsync('bash', [buildScript], { maxBuffer: 16 * 1024 * 1024 });
  const path = stdout.trim().split('\n').pop();
  if (!path) throw new Error('scripts/build-vcsim.sh printed no binary path');
  return path;
}

type NumericOption = { [K in keyof VcsimOptions]-?: Required<VcsimOptions>[K] extends number ? K : never }[keyof VcsimOptions];

function flagsFor(options: VcsimOptions, permissionsFile: string | null): string[] {
  const flags: string[] = ['-l', '127.0.0.1:0'];
  const numeric: [NumericOption, string][] = [
    ['datacenters', '-dc'],
    ['clusters', '-cluster'],
    ['hostsPerCluster', '-host'],
    ['standaloneHosts', '-standalone-host'],
    ['pools', '-pool'],
    ['vmsPerPool', '-vm'],
    ['datastores', '-ds'],
    ['delayMs', '-delay'],
  ];
  for (const [key, flag] of numeric) {
    const value = options[key];
    if (value !== undefined) flags.push(`${flag}=${String(value)}`);
  }
  if (options.username !== undefined) flags.push('-username', options.username);
  if (options.password !== undefined) flags.push('-password', options.password);
  flags.push(`-tls=${options.tls === true ? 'true' : 'false'}`);
  if (permissionsFile !== null) flags.push('-permissions', permissionsFile);
  return flags;
}

/** Parses the ready line: ours is JSON; upstream vcsim prints `export GOVC_URL=...`. */
function parseReadyLine(line: string): { url: string; caFile: string | null } | null {
  if (line.startsWith('{')) {
    const parsed = JSON.parse(line) as { url?: string; caFile?: string };
    if (parsed.url) return { url: parsed.url, caFile: parsed.caFile || null };
  }
  const match = /GOVC_URL=(\S+)/.exec(line);
  if (match?.[1]) {
    const url = new URL(match[1]);
    url.username = '';
    url.password = '';
    return { url: url.toString(), caFile: null };
  }
  return null;
}

/** Starts a simulator on a free loopback port and resolves once it serves. */
export async function startVcsim(options: VcsimOptions = {}, startTimeoutMs = 60_000): Promise<Vcsim> {
  const binary = await vcsimBinary();
  const permissions = options.permissions ? await writePermissions(options.permissions) : null;
  const child = spawn(binary, flagsFor(options, permissions?.file ?? null), { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      if (permissions) void permissions.remove().finally(resolve);
      else resolve();
    }),
  );
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  const ready = await new Promise<{ url: string; caFile: string | null }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`vcsim did not start within ${startTimeoutMs} ms: ${stderr}`)), startTimeoutMs);
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      const parsed = parseReadyLine(line);
      if (parsed) {
        clearTimeout(timer);
        resolve(parsed);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`vcsim exited with code ${String(code)} before serving: ${stderr}`));
    });
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  // vcsim read the file before it printed the ready line: the passwords need not stay on disk.
  await permissions?.remove();

  return { ...ready, pid: child.pid ?? -1, stop };
}

/** Writes the permissions file, readable by this user only, in a folder of its own. */
async function writePermissions(permissions: VcsimPermissions): Promise<{ file: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vcsim-permissions-'));
  const file = join(dir, 'permissions.json');
  await writeFile(file, JSON.stringify(permissions), { mode: 0o600 });
  return { file, remove: () => rm(dir, { recursive: true, force: true }) };
}
