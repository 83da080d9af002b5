/**
 * Turns stored inventory and latest figures into the API's rows. Each list is built with maps
 * in one pass over the datacenter's entities (O(n)) and one `latest` query.
 *
 * Every function takes the person's Visibility (shared/visibility.ts): an entity's own figures
 * stay whole (a host's CPU includes all its VMs), but a relation to something the person may
 * not see is left out (null, or absent from a list), exactly as if it did not exist.
 */
import type {
  DatacenterRow,
  DatastoreRow,
  EntityDetail,
  EntityLink,
  HostRow,
  NicRow,
  VmRow,
} from '../shared/api.ts';
import { cpuReadyPctPerVcpu, metricsByKind } from '../shared/metrics.ts';
import type { EntityKind, HostNicInfo } from '../shared/inventory.ts';
import type { Visibility } from '../shared/visibility.ts';
import type {
  LatestFigures,
  Store,
  StoredCluster,
  StoredDatacenter,
  StoredDatastore,
  StoredEntity,
  StoredHost,
  StoredVm,
} from '../store/store.ts';

const noFigures: LatestFigures = { bucketSec: null, values: {} };

/** Sees everything: the collector's own views (/metrics, for Prometheus) and tests. */
export const everything: Visibility = { canRead: () => true, canSee: () => true };

/**
 * Whether a related entity is shown: containers (datacenters, clusters) by name when the
 * person may see them, the rest only when they may read them. NICs go with their host.
 */
export function shows(visibility: Visibility, entity: StoredEntity | HostNicInfo): boolean {
  if (entity.kind === 'datacenter' || entity.kind === 'cluster') return visibility.canSee(entity.id);
  if (entity.kind === 'nic') return visibility.canRead(entity.hostId);
  return visibility.canRead(entity.id);
}

/** The latest figures of one entity as a lookup: a metric's value, or null when unknown. */
function figuresOf(latest: ReadonlyMap<string, LatestFigures>, id: string): (metric: string) => number | null {
  const values = (latest.get(id) ?? noFigures).values;
  return (metric) => {
    const value = values[metric];
    return value === undefined || value === null || !Number.isFinite(value) ? null : value;
  };
}

const isLive = (entity: { removedAtSec: number | null }): boolean => entity.removedAtSec === null;

/** The list without removed entities unless `includeRemoved`. */
export function selectLive<T extends { removedAtSec: number | null }>(list: readonly T[], includeRemoved: boolean): readonly T[] {
  return includeRemoved ? list : list.filter(isLive);
}

/** Rounds to 2 decimals: derived ratios are displayed, not summed again. */
const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Entities of one datacenter, indexed: all of them (`load`) or the few one detail needs. */
export class DatacenterData {
  readonly clusters: readonly StoredCluster[];
  readonly hosts: readonly StoredHost[];
  readonly vms: readonly StoredVm[];
  readonly datastores: readonly StoredDatastore[];
  readonly clusterById: ReadonlyMap<string, StoredCluster>;
  readonly hostById: ReadonlyMap<string, StoredHost>;
  readonly datastoreById: ReadonlyMap<string, StoredDatastore>;
  /** Latest figures read so far (see `latest`). */
  private readonly latestById = new Map<string, LatestFigures>();

  constructor(
    readonly store: Store,
    readonly datacenter: StoredDatacenter,
    lists: {
      readonly clusters: readonly StoredCluster[];
      readonly hosts: readonly StoredHost[];
      readonly vms: readonly StoredVm[];
      readonly datastores: readonly StoredDatastore[];
    },
  ) {
    this.clusters = lists.clusters;
    this.hosts = lists.hosts;
    this.vms = lists.vms;
    this.datastores = lists.datastores;
    this.clusterById = new Map(this.clusters.map((cluster) => [cluster.id, cluster]));
    this.hostById = new Map(this.hosts.map((host) => [host.id, host]));
    this.datastoreById = new Map(this.datastores.map((datastore) => [datastore.id, datastore]));
  }

  /**
   * The latest figures of these entities, each read from the store once per DatacenterData:
   * a list worker keeps one per data version and builds every person's list from it.
   */
  async latest(ids: readonly string[]): Promise<ReadonlyMap<string, LatestFigures>> {
    const missing = ids.filter((id) => !this.latestById.has(id));
    if (missing.length > 0) {
      const read = await this.store.latest(missing);
      for (const id of missing) this.latestById.set(id, read.get(id) ?? noFigures);
    }
    return this.latestById;
  }

  /** Every entity of the datacenter; removed ones too with `includeRemoved`. */
  static async load(store: Store, datacenter: StoredDatacenter, includeRemoved = false): Promise<DatacenterData> {
    const options = { includeRemoved };
    const [clusters, hosts, vms, datastores] = await Promise.all([
      store.clusters(datacenter.id, options),
      store.hosts(datacenter.id, options),
      store.vms(datacenter.id, options),
      store.datastores(datacenter.id, options),
    ]);
    return new DatacenterData(store, datacenter, { clusters, hosts, vms, datastores });
  }
}

/** The entities with these ids and this kind (unknown ids skipped), by one lookup each. */
async function entitiesById<K extends StoredEntity['kind']>(
  store: Store,
  ids: readonly (string | null)[],
  kind: K,
): Promise<Extract<StoredEntity, { kind: K }>[]> {
  const found: Extract<StoredEntity, { kind: K }>[] = [];
  for (const id of ids) {
    if (id === null) continue;
    const entity = await store.entity(id);
    if (entity?.kind === kind) found.push(entity as Extract<StoredEntity, { kind: K }>);
  }
  return found;
}

/** Live (non-removed) VMs per host, templates aside: they use no CPU. */
function vmsByHost(vms: readonly StoredVm[]): Map<string, StoredVm[]> {
  const byHost = new Map<string, StoredVm[]>();
  for (const vm of vms) {
    if (!isLive(vm) || vm.isTemplate || vm.hostId === null) continue;
    let list = byHost.get(vm.hostId);
    if (!list) byHost.set(vm.hostId, (list = []));
    list.push(vm);
  }
  return byHost;
}

/**
 * Datacenters of one vCenter with the counts of what the person may read in each (collectedAt
 * is the caller's: it is live status). A datacenter is listed when the person may read it or
 * something in it.
 */
export async function datacenterRows(store: Store, vcenterId: string, visibility: Visibility): Promise<Omit<DatacenterRow, 'collectedAt'>[]> {
  const datacenters = (await store.datacenters()).filter((dc) => dc.vcenterId === vcenterId && isLive(dc));
  const rows = await Promise.all(
    datacenters.map(async (dc) => {
      // Ids only, from the store's index: loading 5,000 VMs to count them took ~100 ms.
      const present = await store.presentIds(dc.id);
      const count = (kind: EntityKind): number => (present[kind] ?? []).reduce((n, id) => (visibility.canRead(id) ? n + 1 : n), 0);
      return {
        id: dc.id,
        name: dc.name,
        vcenterId: dc.vcenterId,
        clusters: (present.cluster ?? []).reduce((n, id) => (visibility.canSee(id) ? n + 1 : n), 0),
        hosts: count('host'),
        vms: count('vm'),
        datastores: count('datastore'),
      };
    }),
  );
  return rows.filter((row) => visibility.canRead(row.id) || row.hosts + row.vms + row.datastores > 0);
}

function nicRow(nic: HostNicInfo, latest: ReadonlyMap<string, LatestFigures>): NicRow {
  const figure = figuresOf(latest, nic.id);
  return {
    id: nic.id,
    device: nic.device,
    linkSpeedMbps: nic.linkSpeedMbps,
    mac: nic.mac,
    netRxKBps: figure('netRxKBps'),
    netTxKBps: figure('netTxKBps'),
    netRxPps: figure('netRxPps'),
    netTxPps: figure('netTxPps'),
  };
}

/**
 * Host rows. vcpusAllocated, vms and vmsPoweredOn count the host's live VMs, templates aside.
 * @param nowSec for uptimeSec (now - boot time; null when the boot time is unknown)
 */
export async function hostRows(data: DatacenterData, hosts: readonly StoredHost[], nowSec: number, visibility: Visibility): Promise<HostRow[]> {
  const ids: string[] = [];
  for (const host of hosts) {
    ids.push(host.id);
    for (const nic of host.nics) ids.push(nic.id);
  }
  const latest = await data.latest(ids);
  const byHost = vmsByHost(data.vms);
  return hosts.map((host) => {
    const vms = byHost.get(host.id) ?? [];
    let vcpus = 0;
    let poweredOn = 0;
    for (const vm of vms) {
      vcpus += vm.numCpu;
      if (vm.powerState === 'poweredOn') poweredOn++;
    }
    const cluster = host.clusterId === null ? undefined : data.clusterById.get(host.clusterId);
    const shownCluster = cluster !== undefined && shows(visibility, cluster) ? cluster : undefined;
    const figure = figuresOf(latest, host.id);
    return {
      id: host.id,
      name: host.name,
      clusterId: shownCluster?.id ?? null,
      clusterName: shownCluster?.name ?? null,
      connectionState: host.connectionState,
      powerState: host.powerState,
      inMaintenanceMode: host.inMaintenanceMode,
      overallStatus: host.overallStatus,
      cpuModel: host.cpuModel,
      cpuCores: host.cpuCores,
      cpuThreads: host.cpuThreads,
      vcpusAllocated: vcpus,
      vms: vms.length,
      vmsPoweredOn: poweredOn,
      cpuCapacityMhz: host.cpuCapacityMhz,
      cpuUsedMhz: figure('cpuUsedMhz'),
      cpuUsagePct: figure('cpuUsagePct'),
      memoryCapacityMB: host.memoryCapacityMB,
      memConsumedMB: figure('memConsumedMB'),
      memUsagePct: figure('memUsagePct'),
      netRxKBps: figure('netRxKBps'),
      netTxKBps: figure('netTxKBps'),
      esxVersion: host.esxVersion,
      uptimeSec: host.bootTimeSec === null ? null : Math.max(0, nowSec - host.bootTimeSec),
      nics: host.nics.map((nic) => nicRow(nic, latest)),
      removed: !isLive(host),
      collectedAt: host.lastSeenSec,
    };
  });
}

export async function vmRows(data: DatacenterData, vms: readonly StoredVm[], visibility: Visibility): Promise<VmRow[]> {
  const latest = await data.latest(vms.map((vm) => vm.id));
  return vms.map((vm) => vmRow(data, vm, visibility, latest));
}

/**
 * Whether `visibility` shows every entity a VM's row names (its host, cluster, datastores):
 * then its row is the same as the one of a person who sees everything.
 */
export function showsRelationsOf(data: DatacenterData, vm: StoredVm, visibility: Visibility): boolean {
  const host = vm.hostId === null ? undefined : data.hostById.get(vm.hostId);
  const cluster = vm.clusterId === null ? undefined : data.clusterById.get(vm.clusterId);
  if (host !== undefined && !shows(visibility, host)) return false;
  if (cluster !== undefined && !shows(visibility, cluster)) return false;
  return vm.datastoreIds.every((id) => {
    const datastore = data.datastoreById.get(id);
    return datastore === undefined || shows(visibility, datastore);
  });
}

/** One VM's row: its relations as far as `visibility` shows them, figures from `latest`. */
export function vmRow(data: DatacenterData, vm: StoredVm, visibility: Visibility, latest: ReadonlyMap<string, LatestFigures>): VmRow {
  const host = vm.hostId === null ? undefined : data.hostById.get(vm.hostId);
  const cluster = vm.clusterId === null ? undefined : data.clusterById.get(vm.clusterId);
  const shownHost = host !== undefined && shows(visibility, host) ? host : undefined;
  const shownCluster = cluster !== undefined && shows(visibility, cluster) ? cluster : undefined;
  const figure = figuresOf(latest, vm.id);
  const readyMs = figure('cpuReadyMs');
  const datastores: { id: string; name: string }[] = [];
  for (const id of vm.datastoreIds) {
    const datastore = data.datastoreById.get(id);
    if (datastore && shows(visibility, datastore)) datastores.push({ id, name: datastore.name });
  }
  return {
    id: vm.id,
    name: vm.name,
    powerState: vm.powerState,
    overallStatus: vm.overallStatus,
    hostId: shownHost?.id ?? null,
    hostName: shownHost?.name ?? null,
    clusterId: shownCluster?.id ?? null,
    clusterName: shownCluster?.name ?? null,
    guestOs: vm.guestOs,
    ipAddress: vm.ipAddress,
    toolsRunningStatus: vm.toolsRunningStatus,
    toolsVersionStatus: vm.toolsVersionStatus,
    toolsVersion: vm.toolsVersion,
    numCpu: vm.numCpu,
    memoryMB: vm.memoryMB,
    diskProvisionedGB: vm.diskProvisionedGB,
    diskUsedGB: vm.diskUsedGB,
    datastores,
    faultToleranceState: vm.faultToleranceState,
    snapshotCount: vm.snapshotCount,
    cpuUsagePct: figure('cpuUsagePct'),
    cpuUsedMhz: figure('cpuUsedMhz'),
    cpuReadyMs: readyMs,
    cpuReadyPctPerVcpu: readyMs === null ? null : round2(cpuReadyPctPerVcpu(readyMs, vm.numCpu)),
    memUsagePct: figure('memUsagePct'),
    netRxKBps: figure('netRxKBps'),
    netTxKBps: figure('netTxKBps'),
    netRxPps: figure('netRxPps'),
    netTxPps: figure('netTxPps'),
    diskReadIops: figure('diskReadIops'),
    diskWriteIops: figure('diskWriteIops'),
    diskReadKBps: figure('diskReadKBps'),
    diskWriteKBps: figure('diskWriteKBps'),
    diskReadLatencyMs: figure('diskReadLatencyMs'),
    diskWriteLatencyMs: figure('diskWriteLatencyMs'),
    diskMaxLatencyMs: figure('diskMaxLatencyMs'),
    isTemplate: vm.isTemplate,
    removed: !isLive(vm),
    collectedAt: vm.lastSeenSec,
  };
}

/** Datastore rows; usedGB = capacity - free; percentages of capacity (0 when capacity is 0). */
export async function datastoreRows(data: DatacenterData, datastores: readonly StoredDatastore[]): Promise<DatastoreRow[]> {
  const latest = await data.latest(datastores.map((datastore) => datastore.id));
  return datastores.map((ds) => {
    const usedGB = Math.max(0, ds.capacityGB - ds.freeGB);
    const figure = figuresOf(latest, ds.id);
    const pct = (part: number): number => (ds.capacityGB > 0 ? round2((part / ds.capacityGB) * 100) : 0);
    return {
      id: ds.id,
      name: ds.name,
      type: ds.type,
      vms: ds.vmIds.length,
      hosts: ds.hostIds.length,
      capacityGB: ds.capacityGB,
      usedGB: round2(usedGB),
      freeGB: ds.freeGB,
      provisionedGB: ds.provisionedGB,
      usedPct: pct(usedGB),
      provisionedPct: pct(ds.provisionedGB),
      accessible: ds.accessible,
      maintenanceMode: ds.maintenanceMode,
      overallStatus: ds.overallStatus,
      readKBps: figure('readKBps'),
      writeKBps: figure('writeKBps'),
      readLatencyMs: figure('readLatencyMs'),
      writeLatencyMs: figure('writeLatencyMs'),
      removed: !isLive(ds),
      collectedAt: ds.lastSeenSec,
    };
  });
}

/** Where an entity sits: its vCenter, datacenter and (for a NIC) its host. */
export interface EntityPlace {
  readonly entity: StoredEntity;
  readonly vcenterId: string;
  readonly datacenter: StoredDatacenter | null;
  readonly host: StoredHost | null;
}

/** Finds an entity and its datacenter; null when unknown. */
export async function locate(store: Store, id: string): Promise<EntityPlace | null> {
  const entity = await store.entity(id);
  if (!entity) return null;
  if (entity.kind === 'datacenter') return { entity, vcenterId: entity.vcenterId, datacenter: entity, host: null };
  if (entity.kind === 'nic') {
    const host = await store.entity(entity.hostId);
    if (host?.kind !== 'host') return null;
    const datacenter = await store.entity(host.datacenterId);
    return { entity, vcenterId: host.vcenterId, datacenter: datacenter?.kind === 'datacenter' ? datacenter : null, host };
  }
  const datacenter = await store.entity(entity.datacenterId);
  return { entity, vcenterId: entity.vcenterId, datacenter: datacenter?.kind === 'datacenter' ? datacenter : null, host: null };
}

export const entityName = (entity: StoredEntity): string => (entity.kind === 'nic' ? entity.device : entity.name);

const link = (entity: StoredEntity): EntityLink => ({ id: entity.id, kind: entity.kind, name: entityName(entity) });

/** The detail view of one located entity: its row and its live relations. */
export async function entityDetail(store: Store, place: EntityPlace, nowSec: number, visibility: Visibility): Promise<EntityDetail> {
  const { entity } = place;
  const base = {
    id: entity.id,
    kind: entity.kind,
    name: entityName(entity),
    datacenter: place.datacenter ? link(place.datacenter) : null,
    metrics: metricsByKind[entity.kind].map((def) => ({ metric: def.key, unit: def.unit, label: def.label })),
  };
  if (!place.datacenter) return { ...base, row: null, related: {} };
  const datacenter = place.datacenter;
  const links = (list: readonly StoredEntity[]): EntityLink[] => list.filter((related) => shows(visibility, related)).map(link);
  // A VM, a datastore or a NIC needs only its neighbours (a few lookups, not the whole datacenter).
  switch (entity.kind) {
    case 'vm': {
      const host = await entitiesById(store, [entity.hostId], 'host');
      const cluster = await entitiesById(store, [entity.clusterId], 'cluster');
      const datastores = await entitiesById(store, entity.datastoreIds, 'datastore');
      const data = new DatacenterData(store, datacenter, { clusters: cluster, hosts: host, vms: [entity], datastores });
      return {
        ...base,
        row: (await vmRows(data, [entity], visibility))[0] ?? null,
        related: { host: links(host), cluster: links(cluster), datastores: links(datastores) },
      };
    }
    case 'datastore': {
      const data = new DatacenterData(store, datacenter, { clusters: [], hosts: [], vms: [], datastores: [entity] });
      return {
        ...base,
        row: (await datastoreRows(data, [entity]))[0] ?? null,
        related: {
          vms: links((await entitiesById(store, entity.vmIds, 'vm')).filter(isLive)),
          hosts: links(await entitiesById(store, entity.hostIds, 'host')),
        },
      };
    }
    case 'nic': {
      const latest = await store.latest([entity.id]);
      return { ...base, row: nicRow(entity, latest), related: { host: links(place.host ? [place.host] : []) } };
    }
    default:
      break;
  }
  const data = await DatacenterData.load(store, datacenter, true);
  const live = <T extends { removedAtSec: number | null }>(list: readonly T[]): T[] => list.filter(isLive);
  switch (entity.kind) {
    case 'datacenter':
      return {
        ...base,
        row: null,
        related: {
          clusters: links(live(data.clusters)),
          hosts: links(live(data.hosts)),
          datastores: links(live(data.datastores)),
        },
      };
    case 'cluster':
      return {
        ...base,
        row: null,
        related: {
          hosts: links(live(data.hosts).filter((host) => host.clusterId === entity.id)),
          vms: links(live(data.vms).filter((vm) => vm.clusterId === entity.id)),
        },
      };
    case 'host':
      return {
        ...base,
        row: (await hostRows(data, [entity], nowSec, visibility))[0] ?? null,
        related: {
          cluster: links(entity.clusterId === null ? [] : [data.clusterById.get(entity.clusterId)].filter((c) => c !== undefined)),
          vms: links(live(data.vms).filter((vm) => vm.hostId === entity.id)),
          nics: entity.nics.map((nic) => ({ id: nic.id, kind: 'nic' as const, name: nic.device })),
          datastores: links(live(data.datastores).filter((ds) => ds.hostIds.includes(entity.id))),
        },
      };
    default:
      return { ...base, row: null, related: {} };
  }
}
