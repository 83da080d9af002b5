/**
 * Inventory discovery by property-collector updates, for a collector that keeps its session
 * between cycles (`vscope serve`, `vscope collect` without `--once`): the properties discovery
 * reads (names, parents, power states, sizes...) almost never change, so instead of reading
 * every object each cycle, a PropertyFilter per datacenter reports what changed
 * (WaitForUpdatesEx, `maxWaitSeconds` 0), applied to a mirror of each object's properties, from
 * which the inventory is built as discovery.ts builds it from whole pages.
 *
 * One PropertyCollector of our own holds the filters: one over a ContainerView of the
 * datacenters (`name`), one per datacenter over a ContainerView of its clusters, hosts, VMs and
 * datastores, with discovery's property paths. Anything that may have invalidated them starts
 * over with a full read (a new collector, version `''`): a new session (filters belong to the
 * session that made them), a fault on the update calls (InvalidCollectorVersion,
 * ManagedObjectNotFound...), a datacenter added or removed, an update that cannot be placed.
 */
import type { Logger } from 'pino';
import type { InventorySnapshot } from '../shared/inventory.ts';
import { NotAuthenticated, TransportError } from '../vsphere/errors.ts';
import { asMoRef, asRecord, asString } from '../vsphere/values.ts';
import { buildInventory, datastorePaths, discoverInventory, hostPaths, readObjects, vmPaths, type DatacenterObjects, type OnceLogger } from './discovery.ts';
import type { CollectorClient, MoRef, PropertyChange, PropertySpec, RetrievedObject, UpdateSet } from './vsphere-api.ts';

/** What each datacenter's filter reads, by type: discovery's paths. */
const datacenterContents: readonly PropertySpec[] = [
  { type: 'ClusterComputeResource', paths: ['name'] },
  { type: 'HostSystem', paths: hostPaths },
  { type: 'VirtualMachine', paths: vmPaths },
  { type: 'Datastore', paths: datastorePaths },
];
const datacenterSpec: PropertySpec = { type: 'Datacenter', paths: ['name'] };
const pathsByType = new Map<string, ReadonlySet<string>>([datacenterSpec, ...datacenterContents].map((spec) => [spec.type, new Set(spec.paths)]));

/** Answers of one update pull at most (each up to `maxObjectUpdates` objects): past that, the server is looping. */
const maxPages = 100_000;

/** An object's properties as the updates left them (a RetrievedObject to discovery's builder). */
interface Mirrored {
  readonly obj: MoRef;
  readonly props: Record<string, unknown>;
  readonly missing: readonly string[];
}

interface DatacenterFilter {
  readonly datacenter: MoRef;
  /** By `type:value`. */
  readonly objects: Map<string, Mirrored>;
}

interface WatchState {
  readonly client: CollectorClient;
  readonly generation: number;
  readonly collector: MoRef;
  readonly views: MoRef[];
  datacentersFilter: string | null;
  /** The datacenters the updates report, by moRef value. */
  readonly datacenters: Map<string, Mirrored>;
  /** By filter moRef value. */
  readonly filters: Map<string, DatacenterFilter>;
  version: string;
  /** Entity ids, kept across cycles (buildInventory's cache); cleared when it outgrows the inventory. */
  readonly ids: Map<string, string>;
}

/** Why the updates were given up; the next discovery reads everything again. */
class StartOver extends Error {}

export interface InventoryWatchOptions {
  readonly once: OnceLogger;
  readonly log?: Logger;
  /** WaitForUpdatesEx `maxObjectUpdates`: objects per answer (a real vCenter pages with `truncated`). Default 1000. */
  readonly maxObjectUpdates?: number;
}

/** Counts of the last discovery, for the cycle's debug log and the tests. */
export interface WatchStats {
  /** `full`: the filters were (re)made and their whole state read; `updates`: only changes. */
  readonly mode: 'full' | 'updates';
  /** Why a full read was needed; null for updates. */
  readonly reason: string | null;
  /** Object updates applied. */
  readonly objectUpdates: number;
  /** The PropertyCollector holding the filters (null when whole pages were read). */
  readonly collector: MoRef | null;
  /** WaitForUpdatesEx answers read. */
  readonly answers: number;
  /** Objects read again (an update that could not be placed). */
  readonly reread: number;
}

function keyOf(ref: MoRef): string {
  return `${ref.type}:${ref.value}`;
}

/** The key of an array element, as a PropertyChange names it (`path["key"]`): a moRef's value, a data object's `key`. */
function elementKey(element: unknown): string | null {
  const ref = asMoRef(element);
  if (ref) return ref.value;
  const record = asRecord(element);
  if (record) return asString(record['key']);
  return asString(element);
}

/** `path[key]` -> `{ path, key }` when `path` is one of `paths`; the key unquoted. */
function elementName(name: string, paths: ReadonlySet<string>): { path: string; key: string } | null {
  const open = name.indexOf('[');
  if (open <= 0 || !name.endsWith(']')) return null;
  const path = name.slice(0, open);
  if (!paths.has(path)) return null;
  let key = name.slice(open + 1, -1);
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1).replace(/\\(.)/g, '$1');
  return { path, key };
}

/**
 * Applies one PropertyChange to an object's properties (`paths`: the filter's paths of its
 * type); false when it cannot be placed (the object is then read again whole). Exported for
 * its table test: the simulator sends whole values only.
 */
export function applyChange(props: Record<string, unknown>, paths: ReadonlySet<string>, change: PropertyChange): boolean {
  if (paths.has(change.name)) {
    switch (change.op) {
      case 'assign':
      case 'add':
        // An assign without a value unsets the property (absent, as RetrievePropertiesEx leaves it).
        if (change.val === undefined) delete props[change.name];
        else props[change.name] = change.val;
        return true;
      case 'remove':
      case 'indirectRemove':
        delete props[change.name];
        return true;
      default:
        return false;
    }
  }
  const element = elementName(change.name, paths);
  if (!element) return false;
  const current = props[element.path];
  const list = current === undefined ? [] : Array.isArray(current) ? (current as unknown[]) : null;
  if (list === null) return false;
  const others = list.filter((item) => elementKey(item) !== element.key);
  switch (change.op) {
    case 'add':
    case 'assign':
      if (change.val === undefined) return false;
      // In place of the element it replaces, else at the end.
      props[element.path] = others.length === list.length ? [...list, change.val] : list.map((item) => (elementKey(item) === element.key ? change.val : item));
      return true;
    case 'remove':
    case 'indirectRemove':
      props[element.path] = others;
      return true;
    default:
      return false;
  }
}

/**
 * The inventory of one vCenter, kept up to date by property-collector updates across cycles.
 * One per vCenter loop; not for concurrent use (a loop runs one cycle at a time).
 */
export class InventoryWatch {
  private state: WatchState | null = null;
  private lastStats: WatchStats | null = null;

  constructor(private readonly options: InventoryWatchOptions) {}

  /** What the last `discover` did. */
  get stats(): WatchStats | null {
    return this.lastStats;
  }

  /**
   * The inventory now: the changes since the last call applied, or (first call, new session,
   * filters gone, datacenters changed) everything read again through new filters.
   * @param nowSec the snapshot's `collectedAtSec`, unix seconds
   */
  async discover(client: CollectorClient, vcenterId: string, nowSec: number): Promise<InventorySnapshot> {
    let reason = 'first discovery';
    let state = this.state;
    if (state !== null && (state.client !== client || state.generation !== client.sessionGeneration)) {
      // The old session's collector is gone with it: nothing to destroy.
      reason = 'new session';
      state = this.state = null;
    }
    if (state !== null) {
      try {
        const counts = await this.pull(state);
        if (!this.coherent(state)) throw new StartOver('the datacenters changed');
        this.lastStats = { mode: 'updates', reason: null, collector: state.collector, ...counts };
        return this.snapshot(state, vcenterId, nowSec);
      } catch (error) {
        this.state = null;
        void this.destroy(state);
        // Slow: the cycle fails and the next one starts over. Any other transport failure (a
        // connection reset: govmomi's simulator panics on some update batches) starts over now,
        // and fails the cycle the same way if vCenter is really gone.
        if (error instanceof TransportError && error.reason === 'timeout') throw error;
        reason = error instanceof Error ? error.message : String(error);
        this.options.log?.info({ reason }, 'inventory updates given up; reading the whole inventory again');
      }
    }
    // A datacenter that comes or goes between the listing and the filters' first answer: once more.
    for (let attempt = 1; ; attempt++) {
      let fresh: WatchState | null = null;
      try {
        fresh = await this.start(client);
        const counts = await this.pull(fresh);
        if (this.coherent(fresh)) {
          this.state = fresh;
          this.lastStats = { mode: 'full', reason, collector: fresh.collector, ...counts };
          return this.snapshot(fresh, vcenterId, nowSec);
        }
        if (attempt >= 2) throw new StartOver('the datacenters changed while the inventory was read');
      } catch (error) {
        if (error instanceof TransportError || error instanceof NotAuthenticated) throw error;
        // Never worse than whole pages: this cycle reads them, the next one tries the filters again.
        this.options.once.warn('inventory-updates', { err: error instanceof Error ? error.message : String(error) }, 'property-collector updates failed; the inventory is read in whole pages meanwhile');
        this.lastStats = { mode: 'full', reason: `pages: ${error instanceof Error ? error.message : String(error)}`, collector: null, objectUpdates: 0, answers: 0, reread: 0 };
        return discoverInventory(client, vcenterId, nowSec, { once: this.options.once, ...(this.options.log ? { log: this.options.log } : {}) });
      } finally {
        if (fresh !== null && this.state !== fresh) await this.destroy(fresh);
      }
      reason = 'the datacenters changed while the inventory was read';
    }
  }

  /** Destroys the filters (their collector) and views; before a logout or a stop. Never throws. */
  async close(): Promise<void> {
    const state = this.state;
    this.state = null;
    if (state) await this.destroy(state);
  }

  /** Makes the collector, the views and the filters: the datacenters are listed first, one filter each. */
  private async start(client: CollectorClient): Promise<WatchState> {
    const generation = client.sessionGeneration;
    const collector = await client.createPropertyCollector();
    const state: WatchState = {
      client,
      generation,
      collector,
      views: [],
      datacentersFilter: null,
      datacenters: new Map(),
      filters: new Map(),
      version: '',
      ids: new Map(),
    };
    try {
      const root = client.serviceContent.rootFolder;
      const listed = await client.retrieve('Datacenter', [], root);
      const dcView = await client.createContainerView(root, [datacenterSpec.type]);
      state.views.push(dcView);
      state.datacentersFilter = (await client.createViewFilter(collector, dcView, [datacenterSpec])).value;
      const seen = new Set<string>();
      for (const { obj: datacenter } of listed) {
        if (seen.has(datacenter.value)) continue;
        seen.add(datacenter.value);
        const view = await client.createContainerView(datacenter, datacenterContents.map((spec) => spec.type));
        state.views.push(view);
        const filter = await client.createViewFilter(collector, view, datacenterContents);
        state.filters.set(filter.value, { datacenter, objects: new Map() });
      }
      if (client.sessionGeneration !== generation) throw new StartOver('the session changed while the filters were made');
    } catch (error) {
      await this.destroy(state);
      throw error;
    }
    return state;
  }

  /** The datacenters the updates report are exactly those with a filter. */
  private coherent(state: WatchState): boolean {
    if (state.datacenters.size !== state.filters.size) return false;
    for (const filter of state.filters.values()) if (!state.datacenters.has(filter.datacenter.value)) return false;
    return true;
  }

  /** Reads and applies every update since `state.version`, page after page while truncated. */
  private async pull(state: WatchState): Promise<Omit<WatchStats, 'mode' | 'reason' | 'collector'>> {
    const stale = new Map<string, { filter: DatacenterFilter; obj: MoRef }>();
    let objectUpdates = 0;
    let answers = 0;
    const maxObjectUpdates = this.options.maxObjectUpdates ?? 1000;
    for (;;) {
      if (answers >= maxPages) throw new StartOver(`WaitForUpdatesEx still truncated after ${String(answers)} answers`);
      const set = await state.client.waitForUpdatesEx(state.collector, state.version, { maxWaitSeconds: 0, maxObjectUpdates });
      if (state.client.sessionGeneration !== state.generation) throw new StartOver('new session');
      if (set === null) break;
      answers++;
      objectUpdates += this.apply(state, set, stale);
      state.version = set.version;
      if (!set.truncated) break;
    }
    if (stale.size > 0) await this.reread(state, [...stale.values()]);
    return { objectUpdates, answers, reread: stale.size };
  }

  /** Applies one answer to the mirror; objects whose changes cannot be placed go to `stale`. */
  private apply(state: WatchState, set: UpdateSet, stale: Map<string, { filter: DatacenterFilter; obj: MoRef }>): number {
    let count = 0;
    for (const update of set.filters) {
      const isDatacenters = update.filter.value === state.datacentersFilter;
      const filter = isDatacenters ? null : state.filters.get(update.filter.value);
      if (!isDatacenters && filter === undefined) throw new StartOver(`an update of an unknown filter ${update.filter.value}`);
      if (update.missingObjects.length > 0) throw new StartOver(`the filter ${update.filter.value} lost its view`);
      const objects = filter ? filter.objects : state.datacenters;
      for (const change of update.objects) {
        count++;
        const paths = pathsByType.get(change.obj.type);
        const key = filter ? keyOf(change.obj) : change.obj.value;
        if (change.kind === 'leave') {
          objects.delete(key);
          stale.delete(key);
          continue;
        }
        if (paths === undefined) throw new StartOver(`an update of an object of an unexpected type ${change.obj.type}`);
        if (change.kind !== 'enter' && change.kind !== 'modify') throw new StartOver(`an object update of an unknown kind ${change.kind}`);
        let object = change.kind === 'enter' ? undefined : objects.get(key);
        let placed = object !== undefined || change.kind === 'enter';
        if (object === undefined) {
          object = { obj: change.obj, props: {}, missing: [] };
          objects.set(key, object);
        }
        for (const property of change.changes) if (!applyChange(object.props, paths, property)) placed = false;
        // Unreadable now (no permission...): absent, as in a RetrievePropertiesEx answer's missingSet.
        for (const missing of change.missing) {
          if (missing.faultType === 'NotAuthenticated') throw new NotAuthenticated(`the session is not authenticated (an update of ${missing.path})`);
          delete object.props[missing.path];
        }
        if (!placed) {
          if (!filter) throw new StartOver(`an update of datacenter ${change.obj.value} that could not be placed`);
          stale.set(key, { filter, obj: change.obj });
        }
      }
    }
    return count;
  }

  /** Reads the stale objects whole (those deleted meanwhile are left out, and dropped). */
  private async reread(state: WatchState, stale: readonly { filter: DatacenterFilter; obj: MoRef }[]): Promise<void> {
    this.options.log?.debug({ objects: stale.length }, 'inventory updates: objects read again whole');
    for (const spec of datacenterContents) {
      const ofType = stale.filter((s) => s.obj.type === spec.type);
      if (ofType.length === 0) continue;
      const read = new Map((await readObjects(state.client, spec.type, ofType.map((s) => s.obj), spec.paths, 500)).map((o) => [o.obj.value, o]));
      for (const { filter, obj } of ofType) {
        const found = read.get(obj.value);
        if (found) filter.objects.set(keyOf(obj), { obj, props: { ...found.props }, missing: [] });
        else filter.objects.delete(keyOf(obj));
      }
    }
  }

  private snapshot(state: WatchState, vcenterId: string, nowSec: number): InventorySnapshot {
    const objects: DatacenterObjects[] = [];
    let count = 0;
    for (const filter of state.filters.values()) {
      const datacenter = state.datacenters.get(filter.datacenter.value);
      if (!datacenter) continue;
      const byType: Record<string, RetrievedObject[]> = { ClusterComputeResource: [], HostSystem: [], VirtualMachine: [], Datastore: [] };
      for (const object of filter.objects.values()) byType[object.obj.type]?.push(object);
      count += filter.objects.size;
      objects.push({
        datacenter,
        clusters: byType['ClusterComputeResource'] ?? [],
        hosts: byType['HostSystem'] ?? [],
        vms: byType['VirtualMachine'] ?? [],
        datastores: byType['Datastore'] ?? [],
      });
    }
    // The cache holds ids of objects long gone after much churn: start it again then.
    if (state.ids.size > 2 * (count + state.datacenters.size) + 1000) state.ids.clear();
    return buildInventory(vcenterId, nowSec, objects, { once: this.options.once, ids: state.ids });
  }

  private async destroy(state: WatchState): Promise<void> {
    const { client } = state;
    // Objects of an older session died with it.
    if (client.sessionGeneration !== state.generation) return;
    const log = this.options.log;
    await client.destroyPropertyCollector(state.collector).catch((error: unknown) => log?.debug({ err: error }, 'DestroyPropertyCollector failed'));
    for (const view of state.views) await client.destroyView(view).catch((error: unknown) => log?.debug({ err: error }, 'DestroyView failed'));
  }
}
