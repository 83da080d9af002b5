/**
 * Collector benchmark (issues #3 and #12): `vscope collect --once` as a real process, start to
 * exit, against an independent lower bound (soap-bound.ts: the same SOAP calls, hand-written,
 * serial on one keep-alive connection, responses read whole and never parsed), alternating on
 * the same simulator with the same pause before each run, so that each fetches the same few
 * new samples per entity.
 *
 *   node --import tsx bench/collector-bench.ts [--vms 5000] [--rounds 5] [--pause-sec 20] [--entry dist|tsx]
 *
 * Steps: build the compiled CLI (`tsc -p tsconfig.build.json`, what `npm run build` does for
 * the server side; `--entry tsx` runs the TypeScript sources instead), start vcsim, survey it
 * for the bound, run vscope's first start into an empty data folder (the time to its
 * "current figures" log line, then the history import), run the import's own bound, capture
 * one vscope cycle and one bound cycle through a logging proxy and compare their calls, then
 * `--rounds` times: pause, bound, pause, vscope. vscope's CPU (user + system) and peak RSS are
 * the child's own, from GNU time (`/usr/bin/time`, Debian package `time`).
 *
 * Targets at 5,000 VMs (issue #12): steady cycle at most 1.5x the bound; at most 0.25 CPU-s per
 * 1,000 VMs; peak RSS under 200 MB; first start's current figures within 1.5x a steady cycle.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startVcsim, type VcsimOptions } from '../src/simulator/vcsim.ts';
import { historyImport, steadyCycle, surveyInventory, type BoundInventory } from './soap-bound.ts';
import { median } from './stats.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const timeBinary = '/usr/bin/time';
const username = 'bench';
const password = 'bench';

/** A vcsim shape of about `vms` VMs in one datacenter (bench/xml-bench.ts captures its page from it). */
export function shapeFor(vms: number): VcsimOptions {
  const clusters = vms >= 2000 ? 10 : 5;
  return { datacenters: 1, clusters, hostsPerCluster: 10, standaloneHosts: 0, pools: 0, vmsPerPool: Math.ceil(vms / clusters), datastores: 4 };
}

/** The shape of issue #12 at 5,000 VMs: 2 datacenters x 10 clusters x 12 hosts, 250 VMs per cluster (smaller: 2 x 2 x 6). */
export function collectorShape(vms: number): VcsimOptions {
  const clusters = vms >= 2000 ? 10 : 2;
  return {
    datacenters: 2,
    clusters,
    hostsPerCluster: vms >= 2000 ? 12 : 6,
    standaloneHosts: 0,
    pools: 0,
    vmsPerPool: Math.ceil(vms / (2 * clusters)),
    datastores: 4,
  };
}

interface LogLine {
  readonly time: number;
  readonly msg: string;
  readonly [field: string]: unknown;
}

export interface ProcessRun {
  readonly wallMs: number;
  readonly cpuSec: number;
  readonly userSec: number;
  readonly systemSec: number;
  readonly peakRssMB: number;
  /** The cycle's own duration as the collector logged it, ms. */
  readonly cycleMs: number | null;
  /** From spawn to the collector's "current figures stored" line (inventory and newest samples written), ms. */
  readonly currentFiguresMs: number | null;
  readonly samples: number | null;
}

/** Runs `vscope collect --once` in its own process under GNU time. */
async function runVscope(entry: 'dist' | 'tsx', url: string, dataDir: string, logLevel = 'info'): Promise<ProcessRun> {
  const timeFile = join(dataDir, 'time.txt');
  const cli = entry === 'dist' ? [join(root, 'bin', 'vscope.js')] : ['--import', 'tsx', join(root, 'src', 'cli.ts')];
  const startedEpochMs = Date.now();
  const started = performance.now();
  const child = spawn(timeBinary, ['-f', '%e %U %S %M', '-o', timeFile, process.execPath, ...cli, 'collect', '--once'], {
    cwd: root,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      TZ: 'UTC',
      VSCOPE_VCENTER_URL: url,
      VSCOPE_VCENTER_USER: username,
      VSCOPE_VCENTER_PASSWORD: password,
      VSCOPE_VCENTER_NAME: 'bench',
      VSCOPE_DATA_DIR: dataDir,
      VSCOPE_LOG_LEVEL: logLevel,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (!line.startsWith('{')) return;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // not a log line
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`vscope collect --once exited with ${String(code)}: ${stderr}`);
  const [, user, system, rssKB] = readFileSync(timeFile, 'utf8').trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
  const done = lines.find((l) => l.msg === 'collection cycle done');
  // Versions before issue #12 log no "current figures" line: at debug level, their phases
  // line (logged when the import ends) says how long the import, which follows them, took.
  const phases = lines.find((l) => l.msg === 'collection cycle phases');
  const currentMs = lines.find((l) => l.msg === 'current figures stored')?.time ?? (phases && typeof phases['importMs'] === 'number' ? phases.time - phases['importMs'] : undefined);
  return {
    wallMs: Math.round(wallMs),
    cpuSec: Math.round(((user ?? NaN) + (system ?? NaN)) * 100) / 100,
    userSec: user ?? NaN,
    systemSec: system ?? NaN,
    peakRssMB: Math.round((rssKB ?? NaN) / 1024),
    cycleMs: typeof done?.['durationMs'] === 'number' ? done['durationMs'] : null,
    currentFiguresMs: currentMs === undefined ? null : currentMs - startedEpochMs,
    samples: typeof done?.['samples'] === 'number' ? done['samples'] : null,
  };
}

/** A logging proxy on loopback: forwards every call to `target` and keeps the request bodies. */
async function startProxy(target: string): Promise<{ url: string; bodies: string[]; close(): Promise<void> }> {
  const upstream = new URL(target);
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      bodies.push(body.toString('utf8'));
      const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
      const forward = request(upstream, { method: req.method ?? 'POST', headers }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}${upstream.pathname}`,
    bodies,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const firstMatch = (re: RegExp, text: string): string => re.exec(text)?.[1] ?? '';

/**
 * What a call asks for, without what changes from run to run (view and session ids, times):
 * one signature per call, and one per QueryPerf spec (entity, interval, metric ids, endTime set).
 */
function signatures(bodies: readonly string[]): { calls: string[]; specs: string[]; maxSamples: number[] } {
  const calls: string[] = [];
  const specs: string[] = [];
  const maxSamples: number[] = [];
  for (const body of bodies) {
    const method = firstMatch(/<soapenv:Body><(\w+)/, body);
    if (method === 'RetrievePropertiesEx') {
      const type = firstMatch(/<propSet><type>([^<]*)<\/type>/, body);
      const paths = [...body.matchAll(/<pathSet>([^<]*)<\/pathSet>/g)].map((m) => m[1]).join(',');
      const objects = [...body.matchAll(/<obj type="([^"]*)">([^<]*)<\/obj>/g)].map((m) => (m[1] === 'ContainerView' ? 'view' : (m[2] ?? '')));
      calls.push(`${method} ${type} [${paths}] ${objects.sort().join(',')}`);
    } else if (method === 'CreateContainerView') {
      calls.push(`${method} ${firstMatch(/<container type="[^"]*">([^<]*)</, body)} ${[...body.matchAll(/<type>([^<]*)<\/type>/g)].map((m) => m[1]).join(',')}`);
    } else if (method === 'QueryPerf') {
      calls.push(method);
      for (const spec of body.split('<querySpec>').slice(1)) {
        const ids = [...spec.matchAll(/<counterId>(\d+)<\/counterId><instance>([^<]*)<\/instance>/g)].map((m) => `${m[1] ?? ''}|${m[2] ?? ''}`).sort();
        specs.push(`${firstMatch(/<entity type="[^"]*">([^<]*)</, spec)} i=${firstMatch(/<intervalId>(\d+)</, spec)} end=${String(spec.includes('<endTime>'))} ${ids.join(',')}`);
        maxSamples.push(Number(firstMatch(/<maxSample>(\d+)</, spec)));
      }
    } else calls.push(method);
  }
  return { calls, specs, maxSamples };
}

/** Items of `a` missing from `b`, as a multiset. */
function missing(a: readonly string[], b: readonly string[]): string[] {
  const counts = new Map<string, number>();
  for (const item of b) counts.set(item, (counts.get(item) ?? 0) + 1);
  const out: string[] = [];
  for (const item of a) {
    const left = counts.get(item) ?? 0;
    if (left > 0) counts.set(item, left - 1);
    else out.push(item);
  }
  return out;
}

function histogram(values: readonly (number | string)[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[String(v)] = (out[String(v)] ?? 0) + 1;
  return out;
}

function compareCalls(vscope: readonly string[], bound: readonly string[]) {
  const v = signatures(vscope);
  const b = signatures(bound);
  // QueryPerf calls are compared spec by spec: how specs are grouped into calls is the bound's choice.
  const onlyVscope = [...missing(v.calls, b.calls).filter((c) => c !== 'QueryPerf'), ...missing(v.specs, b.specs)];
  const onlyBound = [...missing(b.calls, v.calls).filter((c) => c !== 'QueryPerf'), ...missing(b.specs, v.specs)];
  const methods = (list: readonly string[]): Record<string, number> => histogram(list.map((s) => s.split(' ')[0] ?? ''));
  return {
    same: onlyVscope.length === 0 && onlyBound.length === 0,
    callsByMethod: { vscope: methods(v.calls), bound: methods(b.calls) },
    querySpecs: { vscope: v.specs.length, bound: b.specs.length },
    maxSample: { vscope: histogram(v.maxSamples), bound: histogram(b.maxSamples) },
    onlyVscope: onlyVscope.slice(0, 5).map((s) => s.slice(0, 300)),
    onlyBound: onlyBound.slice(0, 5).map((s) => s.slice(0, 300)),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const round2 = (n: number): number => Math.round(n * 100) / 100;

function args(): { vms: number; rounds: number; pauseSec: number; entry: 'dist' | 'tsx' } {
  const argv = process.argv.slice(2);
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const entry = value('--entry') ?? 'dist';
  if (entry !== 'dist' && entry !== 'tsx') throw new Error('--entry dist|tsx');
  return { vms: Number(value('--vms') ?? 5000), rounds: Number(value('--rounds') ?? 5), pauseSec: Number(value('--pause-sec') ?? 20), entry };
}

export async function benchCollector(opts: { vms: number; rounds: number; pauseSec: number; entry: 'dist' | 'tsx' }) {
  if (!existsSync(timeBinary)) throw new Error(`${timeBinary} is missing: apt-get install time`);
  if (opts.entry === 'dist') {
    const build = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
    if (build.status !== 0) throw new Error('tsc -p tsconfig.build.json failed');
  }
  const shape = collectorShape(opts.vms);
  const load = [loadavg()[0] ?? NaN];
  const sim = await startVcsim(shape, 600_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'vscope-bench-collector-'));
  try {
    const inventory: BoundInventory = await surveyInventory(sim.url, username, password);
    const vms = inventory.vms.length;

    // First start: an empty data folder (debug level: a few thousand more log lines over minutes).
    const first = await runVscope(opts.entry, sim.url, dataDir, 'debug');
    console.error(`first start: ${JSON.stringify(first)}`);
    // The realtime hour, then a year of history: what a first start fetches beyond its first cycle.
    const importBound = await historyImport(sim.url, username, password, inventory, true);
    console.error(`import bound: ${JSON.stringify(importBound)}`);
    load.push(loadavg()[0] ?? NaN);

    // The bound's marks, as if its previous cycle had run now.
    const marks = new Map<string, number>();
    const nowSec = Math.floor(Date.now() / 1000);
    for (const h of inventory.hosts) marks.set(h.moRef, nowSec);
    for (const v of inventory.vms) marks.set(v.moRef, nowSec);

    // The call lists, once, through a logging proxy (untimed).
    const proxy = await startProxy(sim.url);
    await sleep(opts.pauseSec * 1000);
    await steadyCycle(proxy.url, username, password, inventory, marks);
    const boundBodies = proxy.bodies.splice(0);
    await sleep(opts.pauseSec * 1000);
    await runVscope(opts.entry, proxy.url, dataDir);
    const vscopeBodies = proxy.bodies.splice(0);
    await proxy.close();
    const callList = compareCalls(vscopeBodies, boundBodies);
    console.error(`call lists: ${JSON.stringify(callList)}`);

    const rounds: { boundMs: number; boundSamplesPerEntity: number; vscope: ProcessRun; ratio: number }[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      await sleep(opts.pauseSec * 1000);
      const bound = await steadyCycle(sim.url, username, password, inventory, marks);
      await sleep(opts.pauseSec * 1000);
      const vscope = await runVscope(opts.entry, sim.url, dataDir);
      const round = { boundMs: Math.round(bound.ms), boundSamplesPerEntity: bound.samplesPerEntity, vscope, ratio: round2(vscope.wallMs / bound.ms) };
      console.error(`round ${String(i + 1)}: ${JSON.stringify(round)}`);
      rounds.push(round);
      load.push(loadavg()[0] ?? NaN);
    }
    const vscopeMs = median(rounds.map((r) => r.vscope.wallMs));
    const cpuSec = median(rounds.map((r) => r.vscope.cpuSec));
    const realtimeEntities = inventory.hosts.filter((h) => h.connected).length + inventory.vms.filter((v) => v.poweredOn).length;
    return {
      shape,
      vms,
      hosts: inventory.hosts.length,
      nics: inventory.hosts.reduce((sum, h) => sum + h.nics.length, 0),
      datastores: inventory.datastores.length,
      entry: opts.entry,
      pauseSec: opts.pauseSec,
      loadAverage1m: load.map(round2),
      callList,
      steady: {
        boundMs: Math.round(median(rounds.map((r) => r.boundMs))),
        vscopeMs: Math.round(vscopeMs),
        /** Median of the per-round ratios (target <= 1.5). */
        ratio: round2(median(rounds.map((r) => r.ratio))),
        vscopeCycleMs: median(rounds.map((r) => r.vscope.cycleMs ?? NaN)),
        cpuSec: round2(cpuSec),
        /** Target <= 0.25. */
        cpuSecPer1000Vms: round2(cpuSec / (vms / 1000)),
        /** Target < 200 at 5,000 VMs. */
        peakRssMB: Math.max(...rounds.map((r) => r.vscope.peakRssMB)),
        samplesPerEntity: { vscope: round2(median(rounds.map((r) => (r.vscope.samples ?? NaN) / realtimeEntities))), bound: median(rounds.map((r) => r.boundSamplesPerEntity)) },
      },
      firstStart: {
        currentFiguresMs: first.currentFiguresMs,
        /** Target <= 1.5: the dashboard's inventory and current figures against a steady cycle. */
        currentFiguresVsSteady: first.currentFiguresMs === null ? null : round2(first.currentFiguresMs / vscopeMs),
        totalMs: first.wallMs,
        importMs: first.currentFiguresMs === null ? null : first.wallMs - first.currentFiguresMs,
        importBoundMs: Math.round(importBound.ms),
        importVsBound: first.currentFiguresMs === null ? null : round2((first.wallMs - first.currentFiguresMs) / importBound.ms),
        importBoundMB: Math.round(importBound.bytesIn / 1e6),
        cpuSec: first.cpuSec,
        peakRssMB: first.peakRssMB,
      },
      rounds,
    };
  } finally {
    await sim.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await benchCollector(args())));
}
