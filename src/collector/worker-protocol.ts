/**
 * What crosses the thread boundary between the collector worker (worker.ts) and its
 * main-thread facade (worker-collector.ts): structured-cloneable values only.
 */
import type { DatabaseSettings, EngineSettings } from '../store/open.ts';
import type { CollectorStatus, CollectorTuning, CycleResult, VcenterTarget } from './collector.ts';

/** The worker's `workerData`: everything it needs to build its collector. Holds the passwords. */
export interface CollectorWorkerStart {
  /** SQLite database file, already created and migrated by the main thread. */
  readonly databasePath: string;
  /** The engine the samples go to, when not SQLite (holds its credentials). */
  readonly engine?: EngineSettings | null;
  /** The shared state's PostgreSQL, when not SQLite (holds its password). */
  readonly database?: DatabaseSettings | null;
  readonly vcenters: readonly VcenterTarget[];
  readonly intervalSec: number;
  readonly tuning: Partial<CollectorTuning>;
  /** pino level of the worker's logger (it writes JSON lines to stdout, as the main one). */
  readonly logLevel: string;
  /** Fields of the main thread's collector logger, e.g. `{ component: 'collector' }`. */
  readonly logBindings: Readonly<Record<string, unknown>>;
  /** How often the worker applies retention once started, ms. */
  readonly retentionEveryMs: number;
  /** The collector's name in the vCenters' leases: one per process, whichever worker runs. */
  readonly leaseHolderId: string;
}

/** Main thread -> worker. */
export type ToCollectorWorker =
  | { readonly type: 'start' }
  | { readonly type: 'run-once'; readonly id: number }
  | { readonly type: 'stop' };

/** Worker -> main thread. `cycleEnded` is false for the statuses read at start. */
export type FromCollectorWorker =
  | { readonly type: 'status'; readonly statuses: readonly CollectorStatus[]; readonly cycleEnded: boolean }
  | { readonly type: 'run-once-done'; readonly id: number; readonly results: readonly CycleResult[] };
