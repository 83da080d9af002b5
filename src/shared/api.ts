/**
 * JSON API types shared by the server (src/server) and the browser UI (web/).
 * Units are in field names; `null` means "not reported" (or "no sample yet" for figures).
 * Times are unix seconds.
 */
import type {
  FaultToleranceState,
  HealthStatus,
  HostConnectionState,
  PowerState,
  ToolsRunningStatus,
  ToolsVersionStatus,
} from './inventory.ts';
import type { Period } from './tiers.ts';
import type { ClusterCapacity, DatastoreFillForecast, DatastoreProvisioning, HostCapacity } from './capacity.ts';
import type { ContentionRankBy, ContentionRow, SharedPlace } from './contention.ts';
import type { AnalysisProgress, BucketWindow, ContentionMetric, InsightsPeriod } from './insights.ts';
import type { VmHint } from './vm-rightsizing.ts';

export interface ApiError {
  readonly error: { readonly code: string; readonly message: string };
}

/** GET /api/session, POST /api/session. */
export interface SessionInfo {
  readonly username: string;
  readonly vcenterId: string;
  readonly expiresAtSec: number;
}

/** POST /api/session body. */
export interface LoginRequest {
  readonly username: string;
  readonly password: string;
  readonly vcenter?: string;
}

/** GET /api/vcenters (public: the login form lists them). */
export interface VcenterSummary {
  readonly id: string;
  readonly name: string;
}

/** GET /api/datacenters */
export interface DatacenterRow {
  readonly id: string;
  readonly name: string;
  readonly vcenterId: string;
  readonly clusters: number;
  readonly hosts: number;
  readonly vms: number;
  readonly datastores: number;
  /** End of the last successful collection of its vCenter. */
  readonly collectedAt: number | null;
}

/** Physical NIC of a host, with its latest traffic. */
export interface NicRow {
  readonly id: string;
  readonly device: string;
  readonly linkSpeedMbps: number | null;
  readonly mac: string | null;
  readonly netRxKBps: number | null;
  readonly netTxKBps: number | null;
  readonly netRxPps: number | null;
  readonly netTxPps: number | null;
}

/** GET /api/datacenters/:id/hosts */
export interface HostRow {
  readonly id: string;
  readonly name: string;
  readonly clusterId: string | null;
  readonly clusterName: string | null;
  readonly connectionState: HostConnectionState;
  readonly powerState: PowerState;
  readonly inMaintenanceMode: boolean;
  readonly overallStatus: HealthStatus;
  readonly cpuModel: string | null;
  readonly cpuCores: number;
  readonly cpuThreads: number;
  readonly vcpusAllocated: number;
  readonly vms: number;
  readonly vmsPoweredOn: number;
  readonly cpuCapacityMhz: number;
  readonly cpuUsedMhz: number | null;
  readonly cpuUsagePct: number | null;
  readonly memoryCapacityMB: number;
  readonly memConsumedMB: number | null;
  readonly memUsagePct: number | null;
  readonly netRxKBps: number | null;
  readonly netTxKBps: number | null;
  readonly esxVersion: string | null;
  readonly uptimeSec: number | null;
  readonly nics: readonly NicRow[];
  readonly removed: boolean;
  /** When the inventory last saw it (end of that discovery); figures are the average of its latest 5-minute bucket. */
  readonly collectedAt: number | null;
}

/** GET /api/datacenters/:id/vms */
export interface VmRow {
  readonly id: string;
  readonly name: string;
  readonly powerState: PowerState;
  readonly overallStatus: HealthStatus;
  readonly hostId: string | null;
  readonly hostName: string | null;
  readonly clusterId: string | null;
  readonly clusterName: string | null;
  readonly guestOs: string | null;
  readonly ipAddress: string | null;
  readonly toolsRunningStatus: ToolsRunningStatus | null;
  readonly toolsVersionStatus: ToolsVersionStatus | null;
  readonly toolsVersion: string | null;
  readonly numCpu: number;
  readonly memoryMB: number;
  readonly diskProvisionedGB: number;
  readonly diskUsedGB: number;
  readonly datastores: readonly { readonly id: string; readonly name: string }[];
  readonly faultToleranceState: FaultToleranceState;
  readonly snapshotCount: number;
  readonly cpuUsagePct: number | null;
  readonly cpuUsedMhz: number | null;
  /** Ready time over all vCPUs, ms per 20 s sample. */
  readonly cpuReadyMs: number | null;
  /** Ready time as % of the interval, per vCPU. */
  readonly cpuReadyPctPerVcpu: number | null;
  readonly memUsagePct: number | null;
  readonly netRxKBps: number | null;
  readonly netTxKBps: number | null;
  readonly netRxPps: number | null;
  readonly netTxPps: number | null;
  readonly diskReadIops: number | null;
  readonly diskWriteIops: number | null;
  readonly diskReadKBps: number | null;
  readonly diskWriteKBps: number | null;
  readonly diskReadLatencyMs: number | null;
  readonly diskWriteLatencyMs: number | null;
  readonly diskMaxLatencyMs: number | null;
  readonly isTemplate: boolean;
  readonly removed: boolean;
  /** When the inventory last saw it (end of that discovery); figures are the average of its latest 5-minute bucket. */
  readonly collectedAt: number | null;
}

/** GET /api/datacenters/:id/datastores */
export interface DatastoreRow {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly vms: number;
  readonly hosts: number;
  readonly capacityGB: number;
  readonly usedGB: number;
  readonly freeGB: number;
  readonly provisionedGB: number;
  readonly usedPct: number;
  readonly provisionedPct: number;
  readonly accessible: boolean;
  readonly maintenanceMode: string | null;
  readonly overallStatus: HealthStatus;
  readonly readKBps: number | null;
  readonly writeKBps: number | null;
  readonly readLatencyMs: number | null;
  readonly writeLatencyMs: number | null;
  readonly removed: boolean;
  /** When the inventory last saw it (end of that discovery); figures are the average of its latest 5-minute bucket. */
  readonly collectedAt: number | null;
}

export interface EntityLink {
  readonly id: string;
  readonly kind: 'datacenter' | 'cluster' | 'host' | 'nic' | 'vm' | 'datastore';
  readonly name: string;
}

/** GET /api/entities/:id: the row of its kind plus its relations. */
export interface EntityDetail {
  readonly id: string;
  readonly kind: EntityLink['kind'];
  readonly name: string;
  readonly datacenter: EntityLink | null;
  readonly row: HostRow | VmRow | DatastoreRow | NicRow | null;
  /** A VM's host, cluster, datastores; a host's VMs, NICs and datastores; a datastore's VMs and hosts; a NIC's host. */
  readonly related: Readonly<Record<string, readonly EntityLink[]>>;
  /** Metrics this kind has history for, with units. */
  readonly metrics: readonly { readonly metric: string; readonly unit: string; readonly label: string }[];
}

/** GET /api/entities/:id/series */
export interface SeriesResponse {
  readonly entity: EntityLink;
  readonly period: Period | 'custom';
  readonly stepSec: number;
  /** Start of the first bucket. */
  readonly from: number;
  /** End of the last bucket (its start + stepSec). */
  readonly to: number;
  /** Bucket starts, ascending, one per step (gaps are null in the series). */
  readonly ts: readonly number[];
  readonly series: readonly {
    readonly metric: string;
    readonly unit: string;
    readonly label: string;
    readonly avg: readonly (number | null)[];
    readonly min: readonly (number | null)[];
    readonly max: readonly (number | null)[];
  }[];
}

/** GET /api/status */
export interface StatusResponse {
  readonly version: string;
  readonly intervalSec: number;
  readonly nowSec: number;
  readonly vcenters: readonly {
    readonly id: string;
    readonly name: string;
    readonly lastStart: number | null;
    readonly lastEnd: number | null;
    readonly lastDurationMs: number | null;
    readonly lastSuccess: number | null;
    readonly lastError: string | null;
    /** No successful cycle for 3 intervals, or the last cycle failed. */
    readonly stale: boolean;
    /** What the session may read of this vCenter: datacenters, clusters (seen), hosts, vms, datastores. */
    readonly counts: Readonly<Record<string, number>>;
    /** The history import of the whole vCenter, as a share (its entity counts are not the session's to see). */
    readonly import: { readonly state: string; readonly percentDone: number; readonly problem: string | null };
  }[];
}

// ---------------------------------------------------------------------------------------------
// Capacity, Contention and Compare (issue 13). Every section names the buckets its figures come
// from (`window`: tier, bucket width, first bucket, end); readings carry their own bucket start.

/** A datastore's fill forecast (30 days of 2-hour buckets of usedGB) and provisioning. */
export interface DatastoreCapacityRow {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly capacityGB: number;
  /** Capacity - free, from the inventory (now). */
  readonly usedGB: number;
  readonly usedPct: number;
  readonly forecast: DatastoreFillForecast;
  readonly provisioning: DatastoreProvisioning;
}

/** A host's headroom now and at the period's peak; VMs and vCPUs count its powered-on VMs. */
export interface HostCapacityRow extends HostCapacity {
  readonly name: string;
  /** Null for a standalone host, or a cluster the person may not see. */
  readonly clusterId: string | null;
  readonly clusterName: string | null;
  readonly connectionState: HostConnectionState;
  readonly inMaintenanceMode: boolean;
}

/**
 * A cluster's headroom and N+1, from the hosts that carry its VMs (connected, powered on, not
 * in maintenance mode). Its figures are whole; host ids (hostIds, hostsWithoutData, the N+1's
 * biggestHostId) are left out, or null, where the person may not read that host.
 */
export interface ClusterCapacityRow extends ClusterCapacity {
  readonly name: string;
  /** Hosts of the cluster not counted (maintenance, disconnected, powered off), readable ones only. */
  readonly hostsLeftOut: readonly string[];
}

/** A VM with at least one right-sizing hint over the period. */
export interface VmHintRow {
  readonly id: string;
  readonly name: string;
  readonly hostId: string | null;
  readonly hostName: string | null;
  readonly clusterId: string | null;
  readonly clusterName: string | null;
  readonly powerState: PowerState;
  readonly numCpu: number;
  readonly memoryMB: number;
  /** Share of the period with CPU usage figures, percent. */
  readonly coveragePct: number;
  readonly hints: readonly VmHint[];
}

/** GET /api/datacenters/:id/capacity */
export interface CapacityResponse {
  readonly datacenter: EntityLink;
  readonly period: InsightsPeriod;
  readonly nowSec: number;
  readonly datastores: { readonly window: BucketWindow; readonly rows: readonly DatastoreCapacityRow[] };
  readonly clusters: { readonly window: BucketWindow; readonly rows: readonly ClusterCapacityRow[] };
  readonly hosts: { readonly window: BucketWindow; readonly rows: readonly HostCapacityRow[] };
  readonly vms: {
    /** Complete buckets only (see insights.ts `completeWindow`). */
    readonly window: BucketWindow;
    /** VMs looked at (templates aside). */
    readonly analysed: number;
    /** VMs with figures over less than `rules.minCoveragePct` of the period: no hint either way. */
    readonly withoutEnoughData: number;
    /**
     * Set while the VMs' buckets are being read: the first time (rows empty until done), or for
     * a newer window (rows of `window`, the older one, meanwhile). Ask again to get the rest.
     */
    readonly progress: AnalysisProgress | null;
    readonly rows: readonly VmHintRow[];
    /** The levels the hints use (vm-rightsizing.ts). */
    readonly rules: Readonly<Record<string, number>>;
  };
}

/** One VM of a contention ranking, with names of what the person may see. */
export interface ContentionRowView extends ContentionRow {
  readonly name: string;
  readonly hostName: string | null;
  readonly datastores: readonly { readonly id: string; readonly name: string }[];
}

/** A host or datastore the top VMs share. */
export interface SharedPlaceView extends SharedPlace {
  readonly name: string;
}

/** GET /api/datacenters/:id/contention */
export interface ContentionResponse {
  readonly datacenter: EntityLink;
  readonly period: InsightsPeriod;
  readonly nowSec: number;
  readonly metric: ContentionMetric;
  readonly label: string;
  readonly unit: string;
  readonly threshold: number;
  readonly thresholdNote: string;
  readonly rankBy: ContentionRankBy;
  /** Complete buckets only (see insights.ts `completeWindow`). */
  readonly window: BucketWindow;
  /** VMs with a value above 0 in the window, ranked. */
  readonly vmsRanked: number;
  /** VMs whose values were all 0 in the window (nothing to rank). */
  readonly vmsQuiet: number;
  /** VMs without any value of the metric in the window. */
  readonly vmsWithoutData: number;
  /** Why nothing is ranked (the metric is not collected, no VM to see, still reading...); null when rows follow. */
  readonly reason: string | null;
  /** Set while the VMs' buckets are being read (see CapacityResponse `vms.progress`). */
  readonly progress: AnalysisProgress | null;
  readonly rows: readonly ContentionRowView[];
  readonly shared: {
    readonly topVmIds: readonly string[];
    readonly hosts: readonly SharedPlaceView[];
    readonly datastores: readonly SharedPlaceView[];
  };
}

/** GET /api/compare: one metric of several entities of one kind, on the same buckets. */
export interface CompareResponse {
  readonly kind: 'host' | 'vm' | 'datastore' | 'nic';
  readonly metric: string;
  readonly unit: string;
  readonly label: string;
  readonly period: Period | 'custom';
  readonly stepSec: number;
  /** Start of the first bucket. */
  readonly from: number;
  /** End of the last bucket. */
  readonly to: number;
  readonly ts: readonly number[];
  /** In the order the ids were asked. */
  readonly series: readonly {
    readonly entity: EntityLink;
    /** A VM's vCPUs (CPU ready per vCPU), null for other kinds. */
    readonly numCpu: number | null;
    readonly avg: readonly (number | null)[];
    readonly min: readonly (number | null)[];
    readonly max: readonly (number | null)[];
  }[];
}
