/**
 * What the collector needs from the vSphere client (src/vsphere/client.ts), as a structural
 * type: the real `VsphereClient` satisfies it, and the collector reads nothing else.
 */
import type { Logger } from 'pino';
import type {
  HistoricalInterval,
  ObjectContent as RetrievedObject,
  PerfCounter as PerfCounterInfo,
  PerfEntityMetric as PerfEntityResult,
  PerfQuerySpec,
} from '../vsphere/client.ts';
import type { MoRef } from '../vsphere/values.ts';

// The data types are the client's own; only the client's surface is narrowed here.
export type { HistoricalInterval, MoRef, PerfCounterInfo, PerfEntityResult, PerfQuerySpec, RetrievedObject };

export interface CollectorClient {
  readonly serviceContent: { readonly rootFolder: MoRef };
  retrieve(type: string, paths: readonly string[], root?: MoRef): Promise<readonly RetrievedObject[]>;
  /** Properties of `refs` (all of `type`) in one call; fails whole when one of them is gone. */
  propertiesOf(type: string, refs: readonly MoRef[], paths: readonly string[]): Promise<readonly RetrievedObject[]>;
  perfCounters(): Promise<ReadonlyMap<string, PerfCounterInfo>>;
  historicalIntervals(): Promise<readonly HistoricalInterval[]>;
  /** `options` lets the caller own batching: one call per `entitiesPerQuery` specs. */
  queryPerf(
    specs: readonly PerfQuerySpec[],
    options?: { readonly entitiesPerQuery?: number; readonly concurrency?: number },
  ): Promise<readonly PerfEntityResult[]>;
  logout(): Promise<void>;
}

/** Connection settings of one vCenter (the password never reaches a log line). */
export interface VcenterConnection {
  readonly url: string;
  readonly username: string;
  readonly password: string;
  readonly insecure?: boolean;
  readonly caFile?: string;
  /** RetrievePropertiesEx maxObjects; the client's default (1000) when absent. */
  readonly pageSize?: number;
}

export type ConnectFn = (options: VcenterConnection & { log?: Logger }) => Promise<CollectorClient>;

/** Whether a vCenter answers, without logging in (RetrieveServiceContent); rejects when it does not. */
export type ProbeFn = (options: Pick<VcenterConnection, 'url' | 'insecure' | 'caFile'> & { log?: Logger }) => Promise<unknown>;
