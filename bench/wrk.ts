/**
 * wrk from Debian (`/usr/bin/wrk`, C: it leaves the CPU to the servers on a small machine) as a
 * closed-loop load generator, for benchmarks that load several servers at once and report them
 * together: each run returns its latency quantiles (every 0.1 %), so that the runs of one
 * moment can be merged into the distribution the clients of all of them saw.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One request of a run: its path, and its own cookie when the run takes several people's in turn. */
export interface WrkRequest {
  readonly path: string;
  readonly cookie?: string;
}

export interface WrkResult {
  /** The server's base URL. */
  readonly url: string;
  readonly connections: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly requestsPerSec: number;
  /** Non-2xx answers plus connection errors and timeouts: 0 for a valid run. */
  readonly failures: number;
  /** Bytes received per second (bodies as sent: gzipped when asked), MB/s. */
  readonly receivedMBps: number;
  /** Latency at 0.1 %, 0.2 % ... 100 % of the requests, µs (1,000 values). */
  readonly quantilesUs: readonly number[];
}

/**
 * wrk's script: the requests in turn (a line: path, then a tab and a cookie when the request has
 * its own), the given headers, and the figures as one JSON line at the end.
 */
const script = `
local paths, cookies, headers, i = {}, {}, {}, 0
for line in io.lines(os.getenv("BENCH_PATHS")) do
  local path, cookie = string.match(line, "^([^\\t]*)\\t?(.*)$")
  paths[#paths + 1] = path
  cookies[#cookies + 1] = cookie
end
for name, value in string.gmatch(os.getenv("BENCH_HEADERS"), "([^\\n:]+): ([^\\n]*)") do headers[name] = value end
request = function()
  i = i % #paths + 1
  if cookies[i] ~= "" then headers["cookie"] = cookies[i] end
  return wrk.format("GET", paths[i], headers)
end
done = function(summary, latency, requests)
  local e = summary.errors
  local q = {}
  for k = 1, 1000 do q[k] = string.format("%d", latency:percentile(k / 10)) end
  io.write(string.format('{"p50Us":%d,"p99Us":%d,"requests":%d,"durationUs":%d,"bytes":%d,"failures":%d,"quantilesUs":[%s]}\\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration, summary.bytes,
    e.status + e.connect + e.read + e.write + e.timeout, table.concat(q, ",")))
end
`;

const toMs = (us: number): number => Math.round(us / 100) / 10;

/** Runs one wrk (one thread, `connections` clients in a closed loop) for `seconds`. */
export async function runWrk(
  url: string,
  headers: Readonly<Record<string, string>>,
  requests: readonly WrkRequest[],
  connections: number,
  seconds: number,
): Promise<WrkResult> {
  const dir = mkdtempSync(join(tmpdir(), 'vscope-wrk-'));
  try {
    writeFileSync(join(dir, 'paths'), requests.map((request) => `${request.path}\t${request.cookie ?? ''}`).join('\n'));
    writeFileSync(join(dir, 'script.lua'), script);
    const child = spawn('/usr/bin/wrk', ['-t1', `-c${String(connections)}`, `-d${String(seconds)}s`, '--timeout', '10s', '-s', join(dir, 'script.lua'), url], {
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        BENCH_PATHS: join(dir, 'paths'),
        BENCH_HEADERS: Object.entries(headers).map(([name, value]) => `${name}: ${value}`).join('\n'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    const line = output.split('\n').find((candidate) => candidate.startsWith('{"p50Us"'));
    if (code !== 0 || line === undefined) throw new Error(`wrk failed (exit ${String(code)}): ${output.slice(-500)}`);
    const figures = JSON.parse(line) as { p50Us: number; p99Us: number; requests: number; durationUs: number; bytes: number; failures: number; quantilesUs: number[] };
    const durationSec = figures.durationUs / 1e6;
    return {
      url,
      connections,
      p50Ms: toMs(figures.p50Us),
      p99Ms: toMs(figures.p99Us),
      requests: figures.requests,
      requestsPerSec: Math.round(figures.requests / durationSec),
      failures: figures.failures,
      receivedMBps: Math.round(figures.bytes / durationSec / 1e5) / 10,
      quantilesUs: figures.quantilesUs,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the clients of several simultaneous runs saw together. */
export interface MergedLatency {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly failures: number;
}

/**
 * Merges simultaneous runs: each run's 1,000 quantiles stand for a thousandth of its requests
 * each, so a run that answered more weighs more. Exact to the 0.1 % grid of each run.
 */
export function mergeRuns(runs: readonly WrkResult[]): MergedLatency {
  const points = runs.flatMap((run) => run.quantilesUs.map((us) => ({ us, weight: run.requests / run.quantilesUs.length })));
  points.sort((a, b) => a.us - b.us);
  const total = points.reduce((sum, point) => sum + point.weight, 0);
  const at = (share: number): number => {
    let seen = 0;
    for (const point of points) {
      seen += point.weight;
      if (seen >= share * total - 1e-9) return point.us;
    }
    return points.at(-1)?.us ?? 0;
  };
  return {
    p50Ms: toMs(at(0.5)),
    p99Ms: toMs(at(0.99)),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    requestsPerSec: runs.reduce((sum, run) => sum + run.requestsPerSec, 0),
    failures: runs.reduce((sum, run) => sum + run.failures, 0),
  };
}
