/**
 * The synthetic inventory and samples the API and UI benchmarks (and the API benchmark's cycle
 * writer) share: N VMs on N/50 hosts and N/250 datastores, the same for a given N.
 */
import { entityId, nicId } from '../src/shared/entity-id.ts';
import type { DatastoreInfo, HostInfo, InventorySnapshot, VmInfo } from '../src/shared/inventory.ts';
import { vmMetrics } from '../src/shared/metrics.ts';
import type { SampleBatch } from '../src/store/store.ts';

const nowSec = Math.floor(Date.now() / 1000);

export function syntheticInventory(vmCount: number): InventorySnapshot {
  const vcenterId = 'bench';
  const datacenterId = entityId('datacenter', vcenterId, 'datacenter-1');
  const clusterId = entityId('cluster', vcenterId, 'domain-c1');
  const hostCount = Math.max(1, Math.ceil(vmCount / 50));
  const datastoreCount = Math.max(1, Math.ceil(vmCount / 250));
  const hosts: HostInfo[] = Array.from({ length: hostCount }, (_, i) => {
    const id = entityId('host', vcenterId, `host-${String(i)}`);
    return {
      kind: 'host',
      id,
      vcenterId,
      moRef: `host-${String(i)}`,
      name: `esx${String(i).padStart(3, '0')}.bench.example`,
      datacenterId,
      clusterId,
      connectionState: 'connected',
      powerState: 'poweredOn',
      inMaintenanceMode: false,
      overallStatus: 'green',
      cpuModel: 'Intel(R) Xeon(R) Gold 6330',
      cpuCores: 56,
      cpuThreads: 112,
      cpuCapacityMhz: 112000,
      memoryCapacityMB: 1048576,
      esxVersion: '8.0.3',
      bootTimeSec: nowSec - 30 * 86400,
      nics: ['vmnic0', 'vmnic1'].map((device) => ({
        kind: 'nic' as const,
        id: nicId(id, device),
        hostId: id,
        device,
        linkSpeedMbps: 25000,
        mac: null,
        driver: 'ixgben',
      })),
    };
  });
  const datastoreIds = Array.from({ length: datastoreCount }, (_, i) => entityId('datastore', vcenterId, `datastore-${String(i)}`));
  const vms: VmInfo[] = Array.from({ length: vmCount }, (_, i) => ({
    kind: 'vm',
    id: entityId('vm', vcenterId, `vm-${String(i)}`),
    vcenterId,
    moRef: `vm-${String(i)}`,
    name: `app-${String(i).padStart(5, '0')}`,
    datacenterId,
    hostId: hosts[i % hostCount]?.id ?? null,
    clusterId,
    datastoreIds: [datastoreIds[i % datastoreCount] ?? ''],
    powerState: i % 10 === 0 ? 'poweredOff' : 'poweredOn',
    overallStatus: 'green',
    guestOs: 'Ubuntu Linux (64-bit)',
    ipAddress: `10.${String((i >> 16) & 255)}.${String((i >> 8) & 255)}.${String(i & 255)}`,
    numCpu: 1 + (i % 8),
    memoryMB: 4096,
    diskProvisionedGB: 100,
    diskUsedGB: 40,
    toolsRunningStatus: 'guestToolsRunning',
    toolsVersionStatus: 'guestToolsCurrent',
    toolsVersion: '12389',
    faultToleranceState: 'notConfigured',
    snapshotCount: i % 7 === 0 ? 1 : 0,
    isTemplate: false,
  }));
  const datastores: DatastoreInfo[] = datastoreIds.map((id, i) => ({
    kind: 'datastore',
    id,
    vcenterId,
    moRef: `datastore-${String(i)}`,
    name: `ds-${String(i).padStart(3, '0')}`,
    datacenterId,
    type: 'VMFS',
    capacityGB: 16384,
    freeGB: 4096,
    provisionedGB: 14000,
    accessible: true,
    maintenanceMode: 'normal',
    overallStatus: 'green',
    hostIds: hosts.map((host) => host.id),
    vmIds: vms.filter((_, v) => v % datastoreCount === i).map((vm) => vm.id),
  }));
  return {
    vcenterId,
    collectedAtSec: nowSec,
    datacenters: [{ kind: 'datacenter', id: datacenterId, vcenterId, moRef: 'datacenter-1', name: 'Bench DC' }],
    clusters: [{ kind: 'cluster', id: clusterId, vcenterId, moRef: 'domain-c1', name: 'Bench cluster', datacenterId }],
    hosts,
    vms,
    datastores,
  };
}

export function vmBatch(vm: VmInfo, intervalSec: number, ts: readonly number[], next: () => number): SampleBatch {
  const values: Record<string, number[]> = {};
  for (const def of vmMetrics) values[def.key] = ts.map(() => Math.round(next() * 1000) / 10);
  return { entityId: vm.id, kind: 'vm', intervalSec, ts, values };
}

