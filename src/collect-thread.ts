/**
 * `vscope collect` runs its collector in a worker thread (collect-worker.ts), for the limit of
 * that thread's V8 heap (issue #12); this thread, the process's main one, only starts it,
 * passes it the signals and returns its exit code. It loads none of the collector's modules.
 */
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { untilSignal } from './signals.ts';
import { moduleBeside, startWorker } from './worker-thread.ts';

/** What `runCollectInWorker` gives its worker. */
export interface CollectWorkerStart {
  readonly config: Config;
  readonly once: boolean;
}

export type ToCollectWorker = { readonly type: 'stop' };
export type FromCollectWorker = { readonly type: 'exit'; readonly code: number } | { readonly type: 'failed'; readonly message: string };

/**
 * The old-generation limit of the collector's V8 heap, MB: 1,024, and 256 more per vCenter
 * beyond the first. V8 lets the old generation grow to up to 4 times what stays live before a
 * full collection, and it lowers that factor only for a heap whose limit is under 2 GB (1.6 at
 * 1 GB, from 1.3 at 256 MB); with Node's default limit (4 GB here), the garbage of a first
 * start's history import and blocks of summaries made its peak RSS (bench/RESULTS.md, issue 12).
 * What stays live in a collector grows with the inventory: about 30 MB at 5,000 VMs, 10 of
 * them modules and code, so about 160 MB expected at vCenter's maximum of 40,000 powered-on VMs,
 * a sixth of this limit.
 */
export function collectorHeapLimitMb(vcenters: number): number {
  return 1024 + 256 * Math.max(0, vcenters - 1);
}

/**
 * main.ts `runCollect` in a worker thread (collect-worker.ts) whose old generation is limited to
 * `collectorHeapLimitMb`, this thread only waiting for it: SIGINT and SIGTERM stop it (a worker
 * gets no signals). Throws what the worker threw, or that it ran out of memory.
 */
export async function runCollectInWorker(config: Config, log: Logger, options: { readonly once: boolean }): Promise<number> {
  const limitMb = collectorHeapLimitMb(config.vcenters.length);
  const thread = startWorker(moduleBeside(import.meta.url, 'collect-worker'), {
    workerData: { config, once: options.once } satisfies CollectWorkerStart,
    resourceLimits: { maxOldGenerationSizeMb: limitMb },
  });
  if (!options.once) void untilSignal(log).then(() => thread.postMessage({ type: 'stop' } satisfies ToCollectWorker));
  let ended: FromCollectWorker | null = null;
  let failure: Error | null = null;
  thread.on('message', (message: FromCollectWorker) => {
    ended = message;
  });
  thread.on('error', (error) => {
    failure = error;
  });
  const exitCode = await new Promise<number>((resolve) => thread.once('exit', resolve));
  const result = ended as FromCollectWorker | null;
  if (result?.type === 'exit') return result.code;
  if (result?.type === 'failed') throw new Error(result.message);
  const caught = failure as Error | null;
  if (caught !== null && 'code' in caught && caught.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    throw new Error(
      `the collector ran out of memory: its V8 heap's old generation is limited to ${String(limitMb)} MB (collect-thread.ts collectorHeapLimitMb); collect fewer vCenters per process (--vcenter ID)`,
    );
  }
  throw caught ?? new Error(`the collector's worker exited with code ${String(exitCode)}`);
}
