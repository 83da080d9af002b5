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
