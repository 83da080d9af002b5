/**
 * The inventory vscope keeps: what the Filer, Hosts and Virtual machines views list.
 * Units are in field names. `null` means vCenter did not report the value.
 *
 * Ids (`id`, `...Id`) are vscope entity ids (see entity-id.ts): stable across cycles,
 * unique across vCenters, safe in URLs. `moRef` is the vCenter managed object id.
 */

export type EntityKind = 'datacenter' | 'cluster' | 'host' | 'nic' | 'vm' | 'datastore';

/** vim25 HostSystemConnectionState. */
export type HostConnectionState = 'connected' | 'disconnected' | 'notResponding';
/** vim25 VirtualMachinePowerState / HostSystemPowerState. */
export type PowerState = 'poweredOn' | 'poweredOff' | 'suspended' | 'standBy' | 'unknown';
/** vim25 VirtualMachineToolsRunningStatus, or null when unset. */
export type ToolsRunningStatus = 'guestToolsRunning' | 'guestToolsNotRunning' | 'guestToolsExecutingScripts';
/** vim25 VirtualMachineToolsVersionStatus (guest.toolsVersionStatus2 preferred). */
export type ToolsVersionStatus =
  | 'guestToolsNotInstalled'
  | 'guestToolsNeedUpgrade'
  | 'guestToolsCurrent'
  | 'guestToolsUnmanaged'
  | 'guestToolsTooOld'
  | 'guestToolsSupportedOld'
  | 'guestToolsSupportedNew'
  | 'guestToolsTooNew'
  | 'guestToolsBlacklisted';
/** vim25 VirtualMachineFaultToleranceState; a VM without the property is notConfigured. */
export type FaultToleranceState = 'notConfigured' | 'disabled' | 'enabled' | 'needSecondary' | 'starting' | 'running';
/** vim25 ManagedEntityStatus (overallStatus). */
export type HealthStatus = 'green' | 'yellow' | 'red' | 'gray';

interface EntityBase {
  readonly id: string;
  readonly vcenterId: string;
  readonly moRef: string;
  readonly name: string;
}

export interface DatacenterInfo extends EntityBase {
  readonly kind: 'datacenter';
}

export interface ClusterInfo extends EntityBase {
  readonly kind: 'cluster';
  readonly datacenterId: string;
}

export interface HostNicInfo {
  readonly kind: 'nic';
  readonly id: string;
  readonly hostId: string;
  /** vmnic device name, e.g. `vmnic0`. */
  readonly device: string;
  /** Negotiated link speed in Mb/s; null when the link is down. */
  readonly linkSpeedMbps: number | null;
  readonly mac: string | null;
  readonly driver: string | null;
}

export interface HostInfo extends EntityBase {
  readonly kind: 'host';
  readonly datacenterId: string;
  /** null for a standalone host. */
  readonly clusterId: string | null;
  readonly connectionState: HostConnectionState;
  readonly powerState: PowerState;
  readonly inMaintenanceMode: boolean;
  readonly overallStatus: HealthStatus;
  readonly cpuModel: string | null;
  readonly cpuCores: number;
  readonly cpuThreads: number;
  readonly cpuCapacityMhz: number;
  readonly memoryCapacityMB: number;
  readonly esxVersion: string | null;
  /** Boot time, unix seconds; null when unknown. */
  readonly bootTimeSec: number | null;
  readonly nics: readonly HostNicInfo[];
}

export interface VmInfo extends EntityBase {
  readonly kind: 'vm';
  readonly datacenterId: string;
  readonly hostId: string | null;
  readonly clusterId: string | null;
  readonly datastoreIds: readonly string[];
  readonly powerState: PowerState;
  readonly overallStatus: HealthStatus;
  readonly guestOs: string | null;
  readonly ipAddress: string | null;
  readonly numCpu: number;
  readonly memoryMB: number;
  /** Committed + uncommitted storage, GB (1024^3 bytes). */
  readonly diskProvisionedGB: number;
  /** Committed storage, GB. */
  readonly diskUsedGB: number;
  readonly toolsRunningStatus: ToolsRunningStatus | null;
  readonly toolsVersionStatus: ToolsVersionStatus | null;
  readonly toolsVersion: string | null;
  readonly faultToleranceState: FaultToleranceState;
  readonly snapshotCount: number;
  readonly isTemplate: boolean;
}

export interface DatastoreInfo extends EntityBase {
  readonly kind: 'datastore';
  readonly datacenterId: string;
  /** VMFS, NFS, NFS41, vsan, vvol... as vCenter reports it. */
  readonly type: string;
  readonly capacityGB: number;
  readonly freeGB: number;
  /** Capacity - free + uncommitted, GB. */
  readonly provisionedGB: number;
  readonly accessible: boolean;
  /** vim25 DatastoreSummaryMaintenanceModeState, null when unset. */
  readonly maintenanceMode: string | null;
  readonly overallStatus: HealthStatus;
  readonly hostIds: readonly string[];
  readonly vmIds: readonly string[];
}

/** Everything one discovery pass found on one vCenter. */
export interface InventorySnapshot {
  readonly vcenterId: string;
  /** When discovery finished, unix seconds. */
  readonly collectedAtSec: number;
  readonly datacenters: readonly DatacenterInfo[];
  readonly clusters: readonly ClusterInfo[];
  readonly hosts: readonly HostInfo[];
  readonly vms: readonly VmInfo[];
  readonly datastores: readonly DatastoreInfo[];
}
