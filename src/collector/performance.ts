/**
 * Performance queries: counters resolved by name once per connection, QueryPerf batched within
 * vCenter's limits (entities and metric ids per query, bounded concurrency), split in half when
 * vCenter refuses a query as too large, and results mapped to the store's SampleBatch.
 * `toMetricValue` (shared/metrics.ts) is the only place raw values change unit.
 */
import type { Logger } from 'pino';
import type { DatastoreInfo, EntityKind, HostInfo, InventorySnapshot, VmInfo } from '../shared/inventory.ts';
import { metricsByKind, toMetricValue, type Conversion } from '../shared/metrics.ts';
import type { Awaitable, SampleBatch } from '../store/store.ts';
import { InvalidLogin, NotAuthenticated, SoapFault } from '../vsphere/errors.ts';
import { runPool } from './pool.ts';
import type { CollectorClient, MoRef, PerfCounterInfo, PerfEntityResult, PerfQuerySpec } from './vsphere-api.ts';

/** vCenter keeps 20-second realtime samples for one hour. */
export const realtimeIntervalSec = 20;
export const realtimeRetentionSec = 3600;
/** An hour of 20-second samples: the most one realtime query needs per entity. */
export const maxRealtimeSamples = 180;

export type PerfKind = 'host' | 'vm' | 'nic' | 'datastore';

/** A vscope metric bound to the counter this vCenter offers for it. */
export interface ResolvedMetric {
  readonly key: string;
  readonly counterId: number;
  readonly conversion: Conversion;
  /** Statistics level of the counter (historical intervals keep counters at or below theirs). */
  readonly level: number;
  /**
   * Set when the counter has no aggregate instance (vCenter's `virtualDisk.*` are per disk):
   * every instance is asked for (`*`) and they are combined, summed or (latencies) the highest.
   */
  readonly instances?: { readonly combine: 'sum' | 'max' };
}

/** Counter groups vCenter reports per device only, with no aggregate ('') instance. */
const perDeviceGroups = new Set(['virtualDisk']);

export type ResolvedMetrics = Readonly<Record<PerfKind, readonly ResolvedMetric[]>>;

/**
 * Binds every metric with counters to the first candidate counter the vCenter offers.
 * Metrics without any offered counter are left out, with one log line each.
 */
export function resolveMetrics(counters: ReadonlyMap<string, PerfCounterInfo>, log?: Logger): ResolvedMetrics {
  const resolve = (kind: PerfKind): ResolvedMetric[] => {
    const resolved: ResolvedMetric[] = [];
    for (const def of metricsByKind[kind]) {
      if (def.counters.length === 0) continue; // from properties, not counters
      const name = def.counters.find((candidate) => counters.has(candidate));
      const counter = name === undefined ? undefined : counters.get(name);
      if (!counter) {
        log?.info({ kind, metric: def.key, counters: def.counters }, 'vCenter offers no counter for this metric; skipped');
        continue;
      }
      const perDevice = perDeviceGroups.has(counter.group || name?.split('.')[0] || '');
      resolved.push({
        key: def.key,
        counterId: counter.id,
        conversion: def.conversion,
        level: counter.level,
        ...(perDevice ? { instances: { combine: def.unit === 'ms' ? ('max' as const) : ('sum' as const) } } : {}),
      });
    }
    return resolved;
  };
  return { host: resolve('host'), vm: resolve('vm'), nic: resolve('nic'), datastore: resolve('datastore') };
}

/** Keeps the metrics an interval of statistics level `level` holds. */
export function metricsAtLevel(metrics: ResolvedMetrics, level: number): ResolvedMetrics {
  const keep = (list: readonly ResolvedMetric[]): ResolvedMetric[] => list.filter((m) => m.level <= level);
  return { host: keep(metrics.host), vm: keep(metrics.vm), nic: keep(metrics.nic), datastore: keep(metrics.datastore) };
}

/** One entity to query: a host (with its vmnics), a VM or a datastore. */
export interface PerfTarget {
  readonly kind: 'host' | 'vm' | 'datastore';
  readonly entity: MoRef;
  readonly entityId: string;
  /** vmnic device -> NIC entity id (hosts only). */
  readonly nics: readonly { readonly device: string; readonly id: string }[];
}

export function hostTarget(host: HostInfo): PerfTarget {
  return {
    kind: 'host',
    entity: { type: 'HostSystem', value: host.moRef },
    entityId: host.id,
    nics: host.nics.map((nic) => ({ device: nic.device, id: nic.id })),
  };
}

export function vmTarget(vm: VmInfo): PerfTarget {
  return { kind: 'vm', entity: { type: 'VirtualMachine', value: vm.moRef }, entityId: vm.id, nics: [] };
}

export function datastoreTarget(ds: DatastoreInfo): PerfTarget {
  return { kind: 'datastore', entity: { type: 'Datastore', value: ds.moRef }, entityId: ds.id, nics: [] };
}

/** Hosts and VMs with realtime statistics: templates have none, and neither do VMs that are not running. */
export function realtimeTargets(snapshot: InventorySnapshot): PerfTarget[] {
  const hosts = snapshot.hosts.filter((h) => h.connectionState === 'connected').map(hostTarget);
  const vms = snapshot.vms.filter((vm) => !vm.isTemplate && vm.powerState === 'poweredOn').map(vmTarget);
  return [...hosts, ...vms];
}

export interface QueryTuning {
  /** Entities per QueryPerf call. Default 50. */
  readonly entitiesPerQuery: number;
  /** Metric ids per query spec (one entity's spec is split beyond). Default 64. */
  readonly metricsPerQuery: number;
  /** QueryPerf calls in flight. Default 4. */
  readonly concurrency: number;
  /**
   * Values one query may ask for (metric ids x maxSample, summed over its specs); long windows
   * (the first hour, a year of history) get fewer entities per query so that the response,
   * parsed in memory, stays small. Default 40,000 (a few MB of XML).
   */
  readonly valuesPerQuery: number;
}

export const defaultQueryTuning: QueryTuning = { entitiesPerQuery: 50, metricsPerQuery: 64, concurrency: 4, valuesPerQuery: 40_000 };

/** Values a prepared target asks for: metric ids x samples over its specs. */
function valuesOf(p: PreparedTarget): number {
  return p.specs.reduce((sum, spec) => sum + spec.metricIds.length * (spec.maxSample ?? 1), 0);
}

/**
 * Consecutive groups of at most `entitiesPerQuery` targets and (beyond the first) `valuesPerQuery`
 * values, prepared as they are taken: at thousands of entities, only the groups in flight exist.
 */
function* groupTargets(plan: PerfPlan, tuning: QueryTuning): Generator<PreparedTarget[]> {
  const perGroup = Math.max(1, tuning.entitiesPerQuery);
  const layouts = new Map<string, Layout | null>();
  let current: PreparedTarget[] = [];
  let values = 0;
  for (const target of plan.targets) {
    const p = prepare(plan, target, tuning.metricsPerQuery, layouts);
    if (p === null) continue;
    const size = valuesOf(p);
    if (current.length > 0 && (current.length >= perGroup || values + size > tuning.valuesPerQuery)) {
      yield current;
      current = [];
      values = 0;
    }
    current.push(p);
    values += size;
  }
  if (current.length > 0) yield current;
}

export interface PerfPlan {
  readonly intervalSec: number;
  readonly targets: readonly PerfTarget[];
  readonly metrics: ResolvedMetrics;
  /** Query window of one target; null skips it. */
  readonly window: (target: PerfTarget) => { readonly startSec: number; readonly maxSample: number; readonly endSec?: number } | null;
}

/**
 * Where one returned series goes: a metric key of the target itself (`nic` -1) or of one of its
 * vmnics (`nic` is the index in `PerfTarget.nics`), with its unit conversion.
 */
interface Route {
  readonly key: string;
  readonly conversion: Conversion;
  readonly nic: number;
  /** Set for metrics gathered over every instance: how instances combine. */
  readonly combine?: 'sum' | 'max';
}

/** counterId -> instance -> routes. */
type Routes = ReadonlyMap<number, ReadonlyMap<string, readonly Route[]>>;

/**
 * What every target of one kind (and, for hosts, one list of vmnic devices) asks and where the
 * answers go: built once per plan and shared, not once per entity and cycle.
 */
interface Layout {
  /** The metric ids, `metricsPerQuery` per spec. */
  readonly metricIdChunks: readonly (readonly { readonly counterId: number; readonly instance: string }[])[];
  readonly routes: Routes;
}

interface PreparedTarget {
  readonly target: PerfTarget;
  readonly specs: readonly PerfQuerySpec[];
  readonly routes: Routes;
  /** The window asked (start exclusive, end inclusive; no end: up to now): samples outside it are dropped. */
  readonly window?: { readonly startSec: number; readonly endSec?: number };
}

function layoutFor(plan: PerfPlan, target: PerfTarget, metricsPerQuery: number): Layout | null {
  const routes = new Map<number, Map<string, Route[]>>();
  const metricIds: { counterId: number; instance: string }[] = [];
  const add = (counterId: number, instance: string, route: Route): void => {
    let byInstance = routes.get(counterId);
    if (!byInstance) routes.set(counterId, (byInstance = new Map<string, Route[]>()));
    const list = byInstance.get(instance);
    if (list) list.push(route);
    else {
      byInstance.set(instance, [route]);
      metricIds.push({ counterId, instance });
    }
  };
  for (const m of plan.metrics[target.kind]) {
    const route = { key: m.key, conversion: m.conversion, nic: -1 };
    if (m.instances) add(m.counterId, '*', { ...route, combine: m.instances.combine });
    else add(m.counterId, '', route);
  }
  target.nics.forEach((nic, index) => {
    for (const m of plan.metrics.nic) add(m.counterId, nic.device, { key: m.key, conversion: m.conversion, nic: index });
  });
  if (metricIds.length === 0) return null;
  const metricIdChunks: { counterId: number; instance: string }[][] = [];
  const perSpec = Math.max(1, metricsPerQuery);
  for (let i = 0; i < metricIds.length; i += perSpec) metricIdChunks.push(metricIds.slice(i, i + perSpec));
  return { metricIdChunks, routes };
}

function prepare(plan: PerfPlan, target: PerfTarget, metricsPerQuery: number, layouts: Map<string, Layout | null>): PreparedTarget | null {
  const window = plan.window(target);
  if (!window) return null;
  const shape = target.nics.length === 0 ? target.kind : `${target.kind}|${target.nics.map((nic) => nic.device).join('|')}`;
  let layout = layouts.get(shape);
  if (layout === undefined) {
    layout = layoutFor(plan, target, metricsPerQuery);
    layouts.set(shape, layout);
  }
  if (layout === null) return null;
  const specs = layout.metricIdChunks.map(
    (metricIds): PerfQuerySpec => ({
      entity: target.entity,
      metricIds,
      intervalSec: plan.intervalSec,
      startSec: window.startSec,
      ...(window.endSec === undefined ? {} : { endSec: window.endSec }),
      maxSample: window.maxSample,
    }),
  );
  return { target, specs, routes: layout.routes, window };
}

/**
 * The samples of `result` inside `window`, as QueryPerf promises them (start exclusive, end
 * inclusive). A server that returns more (the simulator includes the start) would otherwise put
 * a sample twice in a store, or into a bucket another query fills. `result` itself when all are in.
 */
export function insideWindow(result: PerfEntityResult, window: PreparedTarget['window']): PerfEntityResult {
  if (window === undefined) return result;
  const endSec = window.endSec ?? Number.POSITIVE_INFINITY;
  const inside = (tsSec: number): boolean => tsSec > window.startSec && tsSec <= endSec;
  if (result.samples.every((sample) => inside(sample.tsSec))) return result;
  const keep = result.samples.flatMap((sample, i) => (inside(sample.tsSec) ? [i] : []));
  return {
    ...result,
    samples: keep.map((i) => result.samples[i] as (typeof result.samples)[number]),
    // A series shorter than the samples cannot be placed in time: emptied, so that it cannot
    // happen to match the count of the samples kept.
    series: result.series.map((series) => ({ ...series, values: series.values.length === result.samples.length ? keep.map((i) => series.values[i] as number) : [] })),
  };
}

/** vCenter refusing a query for its size (vpxd.stats.maxQueryMetrics and friends). */
export function isQueryTooLarge(error: unknown): boolean {
  return error instanceof Error && /maxQueryMetrics|maxQuery|too (large|many|big)|exceed|limit/i.test(error.message);
}

/** Faults that concern the query rather than the session or the connection. */
function isQueryFault(error: unknown): boolean {
  return error instanceof SoapFault && !(error instanceof NotAuthenticated) && !(error instanceof InvalidLogin);
}

/** Turns the results for some prepared targets into one SampleBatch per entity (host, NIC, VM, datastore). */
export function toBatches(prepared: readonly PreparedTarget[], results: readonly PerfEntityResult[], intervalSec: number): SampleBatch[] {
  const byEntity = new Map<string, PreparedTarget>();
  for (const p of prepared) byEntity.set(`${p.target.entity.type}:${p.target.entity.value}`, p);

  // Entity id -> one row per timestamp, one column per metric key; several results for one
  // entity merge here. A column's hole (undefined) is "not set yet", null is "no value".
  const acc = new Map<string, EntityColumns>();
  const columnsFor = (entityIdValue: string, kind: EntityKind): EntityColumns => {
    let entry = acc.get(entityIdValue);
    if (!entry) {
      entry = { kind, columns: new Map(), rows: null, ts: [] };
      acc.set(entityIdValue, entry);
    }
    return entry;
  };

  for (const answered of results) {
    const p = byEntity.get(`${answered.entity.type}:${answered.entity.value}`);
    if (!p) continue;
    const result = insideWindow(answered, p.window);
    const own = columnsFor(p.target.entityId, p.target.kind);
    const nics = p.target.nics.map((nic) => columnsFor(nic.id, 'nic'));
    const entryOf = (route: Route): EntityColumns | undefined => (route.nic < 0 ? own : nics[route.nic]);
    const count = result.samples.length;
    // Register every column so that an entity with samples but no values still has its columns,
    // at the length of this first result's rows (grown from empty, each column's spare room
    // and copies were most of the old generation's garbage in a history import).
    for (const byInstance of p.routes.values()) {
      for (const routes of byInstance.values()) {
        for (const route of routes) {
          const entry = entryOf(route);
          if (entry && !entry.columns.has(route.key)) entry.columns.set(route.key, new Array<number | null>(entry.ts.length === 0 ? count : 0));
        }
      }
    }
    // Rows of this result's samples in each entry it writes to (the same samples for all).
    const rowsIn = new Map<EntityColumns, number[]>();
    const rowsOf = (entry: EntityColumns): number[] => {
      let rows = rowsIn.get(entry);
      if (rows === undefined) {
        rows = new Array<number>(count);
        if (entry.ts.length === 0 && samplesAscending(result.samples)) {
          // The usual case, an entity's only result in time order: row i is sample i, no index.
          for (let i = 0; i < count; i++) {
            entry.ts.push(result.samples[i]?.tsSec ?? 0);
            rows[i] = i;
          }
        } else {
          entry.rows ??= new Map(entry.ts.map((tsSec, row) => [tsSec, row]));
          for (let i = 0; i < count; i++) {
            const tsSec = result.samples[i]?.tsSec ?? 0;
            let row = entry.rows.get(tsSec);
            if (row === undefined) {
              row = entry.ts.length;
              entry.rows.set(tsSec, row);
              entry.ts.push(tsSec);
            }
            rows[i] = row;
          }
        }
        rowsIn.set(entry, rows);
      }
      return rows;
    };
    for (const series of result.series) {
      // A '*' request comes back per instance (or as '*' from vcsim, which does not expand it).
      const byInstance = p.routes.get(series.counterId);
      const routes = byInstance?.get(series.instance) ?? byInstance?.get('*');
      // A series shorter than the samples cannot be placed in time (vcsim omits its zero
      // values): dropped rather than shifted onto the wrong timestamps.
      if (!routes || series.values.length !== count) continue;
      for (const route of routes) {
        const entry = entryOf(route);
        if (!entry) continue;
        const rows = rowsOf(entry);
        let column = entry.columns.get(route.key);
        if (!column) entry.columns.set(route.key, (column = []));
        for (let i = 0; i < count; i++) {
          const raw = series.values[i];
          const sample = result.samples[i];
          const row = rows[i];
          if (sample === undefined || raw === undefined || row === undefined) continue;
          const value = toMetricValue(route.conversion, raw, sample.intervalSec > 0 ? sample.intervalSec : intervalSec);
          const before = route.combine ? column[row] : undefined;
          if (before === undefined || before === null) column[row] = value;
          else if (value !== null) column[row] = route.combine === 'max' ? Math.max(before, value) : before + value;
        }
      }
    }
  }

  const batches: SampleBatch[] = [];
  for (const [id, entry] of acc) {
    if (entry.ts.length === 0) continue;
    const values: Record<string, (number | null)[]> = {};
    if (isAscending(entry.ts)) {
      // The columns themselves, their holes set to null: no copy of every value.
      const rowCount = entry.ts.length;
      for (const [key, column] of entry.columns) {
        if (column.length > rowCount) column.length = rowCount;
        for (let row = 0; row < rowCount; row++) if (column[row] === undefined) column[row] = null;
        values[key] = column;
      }
      batches.push({ entityId: id, kind: entry.kind, intervalSec, ts: entry.ts, values });
      continue;
    }
    const order = entry.ts.map((_, row) => row).sort((a, b) => (entry.ts[a] ?? 0) - (entry.ts[b] ?? 0));
    const ts = order.map((row) => entry.ts[row] ?? 0);
    for (const [key, column] of entry.columns) values[key] = order.map((row) => column[row] ?? null);
    batches.push({ entityId: id, kind: entry.kind, intervalSec, ts, values });
  }
  return batches;
}

/** One entity's samples while results are merged: rows by timestamp, columns by metric key. */
interface EntityColumns {
  readonly kind: EntityKind;
  /** Metric key -> value per row (holes: not set). */
  readonly columns: Map<string, (number | null)[]>;
  /**
   * Timestamp -> row, made when a second result (or one out of time order) comes for the
   * entity: a map per entity and answer was a seventh of the old generation's garbage in a
   * history import.
   */
  rows: Map<number, number> | null;
  /** Timestamp of each row, in arrival order. */
  readonly ts: number[];
}

function samplesAscending(samples: readonly { readonly tsSec: number }[]): boolean {
  for (let i = 1; i < samples.length; i++) if ((samples[i]?.tsSec ?? 0) <= (samples[i - 1]?.tsSec ?? 0)) return false;
  return true;
}

function isAscending(list: readonly number[]): boolean {
  for (let i = 1; i < list.length; i++) if ((list[i] ?? 0) <= (list[i - 1] ?? 0)) return false;
  return true;
}

export interface PerfRunResult {
  /** Samples (timestamps) returned, summed over entities. */
  readonly samples: number;
  /** Entities vCenter refused to answer for even alone. */
  readonly skippedEntities: number;
}

/**
 * Runs a plan: queries in groups, hands each group's batches to `write` as they arrive (so
 * memory stays bounded at thousands of VMs). A group vCenter refuses is split in half down to
 * one entity (and one spec); what fails alone is logged and skipped. Session and transport
 * errors fail the whole run.
 */
export async function runPerfPlan(
  client: Pick<CollectorClient, 'queryPerf'>,
  plan: PerfPlan,
  tuning: QueryTuning,
  write: (batches: SampleBatch[]) => Awaitable<void>,
  log?: Logger,
): Promise<PerfRunResult> {
  const groups = groupTargets(plan, tuning);

  let samples = 0;
  let skippedEntities = 0;

  const fetch = async (specs: readonly PerfQuerySpec[], entities: number): Promise<PerfEntityResult[]> => {
    try {
      return [...(await client.queryPerf(specs, { entitiesPerQuery: specs.length, concurrency: 1 }))];
    } catch (error) {
      if (!isQueryFault(error) && !isQueryTooLarge(error)) throw error;
      if (specs.length <= 1) {
        skippedEntities += 1;
        log?.warn({ entity: specs[0]?.entity, err: (error as Error).message }, 'vCenter refused the performance query for this entity; skipped this cycle');
        return [];
      }
      const tooLarge = isQueryTooLarge(error);
      log?.[tooLarge ? 'info' : 'debug']({ specs: specs.length, entities, err: (error as Error).message }, 'performance query refused; splitting it in half');
      const half = Math.ceil(specs.length / 2);
      const first = await fetch(specs.slice(0, half), Math.ceil(entities / 2));
      const second = await fetch(specs.slice(half), Math.floor(entities / 2));
      return [...first, ...second];
    }
  };

  await runPool(groups, tuning.concurrency, async (group) => {
    const specs = group.flatMap((p) => p.specs);
    const results = await fetch(specs, group.length);
    const batches = toBatches(group, results, plan.intervalSec);
    for (const b of batches) if (b.kind !== 'nic') samples += b.ts.length;
    if (batches.length > 0) await write(batches);
  });
  return { samples, skippedEntities };
}

/**
 * Samples asked for beyond the span by our clock: vCenter returns the *newest* `maxSample`
 * samples, so a vCenter clock a little ahead of ours would otherwise cost the oldest ones.
 */
export const clockSkewSamples = 3;

/**
 * What a cycle asks of an entity it has no recent mark for (first sight, or back after more
 * than the hour vCenter keeps) when the history import fills the rest: its newest samples
 * only, so that a first start shows current figures as soon as a steady cycle would; the
 * hour before comes behind, with the history (history-import.ts).
 */
export const firstSightSec = 2 * realtimeIntervalSec;

/**
 * Realtime window of one entity: every sample since its high-water mark, at most the hour
 * vCenter keeps; with `backfilled` (the history import takes the hour), only the last
 * `firstSightSec` for an entity without a mark in that hour.
 */
export function realtimeWindow(markSec: number | undefined, nowSec: number, backfilled = false): { startSec: number; maxSample: number } {
  const oldest = nowSec - realtimeRetentionSec;
  const stale = markSec === undefined || markSec < oldest;
  const startSec = stale ? (backfilled ? nowSec - firstSightSec : oldest) : Math.min(markSec, nowSec);
  const span = Math.max(0, nowSec - startSec);
  return { startSec, maxSample: Math.min(maxRealtimeSamples, Math.ceil(span / realtimeIntervalSec) + 1 + clockSkewSamples) };
}

/** Datastore space figures from the inventory, as one 20-second sample at the cycle time. */
export function datastoreSpaceBatch(ds: DatastoreInfo, nowSec: number, io: Readonly<Record<string, number | null>> = {}): SampleBatch {
  const values: Record<string, (number | null)[]> = {
    capacityGB: [ds.capacityGB],
    usedGB: [Math.max(0, Math.round((ds.capacityGB - ds.freeGB) * 1000) / 1000)],
    freeGB: [ds.freeGB],
    provisionedGB: [ds.provisionedGB],
  };
  for (const [key, value] of Object.entries(io)) values[key] = [value];
  return { entityId: ds.id, kind: 'datastore', intervalSec: realtimeIntervalSec, ts: [nowSec], values };
}
