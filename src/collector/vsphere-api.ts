/**
 * What the collector needs from the vSphere client (src/vsphere/client.ts), as a structural
 * type: the real `VsphereClient` satisfies it, and the collector reads nothing else.
 */
import type { Logger } from 'pino';
import type {
  FilterUpdate,
  HistoricalInterval,
  MissingProperty,
  ObjectContent as RetrievedObject,
  ObjectUpdate,
  PerfCounter as PerfCounterInfo,
  PerfEntityMetric as PerfEntityResult,
  PerfQuerySpec,
  PropertyChange,
  PropertySpec,
  UpdateSet,
} from '../vsphere/client.ts';
import type { MoRef } from '../vsphere/values.ts';

// The data types are the client's own; only the client's surface is narrowed here.
export type {
  FilterUpdate,
  HistoricalInterval,
  MissingProperty,
  MoRef,
  ObjectUpdate,
  PerfCounterInfo,
  PerfEntityResult,
  PerfQuerySpec,
  PropertyChange,
  PropertySpec,
  RetrievedObject,
  UpdateSet,
};

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
  // Property-collector updates (inventory-updates.ts): objects of the session, which die with it.
  /** Changes on each new login: what an older session created is gone. */
  readonly sessionGeneration: number;
  createPropertyCollector(): Promise<MoRef>;
  createContainerView(container: MoRef, types: readonly string[]): Promise<MoRef>;
  createViewFilter(collector: MoRef, view: MoRef, propSets: readonly PropertySpec[]): Promise<MoRef>;
  waitForUpdatesEx(
    collector: MoRef,
    version: string,
    options: { readonly maxWaitSeconds: number; readonly maxObjectUpdates: number },
  ): Promise<UpdateSet | null>;
  destroyPropertyCollector(collector: MoRef): Promise<void>;
  destroyView(view: MoRef): Promise<void>;
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
