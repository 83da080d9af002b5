/**
 * The SampleStore on a Prometheus-compatible engine (Prometheus, VictoriaMetrics, Mimir,
 * Thanos Receive): samples go out by remote write, charts come back with PromQL. Beside the
 * inventory (a SampleStateStore: SQLite or PostgreSQL) it keeps, per entity, the high-water
 * mark and the 5-minute bucket still filling; nothing else of the samples is kept locally.
 *
 * What is written, per realtime batch:
 *   - every sample, under the metric names of names.ts (vmware_exporter's where it has one), so
 *     that Grafana boards and alert rules built for vmware_exporter read vscope's data;
 *   - each 5-minute bucket once it is complete (a newer sample fell in a later bucket), as
 *     sum/count/min/max rollup series (rollups.ts), which charts read: a year of one VM is then
 *     105,000 rollup samples per metric instead of 1.6 million raw ones, and any coarser bucket
 *     merges exactly. The bucket still filling stays in the state store (it is also the latest
 *     figure the lists show) and is merged into the answers of `series`.
 * vCenter's historical samples (importHistorical) go in as rollups of their tier only
 * (`rollup="history_<tier>"`): raw samples a year old would make Prometheus cut thousands of
 * out-of-order blocks. A chart prefers realtime rollups and reads history only for buckets
 * that have none (PromQL `or`), as SQLite's import only fills empty buckets.
 *
 * Nothing is lost when the engine is down: a write resolves only once the engine accepted every
 * request, and only then do the marks move. The collector's next cycle asks vCenter again for
 * every sample since the marks (its realtime hour), so an engine outage up to about an hour
 * loses nothing; a longer one is filled from vCenter's 5-minute history by the import, as after
 * a collector outage. Resending is harmless: the same samples under the same timestamps
 * (Prometheus keeps one; VictoriaMetrics needs -dedup.minScrapeInterval=1ms).
 */
import type { Logger } from 'pino';
import type { EntityKind } from '../../shared/inventory.ts';
import { metricsByKind, type MetricDef } from '../../shared/metrics.ts';
import { mergeRollups, rollupAvg, sampleWeight, type Rollup } from '../../shared/rollup.ts';
import { bucketStart, tierStepSec, type Tier } from '../../shared/tiers.ts';
import {
  maxRealtimeIntervalSec,
  SamplesRefused,
  type EntitySampleState,
  type InventoryStore,
  type LatestFigures,
  type SampleBatch,
  type SampleStateStore,
  type SampleStore,
  type SeriesData,
  type SeriesQuery,
} from '../store.ts';
import { engineMetric, entityLabels, type EngineMetricDef, type EntityContext, type SampledKind } from './names.ts';
import { bucketColumns, bucketRange, bucketOffsetMs, promqlString, type PromqlClient } from './promql.ts';
import { SampleTooOld } from './errors.ts';
import type { Label, RemoteWriteClient, Series } from './remote-write.ts';
import { rollupSeriesOf, rollupStepSec, type RollupLabel, type RollupStat } from './rollups.ts';

export interface EngineSampleStoreOptions {
  readonly remoteWrite: RemoteWriteClient;
  readonly promql: PromqlClient;
  /** Where marks and open buckets are kept (the inventory's database). */
  readonly state: SampleStateStore;
  /** Names for the labels (vm_name, host_name, ...). */
  readonly inventory: Pick<InventoryStore, 'entity'>;
  readonly log?: Logger;
  /** Clock, epoch ms (the label cache's age). Default Date.now. */
  readonly nowMs?: () => number;
}

const sampledKinds: ReadonlySet<string> = new Set(['host', 'nic', 'vm', 'datastore']);
const isSampled = (kind: EntityKind): kind is SampledKind => sampledKinds.has(kind);

/** Rollups of one entity's samples per 5-minute bucket start, one per metric of the kind. */
type Buckets = Map<number, (Rollup | null)[]>;

function addTo(buckets: Buckets, startSec: number, width: number, index: number, value: number, weight: number): void {
  let rollups = buckets.get(startSec);
  if (rollups === undefined) buckets.set(startSec, (rollups = new Array<Rollup | null>(width).fill(null)));
  rollups[index] = mergeRollups(rollups[index] ?? null, { sum: value * weight, count: weight, min: value, max: value });
}

/** A rollup in the engine's unit: sum, min and max converted, the weight as it is. */
function toEngineRollup(rollup: Rollup, metric: EngineMetricDef): Rollup {
  const { toEngine } = metric.conversion;
  return { sum: toEngine(rollup.sum), count: rollup.count, min: toEngine(rollup.min), max: toEngine(rollup.max) };
}

export class EngineSampleStore implements SampleStore {
  /** The entities' labels, kept across writes (names change rarely; see LabelCache). */
  private readonly labels: LabelCache;

  constructor(private readonly options: EngineSampleStoreOptions) {
    this.labels = new LabelCache(options.inventory, options.nowMs ?? Date.now);
  }

  async writeRealtime(batches: readonly SampleBatch[]): Promise<void> {
    const longer = batches.find((batch) => batch.intervalSec > maxRealtimeIntervalSec);
    if (longer) {
      throw new RangeError(`realtime samples last at most ${String(maxRealtimeIntervalSec)} s (got ${String(longer.intervalSec)}): import longer ones with importHistorical`);
    }
    if (batches.length === 0) return;
    const states = await this.options.state.sampleStates(batches.map((batch) => batch.entityId));
    const series: Series[] = [];
    const updates: EntitySampleState[] = [];
    for (const batch of batches) {
      const state = states.get(batch.entityId);
      if (state === undefined || state.kind !== batch.kind || !isSampled(batch.kind)) {
        this.options.log?.warn({ entityId: batch.entityId, kind: batch.kind }, 'samples for an entity not in the inventory (or of another kind): skipped');
        continue;
      }
      // Only samples past the mark, each timestamp once, in time order.
      const accepted: number[] = [];
      let newest = state.highWaterSec ?? Number.NEGATIVE_INFINITY;
      batch.ts.forEach((ts, index) => {
        if (ts > newest) {
          accepted.push(index);
          newest = ts;
        }
      });
      if (accepted.length === 0) continue;
      const labels = await this.labels.of(batch.entityId);
      if (labels === null) continue;
      const metrics = metricsByKind[batch.kind];
      const weight = sampleWeight(batch.intervalSec);
      const buckets: Buckets = new Map();
      metrics.forEach((def, index) => {
        const column = batch.values[def.key];
        const metric = engineMetric(batch.kind, def.key);
        if (column === undefined || metric === undefined) return;
        const timestampsMs: number[] = [];
        const values: number[] = [];
        for (const at of accepted) {
          const value = column[at];
          const ts = batch.ts[at];
          if (value === null || value === undefined || !Number.isFinite(value) || ts === undefined) continue;
          timestampsMs.push(ts * 1000);
          values.push(metric.conversion.toEngine(value));
          addTo(buckets, bucketStart(ts, batch.intervalSec, rollupStepSec), metrics.length, index, value, weight);
        }
        if (values.length > 0) series.push({ labels: [{ name: '__name__', value: metric.name }, ...labels], timestampsMs, values });
      });
      // The bucket still filling takes the new samples; every bucket before the newest is complete.
      const open = state.openBucket;
      if (open !== null) {
        const into = buckets.get(open.startSec);
        buckets.set(open.startSec, into === undefined ? [...open.rollups] : into.map((rollup, i) => mergeRollups(open.rollups[i] ?? null, rollup)));
      }
      const starts = [...buckets.keys()].sort((a, b) => a - b);
      const newestStart = starts[starts.length - 1];
      if (newestStart === undefined) {
        updates.push({ ...state, highWaterSec: newest });
        continue;
      }
      series.push(...rollupsOf(batch.kind, metrics, labels, starts.slice(0, -1), rollupStepSec, buckets, '5m'));
      updates.push({ entityId: batch.entityId, kind: batch.kind, highWaterSec: newest, openBucket: { startSec: newestStart, rollups: buckets.get(newestStart) ?? [] } });
    }
    // The marks move only once the engine has every sample (a failure leaves them: the next cycle resends).
    if (series.length > 0) await this.send(series);
    if (updates.length > 0) await this.options.state.saveSampleStates(updates);
  }

  async importHistorical(tier: Tier, batches: readonly SampleBatch[]): Promise<void> {
    const stepSec = tierStepSec[tier];
    const series: Series[] = [];
    for (const batch of batches) {
      if (!isSampled(batch.kind)) continue;
      const labels = await this.labels.of(batch.entityId);
      if (labels === null) continue;
      const metrics = metricsByKind[batch.kind];
      const weight = sampleWeight(batch.intervalSec);
      const buckets: Buckets = new Map();
      metrics.forEach((def, index) => {
        const column = batch.values[def.key];
        if (column === undefined) return;
        batch.ts.forEach((ts, at) => {
          const value = column[at];
          if (value === null || value === undefined || !Number.isFinite(value)) return;
          addTo(buckets, bucketStart(ts, batch.intervalSec, stepSec), metrics.length, index, value, weight);
        });
      });
      series.push(...rollupsOf(batch.kind, metrics, labels, [...buckets.keys()].sort((a, b) => a - b), stepSec, buckets, `history_${tier}`));
    }
    if (series.length > 0) await this.send(series);
  }

  /** Remote write; an engine refusing samples as too old is a SamplesRefused (not worth retrying). */
  private async send(series: readonly Series[]): Promise<void> {
    try {
      await this.options.remoteWrite.write(series);
    } catch (error) {
      if (error instanceof SampleTooOld) throw new SamplesRefused(error.message, { cause: error });
      throw error;
    }
  }

  highWaterMarks(vcenterId: string): Promise<ReadonlyMap<string, number>> | ReadonlyMap<string, number> {
    return this.options.state.highWaterMarks(vcenterId);
  }

  /** The average of each metric over the entity's newest 5-minute bucket (kept in the state store). */
  async latest(entityIds: readonly string[]): Promise<ReadonlyMap<string, LatestFigures>> {
    const states = await this.options.state.sampleStates(entityIds);
    const found = new Map<string, LatestFigures>();
    for (const id of entityIds) {
      const state = states.get(id);
      const metrics = state === undefined ? [] : metricsByKind[state.kind];
      const open = state?.openBucket ?? null;
      found.set(id, {
        bucketSec: open?.startSec ?? null,
        values: Object.fromEntries(metrics.map((metric, i) => [metric.key, rollupAvg(open?.rollups[i] ?? null)])),
      });
    }
    return found;
  }

  async series(query: SeriesQuery): Promise<SeriesData> {
    const stepSec = tierStepSec[query.tier];
    const range = bucketRange(query.fromSec, query.toSec, stepSec);
    const entity = await this.options.inventory.entity(query.entityId);
    const kind = entity?.kind;
    const defs = kind === undefined || !isSampled(kind) ? [] : metricsByKind[kind];
    const wanted = query.metrics ? defs.filter((def) => query.metrics?.includes(def.key)) : defs;
    const ts = range?.bucketStartsSec ?? [];
    const empty = (): (number | null)[] => ts.map(() => null);
    if (range === null || kind === undefined || !isSampled(kind) || wanted.length === 0) {
      return { stepSec, ts, series: wanted.map((def) => ({ metric: def.key, avg: empty(), min: empty(), max: empty() })) };
    }
    const queries = rollupQueries(query.entityId, query.tier, stepSec);
    const [sums, counts, mins, maxes] = await Promise.all(
      (['sum', 'count', 'min', 'max'] as const).map(async (stat) => bucketColumns(await this.options.promql.queryRange(queries[stat], range), range)),
    );
    // The bucket still filling is not in the engine yet: it is merged into the bucket holding it.
    const state = (await this.options.state.sampleStates([query.entityId])).get(query.entityId);
    const open = state?.openBucket ?? null;
    const openIndex = open === null ? -1 : ts.indexOf(Math.floor(open.startSec / stepSec) * stepSec);
    return {
      stepSec,
      ts,
      series: wanted.map((def) => {
        const metric = engineMetric(kind, def.key);
        const name = metric?.name ?? '';
        const from = metric?.conversion.fromEngine ?? ((value: number) => value);
        const column = (columns: Map<string, (number | null)[]> | undefined): (number | null)[] => columns?.get(name) ?? empty();
        const sum = column(sums);
        const count = column(counts);
        const min = column(mins);
        const max = column(maxes);
        const rollups: (Rollup | null)[] = ts.map((_, i) => {
          const c = count[i];
          const s = sum[i];
          const lo = min[i];
          const hi = max[i];
          if (c === null || c === undefined || !(c > 0) || s === null || s === undefined || lo === null || lo === undefined || hi === null || hi === undefined) return null;
          return { sum: from(s), count: c, min: from(lo), max: from(hi) };
        });
        if (openIndex >= 0 && open !== null) {
          const index = defs.indexOf(def);
          rollups[openIndex] = mergeRollups(rollups[openIndex] ?? null, open.rollups[index] ?? null);
        }
        return {
          metric: def.key,
          avg: rollups.map((rollup) => rollupAvg(rollup)),
          min: rollups.map((rollup) => rollup?.min ?? null),
          max: rollups.map((rollup) => rollup?.max ?? null),
        };
      }),
    };
  }

  /** The engine keeps (and drops) samples by its own retention; the state store holds one bucket per entity. */
  applyRetention(): void {}
}

/**
 * The four queries of one entity's chart in `tier`: per bucket and metric, the realtime
 * rollups where the bucket has any, else that tier's imported history (`or` keeps the left
 * side's series and adds the right side's only where the left has none at that time).
 */
export function rollupQueries(entityId: string, tier: Tier, stepSec: number): Readonly<Record<RollupStat, string>> {
  const offset = bucketOffsetMs(stepSec, 1);
  const part = (stat: RollupStat, rollup: RollupLabel): string => {
    const over = stat === 'count' ? 'sum' : stat;
    const by = stat === 'count' ? 'sum' : stat;
    return `${by} by (metric) (${over}_over_time(vscope_rollup_${stat}{entity_id=${promqlString(entityId)},rollup=${promqlString(rollup)}}[${String(stepSec)}s] offset ${String(offset)}ms))`;
  };
  const both = (stat: RollupStat): string => `${part(stat, '5m')} or ${part(stat, `history_${tier}`)}`;
  return { sum: both('sum'), count: both('count'), min: both('min'), max: both('max') };
}

/** The rollup series of one complete bucket of one entity, every metric that has a value. */
/**
 * The rollup series of these buckets (`starts`, ascending) of one entity: per metric and
 * statistic one series holding every bucket that has a value, so that a history import of a
 * year sends each label set once, not once per bucket.
 */
function rollupsOf(
  kind: SampledKind,
  metrics: readonly MetricDef[],
  labels: readonly Label[],
  starts: readonly number[],
  widthSec: number,
  buckets: Buckets,
  label: RollupLabel,
): Series[] {
  const out: Series[] = [];
  metrics.forEach((def, index) => {
    const metric = engineMetric(kind, def.key);
    if (metric === undefined) return;
    const startSec: number[] = [];
    const rollups: ReturnType<typeof toEngineRollup>[] = [];
    for (const start of starts) {
      const rollup = buckets.get(start)?.[index] ?? null;
      if (rollup === null) continue;
      startSec.push(start);
      rollups.push(toEngineRollup(rollup, metric));
    }
    if (startSec.length > 0) out.push(...rollupSeriesOf(metric, labels, { widthSec, startSec, rollups }, label));
  });
  return out;
}

/**
 * Each entity's labels (names.ts entityLabels: its name, host, cluster, datacenter...), read
 * from the inventory and kept for `maxAgeMs` (a minute): a write of 5,000 VMs would otherwise
 * look up five entities per VM, and names change rarely (a rename shows in the labels within
 * a minute; vmware_exporter reads them once per scrape). Bounded by the inventory's size.
 */
class LabelCache {
  private readonly known = new Map<string, { readonly labels: readonly Label[] | null; readonly readMs: number }>();
  constructor(
    private readonly inventory: Pick<InventoryStore, 'entity'>,
    private readonly nowMs: () => number,
    private readonly maxAgeMs = 60_000,
  ) {}

  async of(id: string): Promise<readonly Label[] | null> {
    const nowMs = this.nowMs();
    const hit = this.known.get(id);
    if (hit !== undefined && nowMs - hit.readMs < this.maxAgeMs) return hit.labels;
    const context = await this.read(id);
    const labels = context === null ? null : entityLabels(context.kind, context.context);
    this.known.set(id, { labels, readMs: nowMs });
    if (this.known.size > 200_000) this.known.clear();
    return labels;
  }

  private async name(id: string | null): Promise<string | null> {
    if (id === null) return null;
    const entity = await this.inventory.entity(id);
    if (entity === null) return null;
    return entity.kind === 'nic' ? entity.device : entity.name;
  }

  private async read(id: string): Promise<{ readonly kind: SampledKind; readonly context: EntityContext } | null> {
    const entity = await this.inventory.entity(id);
    if (entity === null || entity.kind === 'datacenter' || entity.kind === 'cluster') return null;
    if (entity.kind === 'nic') {
      const host = await this.inventory.entity(entity.hostId);
      if (host?.kind !== 'host') return null;
      return {
        kind: 'nic',
        context: {
          vcenter: host.vcenterId,
          entityId: id,
          name: entity.device,
          hostName: host.name,
          datacenterName: await this.name(host.datacenterId),
          clusterName: await this.name(host.clusterId),
        },
      };
    }
    const base = { vcenter: entity.vcenterId, entityId: id, name: entity.name, datacenterName: await this.name(entity.datacenterId) };
    if (entity.kind === 'host') return { kind: 'host', context: { ...base, clusterName: await this.name(entity.clusterId) } };
    if (entity.kind === 'vm') {
      return {
        kind: 'vm',
        context: {
          ...base,
          clusterName: await this.name(entity.clusterId),
          hostName: await this.name(entity.hostId),
          // vmware_exporter's ds_name is the datastore of the configuration file; vCenter lists it first.
          datastoreName: await this.name(entity.datastoreIds[0] ?? null),
        },
      };
    }
    return { kind: 'datastore', context: base };
  }
}

