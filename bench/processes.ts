/**
 * Real vscope processes for benchmarks (`bin/vscope.js serve | collect`, as an operator starts
 * them), their log lines as they come, and the CPU time of any process from /proc (Linux), so
 * that a benchmark can tell what each part of a deployment cost per request or per cycle.
 *
 * Every process started here is killed when the benchmark's process exits, however it exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../bin/vscope.js', import.meta.url));

/** One JSON line of a vscope log (pino): `time` in unix ms, `msg`, and the bindings. */
export type LogLine = Readonly<Record<string, unknown>> & { readonly time?: number; readonly msg?: string };

export interface VscopeProcess {
  readonly name: string;
  readonly pid: number;
  readonly child: ChildProcess;
  /** The last 16 KB of what it wrote, for error messages. */
  tail(): string;
  /** True until it exited. */
  alive(): boolean;
  /** Resolves with its exit code (or the signal) once it exited. */
  readonly exited: Promise<number | string | null>;
  /** SIGTERM (a clean stop), SIGKILL after `graceMs` (default 15 s); resolves once it exited. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<VscopeProcess>();
process.once('exit', () => {
  for (const one of live) one.child.kill('SIGKILL');
});

/**
 * Starts `bin/vscope.js ARGS` with only `env` (plus PATH, HOME and TZ=UTC): nothing of this
 * process's own VSCOPE_* settings leaks in. `onLine` gets each JSON log line.
 */
export function startVscope(name: string, args: readonly string[], env: Readonly<Record<string, string>>, onLine?: (line: LogLine) => void): VscopeProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TZ: 'UTC', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (text: string): void => {
    tail = (tail + text).slice(-16_384);
  };
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (text) => {
      keep(`${text}\n`);
      if (onLine === undefined || !text.startsWith('{')) return;
      try {
        onLine(JSON.parse(text) as LogLine);
      } catch {
        // Not a log line (a stack trace, a partial line): kept in the tail only.
      }
    });
  }
  let done = false;
  const exited = new Promise<number | string | null>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      live.delete(handle);
      resolve(code ?? signal);
    });
    child.once('error', (error) => {
      done = true;
      live.delete(handle);
      keep(String(error));
      resolve(error.message);
    });
  });
  const handle: VscopeProcess = {
    name,
    pid: child.pid ?? -1,
    child,
    tail: () => tail,
    alive: () => !done,
    exited,
    async stop(graceMs = 15_000) {
      if (done) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(killer);
    },
  };
  live.add(handle);
  return handle;
}

/** Stops every process started here that still runs (SIGTERM, SIGKILL after `graceMs`). */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...live].map((one) => one.stop(graceMs)));
}

/** Clock ticks per second of /proc's times: 100 on every Linux this runs on (USER_HZ). */
const ticksPerSec = 100;

/** Fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | null {
  try {
    const text = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU time of a process (all its threads), ms; with `children`, also what its children used:
 * those it has reaped (cutime, cstime) and those alive now. 0 for a process that is gone.
 */
export function cpuMs(pid: number, children = false): number {
  const fields = statFields(pid);
  if (fields === null) return 0;
  // utime, stime, cutime, cstime are fields 14 to 17 of stat, 12 to 15 after the name.
  const own = Number(fields[11]) + Number(fields[12]);
  if (!children) return (own * 1000) / ticksPerSec;
  let total = own + Number(fields[13]) + Number(fields[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = statFields(Number(entry));
    // Field 4 (ppid) is the second after the name.
    if (child === null || Number(child[1]) !== pid) continue;
    total += Number(child[11]) + Number(child[12]) + Number(child[13]) + Number(child[14]);
  }
  return (total * 1000) / ticksPerSec;
}

/** The pid of the process whose command line holds `needle` (e.g. a data folder), or null. */
export function pidWithArgument(needle: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.some((arg) => arg.includes(needle))) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return null;
}
