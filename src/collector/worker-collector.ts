/**
 * The collector in a worker thread, seen from the main thread as a plain `Collector`: a cycle's
 * CPU work (SOAP parsing, SQLite writes, the history import) runs on the worker's event loop,
 * so the HTTP server's latency does not depend on it. The facade keeps the statuses the
 * worker posts (so `status()` stays synchronous) and restarts a worker that dies.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { DatabaseSettings, EngineSettings } from '../store/open.ts';
import type { CollectionStatus } from '../store/store.ts';
import { backoffDelaySec, resolveTuning, type Collector, type CollectorStatus, type CollectorTuning, type CycleResult, type VcenterTarget } from './collector.ts';
import { moduleBeside, startWorker } from '../worker-thread.ts';
import { processHolderId } from './leases.ts';
import type { CollectorWorkerStart, FromCollectorWorker, ToCollectorWorker } from './worker-protocol.ts';

export interface CollectorWorkerOptions {
  /** SQLite database file, already opened (so migrated) by the caller; the worker opens its own connection. */
  readonly databasePath: string;
  /** The engine the samples go to, when not SQLite (store/open.ts). */
  readonly engine?: EngineSettings | null;
  /** The shared state's PostgreSQL, when not SQLite. */
  readonly database?: DatabaseSettings | null;
  readonly vcenters: readonly VcenterTarget[];
  /** Cycle period, seconds. */
  readonly intervalSec: number;
  readonly tuning?: Partial<CollectorTuning>;
  /**
   * The collector's logger: the worker logs to stdout at its level with its fields (e.g.
   * `component: 'collector'`); the worker's deaths and restarts are logged here.
   */
  readonly log: Logger;
  /** Statuses to report until the worker posts its own, e.g. the store's. Default: none. */
  readonly fallbackStatuses?: () => readonly CollectionStatus[];
  /**
   * The worker's entry module. Default: worker.ts beside this file (worker.js when compiled).
   * A `.ts` entry runs through tsx (see worker-thread.ts).
   */
  readonly entry?: URL;
  /** How often the worker applies retention once started, ms. Default: hourly. */
  readonly retentionEveryMs?: number;
  /** How long `stop()` lets the worker end its cycle and log out before terminating it, ms. Default 15,000. */
  readonly stopTimeoutMs?: number;
}

const zeroCounts: CycleResult['counts'] = { datacenters: 0, clusters: 0, hosts: 0, vms: 0, datastores: 0, nics: 0, samples: 0 };

/** Replaces every password (of 3 characters or more) in a message. */
function scrub(message: string, passwords: readonly string[]): string {
  let out = message;
  for (const password of passwords) if (password.length >= 3) out = out.split(password).join('***');
  return out;
}

/**
 * Starts the collector's worker thread at once (it runs no cycle before `start()` or
 * `runOnce()`). `stop()` ends the thread and is safe to call twice or after the worker died.
 */
export function startCollectorWorker(options: CollectorWorkerOptions): Collector {
  const entry = options.entry ?? moduleBeside(import.meta.url, 'worker');
  const passwords = options.vcenters.map((v) => v.password);
  // A dying worker is restarted with the backoff its cycles would use.
  const { retryBaseSec, maxBackoffIntervals } = resolveTuning(Math.max(1, options.intervalSec), options.tuning);
  const stopTimeoutMs = options.stopTimeoutMs ?? 15_000;
  const workerData: CollectorWorkerStart = {
    databasePath: options.databasePath,
    engine: options.engine ?? null,
    database: options.database ?? null,
    vcenters: options.vcenters,
    intervalSec: options.intervalSec,
    tuning: options.tuning ?? {},
    logLevel: options.log.level,
    logBindings: options.log.bindings(),
    retentionEveryMs: options.retentionEveryMs ?? 3600_000,
    leaseHolderId: processHolderId(),
  };
  const log = options.log;

  let worker: Worker | null = null;
  let exited: Promise<void> = Promise.resolve();
  let statuses: readonly CollectorStatus[] | null = null;
  let started = false;
  let stopping: Promise<void> | null = null;
  /** Deaths since the last cycle that ended: the restart backs off while the worker keeps dying. */
  let crashes = 0;
  let restartTimer: NodeJS.Timeout | null = null;
  let nextRunOnceId = 0;
  const pending = new Map<number, (results: readonly CycleResult[]) => void>();

  const status = (): readonly CollectorStatus[] => {
    if (statuses) return statuses;
    const ids = new Set(options.vcenters.map((v) => v.id));
    return (options.fallbackStatuses?.() ?? [])
      .filter((s) => ids.has(s.vcenterId))
      .map((s) => ({ ...s, consecutiveFailures: 0, nextRunSec: null, nextCycleSec: null }));
  };

  /** One failed result per vCenter, for cycles the worker cannot run or did not finish. */
  const failedResults = (error: string): CycleResult[] => {
    const nowSec = Math.floor(Date.now() / 1000);
    const known = status();
    return options.vcenters.map((v) => {
      const last = known.find((s) => s.vcenterId === v.id);
      return {
        vcenterId: v.id,
        ok: false,
        error,
        startSec: nowSec,
        endSec: nowSec,
        durationMs: 0,
        counts: last?.counts ?? zeroCounts,
        import: last?.import ?? { state: 'pending', entitiesDone: 0, entitiesTotal: 0 },
      };
    });
  };

  const send = (message: ToCollectorWorker): void => worker?.postMessage(message);

  const spawn = (): void => {
    const thread = startWorker(entry, { workerData });
    worker = thread;
    let failure: string | null = null;
    thread.on('message', (message: FromCollectorWorker) => {
      if (message.type === 'status') {
        statuses = message.statuses;
        if (message.cycleEnded) crashes = 0;
      } else {
        pending.get(message.id)?.(message.results);
        pending.delete(message.id);
      }
    });
    thread.on('error', (error) => {
      failure = scrub(error instanceof Error ? error.message : String(error), passwords);
    });
    exited = new Promise((resolve) => {
      thread.once('exit', (exitCode) => {
        worker = null;
        const reason = failure ?? `the collector worker exited with code ${String(exitCode)}`;
        for (const settle of pending.values()) settle(failedResults(stopping ? 'abandoned: the collector stopped during the cycle' : `the collector worker died: ${reason}`));
        pending.clear();
        if (stopping) {
          if (failure !== null) log.error({ err: failure }, 'the collector worker failed while stopping');
        } else {
          crashes += 1;
          const delaySec = backoffDelaySec(crashes, options.intervalSec, retryBaseSec, maxBackoffIntervals);
          log.error({ err: reason, exitCode, restartInSec: delaySec }, 'the collector worker died; restarting it');
          restartTimer = setTimeout(() => {
            restartTimer = null;
            spawn();
            if (started) send({ type: 'start' });
          }, delaySec * 1000);
        }
        resolve();
      });
    });
  };

  spawn();

  return {
    start(): void {
      if (started || stopping) return;
      started = true;
      send({ type: 'start' });
    },
    stop(): Promise<void> {
      stopping ??= (async () => {
        if (restartTimer) clearTimeout(restartTimer);
        restartTimer = null;
        const thread = worker;
        if (!thread) return;
        thread.postMessage({ type: 'stop' } satisfies ToCollectorWorker);
        // The worker abandons a running cycle within its grace time; one stuck past it is ended.
        const kill = setTimeout(() => {
          log.warn({ stopTimeoutMs }, 'the collector worker did not stop in time; terminating it');
          void thread.terminate();
        }, stopTimeoutMs);
        await exited;
        clearTimeout(kill);
      })();
      return stopping;
    },
    runOnce(): Promise<CycleResult[]> {
      if (stopping) return Promise.resolve(failedResults('abandoned: the collector stopped during the cycle'));
      if (!worker) return Promise.resolve(failedResults('the collector worker is restarting after a failure'));
      const id = nextRunOnceId++;
      const done = new Promise<CycleResult[]>((resolve) => pending.set(id, (results) => resolve([...results])));
      send({ type: 'run-once', id });
      return done;
    },
    status,
  };
}
