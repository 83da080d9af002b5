/**
 * What the collector needs from the vSphere client (src/vsphere/client.ts), as a structural
 * type: the real `VsphereClient` satisfies it, and the collector reads nothing else.
 */
import type { Logger } from 'pino';
import type { MoRef } from '../vsphere/values.ts';

export type { MoRef };

/** One perf counter as PerformanceManager.perfCounter lists it. */
export interface PerfCounterInfo {
  readonly id: number;
  readonly group: string;
  readonly name: string;
  readonly rollup: string;
  readonly unit: string;
  readonly statsType: string;
  /** Statistics level (1-4) at which vCenter keeps the counter in historical intervals. */
  readonly level: number;
}

/** One historical interval of PerformanceManager.historicalInterval. */
export interface HistoricalInterval {
  readonly key: number;
  readonly samplingPeriodSec: number;
  readonly name: string;
  readonly lengthSec: number;
  readonly level: number;
  readonly enabled: boolean;
}

export interface PerfQuerySpec {
  readonly entity: MoRef;
  readonly metricIds: readonly { readonly counterId: number; readonly instance: string }[];
  readonly intervalSec: number;
  readonly startSec?: number;
  readonly endSec?: number;
  readonly maxSample?: number;
}

export interface PerfEntityResult {
  readonly entity: MoRef;
  readonly samples: readonly { readonly tsSec: number; readonly intervalSec: number }[];
  readonly series: readonly { readonly counterId: number; readonly instance: string; readonly values: readonly number[] }[];
}

export interface RetrievedObject {
  readonly obj: MoRef;
  readonly props: Readonly<Record<string, unknown>>;
  readonly missing: readonly string[];
}

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
