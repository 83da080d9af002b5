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
  readonly serviceContent: { readonly rootFolder: MoRef; readonly propertyCollector: MoRef };
  /** Any vim25 method; returns the parsed `returnval` (an array when several), or undefined. */
  call(method: string, thisRef: MoRef, argsXml?: string): Promise<unknown>;
  retrieve(type: string, paths: readonly string[], root?: MoRef): Promise<readonly RetrievedObject[]>;
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
