/**
 * The inventory the contract suites store: two vCenters, three datacenters, every entity kind,
 * names whose byte order (what every store sorts by) differs from a locale's (`Alpha` < `_tools`
 * < `alpha` < `beta`; en-US would say `_tools`, `alpha`, `Alpha`, `beta`), and two VMs of one name.
 */
import { entityId, nicId } from '../../shared/entity-id.ts';
import type { ClusterInfo, DatacenterInfo, DatastoreInfo, HostInfo, InventorySnapshot, VmInfo } from '../../shared/inventory.ts';

export const vc1 = 'vc1.example';
export const vc2 = 'vc2.example';

export const paris = entityId('datacenter', vc1, 'datacenter-1');
export const lyon = entityId('datacenter', vc1, 'datacenter-2');
export const berlin = entityId('datacenter', vc2, 'datacenter-1');

export const clusterB = entityId('cluster', vc1, 'domain-c1');
export const clusterA = entityId('cluster', vc1, 'domain-c2');
export const hostParis = entityId('host', vc1, 'host-1');
export const hostLyon = entityId('host', vc1, 'host-2');
export const hostBerlin = entityId('host', vc2, 'host-1');
export const nicParis0 = nicId(hostParis, 'vmnic0');
export const nicParis1 = nicId(hostParis, 'vmnic1');
export const nicLyon0 = nicId(hostLyon, 'vmnic0');
export const dsParis = entityId('datastore', vc1, 'datastore-1');
export const dsLyon = entityId('datastore', vc1, 'datastore-2');

export const vmBeta = entityId('vm', vc1, 'vm-1');
export const vmAlphaUpper = entityId('vm', vc1, 'vm-2');
export const vmTools = entityId('vm', vc1, 'vm-3');
export const vmAlpha = entityId('vm', vc1, 'vm-4');
export const vmLyon = entityId('vm', vc1, 'vm-5');
export const vmBerlin = entityId('vm', vc2, 'vm-1');
/** Two VMs named `dup`, with ids chosen by hand so that their order is known: ...01 before ...02. */
export const vmDup1 = 'vm-dup00000000001';
export const vmDup2 = 'vm-dup00000000002';

export function datacenter(id: string, vcenterId: string, moRef: string, name: string): DatacenterInfo {
  return { kind: 'datacenter', id, vcenterId, moRef, name };
}

export function cluster(id: string, datacenterId: string, moRef: string, name: string): ClusterInfo {
  return { kind: 'cluster', id, vcenterId: vc1, moRef, name, datacenterId };
}

export function host(id: string, vcenterId: string, datacenterId: string, name: string, devices: readonly string[], clusterId: string | null = null): HostInfo {
  return {
    kind: 'host', id, vcenterId, moRef: `moref-${name}`, name, datacenterId, clusterId,
    connectionState: 'connected', powerState: 'poweredOn', inMaintenanceMode: false, overallStatus: 'green',
    cpuModel: 'Xeon Gold 6338', cpuCores: 32, cpuThreads: 64, cpuCapacityMhz: 64000, memoryCapacityMB: 524288, esxVersion: '8.0.2',
    bootTimeSec: 1_700_000_000,
    nics: devices.map((device) => ({ kind: 'nic', id: nicId(id, device), hostId: id, device, linkSpeedMbps: 25000, mac: `00:50:56:00:00:0${device.slice(-1)}`, driver: 'ixgben' })),
  };
}

export function vm(id: string, vcenterId: string, datacenterId: string, name: string, hostId: string | null, overrides: Partial<VmInfo> = {}): VmInfo {
  return {
    kind: 'vm', id, vcenterId, moRef: `moref-${id}`, name, datacenterId, hostId, clusterId: null, datastoreIds: [],
    powerState: 'poweredOn', overallStatus: 'green', guestOs: 'Debian GNU/Linux 12 (64-bit)', ipAddress: '10.0.0.7', numCpu: 2, memoryMB: 4096,
    diskProvisionedGB: 40, diskUsedGB: 12.5, toolsRunningStatus: 'guestToolsRunning', toolsVersionStatus: 'guestToolsCurrent',
    toolsVersion: '12352', faultToleranceState: 'notConfigured', snapshotCount: 0, isTemplate: false,
    ...overrides,
  };
}

export function datastore(id: string, datacenterId: string, name: string, hostIds: readonly string[], vmIds: readonly string[]): DatastoreInfo {
  return {
    kind: 'datastore', id, vcenterId: vc1, moRef: `moref-${name}`, name, datacenterId, type: 'VMFS',
    capacityGB: 2048, freeGB: 1024.5, provisionedGB: 1500, accessible: true, maintenanceMode: null, overallStatus: 'green',
    hostIds, vmIds,
  };
}

export interface Vc1Options {
  /** The VMs of Paris (default: all five of the fixture). */
  readonly parisVms?: readonly VmInfo[];
  /** The vmnics of the Paris host (default vmnic0 and vmnic1). */
  readonly parisNics?: readonly string[];
}

export const parisVms: readonly VmInfo[] = [
  vm(vmBeta, vc1, paris, 'beta', hostParis, { clusterId: clusterB, datastoreIds: [dsParis] }),
  vm(vmAlphaUpper, vc1, paris, 'Alpha', hostParis, { powerState: 'poweredOff', ipAddress: null, toolsRunningStatus: null }),
  // Listed second but sorted last of the two `dup`: their order comes from the ids.
  vm(vmDup2, vc1, paris, 'dup', hostParis),
  vm(vmTools, vc1, paris, '_tools', null, { isTemplate: true }),
  vm(vmDup1, vc1, paris, 'dup', hostParis),
  vm(vmAlpha, vc1, paris, 'alpha', hostParis, { snapshotCount: 3 }),
];

/** vCenter 1 at `collectedAtSec`: Paris (two clusters, a host with NICs, VMs, a datastore) and Lyon. */
export function vc1Snapshot(collectedAtSec: number, options: Vc1Options = {}): InventorySnapshot {
  return {
    vcenterId: vc1,
    collectedAtSec,
    datacenters: [datacenter(paris, vc1, 'datacenter-1', 'Paris'), datacenter(lyon, vc1, 'datacenter-2', 'lyon')],
    clusters: [cluster(clusterB, paris, 'domain-c1', 'cluster-b'), cluster(clusterA, paris, 'domain-c2', 'Cluster-A')],
    hosts: [host(hostParis, vc1, paris, 'esx-paris', options.parisNics ?? ['vmnic0', 'vmnic1'], clusterB), host(hostLyon, vc1, lyon, 'esx-lyon', ['vmnic0'])],
    vms: [...(options.parisVms ?? parisVms), vm(vmLyon, vc1, lyon, 'lyon-vm', hostLyon)],
    datastores: [datastore(dsParis, paris, 'ds-paris', [hostParis], [vmBeta]), datastore(dsLyon, lyon, 'ds-lyon', [hostLyon], [vmLyon])],
  };
}

/** vCenter 2: Berlin, one host without NICs and one VM. */
export function vc2Snapshot(collectedAtSec: number): InventorySnapshot {
  return {
    vcenterId: vc2,
    collectedAtSec,
    datacenters: [datacenter(berlin, vc2, 'datacenter-1', 'Berlin')],
    clusters: [],
    hosts: [host(hostBerlin, vc2, berlin, 'esx-berlin', [])],
    vms: [vm(vmBerlin, vc2, berlin, 'gamma', hostBerlin)],
    datastores: [],
  };
}
