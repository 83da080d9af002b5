/**
 * Inventory discovery: one recursive ContainerView per datacenter and per object type
 * (never folder walks: vcsim lists datastores once per host under datastoreFolder), leaf
 * property paths so that values arrive typed, and relations resolved in memory.
 */
import type { Logger } from 'pino';
import type {
  ClusterInfo,
  DatacenterInfo,
  DatastoreInfo,
  EntityKind,
  FaultToleranceState,
  HealthStatus,
  HostConnectionState,
  HostInfo,
  HostNicInfo,
  InventorySnapshot,
  PowerState,
  ToolsRunningStatus,
  ToolsVersionStatus,
  VmInfo,
} from '../shared/inventory.ts';
import { entityId, nicId } from '../shared/entity-id.ts';
import { asArray, asBoolean, asMoRef, asNumber, asRecord, asString } from '../vsphere/values.ts';
import { InvalidArgument } from '../vsphere/errors.ts';
import type { CollectorClient, MoRef, RetrievedObject } from './vsphere-api.ts';

const bytesPerMB = 1024 * 1024;
const bytesPerGB = 1024 * 1024 * 1024;

export const hostPaths = [
  'name',
  'parent',
  'runtime.connectionState',
  'runtime.powerState',
  'runtime.inMaintenanceMode',
  'runtime.bootTime',
  'overallStatus',
  'summary.hardware.cpuModel',
  'summary.hardware.numCpuCores',
  'summary.hardware.numCpuThreads',
  'summary.hardware.cpuMhz',
  'summary.hardware.memorySize',
  'summary.config.product.version',
  'config.network.pnic',
] as const;

export const vmPaths = [
  'name',
  'runtime.powerState',
  'runtime.host',
  'runtime.faultToleranceState',
  'datastore',
  'overallStatus',
  'summary.config.guestFullName',
  'summary.config.numCpu',
  'summary.config.memorySizeMB',
  'summary.config.template',
  'summary.storage.committed',
  'summary.storage.uncommitted',
  'guest.ipAddress',
  'guest.toolsRunningStatus',
  'guest.toolsVersionStatus2',
  'guest.toolsVersionStatus',
  'guest.toolsVersion',
  'snapshot.rootSnapshotList',
] as const;

export const datastorePaths = [
  'summary.name',
  'summary.type',
  'summary.capacity',
  'summary.freeSpace',
  'summary.uncommitted',
  'summary.accessible',
  'summary.maintenanceMode',
  'overallStatus',
  'host',
  'vm',
] as const;

const connectionStates: readonly HostConnectionState[] = ['connected', 'disconnected', 'notResponding'];
const powerStates: readonly PowerState[] = ['poweredOn', 'poweredOff', 'suspended', 'standBy', 'unknown'];
const healthStatuses: readonly HealthStatus[] = ['green', 'yellow', 'red', 'gray'];
const toolsRunning: readonly ToolsRunningStatus[] = ['guestToolsRunning', 'guestToolsNotRunning', 'guestToolsExecutingScripts'];
const toolsVersions: readonly ToolsVersionStatus[] = [
  'guestToolsNotInstalled',
  'guestToolsNeedUpgrade',
  'guestToolsCurrent',
  'guestToolsUnmanaged',
  'guestToolsTooOld',
  'guestToolsSupportedOld',
  'guestToolsSupportedNew',
  'guestToolsTooNew',
  'guestToolsBlacklisted',
];
const ftStates: readonly FaultToleranceState[] = ['notConfigured', 'disabled', 'enabled', 'needSecondary', 'starting', 'running'];

/** Logs each kind of odd value once per collector, not once per object and cycle. */
export class OnceLogger {
  private readonly seen = new Set<string>();
  constructor(private readonly log: Logger | undefined) {}
  warn(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.log?.warn(fields, message);
  }
}

export interface DiscoveryOptions {
  readonly log?: Logger;
  /** Shared across cycles so that an odd value is reported once. */
  readonly once?: OnceLogger;
  /**
   * VMs whose properties one call reads (default 500): the list of VMs comes first, then their
   * properties in chunks, so that no single response (vcsim never pages) holds thousands of VMs.
   */
  readonly vmChunkSize?: number;
}

/**
 * Properties of `refs`, `chunkSize` objects per call. Objects deleted since they were listed
 * are left out (vCenter fails a whole call for one of them: the chunk is halved around it).
 */
export async function readObjects(
  client: Pick<CollectorClient, 'propertiesOf'>,
  type: string,
  refs: readonly MoRef[],
  paths: readonly string[],
  chunkSize: number,
): Promise<RetrievedObject[]> {
  const out: RetrievedObject[] = [];
  // An object deleted since the listing fails the whole call: halve the chunk until it is alone.
  const read = async (chunk: readonly MoRef[]): Promise<void> => {
    try {
      out.push(...(await client.propertiesOf(type, chunk, paths)));
    } catch (error) {
      if (!(error instanceof InvalidArgument && error.faultType === 'ManagedObjectNotFound')) throw error;
      if (chunk.length <= 1) return;
      const half = Math.ceil(chunk.length / 2);
      await read(chunk.slice(0, half));
      await read(chunk.slice(half));
    }
  };
  const size = Math.max(1, chunkSize);
  for (let i = 0; i < refs.length; i += size) await read(refs.slice(i, i + size));
  return out;
}

/** Objects of `type` under `root` with `paths`: listed through a ContainerView, then read in chunks. */
async function retrieveChunked(
  client: CollectorClient,
  type: string,
  paths: readonly string[],
  root: MoRef,
  chunkSize: number,
): Promise<RetrievedObject[]> {
  const refs = dedupe(await client.retrieve(type, [], root)).map((o) => o.obj);
  return readObjects(client, type, refs, paths, chunkSize);
}

/** Reads typed fields off one retrieved object, reporting (once) what does not fit. */
class Fields {
  constructor(
    private readonly obj: RetrievedObject,
    private readonly once: OnceLogger,
  ) {}

  private odd(path: string, value: unknown): void {
    this.once.warn(
      `${this.obj.obj.type}.${path}`,
      { type: this.obj.obj.type, moRef: this.obj.obj.value, path, value: String(value).slice(0, 80) },
      'unexpected property value, reported as unknown',
    );
  }

  raw(path: string): unknown {
    return this.obj.props[path];
  }

  string(path: string): string | null {
    const v = this.obj.props[path];
    if (v === undefined || v === null) return null;
    const s = asString(v);
    if (s === null) this.odd(path, v);
    return s;
  }

  number(path: string): number | null {
    const v = this.obj.props[path];
    if (v === undefined || v === null) return null;
    const n = asNumber(v);
    if (n === null) this.odd(path, v);
    return n;
  }

  boolean(path: string): boolean | null {
    const v = this.obj.props[path];
    if (v === undefined || v === null) return null;
    const b = asBoolean(v);
    if (b === null) this.odd(path, v);
    return b;
  }

  moRef(path: string): MoRef | null {
    const v = this.obj.props[path];
    if (v === undefined || v === null) return null;
    const ref = asMoRef(v);
    if (ref === null) this.odd(path, v);
    return ref;
  }

  moRefs(path: string): MoRef[] {
    const refs: MoRef[] = [];
    for (const item of asArray(this.obj.props[path])) {
      const ref = asMoRef(item);
      if (ref) refs.push(ref);
      else this.odd(path, item);
    }
    return refs;
  }

  enumValue<T extends string>(path: string, allowed: readonly T[]): T | null {
    const s = this.string(path);
    if (s === null) return null;
    if ((allowed as readonly string[]).includes(s)) return s as T;
    this.odd(path, s);
    return null;
  }

  /** xsd:dateTime -> unix seconds. */
  time(path: string): number | null {
    const s = this.string(path);
    if (s === null) return null;
    const ms = Date.parse(s);
    if (Number.isNaN(ms)) {
      this.odd(path, s);
      return null;
    }
    return Math.floor(ms / 1000);
  }
}

function countSnapshots(trees: unknown): number {
  let count = 0;
  const stack = [...asArray(trees)];
  while (stack.length > 0) {
    const node = asRecord(stack.pop());
    if (!node) continue;
    count += 1;
    stack.push(...asArray(node['childSnapshotList']));
  }
  return count;
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}

function dedupe(objects: readonly RetrievedObject[]): RetrievedObject[] {
  const seen = new Set<string>();
  return objects.filter((o) => {
    if (seen.has(o.obj.value)) return false;
    seen.add(o.obj.value);
    return true;
  });
}

function hostNics(fields: Fields, hostId: string, once: OnceLogger, hostRef: MoRef): HostNicInfo[] {
  const nics: HostNicInfo[] = [];
  const seen = new Set<string>();
  for (const item of asArray(fields.raw('config.network.pnic'))) {
    const pnic = asRecord(item);
    const device = pnic ? asString(pnic['device']) : null;
    if (!pnic || !device) {
      once.warn(`HostSystem.pnic`, { moRef: hostRef.value }, 'physical NIC without a device name, skipped');
      continue;
    }
    if (seen.has(device)) continue;
    seen.add(device);
    const linkSpeed = asRecord(pnic['linkSpeed']);
    const speed = linkSpeed ? asNumber(linkSpeed['speedMb']) : null;
    nics.push({
      kind: 'nic',
      id: nicId(hostId, device),
      hostId,
      device,
      linkSpeedMbps: speed !== null && speed > 0 ? speed : null,
      mac: asString(pnic['mac']),
      driver: asString(pnic['driver']),
    });
  }
  return nics.sort((a, b) => a.device.localeCompare(b.device, 'en', { numeric: true }));
}

/** One datacenter's objects as the property collector gave them (duplicates allowed: vcsim lists some twice). */
export interface DatacenterObjects {
  readonly datacenter: RetrievedObject;
  readonly clusters: readonly RetrievedObject[];
  readonly hosts: readonly RetrievedObject[];
  readonly vms: readonly RetrievedObject[];
  readonly datastores: readonly RetrievedObject[];
}

export interface BuildOptions {
  readonly once: OnceLogger;
  /**
   * Entity ids by `kind:moRef`, filled as they are computed (each is a hash, and most are named
   * many times); a caller that keeps it across discoveries hashes each object once.
   */
  readonly ids?: Map<string, string>;
}

/**
 * The inventory of one vCenter from its objects' properties (`hostPaths`, `vmPaths`,
 * `datastorePaths`, `name` for datacenters and clusters), relations resolved in memory.
 * @param nowSec the snapshot's `collectedAtSec`, unix seconds
 */
export function buildInventory(vcenterId: string, nowSec: number, objects: readonly DatacenterObjects[], options: BuildOptions): InventorySnapshot {
  const once = options.once;
  const ids = options.ids ?? new Map<string, string>();
  const idOf = (kind: Exclude<EntityKind, 'nic'>, moRef: string): string => {
    const key = `${kind}:${moRef}`;
    let id = ids.get(key);
    if (id === undefined) ids.set(key, (id = entityId(kind, vcenterId, moRef)));
    return id;
  };

  const datacenters: DatacenterInfo[] = [];
  const clusters: ClusterInfo[] = [];
  const hosts: HostInfo[] = [];
  const vms: VmInfo[] = [];
  const datastores: DatastoreInfo[] = [];

  for (const { datacenter: dc, clusters: clusterObjects, hosts: hostObjects, vms: vmObjects, datastores: dsObjects } of objects) {
    const dcId = idOf('datacenter', dc.obj.value);
    datacenters.push({ kind: 'datacenter', id: dcId, vcenterId, moRef: dc.obj.value, name: new Fields(dc, once).string('name') ?? dc.obj.value });

    for (const cl of dedupe(clusterObjects)) {
      clusters.push({
        kind: 'cluster',
        id: idOf('cluster', cl.obj.value),
        vcenterId,
        moRef: cl.obj.value,
        name: new Fields(cl, once).string('name') ?? cl.obj.value,
        datacenterId: dcId,
      });
    }

    const clusterOfHost = new Map<string, string | null>();
    for (const h of dedupe(hostObjects)) {
      const f = new Fields(h, once);
      const id = idOf('host', h.obj.value);
      const parent = f.moRef('parent');
      const clusterId = parent?.type === 'ClusterComputeResource' ? idOf('cluster', parent.value) : null;
      clusterOfHost.set(h.obj.value, clusterId);
      const cores = f.number('summary.hardware.numCpuCores') ?? 0;
      const mhz = f.number('summary.hardware.cpuMhz') ?? 0;
      const memoryBytes = f.number('summary.hardware.memorySize') ?? 0;
      hosts.push({
        kind: 'host',
        id,
        vcenterId,
        moRef: h.obj.value,
        name: f.string('name') ?? h.obj.value,
        datacenterId: dcId,
        clusterId,
        connectionState: f.enumValue('runtime.connectionState', connectionStates) ?? 'notResponding',
        powerState: f.enumValue('runtime.powerState', powerStates) ?? 'unknown',
        inMaintenanceMode: f.boolean('runtime.inMaintenanceMode') ?? false,
        overallStatus: f.enumValue('overallStatus', healthStatuses) ?? 'gray',
        cpuModel: f.string('summary.hardware.cpuModel'),
        cpuCores: cores,
        cpuThreads: f.number('summary.hardware.numCpuThreads') ?? cores,
        cpuCapacityMhz: cores * mhz,
        memoryCapacityMB: Math.round(memoryBytes / bytesPerMB),
        esxVersion: f.string('summary.config.product.version'),
        bootTimeSec: f.time('runtime.bootTime'),
        nics: hostNics(f, id, once, h.obj),
      });
    }

    for (const v of dedupe(vmObjects)) {
      const f = new Fields(v, once);
      const host = f.moRef('runtime.host');
      const committed = f.number('summary.storage.committed') ?? 0;
      const uncommitted = f.number('summary.storage.uncommitted') ?? 0;
      vms.push({
        kind: 'vm',
        id: idOf('vm', v.obj.value),
        vcenterId,
        moRef: v.obj.value,
        name: f.string('name') ?? v.obj.value,
        datacenterId: dcId,
        hostId: host ? idOf('host', host.value) : null,
        clusterId: host ? (clusterOfHost.get(host.value) ?? null) : null,
        datastoreIds: f.moRefs('datastore').map((ds) => idOf('datastore', ds.value)),
        powerState: f.enumValue('runtime.powerState', powerStates) ?? 'unknown',
        overallStatus: f.enumValue('overallStatus', healthStatuses) ?? 'gray',
        guestOs: f.string('summary.config.guestFullName'),
        ipAddress: f.string('guest.ipAddress'),
        numCpu: f.number('summary.config.numCpu') ?? 0,
        memoryMB: f.number('summary.config.memorySizeMB') ?? 0,
        diskProvisionedGB: round3((committed + uncommitted) / bytesPerGB),
        diskUsedGB: round3(committed / bytesPerGB),
        toolsRunningStatus: f.enumValue('guest.toolsRunningStatus', toolsRunning),
        toolsVersionStatus:
          f.enumValue('guest.toolsVersionStatus2', toolsVersions) ?? f.enumValue('guest.toolsVersionStatus', toolsVersions),
        toolsVersion: f.string('guest.toolsVersion'),
        faultToleranceState: f.enumValue('runtime.faultToleranceState', ftStates) ?? 'notConfigured',
        snapshotCount: countSnapshots(f.raw('snapshot.rootSnapshotList')),
        isTemplate: f.boolean('summary.config.template') ?? false,
      });
    }

    for (const d of dedupe(dsObjects)) {
      const f = new Fields(d, once);
      const capacity = f.number('summary.capacity') ?? 0;
      const free = f.number('summary.freeSpace') ?? 0;
      const uncommitted = f.number('summary.uncommitted') ?? 0;
      const hostIds = new Set<string>();
      for (const mount of asArray(f.raw('host'))) {
        const key = asMoRef(asRecord(mount)?.['key']);
        if (key) hostIds.add(idOf('host', key.value));
      }
      datastores.push({
        kind: 'datastore',
        id: idOf('datastore', d.obj.value),
        vcenterId,
        moRef: d.obj.value,
        name: f.string('summary.name') ?? d.obj.value,
        datacenterId: dcId,
        type: f.string('summary.type') ?? 'unknown',
        capacityGB: round3(capacity / bytesPerGB),
        freeGB: round3(free / bytesPerGB),
        provisionedGB: round3((capacity - free + uncommitted) / bytesPerGB),
        accessible: f.boolean('summary.accessible') ?? false,
        maintenanceMode: f.string('summary.maintenanceMode'),
        overallStatus: f.enumValue('overallStatus', healthStatuses) ?? 'gray',
        hostIds: [...hostIds],
        vmIds: [...new Set(f.moRefs('vm').map((ref) => idOf('vm', ref.value)))],
      });
    }
  }

  return { vcenterId, collectedAtSec: nowSec, datacenters, clusters, hosts, vms, datastores };
}

/**
 * Discovers the whole inventory of one vCenter.
 * @param nowSec the snapshot's `collectedAtSec`, unix seconds
 */
export async function discoverInventory(
  client: CollectorClient,
  vcenterId: string,
  nowSec: number,
  options: DiscoveryOptions = {},
): Promise<InventorySnapshot> {
  const once = options.once ?? new OnceLogger(options.log);
  const dcObjects = dedupe(await client.retrieve('Datacenter', ['name'], client.serviceContent.rootFolder));
  const objects: DatacenterObjects[] = [];
  // Datacenters are few; inside one, the four views run in parallel.
  for (const dc of dcObjects) {
    const [clusters, hosts, vms, datastores] = await Promise.all([
      client.retrieve('ClusterComputeResource', ['name'], dc.obj),
      client.retrieve('HostSystem', hostPaths, dc.obj),
      retrieveChunked(client, 'VirtualMachine', vmPaths, dc.obj, options.vmChunkSize ?? 500),
      client.retrieve('Datastore', datastorePaths, dc.obj),
    ]);
    objects.push({ datacenter: dc, clusters, hosts, vms, datastores });
  }
  return buildInventory(vcenterId, nowSec, objects, { once });
}
