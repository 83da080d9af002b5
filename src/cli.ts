/**
 * `vscope <command>`: serve | collect [--once] | check | demo, `--config FILE` anywhere.
 * Exit codes: 0 ok, 1 a runtime problem (e.g. `check` found one), 2 bad usage or configuration.
 */
import { ConfigError, loadConfig, vcentersNamed, type Config } from './config.ts';
import { createLogger } from './log.ts';
import { checkVcenters, type VcenterCheck } from './vsphere/check.ts';

const usage = `Usage: vscope <command> [--config FILE] [options]

Commands:
  serve [--no-collector]   run the collector and the web UI/API (the normal mode);
                           --no-collector: a front end only (several of them share one database)
  collect [--once] [--vcenter ID]...
                           run only the collector (--once: one cycle, then exit); --vcenter: only
                           these vCenters (repeat it; default all). Several collectors share the
                           vCenters: each is collected by one of them at a time (a lease each)
  check                    connect to each configured vCenter and report what vscope can see
  demo                     start a vCenter simulator and serve vscope against it

Options:
  --config FILE    YAML configuration file (else VSCOPE_CONFIG; environment variables override it)
  -h, --help       show this help

Configuration: see README.md (VSCOPE_VCENTER_URL, VSCOPE_VCENTER_USER, VSCOPE_VCENTER_PASSWORD...).`;

export interface ParsedArgs {
  readonly command: string | null;
  readonly configPath: string | undefined;
  readonly once: boolean;
  readonly help: boolean;
  /** `collect --vcenter ID`, in the order given; empty: every configured vCenter. */
  readonly vcenterIds: readonly string[];
  /** `serve --no-collector`. */
  readonly noCollector: boolean;
  /** Arguments not understood here (passed on to `demo`). */
  readonly rest: readonly string[];
}

/** Parses `process.argv.slice(2)`. Throws ConfigError for a `--config` without a file. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  let command: string | null = null;
  let configPath: string | undefined;
  let once = false;
  let help = false;
  let noCollector = false;
  const vcenterIds: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--config') {
      const value = argv[++i];
      if (value === undefined || value === '') throw new ConfigError('--config needs a file path');
      configPath = value;
    } else if (arg.startsWith('--config=')) configPath = arg.slice('--config='.length);
    else if (arg === '--once') once = true;
    else if (arg === '--no-collector') noCollector = true;
    else if (arg === '--vcenter') {
      const value = argv[++i];
      if (value === undefined || value === '' || value.startsWith('-')) throw new ConfigError('--vcenter needs a vCenter id');
      vcenterIds.push(value);
    } else if (arg.startsWith('--vcenter=')) vcenterIds.push(arg.slice('--vcenter='.length));
    else if (arg === '-h' || arg === '--help' || arg === 'help') help = true;
    else if (command === null && !arg.startsWith('-')) command = arg;
    else rest.push(arg);
  }
  return { command, configPath, once, help, rest, vcenterIds, noCollector };
}

function formatDuration(sec: number): string {
  if (sec % 86_400 === 0) return `${String(sec / 86_400)} d`;
  if (sec % 3600 === 0) return `${String(sec / 3600)} h`;
  if (sec % 60 === 0) return `${String(sec / 60)} min`;
  return `${String(sec)} s`;
}

/** Human-readable lines for one vCenter's report, and its problem line when there is one. */
export function formatCheck(check: VcenterCheck): { lines: string[]; problem: string | null } {
  const head = `vCenter ${check.id} (${check.url})`;
  if (check.problem) return { lines: [`${head}: FAILED (${check.problem.reason})`], problem: `${check.id}: ${check.problem.message}` };
  const lines = [`${head}: OK`];
  if (check.about) {
    lines.push(`  product: ${check.about.fullName || check.about.name} (version ${check.about.version})`);
    lines.push(`  API: ${check.about.apiType} ${check.about.apiVersion}`);
  }
  lines.push(`  datacenters (${String(check.datacenters.length)}): ${check.datacenters.join(', ') || 'none'}`);
  if (check.counts) {
    const { clusters, hosts, vms, datastores } = check.counts;
    lines.push(`  clusters: ${String(clusters)}, hosts: ${String(hosts)}, VMs: ${String(vms)}, datastores: ${String(datastores)}`);
  }
  if (check.intervals.length === 0) lines.push('  statistics intervals: none reported (realtime statistics only)');
  else {
    lines.push('  statistics intervals:');
    for (const interval of check.intervals) {
      const period = `every ${formatDuration(interval.samplingPeriodSec)}, kept ${formatDuration(interval.lengthSec)}`;
      lines.push(`    ${interval.name || String(interval.key)}: ${period}, level ${String(interval.level)}${interval.enabled ? '' : ' (disabled)'}`);
    }
  }
  for (const warning of check.warnings) lines.push(`  warning: ${warning}`);
  return { lines, problem: null };
}

async function runCheck(config: Config): Promise<number> {
  // A report for people: warnings as plain lines, client logs (JSON, stderr) only when asked
  // for with a debug or trace level, so stdout stays readable.
  const log = createLogger(config.logLevel === 'debug' || config.logLevel === 'trace' ? config.logLevel : 'error', process.stderr);
  for (const warning of config.warnings) process.stderr.write(`warning: ${warning}\n`);
  if (config.vcenters.length === 0) {
    process.stderr.write('error: no vCenter configured: set VSCOPE_VCENTER_URL, VSCOPE_VCENTER_USER and VSCOPE_VCENTER_PASSWORD, or list vcenters in --config FILE\n');
    return 1;
  }
  const reports = await checkVcenters(config.vcenters, { log });
  const problems: string[] = [];
  for (const report of reports) {
    const { lines, problem } = formatCheck(report);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (problem) problems.push(problem);
  }
  for (const problem of problems) process.stderr.write(`error: ${problem}\n`);
  return problems.length === 0 ? 0 : 1;
}

/** Runs the CLI; resolves with the exit code (the long-running commands resolve when they stop). */
export async function main(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (args.command === null) {
    process.stderr.write(`${usage}\n`);
    return 2;
  }
  if (args.command === 'demo') {
    const { runDemo } = await import('./main.ts');
    return runDemo(argv);
  }
  if (!['serve', 'collect', 'check'].includes(args.command)) {
    process.stderr.write(`unknown command "${args.command}"\n${usage}\n`);
    return 2;
  }
  let config: Config;
  try {
    config = await loadConfig({ ...(args.configPath !== undefined ? { argvConfigPath: args.configPath } : {}), env });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  if (args.command === 'check') return runCheck(config);
  const log = createLogger(config.logLevel);
  for (const warning of config.warnings) log.warn(warning);
  if (args.command === 'serve') {
    if (args.vcenterIds.length > 0) {
      process.stderr.write('--vcenter is for `vscope collect`; `serve` collects every vCenter (or none with --no-collector)\n');
      return 2;
    }
    const { runServe } = await import('./main.ts');
    return runServe(config, log, undefined, { collector: !args.noCollector });
  }
  let collected: Config;
  try {
    collected = vcentersNamed(config, args.vcenterIds);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }
  const { runCollectInWorker } = await import('./collect-thread.ts');
  return runCollectInWorker(collected, log, { once: args.once });
}

const isEntry = process.argv[1] !== undefined && /(^|[\\/])(cli\.(ts|js)|vscope(\.js)?)$/.test(process.argv[1]);
if (isEntry) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`vscope: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
