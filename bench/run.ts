/**
 * `npm run bench`: runs every benchmark in its own process (so peak RSS is per benchmark),
 * prints a Markdown summary with the machine and date, and writes the raw numbers to
 * bench/results-latest.json. Copy the summary into bench/RESULTS.md.
 *
 *   npm run bench                 # everything, 500 and 5,000 VMs
 *   npm run bench -- store api    # only some
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

interface Step {
  readonly name: string;
  readonly script: string;
  readonly args: readonly string[];
  /** Extra node flags, e.g. a heap limit. */
  readonly nodeArgs?: readonly string[];
}

const steps: readonly Step[] = [
  { name: 'store', script: 'store-bench.ts', args: ['--vms', '500'] },
  { name: 'store', script: 'store-bench.ts', args: ['--vms', '5000'] },
  { name: 'collector', script: 'collector-bench.ts', args: ['--vms', '500', '--rounds', '3'] },
  { name: 'collector', script: 'collector-bench.ts', args: ['--vms', '5000', '--rounds', '5'] },
  // Long-lived collectors (serve): discovery by property-collector updates against whole pages.
  { name: 'serve-cycle', script: 'serve-cycle-bench.ts', args: ['--vms', '5000', '--cycles', '7'] },
  { name: 'login', script: 'login-bench.ts', args: ['--runs', '5'] },
  { name: 'api', script: 'api-bench.ts', args: ['--vms', '5000'] },
  // The same without the concurrent cycle writes: what they cost the API.
  { name: 'api', script: 'api-bench.ts', args: ['--vms', '5000', '--no-writes'] },
  { name: 'engine', script: 'engine-bench.ts', args: ['--vms', '5000'] },
  { name: 'ui', script: 'ui-bench.ts', args: ['--vms', '5000'] },
  { name: 'xml', script: 'xml-bench.ts', args: ['--vms', '5000', '--runs', '5'] },
  { name: 'insights', script: 'insights-bench.ts', args: ['--vms', '5000'] },
  // 100 VMs per vCenter: with 500, the first start's import into the engine outlasts the run's limits on 2 cores.
  { name: 'scale', script: 'scale-bench.ts', args: ['--vcenter-vms', '100', '--later-cycles', '1'] },
];

/** The last JSON document a benchmark printed (pretty or one per line). */
function lastJson(stdout: string): unknown {
  const trimmed = stdout.trim();
  try {
    return JSON.parse(trimmed);
  } catch {
    const lines = trimmed.split('\n').filter((line) => line.startsWith('{'));
    const last = lines.at(-1);
    if (last === undefined) throw new Error('the benchmark printed no JSON');
    return JSON.parse(last);
  }
}

const wanted = new Set(process.argv.slice(2));
const results: { name: string; args: readonly string[]; result?: unknown; error?: string }[] = [];
for (const step of steps.filter((s) => wanted.size === 0 || wanted.has(s.name))) {
  const script = fileURLToPath(new URL(step.script, import.meta.url));
  const nodeArgs = step.nodeArgs ?? [];
  console.error(`== ${step.name} ${[...nodeArgs, ...step.args].join(' ')}`);
  const run = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...step.args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, TZ: 'UTC' },
  });
  if (run.status !== 0) {
    results.push({ name: step.name, args: [...nodeArgs, ...step.args], error: `exit ${String(run.status)}` });
    continue;
  }
  try {
    results.push({ name: step.name, args: [...nodeArgs, ...step.args], result: lastJson(run.stdout) });
  } catch (error) {
    results.push({ name: step.name, args: [...nodeArgs, ...step.args], error: (error as Error).message });
  }
}

const machine = {
  date: new Date().toISOString(),
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memoryGB: Math.round(os.totalmem() / 1024 ** 3),
  node: process.version,
  platform: `${os.type()} ${os.release()}`,
};
writeFileSync(new URL('results-latest.json', import.meta.url), `${JSON.stringify({ machine, results }, null, 2)}\n`);
console.log(`Machine: ${machine.cpu}, ${String(machine.cores)} cores, ${String(machine.memoryGB)} GB, Node ${machine.node}, ${machine.date}\n`);
for (const entry of results) {
  console.log(`### ${entry.name} ${entry.args.join(' ')}`);
  console.log(entry.error ? `failed: ${entry.error}` : `\`\`\`json\n${JSON.stringify(entry.result, null, 2)}\n\`\`\``);
  console.log();
}
